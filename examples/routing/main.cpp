// Routes with typed path parameters, a group with its own prefix and layer, a custom layer, url_for, the
// handler result types, the Request API, and streamed and file bodies.
#include <zephyr/zephyr.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <string_view>
#include <utility>
#include <vector>

using namespace zephyr;

// [custom-layer]
// A layer: sees the request on the way in and the response on the way out.
Task<Response> server_timing(Request& req, Next next) {
    auto start = std::chrono::steady_clock::now();
    Response res = co_await next(req);
    std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    res.headers().set("Server-Timing", "app;dur=" + std::to_string(took.count()));
    co_return res;
}
// [custom-layer]

// [require-token]
// A configurable layer is a small struct with options and operator().
struct require_token {
    std::string token;
    Task<Response> operator()(Request& req, Next next) const {
        if (req.header("Authorization") != "Bearer " + token)
            throw HttpError{status::unauthorized, "a valid bearer token is required"};
        co_return co_await next(req);
    }
};
// [require-token]

// [to-response]
// Any type is a valid handler result once a to_response() overload sits next to it (found by ADL).
struct point {
    int x = 0;
    int y = 0;
};

Response to_response(point p) {
    return Response::json(R"({"x":)" + std::to_string(p.x) + R"(,"y":)" + std::to_string(p.y) + "}");
}
// [to-response]

App& make_app(App& app) {
    // [app-layers]
    app.layers(layers::request_id(), layers::access_log(), server_timing, layers::compression());
    // [app-layers]

    // [routes]
    app.get("/", [&app] {
        return "try " + app.url_for("users.show", {{"id", "7"}}) + " or /files/docs/readme.txt\n";
    });
    app.get("/users/{id:int}", [](Request& req) {
        auto id = req.param<std::int64_t>("id");
        return "user " + std::to_string(id) + "\n";
    }, {.name = "users.show"});
    app.get("/files/{*path}", [](Request& req) {
        return "you asked for " + std::string{req.param("path")} + "\n";
    });
    // [routes]

    // [handlers]
    app.get("/point", [] { return point{3, 4}; });                   // a user type with to_response()
    app.get("/health", [] { return status::no_content; });           // a bare status
    app.post("/items", [](Request& req) {                            // a status and a body
        return std::pair{status::created, "stored " + std::to_string(req.body().size()) + " bytes\n"};
    });
    app.get("/old-home", [] { return Response::redirect("/"); });    // a full Response
    app.get("/later", []() -> Task<std::string> {                    // a coroutine
        co_return "computed by a coroutine\n";
    });
    // [handlers]

    // [extractors]
    app.get("/orders/{id}", [](Path<std::int64_t> id, Header<"Accept-Language", std::optional<std::string>> lang) {
        return "order " + std::to_string(*id) + " in " + lang->value_or("en") + "\n";
    });
    app.get("/grid/{x}/{y}", [](Path<std::tuple<int, int>> p) {
        auto [x, y] = *p;
        return "cell " + std::to_string(x * y) + "\n";
    });
    app.post("/notes", [](Cookie<"session"> session, Body body) {  // a body extractor comes last
        return "note of " + std::to_string(body->size()) + " bytes for " + *session + "\n";
    });
    // [extractors]

    // [request]
    app.get("/search", [](Request& req) {
        std::string q = req.query("q").value_or("");           // decoded, '+' is a space
        std::vector<std::string> tags = req.query_all("tag");  // ?tag=a&tag=b
        std::string_view agent = req.header("User-Agent").value_or("unknown");
        std::string_view theme = req.cookie("theme").value_or("light");
        return "q=" + q + " tags=" + std::to_string(tags.size()) + " agent=" + std::string{agent} +
               " theme=" + std::string{theme} + "\n";
    });
    app.post("/theme/{name}", [](Request& req) {
        std::string_view name = req.param("name");
        if (name != "light" && name != "dark")
            throw HttpError{status::unprocessable_content, "theme must be 'light' or 'dark'"};
        Response res = Response::redirect("/search", status::see_other);
        res.set_cookie({.name = "theme", .value = std::string{name}, .path = "/", .http_only = true,
                        .same_site = http::same_site::lax});
        return res;
    });
    // [request]

    // [request-id]
    app.get("/whoami", [](Request& req) {
        const http::request_id* id = req.extensions().get<http::request_id>();  // set by layers::request_id()
        return "request " + (id ? id->value : std::string{"-"}) + "\n";
    });
    // [request-id]

    // [bodies]
    app.get("/count", [] {
        return Response::stream([](http::body_writer& out) -> Task<void> {
            for (int i = 1; i <= 3; ++i) co_await out.write(std::to_string(i) + "\n");
        });
    });
    app.get("/readme", [] { return Response::file("README.md"); });  // relative to the working directory
    // [bodies]

    // [group]
    auto& api = app.group("/api");
    api.layers(require_token{"secret"});
    api.get("/me", [] { return Response::json(R"({"name":"ada"})"); });
    api.post("/echo", [](Request& req) -> Task<Response> { co_return Response::text(req.body()); })
        .layers(layers::timeout(std::chrono::seconds{2}));
    // [group]
    return app;
}

// [main]
int main() {
    App app;
    // [config]
    app.config().limits.max_body = 1024 * 1024;               // 413 above 1 MiB
    app.config().timeouts.idle = std::chrono::seconds{30};    // close idle keep-alive connections sooner
    app.config().timeouts.drain = std::chrono::seconds{5};    // graceful shutdown waits at most 5 s
    // [config]
    make_app(app);
    app.run();
}
// [main]
