// End to end: raw request bytes through the parser, router, layers, handlers and error mapping of a small
// App, in process (testing::Client::raw). Whatever the bytes, the answer is a response with a valid status;
// no exception may escape and nothing may crash.
#include "fuzz_check.hpp"

#include <zephyr/core/log.hpp>
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace {

std::unique_ptr<zephyr::App> make_app() {
    auto app = std::make_unique<zephyr::App>();
    app->layers(zephyr::layers::request_id(), zephyr::layers::compression({.min_size = 16}));
    app->get("/", [] { return "hello"; });
    app->get("/users/{id:int}", [](zephyr::Request& req) { return std::to_string(req.param<std::int64_t>("id")); });
    app->get("/items/{name}", [](zephyr::Request& req) {
        return req.param<std::string>("name") + ":" + req.query("q").value_or("-");
    });
    app->get("/search", [](zephyr::Request& req) {
        std::string out = std::to_string(zephyr::Request::convert<int>("query parameter", "page",
                                                                       req.query("page").value_or("1")));
        for (const auto& tag : req.query_all("tag")) out += "," + tag;
        return out;
    });
    app->post("/echo", [](zephyr::Request& req) { return req.body(); });
    app->put("/num/{x}", [](zephyr::Request& req) { return std::to_string(req.param<double>("x")); });
    app->get("/files/{*path}", [](zephyr::Request& req) { return std::string{req.param("path")}; });
    app->get("/cookie", [](zephyr::Request& req) {
        zephyr::Response res = zephyr::Response::text(std::string{req.cookie("session").value_or("none")});
        // A value the client chose: invalid ones must become an error response, not a broken header.
        res.set_cookie({.name = "seen", .value = req.query("v").value_or("1"), .path = "/"});
        return res;
    });
    app->get("/header", [](zephyr::Request& req) {
        zephyr::Response res = zephyr::Response::text("h");
        res.headers().set("X-Echo", req.header("x-in").value_or(""));
        return res;
    });
    app->get("/async/{n:int}", [](zephyr::Request& req) -> zephyr::Task<zephyr::Response> {
        if (req.param<int>("n") < 0) throw zephyr::HttpError{zephyr::status::bad_request, "negative"};
        co_return zephyr::Response::json("{\"ok\":true}");
    });
    return app;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    zephyr::log::set_level(zephyr::log::level::off);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto app = make_app();
    static zephyr::testing::Client client{*app, zephyr::http::server_limits{.max_request_line = 1024,
                                                                            .max_header_bytes = 2048,
                                                                            .max_headers = 32,
                                                                            .max_body = 4096}};
    std::string_view input{reinterpret_cast<const char*>(data), size};
    auto res = client.raw(input);
    FUZZ_CHECK(res.status() >= 200 && res.status() <= 599);
    for (const auto& [name, value] : res.headers()) {
        FUZZ_CHECK(!name.empty());
        for (char c : value) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
    }
    return 0;
}
