// Layers: ordering, short-circuits, error mapping, and the built-in request_id, access_log, compression,
// timeout and error_boundary layers.
#include <zephyr/core/log.hpp>
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <gtest/gtest.h>

#include "support/problem.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <brotli/decode.h>
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace http = zephyr::http;
namespace layers = zephyr::layers;
using namespace std::chrono_literals;
using zephyr::App;
using zephyr::Next;
using zephyr::Request;
using zephyr::Response;
using zephyr::Task;
using zephyr::testing::Client;
using zephyr::testing::TestResponse;

// A layer that records "name>" on the way in and "<name" (with the status it saw) on the way out.
auto recorder(std::vector<std::string>& log, std::string name) {
    return [&log, name](Request& req, Next next) -> Task<Response> {
        log.push_back(name + ">");
        Response res = co_await next(req);
        log.push_back("<" + name + " " + std::to_string(http::to_int(res.status())));
        co_return res;
    };
}

using zephyr::test_support::expect_problem;

bool is_hex32(std::string_view s) {
    if (s.size() != 32) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

std::string gunzip(std::string_view in) {
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 16) != Z_OK) throw std::runtime_error{"inflateInit2 failed"};
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    std::string out;
    char buf[4096];
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        zs.next_out = reinterpret_cast<Bytef*>(buf);
        zs.avail_out = sizeof buf;
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&zs);
            throw std::runtime_error{"inflate failed"};
        }
        out.append(buf, sizeof buf - zs.avail_out);
    }
    inflateEnd(&zs);
    return out;
}

std::string unbrotli(std::string_view in, std::size_t max_size) {
    std::string out(max_size, '\0');
    std::size_t size = out.size();
    if (BrotliDecoderDecompress(in.size(), reinterpret_cast<const std::uint8_t*>(in.data()), &size,
                                reinterpret_cast<std::uint8_t*>(out.data())) != BROTLI_DECODER_RESULT_SUCCESS)
        throw std::runtime_error{"brotli decoding failed"};
    out.resize(size);
    return out;
}

std::string big_text() {
    std::string s;
    for (int i = 0; i < 300; ++i) s += "zephyr compresses text line " + std::to_string(i % 7) + "\n";
    return s;
}

bool vary_has_accept_encoding(const TestResponse& r) {
    for (auto v : r.headers().get_all("Vary"))
        if (http::has_token(v, "Accept-Encoding")) return true;
    return false;
}

Task<void> sleep_for(std::chrono::milliseconds d) {
    boost::asio::steady_timer t{co_await boost::asio::this_coro::executor, d};
    co_await t.async_wait(boost::asio::use_awaitable);
}

}  // namespace

// ---- ordering and composition ----------------------------------------------------------------------------

TEST(layers, onion_order_app_then_group_then_route) {
    std::vector<std::string> log;
    App app;
    app.layers(recorder(log, "app1"), recorder(log, "app2"));
    auto& api = app.group("/api");
    api.layers(recorder(log, "group"));
    auto& v1 = api.group("/v1");
    v1.layers(recorder(log, "nested"));
    v1.get("/x", [&log] {
          log.push_back("handler");
          return "ok";
      })
        .layers(recorder(log, "route1"), recorder(log, "route2"));
    Client client{app};
    ASSERT_EQ(client.get("/api/v1/x").text(), "ok");
    EXPECT_EQ(log, (std::vector<std::string>{"app1>", "app2>", "group>", "nested>", "route1>", "route2>", "handler",
                                             "<route2 200", "<route1 200", "<nested 200", "<group 200", "<app2 200",
                                             "<app1 200"}));
}

TEST(layers, group_layers_do_not_apply_outside_the_group) {
    std::vector<std::string> log;
    App app;
    app.layers(recorder(log, "app"));
    auto& api = app.group("/api");
    api.layers(recorder(log, "group"));
    app.get("/outside", [] { return "x"; });
    api.get("/inside", [] { return "y"; });
    auto& other = app.get("/other", [] { return "z"; });
    other.layers(recorder(log, "route"));
    Client client{app};
    client.get("/outside");
    EXPECT_EQ(log, (std::vector<std::string>{"app>", "<app 200"}));
    log.clear();
    client.get("/api/inside");
    EXPECT_EQ(log, (std::vector<std::string>{"app>", "group>", "<group 200", "<app 200"}));
    log.clear();
    client.get("/outside");
    EXPECT_EQ(log, (std::vector<std::string>{"app>", "<app 200"}));  // route layers stay on their route
}

TEST(layers, layers_added_after_routes_still_apply) {
    std::vector<std::string> log;
    App app;
    app.get("/x", [] { return "x"; });
    app.layers(recorder(log, "late"));
    Client client{app};
    client.get("/x");
    EXPECT_EQ(log, (std::vector<std::string>{"late>", "<late 200"}));
}

TEST(layers, app_layers_see_404_405_and_options) {
    std::vector<std::string> log;
    App app;
    app.layers(recorder(log, "app"));
    app.get("/x", [] { return "x"; });
    Client client{app};
    EXPECT_EQ(client.get("/missing").status(), 404);
    EXPECT_EQ(client.post("/x", "").status(), 405);
    EXPECT_EQ(client.options("/x").status(), 204);
    EXPECT_EQ(log, (std::vector<std::string>{"app>", "<app 404", "app>", "<app 405", "app>", "<app 204"}));
}

TEST(layers, free_function_layer) {
    struct tag {
        static Task<Response> add_header(Request& req, Next next) {
            Response res = co_await next(req);
            res.headers().set("X-Fn", "1");
            co_return res;
        }
    };
    App app;
    app.layers(&tag::add_header);
    app.get("/", [] { return "x"; });
    Client client{app};
    EXPECT_EQ(client.get("/").header("X-Fn"), "1");
}

TEST(layers, short_circuit_skips_inner_layers_and_handler) {
    std::vector<std::string> log;
    bool handler_ran = false;
    App app;
    app.layers(recorder(log, "outer"));
    app.layers([](Request& req, Next next) -> Task<Response> {
        if (!req.header("Authorization")) co_return Response::problem(http::status::unauthorized, "no token");
        co_return co_await next(req);
    });
    app.layers(recorder(log, "inner"));
    app.get("/secret", [&handler_ran] {
        handler_ran = true;
        return "secret";
    });
    Client client{app};
    auto r = client.get("/secret");
    expect_problem(r, 401);
    EXPECT_FALSE(handler_ran);
    EXPECT_EQ(log, (std::vector<std::string>{"outer>", "<outer 401"}));

    log.clear();
    auto ok = client.get("/secret", {.headers = {{"Authorization", "Bearer x"}}});
    EXPECT_EQ(ok.text(), "secret");
    EXPECT_TRUE(handler_ran);
    EXPECT_EQ(log, (std::vector<std::string>{"outer>", "inner>", "<inner 200", "<outer 200"}));
}

struct current_user {
    std::string name;
};

TEST(layers, layer_modifies_request_extensions_and_response_headers) {
    App app;
    app.layers([](Request& req, Next next) -> Task<Response> {
        req.extensions().insert(current_user{std::string{req.header("X-User").value_or("anonymous")}});
        Response res = co_await next(req);
        res.headers().set("X-Served-By", "layer");
        res.set_status(http::status::accepted);
        co_return res;
    });
    app.get("/me", [](Request& req) {
        const auto* u = req.extensions().get<current_user>();
        return u ? "hello " + u->name : std::string{"no user"};
    });
    Client client{app};
    auto r = client.get("/me", {.headers = {{"X-User", "ada"}}});
    EXPECT_EQ(r.status(), 202);
    EXPECT_EQ(r.text(), "hello ada");
    EXPECT_EQ(r.header("X-Served-By"), "layer");
    EXPECT_EQ(client.get("/me").text(), "hello anonymous");
}

TEST(layers, layer_can_replace_the_body) {
    App app;
    app.layers([](Request& req, Next next) -> Task<Response> {
        Response res = co_await next(req);
        res.set_body("[" + res.body() + "]", "text/x-wrapped");
        co_return res;
    });
    app.get("/", [] { return "inner"; });
    Client client{app};
    auto r = client.get("/");
    EXPECT_EQ(r.text(), "[inner]");
    EXPECT_EQ(r.header("Content-Type"), "text/x-wrapped");
    EXPECT_EQ(r.headers().get_all("Content-Type").size(), 1u);
}

// ---- exceptions ------------------------------------------------------------------------------------------

TEST(layers, handler_http_error_becomes_problem_json) {
    App app;
    app.get("/conflict", []() -> std::string {
        throw http::HttpError{http::status::conflict, "the item already exists", "unique index items_pkey"};
    });
    app.get("/async", []() -> Task<std::string> {
        throw http::HttpError{http::status::not_found, "no such user"};
        co_return "unreachable";
    });
    Client client{app};
    auto r = client.get("/conflict");
    expect_problem(r, 409);
    auto j = r.json();
    EXPECT_EQ(j.at("detail").as_string(), "the item already exists");
    EXPECT_EQ(j.at("title").as_string(), "Conflict");
    EXPECT_EQ(r.text().find("items_pkey"), std::string::npos) << "internal text leaked: " << r.text();
    auto a = client.get("/async");
    expect_problem(a, 404);
    EXPECT_EQ(a.json().at("detail").as_string(), "no such user");
}

TEST(layers, handler_std_exception_is_500_without_leaking) {
    App app;
    app.get("/sync", []() -> std::string { throw std::runtime_error{"secret-db-password=hunter2"}; });
    app.get("/async", []() -> Task<std::string> {
        throw std::runtime_error{"secret-db-password=hunter2"};
        co_return "unreachable";
    });
    app.get("/int", []() -> std::string { throw 42; });
    Client client{app};
    for (const char* path : {"/sync", "/async", "/int"}) {
        auto r = client.get(path);
        expect_problem(r, 500);
        EXPECT_EQ(r.text().find("hunter2"), std::string::npos) << path << ": " << r.text();
        EXPECT_EQ(r.text().find("secret"), std::string::npos) << path << ": " << r.text();
        EXPECT_FALSE(r.json().at("detail").as_string().empty());
    }
}

TEST(layers, outer_layers_see_handler_errors_as_responses) {
    std::vector<std::string> log;
    App app;
    app.layers(recorder(log, "outer"));
    app.get("/boom", []() -> std::string { throw std::runtime_error{"boom"}; });
    app.get("/teapot", []() -> std::string { throw http::HttpError{static_cast<http::status>(418), "short"}; });
    Client client{app};
    EXPECT_EQ(client.get("/boom").status(), 500);
    EXPECT_EQ(client.get("/teapot").status(), 418);
    EXPECT_EQ(log, (std::vector<std::string>{"outer>", "<outer 500", "outer>", "<outer 418"}));
}

TEST(layers, http_error_headers_are_copied) {
    App app;
    app.get("/busy", []() -> std::string {
        http::HttpError e{http::status::service_unavailable, "try later"};
        e.headers().add("Retry-After", "120");
        e.headers().add("X-Reason", "maintenance");
        throw e;
    });
    Client client{app};
    auto r = client.get("/busy");
    expect_problem(r, 503);
    EXPECT_EQ(r.header("Retry-After"), "120");
    EXPECT_EQ(r.header("X-Reason"), "maintenance");
}

TEST(layers, throwing_layer_is_500) {
    App app;
    app.layers([](Request&, Next) -> Task<Response> {
        throw std::runtime_error{"layer secret"};
        co_return Response{};
    });
    app.get("/", [] { return "x"; });
    Client client{app};
    auto r = client.get("/");
    expect_problem(r, 500);
    EXPECT_EQ(r.text().find("layer secret"), std::string::npos);
}

TEST(layers, throwing_layer_inside_error_boundary_gives_outer_layers_a_response) {
    std::vector<std::string> log;
    App app;
    app.layers(recorder(log, "outer"), layers::error_boundary(), [](Request& req, Next next) -> Task<Response> {
        if (req.path() == "/http") throw http::HttpError{http::status::forbidden, "denied by layer"};
        if (req.path() == "/std") throw std::logic_error{"layer secret"};
        co_return co_await next(req);
    });
    app.get("/http", [] { return "x"; });
    app.get("/std", [] { return "x"; });
    app.get("/fine", [] { return "fine"; });
    Client client{app};
    auto h = client.get("/http");
    expect_problem(h, 403);
    EXPECT_EQ(h.json().at("detail").as_string(), "denied by layer");
    auto s = client.get("/std");
    expect_problem(s, 500);
    EXPECT_EQ(s.text().find("layer secret"), std::string::npos);
    EXPECT_EQ(client.get("/fine").text(), "fine");
    EXPECT_EQ(log, (std::vector<std::string>{"outer>", "<outer 403", "outer>", "<outer 500", "outer>", "<outer 200"}));
}

TEST(layers, outer_layers_receive_a_response_when_an_inner_layer_throws) {
    App app;
    bool outer_saw_response = false;
    app.layers(
        layers::request_id(),
        [&outer_saw_response](Request& req, Next next) -> Task<Response> {
            std::optional<Response> res;
            try {
                res.emplace(co_await next(req));
                outer_saw_response = true;
            } catch (const std::runtime_error&) {
            }
            if (!res) res.emplace(Response::text("outer caught", http::status::bad_gateway));
            co_return std::move(*res);
        },
        [](Request&, Next) -> Task<Response> {
            throw std::runtime_error{"from layer"};
            co_return Response{};
        });
    app.get("/", [] { return "x"; });
    Client client{app};
    auto r = client.get("/", {.headers = {{"X-Request-Id", "req-9"}}});
    EXPECT_TRUE(outer_saw_response);
    expect_problem(r, 500);
    EXPECT_EQ(r.text().find("from layer"), std::string::npos);
    EXPECT_EQ(r.header("X-Request-Id"), "req-9");  // request_id, outermost, saw the response too
}

TEST(layers, error_response_function) {
    Request req;
    http::HttpError e{http::status::too_many_requests, "slow down"};
    e.headers().add("Retry-After", "5");
    Response r = http::error_response(req, std::make_exception_ptr(e));
    EXPECT_EQ(r.status(), http::status::too_many_requests);
    EXPECT_EQ(r.headers().get("Retry-After").value_or(""), "5");
    EXPECT_EQ(r.headers().get("Content-Type").value_or(""), "application/problem+json");
    auto j = boost::json::parse(r.body());
    EXPECT_EQ(j.at("detail").as_string(), "slow down");

    Response g = http::error_response(req, std::make_exception_ptr(std::runtime_error{"hidden"}));
    EXPECT_EQ(g.status(), http::status::internal_server_error);
    EXPECT_EQ(g.body().find("hidden"), std::string::npos);
}

// ---- request_id ------------------------------------------------------------------------------------------

TEST(layers, request_id_generates_hex_ids) {
    App app;
    app.layers(layers::request_id());
    app.get("/", [] { return "x"; });
    Client client{app};
    auto a = client.get("/");
    auto b = client.get("/");
    EXPECT_TRUE(is_hex32(a.header("X-Request-Id"))) << a.header("X-Request-Id");
    EXPECT_TRUE(is_hex32(b.header("X-Request-Id"))) << b.header("X-Request-Id");
    EXPECT_NE(a.header("X-Request-Id"), b.header("X-Request-Id"));
    EXPECT_TRUE(is_hex32(layers::make_request_id()));
    EXPECT_NE(layers::make_request_id(), layers::make_request_id());
}

TEST(layers, request_id_is_visible_to_the_handler) {
    App app;
    app.layers(layers::request_id());
    app.get("/", [](Request& req) {
        const auto* id = req.extensions().get<http::request_id>();
        return id ? id->value : std::string{"none"};
    });
    Client client{app};
    auto r = client.get("/");
    EXPECT_TRUE(is_hex32(r.text()));
    EXPECT_EQ(r.text(), r.header("X-Request-Id"));
    auto kept = client.get("/", {.headers = {{"X-Request-Id", "upstream-42"}}});
    EXPECT_EQ(kept.text(), "upstream-42");
}

TEST(layers, request_id_keeps_a_valid_incoming_id) {
    App app;
    app.layers(layers::request_id());
    app.get("/", [] { return "x"; });
    Client client{app};
    EXPECT_EQ(client.get("/", {.headers = {{"X-Request-Id", "abc-123_XYZ"}}}).header("X-Request-Id"), "abc-123_XYZ");
    EXPECT_EQ(client.get("/", {.headers = {{"x-request-id", "lower"}}}).header("X-Request-Id"), "lower");
    std::string longest(128, 'a');
    EXPECT_EQ(client.get("/", {.headers = {{"X-Request-Id", longest}}}).header("X-Request-Id"), longest);
}

TEST(layers, request_id_replaces_invalid_or_oversized_ids) {
    App app;
    app.layers(layers::request_id());
    app.get("/", [] { return "x"; });
    Client client{app};
    auto spaced = client.get("/", {.headers = {{"X-Request-Id", "has space"}}});
    EXPECT_TRUE(is_hex32(spaced.header("X-Request-Id"))) << spaced.header("X-Request-Id");
    std::string big(129, 'a');
    auto oversized = client.get("/", {.headers = {{"X-Request-Id", big}}});
    EXPECT_TRUE(is_hex32(oversized.header("X-Request-Id"))) << oversized.header("X-Request-Id");
    auto empty = client.get("/", {.headers = {{"X-Request-Id", ""}}});
    EXPECT_TRUE(is_hex32(empty.header("X-Request-Id")));
}

TEST(layers, request_id_untrusted_ignores_incoming) {
    App app;
    app.layers(layers::request_id({.trust_incoming = false}));
    app.get("/", [] { return "x"; });
    Client client{app};
    auto r = client.get("/", {.headers = {{"X-Request-Id", "spoofed"}}});
    EXPECT_TRUE(is_hex32(r.header("X-Request-Id"))) << r.header("X-Request-Id");
    EXPECT_EQ(r.headers().get_all("X-Request-Id").size(), 1u);
}

TEST(layers, request_id_custom_header) {
    App app;
    app.layers(layers::request_id({.header = "X-Trace"}));
    app.get("/", [] { return "x"; });
    Client client{app};
    auto r = client.get("/", {.headers = {{"X-Trace", "t-1"}}});
    EXPECT_EQ(r.header("X-Trace"), "t-1");
    EXPECT_FALSE(r.has_header("X-Request-Id"));
}

TEST(layers, request_id_is_set_on_error_responses) {
    App app;
    app.layers(layers::request_id());
    app.get("/boom", []() -> std::string { throw std::runtime_error{"x"}; });
    Client client{app};
    EXPECT_TRUE(is_hex32(client.get("/boom").header("X-Request-Id")));
    EXPECT_TRUE(is_hex32(client.get("/missing").header("X-Request-Id")));
}

// ---- access_log ------------------------------------------------------------------------------------------

namespace {
// A layer that records what the access log would write for each request.
auto capture_log_line(std::vector<std::string>& lines, double duration_ms, bool include_query) {
    return [&lines, duration_ms, include_query](Request& req, Next next) -> Task<Response> {
        Response res = co_await next(req);
        lines.push_back(layers::access_log::format(req, res, duration_ms, include_query));
        co_return res;
    };
}
}  // namespace

TEST(layers, access_log_format_is_one_json_line) {
    std::vector<std::string> lines;
    App app;
    app.layers(layers::request_id(), capture_log_line(lines, 12.3456, false));
    app.get("/users/{id}", [] { return "hello"; }, {.name = "users.show"});
    app.get("/plain/{x}", [] { return "abc"; });
    Client client{app};
    auto r = client.get("/users/5?token=secret");
    auto r2 = client.get("/plain/1");
    auto missing = client.get("/nowhere");
    ASSERT_EQ(lines.size(), 3u);
    for (const auto& l : lines) EXPECT_EQ(l.find('\n'), std::string::npos) << l;

    auto j = boost::json::parse(lines[0]).as_object();
    EXPECT_EQ(j.at("method").as_string(), "GET");
    EXPECT_EQ(j.at("path").as_string(), "/users/5");
    EXPECT_FALSE(j.contains("query"));
    EXPECT_EQ(lines[0].find("secret"), std::string::npos);
    EXPECT_EQ(j.at("route").as_string(), "users.show");
    EXPECT_EQ(j.at("status").to_number<int>(), 200);
    EXPECT_EQ(j.at("bytes").to_number<std::uint64_t>(), 5u);
    EXPECT_NEAR(j.at("duration_ms").to_number<double>(), 12.346, 1e-9);  // milliseconds to 3 decimals
    EXPECT_NE(lines[0].find("\"duration_ms\":12.346,"), std::string::npos) << lines[0];
    EXPECT_EQ(j.at("request_id").as_string(), r.header("X-Request-Id"));
    EXPECT_TRUE(j.contains("time"));

    auto j2 = boost::json::parse(lines[1]).as_object();
    EXPECT_EQ(j2.at("route").as_string(), "/plain/{x}");
    EXPECT_EQ(j2.at("bytes").to_number<std::uint64_t>(), 3u);
    EXPECT_EQ(j2.at("request_id").as_string(), r2.header("X-Request-Id"));

    auto j3 = boost::json::parse(lines[2]).as_object();
    EXPECT_TRUE(j3.at("route").is_null());
    EXPECT_EQ(j3.at("status").to_number<int>(), 404);
    EXPECT_EQ(j3.at("bytes").to_number<std::uint64_t>(), missing.text().size());
}

TEST(layers, access_log_format_reads_request_id_from_response_when_outside) {
    std::vector<std::string> lines;
    App app;
    app.layers(capture_log_line(lines, 1.0, true), layers::request_id());
    app.get("/x", [] { return "x"; });
    app.get("/none", [] { return "y"; });
    Client client{app};
    auto r = client.get("/x?a=1&b=2");
    ASSERT_EQ(lines.size(), 1u);
    auto j = boost::json::parse(lines[0]).as_object();
    EXPECT_EQ(j.at("request_id").as_string(), r.header("X-Request-Id"));
    EXPECT_EQ(j.at("query").as_string(), "a=1&b=2");
    EXPECT_EQ(j.at("path").as_string(), "/x");
}

TEST(layers, access_log_format_without_request_id_is_null) {
    std::vector<std::string> lines;
    App app;
    app.layers(capture_log_line(lines, 0.5, false));
    app.post("/submit", [] { return http::status::created; });
    Client client{app};
    client.post("/submit", "data");
    ASSERT_EQ(lines.size(), 1u);
    auto j = boost::json::parse(lines[0]).as_object();
    EXPECT_TRUE(j.at("request_id").is_null());
    EXPECT_EQ(j.at("method").as_string(), "POST");
    EXPECT_EQ(j.at("status").to_number<int>(), 201);
    EXPECT_EQ(j.at("bytes").to_number<std::uint64_t>(), 0u);
}

TEST(layers, access_log_layer_writes_to_the_access_log) {
    namespace fs = std::filesystem;
    fs::path file = fs::temp_directory_path() / ("zephyr_access_log_test_" + layers::make_request_id() + ".log");
    auto previous = zephyr::log::get_level();
    zephyr::log::set_level(zephyr::log::level::info);
    zephyr::log::set_access_log_file(file.string());
    {
        App app;
        app.layers(layers::request_id(), layers::access_log());
        app.get("/logged", [] { return "abc"; });
        Client client{app};
        EXPECT_EQ(client.get("/logged").text(), "abc");
    }
    zephyr::log::set_access_log_file("");
    zephyr::log::set_level(previous);
    std::ifstream in{file};
    std::string content{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
    in.close();
    std::error_code ec;
    fs::remove(file, ec);
    ASSERT_FALSE(content.empty());
    EXPECT_EQ(content.back(), '\n');
    EXPECT_EQ(content.find('\n'), content.size() - 1) << "expected exactly one line: " << content;
    auto j = boost::json::parse(content).as_object();
    EXPECT_EQ(j.at("path").as_string(), "/logged");
    EXPECT_EQ(j.at("status").to_number<int>(), 200);
    EXPECT_EQ(j.at("bytes").to_number<std::uint64_t>(), 3u);
    EXPECT_GE(j.at("duration_ms").to_number<double>(), 0.0);
    EXPECT_TRUE(is_hex32(j.at("request_id").as_string()));
}

// ---- compression -----------------------------------------------------------------------------------------

namespace {
struct compression_app {
    App app;
    std::string body = big_text();
    explicit compression_app(layers::compression_options o = {}) {
        app.layers(layers::compression(o));
        app.get("/text", [this] { return body; });
        app.get("/small", [] { return "tiny"; });
        app.get("/png", [this] { return Response{http::status::ok, body, "image/png"}; });
        app.get("/svg", [this] { return Response{http::status::ok, body, "image/svg+xml"}; });
        app.get("/encoded", [this] {
            Response r = Response::text(body);
            r.headers().set("Content-Encoding", "identity-custom");
            return r;
        });
        app.get("/no-transform", [this] {
            Response r = Response::text(body);
            r.headers().set("Cache-Control", "public, no-transform");
            return r;
        });
        app.get("/etag", [this] {
            Response r = Response::text(body);
            r.headers().set("ETag", "\"v1\"");
            return r;
        });
        app.get("/stream", [this] {
            return Response::stream([this](http::body_writer& w) -> Task<void> { co_await w.write(body); });
        });
        app.get("/vary", [this] {
            Response r = Response::text(body);
            r.headers().add("Vary", "Origin");
            return r;
        });
    }
};

TestResponse get_with(Client& c, std::string_view path, std::string accept) {
    return c.get(path, {.headers = {{"Accept-Encoding", std::move(accept)}}});
}
}  // namespace

TEST(layers, compression_gzip_round_trips) {
    compression_app a;
    Client client{a.app};
    auto r = get_with(client, "/text", "gzip");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.header("Content-Encoding"), "gzip");
    EXPECT_TRUE(vary_has_accept_encoding(r));
    EXPECT_LT(r.text().size(), a.body.size());
    EXPECT_EQ(gunzip(r.text()), a.body);
    EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
}

TEST(layers, compression_brotli_round_trips) {
    compression_app a;
    Client client{a.app};
    auto r = get_with(client, "/text", "br");
    EXPECT_EQ(r.header("Content-Encoding"), "br");
    EXPECT_TRUE(vary_has_accept_encoding(r));
    EXPECT_LT(r.text().size(), a.body.size());
    EXPECT_EQ(unbrotli(r.text(), a.body.size() * 2), a.body);
}

TEST(layers, compression_negotiates_with_q_values) {
    compression_app a;
    Client client{a.app};
    EXPECT_EQ(get_with(client, "/text", "gzip, br").header("Content-Encoding"), "br");  // tie: brotli
    EXPECT_EQ(get_with(client, "/text", "gzip, deflate").header("Content-Encoding"), "gzip");
    EXPECT_EQ(get_with(client, "/text", "gzip;q=1.0, br;q=0.5").header("Content-Encoding"), "gzip");
    EXPECT_EQ(get_with(client, "/text", "gzip;q=0.2, br;q=0.8").header("Content-Encoding"), "br");
    EXPECT_EQ(get_with(client, "/text", "br;q=0, gzip").header("Content-Encoding"), "gzip");
    EXPECT_EQ(get_with(client, "/text", "GZIP").header("Content-Encoding"), "gzip");
    EXPECT_EQ(get_with(client, "/text", "x-gzip").header("Content-Encoding"), "gzip");
    EXPECT_EQ(get_with(client, "/text", " gzip ; q=0.9 ").header("Content-Encoding"), "gzip");
}

TEST(layers, compression_q_zero_rejects) {
    compression_app a;
    Client client{a.app};
    auto r = get_with(client, "/text", "gzip;q=0");
    EXPECT_FALSE(r.has_header("Content-Encoding"));
    EXPECT_EQ(r.text(), a.body);
    EXPECT_TRUE(vary_has_accept_encoding(r));
    EXPECT_FALSE(get_with(client, "/text", "br;q=0, gzip;q=0").has_header("Content-Encoding"));
    EXPECT_FALSE(get_with(client, "/text", "*;q=0").has_header("Content-Encoding"));
    EXPECT_FALSE(get_with(client, "/text", "identity").has_header("Content-Encoding"));
    EXPECT_FALSE(get_with(client, "/text", "deflate, compress").has_header("Content-Encoding"));
    EXPECT_FALSE(get_with(client, "/text", "").has_header("Content-Encoding"));
}

TEST(layers, compression_wildcard) {
    compression_app a;
    Client client{a.app};
    EXPECT_EQ(get_with(client, "/text", "*").header("Content-Encoding"), "br");
    EXPECT_EQ(get_with(client, "/text", "br;q=0, *").header("Content-Encoding"), "gzip");
    EXPECT_EQ(get_with(client, "/text", "gzip;q=0, *;q=0.5").header("Content-Encoding"), "br");
    auto r = get_with(client, "/text", "*");
    EXPECT_EQ(unbrotli(r.text(), a.body.size() * 2), a.body);
}

TEST(layers, compression_without_accept_encoding_sends_identity_with_vary) {
    compression_app a;
    Client client{a.app};
    auto r = client.get("/text");
    EXPECT_FALSE(r.has_header("Content-Encoding"));
    EXPECT_EQ(r.text(), a.body);
    EXPECT_TRUE(vary_has_accept_encoding(r));
}

TEST(layers, compression_skips_small_bodies) {
    compression_app a;
    Client client{a.app};
    auto r = get_with(client, "/small", "gzip, br");
    EXPECT_FALSE(r.has_header("Content-Encoding"));
    EXPECT_EQ(r.text(), "tiny");
}

TEST(layers, compression_min_size_option) {
    compression_app a{{.min_size = 1}};
    Client client{a.app};
    // "tiny" compresses to more than 4 bytes, so it is still sent as it is.
    EXPECT_FALSE(get_with(client, "/small", "gzip").has_header("Content-Encoding"));
    compression_app big{{.min_size = 1'000'000}};
    Client big_client{big.app};
    EXPECT_FALSE(get_with(big_client, "/text", "gzip").has_header("Content-Encoding"));
}

TEST(layers, compression_skips_already_compressed_types) {
    compression_app a;
    Client client{a.app};
    auto png = get_with(client, "/png", "gzip, br");
    EXPECT_FALSE(png.has_header("Content-Encoding"));
    EXPECT_EQ(png.text(), a.body);
    auto svg = get_with(client, "/svg", "gzip");
    EXPECT_EQ(svg.header("Content-Encoding"), "gzip");
    EXPECT_EQ(gunzip(svg.text()), a.body);
}

TEST(layers, compression_skips_existing_content_encoding) {
    compression_app a;
    Client client{a.app};
    auto r = get_with(client, "/encoded", "gzip, br");
    EXPECT_EQ(r.header("Content-Encoding"), "identity-custom");
    EXPECT_EQ(r.headers().get_all("Content-Encoding").size(), 1u);
    EXPECT_EQ(r.text(), a.body);
}

TEST(layers, compression_honours_no_transform) {
    compression_app a;
    Client client{a.app};
    auto r = get_with(client, "/no-transform", "gzip");
    EXPECT_FALSE(r.has_header("Content-Encoding"));
    EXPECT_EQ(r.text(), a.body);
}

TEST(layers, compression_weakens_strong_etag) {
    compression_app a;
    Client client{a.app};
    EXPECT_EQ(get_with(client, "/etag", "gzip").header("ETag"), "W/\"v1\"");
    EXPECT_EQ(client.get("/etag").header("ETag"), "\"v1\"");
}

TEST(layers, compression_skips_streams) {
    compression_app a;
    Client client{a.app};
    auto r = get_with(client, "/stream", "gzip");
    EXPECT_FALSE(r.has_header("Content-Encoding"));
    EXPECT_EQ(r.text(), a.body);
}

TEST(layers, compression_keeps_existing_vary) {
    compression_app a;
    Client client{a.app};
    auto r = get_with(client, "/vary", "gzip");
    EXPECT_EQ(r.header("Content-Encoding"), "gzip");
    EXPECT_TRUE(vary_has_accept_encoding(r));
    bool has_origin = false;
    for (auto v : r.headers().get_all("Vary")) has_origin = has_origin || http::has_token(v, "Origin");
    EXPECT_TRUE(has_origin);
}

TEST(layers, compression_disabled_codings) {
    compression_app no_br{{.brotli = false}};
    Client c1{no_br.app};
    EXPECT_EQ(get_with(c1, "/text", "br, gzip").header("Content-Encoding"), "gzip");
    EXPECT_FALSE(get_with(c1, "/text", "br").has_header("Content-Encoding"));
    compression_app no_gzip{{.gzip = false}};
    Client c2{no_gzip.app};
    EXPECT_FALSE(get_with(c2, "/text", "gzip").has_header("Content-Encoding"));
    EXPECT_EQ(get_with(c2, "/text", "gzip, br;q=0.1").header("Content-Encoding"), "br");
}

TEST(layers, compression_head_matches_get) {
    compression_app a;
    Client client{a.app};
    for (const char* coding : {"gzip", "br"}) {
        auto get = get_with(client, "/text", coding);
        auto head = client.head("/text", {.headers = {{"Accept-Encoding", coding}}});
        EXPECT_EQ(head.status(), 200);
        EXPECT_TRUE(head.text().empty());
        EXPECT_EQ(head.header("Content-Encoding"), get.header("Content-Encoding"));
        EXPECT_EQ(head.header("Content-Length"), std::to_string(get.text().size())) << coding;
        EXPECT_TRUE(vary_has_accept_encoding(head));
    }
    auto plain = client.head("/text");
    EXPECT_FALSE(plain.has_header("Content-Encoding"));
    EXPECT_EQ(plain.header("Content-Length"), std::to_string(a.body.size()));
}

TEST(layers, compression_leaves_error_statuses_alone_when_small) {
    compression_app a;
    Client client{a.app};
    auto r = get_with(client, "/missing", "gzip");
    EXPECT_EQ(r.status(), 404);
    EXPECT_FALSE(r.has_header("Content-Encoding"));
    EXPECT_NO_THROW(r.json());
}

TEST(layers, negotiate_coding_function) {
    using http::content_coding;
    EXPECT_EQ(http::negotiate_coding("gzip", true, true), content_coding::gzip);
    EXPECT_EQ(http::negotiate_coding("br", true, true), content_coding::br);
    EXPECT_EQ(http::negotiate_coding("br, gzip", true, true), content_coding::br);
    EXPECT_EQ(http::negotiate_coding("br;q=0.4, gzip;q=0.5", true, true), content_coding::gzip);
    EXPECT_EQ(http::negotiate_coding("gzip;q=0", true, true), content_coding::identity);
    EXPECT_EQ(http::negotiate_coding("*", true, true), content_coding::br);
    EXPECT_EQ(http::negotiate_coding("*", true, false), content_coding::gzip);
    EXPECT_EQ(http::negotiate_coding("*;q=0", true, true), content_coding::identity);
    EXPECT_EQ(http::negotiate_coding("gzip;q=2", true, true), content_coding::identity);  // malformed q ignored
    EXPECT_EQ(http::negotiate_coding("gzip;q=abc, br", true, true), content_coding::br);
    EXPECT_EQ(http::negotiate_coding("", true, true), content_coding::identity);
    EXPECT_EQ(http::negotiate_coding("gzip", false, true), content_coding::identity);
}

TEST(layers, compress_functions_round_trip) {
    std::string text = big_text();
    EXPECT_EQ(gunzip(http::gzip_compress(text)), text);
    EXPECT_EQ(gunzip(http::gzip_compress(text, 1)), text);
    EXPECT_EQ(gunzip(http::gzip_compress(text, 9)), text);
    EXPECT_EQ(gunzip(http::gzip_compress("")), "");
    EXPECT_EQ(unbrotli(http::brotli_compress(text), text.size() * 2), text);
    EXPECT_EQ(unbrotli(http::brotli_compress(text, 11), text.size() * 2), text);
    EXPECT_EQ(unbrotli(http::brotli_compress(""), 16), "");
}

// ---- timeout ---------------------------------------------------------------------------------------------

TEST(layers, timeout_answers_503_quickly) {
    App app;
    app.get("/slow", []() -> Task<std::string> {
           co_await sleep_for(10s);
           co_return "too late";
       })
        .layers(layers::timeout(50ms));
    Client client{app};
    auto start = std::chrono::steady_clock::now();
    auto r = client.get("/slow");
    auto elapsed = std::chrono::steady_clock::now() - start;
    expect_problem(r, 503);
    EXPECT_NE(r.json().at("detail").as_string().find("50 ms"), boost::json::string::npos) << r.text();
    EXPECT_LT(elapsed, 2s);
    EXPECT_GE(elapsed, 40ms);
}

TEST(layers, timeout_passes_fast_handlers_through) {
    App app;
    app.layers(layers::timeout(5s));
    app.get("/fast", [] { return "quick"; });
    app.get("/async", []() -> Task<std::string> {
        co_await sleep_for(1ms);
        co_return "async quick";
    });
    app.get("/err", []() -> std::string { throw http::HttpError{http::status::conflict, "nope"}; });
    Client client{app};
    auto start = std::chrono::steady_clock::now();
    auto r = client.get("/fast");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.text(), "quick");
    EXPECT_EQ(client.get("/async").text(), "async quick");
    expect_problem(client.get("/err"), 409);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(layers, timeout_custom_status) {
    App app;
    app.layers(layers::timeout(30ms, http::status::gateway_timeout));
    app.get("/slow", []() -> Task<std::string> {
        co_await sleep_for(10s);
        co_return "too late";
    });
    Client client{app};
    auto start = std::chrono::steady_clock::now();
    expect_problem(client.get("/slow"), 504);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(layers, timeout_outer_layers_see_the_timeout_response) {
    std::vector<std::string> log;
    App app;
    app.layers(recorder(log, "outer"), layers::timeout(30ms), recorder(log, "inner"));
    app.get("/slow", []() -> Task<std::string> {
        co_await sleep_for(10s);
        co_return "too late";
    });
    Client client{app};
    EXPECT_EQ(client.get("/slow").status(), 503);
    ASSERT_GE(log.size(), 3u);
    EXPECT_EQ(log.front(), "outer>");
    EXPECT_EQ(log[1], "inner>");
    EXPECT_EQ(log.back(), "<outer 503");
}

TEST(layers, timeout_propagates_inner_layer_errors_without_waiting) {
    App app;
    app.layers(layers::timeout(1500ms), [](Request&, Next) -> Task<Response> {
        throw http::HttpError{http::status::forbidden, "inner layer refused"};
        co_return Response{};
    });
    app.get("/", [] { return "x"; });
    Client client{app};
    auto start = std::chrono::steady_clock::now();
    auto r = client.get("/");
    auto elapsed = std::chrono::steady_clock::now() - start;
    expect_problem(r, 403);
    EXPECT_LT(elapsed, 1000ms);
}

TEST(layers, timeout_cancellation_is_not_logged_as_a_handler_error) {
    auto previous = zephyr::log::get_level();
    zephyr::log::set_level(zephyr::log::level::info);
    App app;
    app.layers(layers::timeout(30ms));
    app.get("/slow", []() -> Task<std::string> {
        co_await sleep_for(10s);
        co_return "too late";
    });
    app.get("/broken", []() -> Task<std::string> {
        co_await sleep_for(1ms);
        throw std::runtime_error{"real bug"};
    });
    Client client{app};
    ::testing::internal::CaptureStderr();
    auto slow = client.get("/slow");
    std::string slow_log = ::testing::internal::GetCapturedStderr();
    ::testing::internal::CaptureStderr();
    auto broken = client.get("/broken");
    std::string broken_log = ::testing::internal::GetCapturedStderr();
    zephyr::log::set_level(previous);
    EXPECT_EQ(slow.status(), 503);
    EXPECT_EQ(slow_log.find("unhandled exception"), std::string::npos) << slow_log;
    EXPECT_EQ(broken.status(), 500);
    EXPECT_NE(broken_log.find("real bug"), std::string::npos) << broken_log;
}

// ---- error_boundary --------------------------------------------------------------------------------------

TEST(layers, error_boundary_passes_responses_through) {
    App app;
    app.layers(layers::error_boundary());
    app.get("/", [] { return Response::text("fine", http::status::created); });
    Client client{app};
    auto r = client.get("/");
    EXPECT_EQ(r.status(), 201);
    EXPECT_EQ(r.text(), "fine");
}

TEST(layers, error_boundary_with_request_id_keeps_the_id_on_layer_errors) {
    App app;
    app.layers(layers::request_id(), layers::error_boundary(), [](Request&, Next) -> Task<Response> {
        throw std::runtime_error{"layer failure"};
        co_return Response{};
    });
    app.get("/", [] { return "x"; });
    Client client{app};
    auto r = client.get("/", {.headers = {{"X-Request-Id", "req-7"}}});
    expect_problem(r, 500);
    EXPECT_EQ(r.header("X-Request-Id"), "req-7");
}

TEST(layers, compression_does_not_repeat_vary) {
    App app;
    app.layers(layers::compression({.min_size = 10}));
    app.get("/", [] {
        Response r = Response::text(std::string(2000, 'v'));
        r.headers().append("Vary", "Accept-Encoding");
        return r;
    });
    Client client{app};
    auto r = client.get("/", {.headers = {{"Accept-Encoding", "gzip"}}});
    EXPECT_EQ(r.header("Content-Encoding"), "gzip");
    EXPECT_EQ(r.headers().get_all("Vary").size(), 1u);
}
