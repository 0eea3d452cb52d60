// zephyr/http/router/router.hpp — routes, groups and per-route layers.
//
// Patterns are literal segments and parameters: `{id}` matches one segment, `{id:int}` only a (signed)
// integer segment, and a final `{*path}` the rest of the path. Static segments win over parameters, which
// win over a catch-all. Conflicting or malformed patterns throw zephyr::http::route_error at registration,
// naming both routes, so the mistake surfaces before the server listens.
//
//     app.get("/users/{id:int}", show_user, {.name = "users.show"});
//     auto& api = app.group("/api");
//     api.layers(require_token);
//     api.post("/items", create_item).layers(audit);
#pragma once

#include <zephyr/http/handler.hpp>
#include <zephyr/http/layers/layer.hpp>
#include <zephyr/http/method.hpp>
#include <zephyr/http/router/route_error.hpp>
#include <zephyr/http/websocket.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zephyr::http {


/// Options of one route, given as the third argument of get/post/...: `{.name = "users.show"}`.
struct route_options {
    std::string name{};               ///< For url_for(); unique across the app.
    std::string summary{};            ///< One line describing the route.
    std::vector<std::string> tags{};  ///< Free-form labels.
    /// The largest request body this route accepts, instead of the server's limits.max_body (larger for an
    /// upload route, smaller for a JSON one); 413 problem+json beyond it.
    std::optional<std::uint64_t> max_body{};
};

namespace detail {
class route_table;
struct route_entry;
}  // namespace detail

class Router;

/// A registered route; returned by get/post/... to add layers or a name.
class Route {
public:
    /// Adds layers that run for this route only, inside the app's and group's layers, outermost first.
    template <class... L>
    Route& layers(L&&... ls) {
        (add_layer(make_layer(std::forward<L>(ls))), ...);
        return *this;
    }
    /// Names the route for url_for(). Throws route_error when another route has the name.
    Route& name(std::string n);

    /// The full pattern, including group prefixes.
    const std::string& pattern() const noexcept;
    /// The methods this route answers.
    const std::vector<http::method>& methods() const noexcept;

    explicit Route(detail::route_entry* e) noexcept : entry_{e} {}

private:
    void add_layer(std::shared_ptr<layer_base> l);
    detail::route_entry* entry_;
};

/// Registers routes under a prefix with a shared list of layers. An App is the root Router; group() makes
/// children that inherit the parent's prefix and layers.
class Router {
public:
    Router(const Router&) = delete;
    Router& operator=(const Router&) = delete;
    virtual ~Router();

    template <class H>
    Route& get(std::string_view pattern, H&& h, route_options o = {}) {
        return route(method::get, pattern, std::forward<H>(h), std::move(o));
    }
    template <class H>
    Route& post(std::string_view pattern, H&& h, route_options o = {}) {
        return route(method::post, pattern, std::forward<H>(h), std::move(o));
    }
    template <class H>
    Route& put(std::string_view pattern, H&& h, route_options o = {}) {
        return route(method::put, pattern, std::forward<H>(h), std::move(o));
    }
    template <class H>
    Route& patch(std::string_view pattern, H&& h, route_options o = {}) {
        return route(method::patch, pattern, std::forward<H>(h), std::move(o));
    }
    /// DELETE (`delete` is a keyword).
    template <class H>
    Route& del(std::string_view pattern, H&& h, route_options o = {}) {
        return route(method::delete_, pattern, std::forward<H>(h), std::move(o));
    }
    template <class H>
    Route& options(std::string_view pattern, H&& h, route_options o = {}) {
        return route(method::options, pattern, std::forward<H>(h), std::move(o));
    }
    /// One method.
    template <class H>
    Route& route(http::method m, std::string_view pattern, H&& h, route_options o = {}) {
        return add_route({m}, pattern, make_endpoint(std::forward<H>(h)), std::move(o));
    }
    /// Several methods sharing one handler.
    template <class H>
    Route& route(std::initializer_list<http::method> ms, std::string_view pattern, H&& h, route_options o = {}) {
        return add_route(std::vector<http::method>(ms), pattern, make_endpoint(std::forward<H>(h)), std::move(o));
    }
    /// A WebSocket endpoint (GET): `h` is a coroutine `Task<void>(WebSocket&, extractors...)` run once the
    /// upgrade request has passed the layers; see zephyr/http/websocket.hpp and docs/websocket.md.
    template <class H>
    Route& websocket(std::string_view pattern, H&& h, route_options o = {}, websocket_options ws = {}) {
        return add_route({method::get}, pattern, make_websocket_endpoint(std::forward<H>(h), ws), std::move(o));
    }

    /// A child router whose routes start with `prefix` and run this router's layers, then the child's.
    Router& group(std::string_view prefix);

    /// Adds layers to every route of this router and its groups, outermost first. Throws std::logic_error
    /// once the app is serving.
    template <class... L>
    Router& layers(L&&... ls) {
        (add_layer(make_layer(std::forward<L>(ls))), ...);
        return *this;
    }

    /// The prefix of this router ("" for the app).
    const std::string& prefix() const noexcept { return prefix_; }

    /// The route table shared by this router, its groups and its app. Used by the server and test client.
    detail::route_table& table() noexcept { return *table_; }
    const detail::route_table& table() const noexcept { return *table_; }

protected:
    Router();  // the root: owns the route table
    Router(std::shared_ptr<detail::route_table> t, Router* parent, std::string prefix);

private:
    friend class detail::route_table;
    Route& add_route(std::vector<http::method> ms, std::string_view pattern, std::shared_ptr<endpoint> ep,
                     route_options o);
    void add_layer(std::shared_ptr<layer_base> l);

    std::shared_ptr<detail::route_table> table_;
    Router* parent_ = nullptr;
    std::string prefix_;
    std::vector<std::shared_ptr<layer_base>> layers_;
    std::vector<std::unique_ptr<Router>> children_;
    std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace zephyr::http
