// Route matching: what the server does between parsing a request and calling its handler.
#include <zephyr/zephyr.hpp>

#include "http/router/route_table.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace {

using zephyr::http::method;

// An app shaped like a small REST API, plus `extra` more routes spread over 50 resource prefixes.
void add_routes(zephyr::App& app, int extra) {
    app.get("/plaintext", [] { return "Hello, World!"; });
    app.get("/json", [] { return "{}"; });
    app.get("/users/{id}", [] { return "user"; });
    app.get("/users/{id}/posts/{post}", [] { return "post"; });
    app.post("/users", [] { return "created"; });
    for (int i = 0; i < extra; ++i) {
        std::string r = "/api/v1/resource" + std::to_string(i % 50);
        switch (i / 50 % 4) {
            case 0: r += "/item" + std::to_string(i); break;
            case 1: r += "/item" + std::to_string(i) + "/{id}"; break;
            case 2: r += "/{id}/sub" + std::to_string(i); break;
            default: r += "/group" + std::to_string(i) + "/{a}/{b}"; break;
        }
        app.get(r, [] { return "x"; });
    }
}

void match(benchmark::State& state, int extra, std::string_view target) {
    zephyr::App app{zephyr::http::server_config{}};
    add_routes(app, extra);
    app.table().freeze();
    zephyr::Request req;
    req.set_method(method::get, "GET");
    req.set_target(target);
    if (app.table().match(req).ep == nullptr || req.route() == nullptr) {
        state.SkipWithError("target did not match a route");
        return;
    }
    for (auto _ : state) {
        const auto& ch = app.table().match(req);
        benchmark::DoNotOptimize(&ch);
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_MatchStatic(benchmark::State& state) { match(state, 0, "/plaintext"); }
void BM_MatchParam(benchmark::State& state) { match(state, 0, "/users/12345/posts/678"); }
void BM_Match1000Static(benchmark::State& state) { match(state, 1000, "/api/v1/resource37/item837"); }
void BM_Match1000Param(benchmark::State& state) { match(state, 1000, "/api/v1/resource37/group987/abc/def"); }

}  // namespace

BENCHMARK(BM_MatchStatic);
BENCHMARK(BM_MatchParam);
BENCHMARK(BM_Match1000Static);
BENCHMARK(BM_Match1000Param);
