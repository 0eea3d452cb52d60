// Routes with typed path parameters, a group with its own prefix and layer, a custom layer, and url_for.
#include <zephyr/zephyr.hpp>

#include <chrono>
#include <string>

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

    // [group]
    auto& api = app.group("/api");
    api.layers(require_token{"secret"});
    api.get("/me", [] { return Response::json(R"({"name":"ada"})"); });
    api.post("/echo", [](Request& req) -> Task<Response> { co_return Response::text(req.body()); })
        .layers(layers::timeout(std::chrono::seconds{2}));
    // [group]
    return app;
}

int main() {
    App app;
    make_app(app);
    app.run();
}
