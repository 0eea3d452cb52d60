// The route table behind every Router of one App: the segment tree, the named routes and the layer stacks
// built once when the app starts serving.
#pragma once

#include <zephyr/http/router/router.hpp>
#include <zephyr/http/services.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace zephyr::http::detail {

/// One built stack: layers outermost first, then the handler.
struct chain {
    std::vector<std::shared_ptr<layer_base>> layers;
    std::shared_ptr<endpoint> ep;
    bool streams_body = false;               ///< The handler reads the body as it arrives (ep->streams_body()).
    std::optional<std::uint64_t> max_body;  ///< route_options::max_body.

    bool finalises = false;                 ///< The handler injects a Scoped<T> service: await its finaliser.

    /// True when neither layers nor a coroutine are involved: the server calls the handler directly.
    bool sync() const noexcept { return layers.empty() && ep->is_sync() && !finalises; }
    /// Runs the handler, mapping any exception to a response (the innermost error mapper).
    Task<Response> invoke_endpoint(Request& req) const;
    /// Runs the whole stack with the outermost error boundary.
    Task<Response> run(Request& req) const;
    /// Runs a sync() stack without a coroutine.
    Response run_sync(Request& req) const;
};

struct segment {
    enum kind_t { literal, param, int_param, catch_all } kind;
    std::string text;  // literal text or parameter name
};

struct route_entry {
    std::vector<http::method> methods;
    std::vector<segment> segments;
    route_info info;
    std::shared_ptr<endpoint> ep;
    Router* owner = nullptr;
    std::vector<std::shared_ptr<layer_base>> layers;
    chain built;
    route_table* table = nullptr;
    std::vector<route_check::service_need> needs;  // Inject<T> types, checked at freeze()
    std::optional<std::uint64_t> max_body;         // route_options::max_body

    std::string describe() const;  // "GET|POST /users/{id}"
};

struct node {
    std::vector<std::pair<std::string, std::unique_ptr<node>>> statics;  // sorted by key
    std::unique_ptr<node> param;
    std::string param_name;
    bool param_int = false;
    const route_entry* param_owner = nullptr;
    std::unique_ptr<node> catch_all;
    std::string catch_all_name;
    const route_entry* catch_all_owner = nullptr;
    std::array<route_entry*, method_count> handlers{};
    bool has_handlers = false;

    const node* find_static(std::string_view seg) const noexcept;
    node& static_child(const std::string& seg);
};

class route_table {
public:
    explicit route_table(Router* root) : root_{root} {}

    route_entry& add(Router& owner, std::vector<http::method> ms, std::string_view pattern,
                     std::shared_ptr<endpoint> ep, route_options o);
    void set_name(route_entry& e, std::string name);
    void check_not_frozen(std::string_view what) const;

    /// Builds every stack. Called once, when the app starts serving or a test client is made.
    void freeze();
    bool frozen() const noexcept { return frozen_; }

    /// Finds the stack for `req`, filling in its path parameters and route. Never fails: unmatched requests
    /// get the 404, 405 or automatic OPTIONS stack.
    const chain& match(Request& req) const;

    /// The methods allowed on `path`, for an Allow header ("GET, HEAD, OPTIONS"); empty when nothing matches.
    std::string allowed(std::string_view path) const;

    std::string url_for(std::string_view name, const std::vector<std::pair<std::string, std::string>>& params) const;

    const std::vector<std::unique_ptr<route_entry>>& routes() const noexcept { return routes_; }
    Router& root() noexcept { return *root_; }
    http::services& services() noexcept { return services_; }

private:
    const node* find(std::string_view path, http::method m, std::vector<std::string_view>& caps) const;
    chain stack_for(const Router* owner, const std::vector<std::shared_ptr<layer_base>>& own,
                    std::shared_ptr<endpoint> ep) const;

    Router* root_;
    node tree_;
    std::vector<std::unique_ptr<route_entry>> routes_;
    std::unordered_map<std::string, route_entry*> names_;
    bool frozen_ = false;
    http::services services_;
    chain not_found_;
    chain not_allowed_;
    chain auto_options_;
};

/// Parses a route pattern; throws route_error with the reason for a malformed one.
std::vector<segment> parse_pattern(std::string_view pattern);

}  // namespace zephyr::http::detail
