#include "http/router/route_table.hpp"

#include <zephyr/core/log.hpp>
#include <zephyr/http/layers/request_id.hpp>

#include <algorithm>
#include <charconv>
#include <fmt/format.h>

namespace zephyr::http::detail {
namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

bool is_integer(std::string_view s) {
    if (s.empty()) return false;
    // An optional '-' and digits: exactly what Request::param<int>() converts, so a matched {id:int} never
    // fails to convert for its syntax ("+5" is not matched).
    std::size_t i = s[0] == '-' ? 1 : 0;
    if (i == s.size()) return false;
    for (; i < s.size(); ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

std::string methods_text(const std::vector<http::method>& ms) {
    std::string out;
    for (auto m : ms) {
        if (!out.empty()) out += '|';
        out += to_string(m);
    }
    return out;
}

// The sentinel for "a handler for any method" in find().
constexpr http::method any_method = http::method::other;

bool node_accepts(const node& n, http::method m) {
    if (!n.has_handlers) return false;
    if (m == any_method || m == http::method::options) return true;
    auto idx = static_cast<std::size_t>(m);
    if (n.handlers[idx] != nullptr) return true;
    return m == http::method::head && n.handlers[static_cast<std::size_t>(http::method::get)] != nullptr;
}

// Depth-first search with backtracking: static child, then parameter, then catch-all.
const node* search(const node& n, std::string_view path, std::size_t pos, http::method m,
                   std::vector<std::string_view>& caps) {
    if (pos == std::string_view::npos) return node_accepts(n, m) ? &n : nullptr;
    std::size_t slash = path.find('/', pos);
    std::string_view seg = path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    std::size_t next = slash == std::string_view::npos ? std::string_view::npos : slash + 1;

    const node* child = nullptr;
    if (seg.find('%') == std::string_view::npos) {
        child = n.find_static(seg);
    } else if (auto decoded = percent_decode(seg)) {
        child = n.find_static(*decoded);
    }
    if (child != nullptr)
        if (const node* r = search(*child, path, next, m, caps)) return r;
    if (n.param && !seg.empty() && (!n.param_int || is_integer(seg))) {
        caps.push_back(seg);
        if (const node* r = search(*n.param, path, next, m, caps)) return r;
        caps.pop_back();
    }
    if (n.catch_all && node_accepts(*n.catch_all, m)) {
        caps.push_back(path.substr(pos));
        return n.catch_all.get();
    }
    return nullptr;
}

class status_endpoint final : public endpoint {
public:
    enum class kind { not_found, not_allowed, options };
    status_endpoint(const route_table* t, kind k) : table_{t}, kind_{k} {}
    bool is_sync() const noexcept override { return true; }
    Response call_sync(Request& req) override {
        if (kind_ == kind::not_found) throw HttpError{status::not_found, "no route matches this path"};
        std::string allow = table_->allowed(req.path());
        if (kind_ == kind::options) {
            Response res{status::no_content};
            res.headers().add("Allow", std::move(allow));
            return res;
        }
        HttpError e{status::method_not_allowed,
                    fmt::format("method {} is not allowed here; allowed: {}", req.method_name(), allow)};
        e.headers().add("Allow", std::move(allow));
        throw e;
    }
    Task<Response> call(Request& req) override { co_return call_sync(req); }

private:
    const route_table* table_;
    kind kind_;
};

}  // namespace

std::vector<segment> parse_pattern(std::string_view pattern) {
    auto fail = [&](std::string_view why) {
        throw route_error{fmt::format("malformed route pattern '{}': {}", pattern, why)};
    };
    if (pattern.empty() || pattern[0] != '/') fail("a pattern starts with '/'");
    std::vector<segment> segs;
    if (pattern == "/") return segs;
    std::size_t pos = 1;
    while (true) {
        std::size_t slash = pattern.find('/', pos);
        std::string_view s = pattern.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
        if (!segs.empty() && segs.back().kind == segment::catch_all) fail("a catch-all {*name} must be the last segment");
        if (!s.empty() && s.front() == '{') {
            if (s.back() != '}') fail(fmt::format("segment '{}' opens '{{' without closing it at the segment's end", s));
            std::string_view inner = s.substr(1, s.size() - 2);
            segment seg{segment::param, {}};
            if (!inner.empty() && inner.front() == '*') {
                seg.kind = segment::catch_all;
                inner.remove_prefix(1);
            }
            std::string_view type;
            if (auto colon = inner.find(':'); colon != std::string_view::npos) {
                type = inner.substr(colon + 1);
                inner = inner.substr(0, colon);
            }
            if (inner.empty() || !is_name_start(inner[0]) || !std::all_of(inner.begin(), inner.end(), is_name_char))
                fail(fmt::format("parameter name '{}' must be letters, digits and '_', not starting with a digit", inner));
            if (!type.empty()) {
                if (seg.kind == segment::catch_all) fail("a catch-all parameter takes no type");
                if (type != "int") fail(fmt::format("unknown parameter type '{}' (supported: int)", type));
                seg.kind = segment::int_param;
            }
            seg.text = std::string{inner};
            for (const auto& other : segs)
                if (other.kind != segment::literal && other.text == seg.text)
                    fail(fmt::format("parameter '{}' appears twice", seg.text));
            segs.push_back(std::move(seg));
        } else {
            if (s.find_first_of("{}?# \t") != std::string_view::npos)
                fail(fmt::format("segment '{}' mixes text with '{{', '}}', '?', '#' or spaces; a parameter must be a whole segment", s));
            segs.push_back({segment::literal, std::string{s}});
        }
        if (slash == std::string_view::npos) break;
        pos = slash + 1;
    }
    return segs;
}

std::string route_entry::describe() const { return fmt::format("{} {}", methods_text(methods), info.pattern); }

const node* node::find_static(std::string_view seg) const noexcept {
    if (statics.size() <= 8) {
        for (const auto& [k, v] : statics)
            if (k == seg) return v.get();
        return nullptr;
    }
    auto it = std::lower_bound(statics.begin(), statics.end(), seg,
                               [](const auto& e, std::string_view s) { return std::string_view{e.first} < s; });
    return (it != statics.end() && it->first == seg) ? it->second.get() : nullptr;
}

node& node::static_child(const std::string& seg) {
    auto it = std::lower_bound(statics.begin(), statics.end(), seg,
                               [](const auto& e, const std::string& s) { return e.first < s; });
    if (it != statics.end() && it->first == seg) return *it->second;
    return *statics.insert(it, {seg, std::make_unique<node>()})->second;
}

void route_table::check_not_frozen(std::string_view what) const {
    if (frozen_)
        throw std::logic_error{fmt::format("{} after the app started serving; set up routes and layers first", what)};
}

route_entry& route_table::add(Router& owner, std::vector<http::method> ms, std::string_view pattern,
                              std::shared_ptr<endpoint> ep, route_options o) {
    std::string full = owner.prefix() + std::string{pattern};
    if (!owner.prefix().empty() && pattern == "/") full = owner.prefix();
    check_not_frozen(fmt::format("route '{}' was added", full));
    if (ms.empty()) throw route_error{fmt::format("route '{}' has no method", full)};
    for (auto m : ms)
        if (m == http::method::other)
            throw route_error{fmt::format("route '{}': method::other cannot be routed", full)};

    // A taken name rejects the whole route, before the tree changes (set_name below then cannot fail).
    if (auto it = names_.find(o.name); !o.name.empty() && it != names_.end())
        throw route_error{fmt::format("route '{} {}' cannot be named '{}': route '{}' already has that name",
                                      methods_text(ms), full, o.name, it->second->describe())};

    auto entry = std::make_unique<route_entry>();
    entry->methods = std::move(ms);
    entry->segments = parse_pattern(full);
    entry->info.pattern = full;
    {
        std::vector<std::string> names;
        for (const auto& seg : entry->segments)
            if (seg.kind != segment::literal) names.push_back(seg.text);
        ep->check_route(route_check{full, names, &entry->needs});
    }
    entry->ep = std::move(ep);
    entry->owner = &owner;
    entry->table = this;

    // Walk (and grow) the tree, checking parameter names and types against earlier routes.
    node* n = &tree_;
    for (std::size_t i = 0; i < entry->segments.size(); ++i) {
        const auto& seg = entry->segments[i];
        auto clash = [&](const route_entry* other, std::string_view why) {
            throw route_error{fmt::format("route '{}' conflicts with route '{}': segment {} {}", entry->describe(),
                                          other ? other->describe() : "?", i + 1, why)};
        };
        switch (seg.kind) {
            case segment::literal: n = &n->static_child(seg.text); break;
            case segment::param:
            case segment::int_param: {
                bool is_int = seg.kind == segment::int_param;
                if (!n->param) {
                    n->param = std::make_unique<node>();
                    n->param_name = seg.text;
                    n->param_int = is_int;
                    n->param_owner = entry.get();
                } else if (n->param_name != seg.text || n->param_int != is_int) {
                    clash(n->param_owner, fmt::format("is parameter '{}{}' there but '{}{}' here; use one name and "
                                                      "type at each position",
                                                      n->param_name, n->param_int ? ":int" : "", seg.text,
                                                      is_int ? ":int" : ""));
                }
                n = n->param.get();
                break;
            }
            case segment::catch_all:
                if (!n->catch_all) {
                    n->catch_all = std::make_unique<node>();
                    n->catch_all_name = seg.text;
                    n->catch_all_owner = entry.get();
                } else if (n->catch_all_name != seg.text) {
                    clash(n->catch_all_owner, fmt::format("is catch-all '{}' there but '{}' here", n->catch_all_name,
                                                          seg.text));
                }
                n = n->catch_all.get();
                break;
        }
    }
    for (auto m : entry->methods) {
        auto& slot = n->handlers[static_cast<std::size_t>(m)];
        if (slot != nullptr)
            throw route_error{fmt::format("route '{}' conflicts with route '{}': both answer {} on the same path",
                                          entry->describe(), slot->describe(), to_string(m))};
    }
    for (auto m : entry->methods) n->handlers[static_cast<std::size_t>(m)] = entry.get();
    n->has_handlers = true;

    route_entry& ref = *entry;
    routes_.push_back(std::move(entry));
    ref.info.summary = std::move(o.summary);
    ref.info.tags = std::move(o.tags);
    ref.max_body = o.max_body;
    if (!o.name.empty()) set_name(ref, std::move(o.name));
    return ref;
}

void route_table::set_name(route_entry& e, std::string name) {
    if (auto it = names_.find(name); it != names_.end() && it->second != &e)
        throw route_error{fmt::format("route '{}' cannot be named '{}': route '{}' already has that name",
                                      e.describe(), name, it->second->describe())};
    if (!e.info.name.empty()) names_.erase(e.info.name);
    e.info.name = name;
    names_.emplace(std::move(name), &e);
}

chain route_table::stack_for(const Router* owner, const std::vector<std::shared_ptr<layer_base>>& own,
                             std::shared_ptr<endpoint> ep) const {
    std::vector<const Router*> lineage;
    for (const Router* r = owner; r != nullptr; r = r->parent_) lineage.push_back(r);
    chain c;
    for (auto it = lineage.rbegin(); it != lineage.rend(); ++it)
        c.layers.insert(c.layers.end(), (*it)->layers_.begin(), (*it)->layers_.end());
    c.layers.insert(c.layers.end(), own.begin(), own.end());
    c.ep = std::move(ep);
    return c;
}

void route_table::freeze() {
    if (frozen_) return;
    for (const auto& r : routes_)
        for (const auto& need : r->needs)
            if (!services_.has(need.key))
                throw std::logic_error{fmt::format("route '{}' injects {} but nothing provides it; call "
                                                   "app.provide<{}>(...) before serving",
                                                   r->describe(), need.type, need.type)};
    for (auto& r : routes_) {
        r->built = stack_for(r->owner, r->layers, r->ep);
        r->built.streams_body = r->ep->streams_body();
        r->built.max_body = r->max_body;
        for (const auto& need : r->needs) r->built.finalises = r->built.finalises || services_.finalises(need.key);
    }
    not_found_ = stack_for(root_, {}, std::make_shared<status_endpoint>(this, status_endpoint::kind::not_found));
    not_allowed_ = stack_for(root_, {}, std::make_shared<status_endpoint>(this, status_endpoint::kind::not_allowed));
    auto_options_ = stack_for(root_, {}, std::make_shared<status_endpoint>(this, status_endpoint::kind::options));
    frozen_ = true;
}

const node* route_table::find(std::string_view path, http::method m, std::vector<std::string_view>& caps) const {
    if (path.empty() || path[0] != '/') return nullptr;
    if (path.size() == 1) {
        // "/" is the root route, or else a root catch-all `/{*rest}` with an empty rest (as "/static/" is for
        // "/static/{*path}").
        if (node_accepts(tree_, m)) return &tree_;
        if (tree_.catch_all && node_accepts(*tree_.catch_all, m)) {
            caps.push_back(path.substr(1));
            return tree_.catch_all.get();
        }
        return nullptr;
    }
    return search(tree_, path, 1, m, caps);
}

const chain& route_table::match(Request& req) const {
    req.set_services(&services_);  // also for 404/405: on_error mappers and error pages see the app
    thread_local std::vector<std::string_view> caps;
    caps.clear();
    http::method m = req.method();
    if (m == http::method::other) {
        return find(req.path(), any_method, caps) ? not_allowed_ : not_found_;
    }
    const node* n = find(req.path(), m, caps);
    if (n == nullptr) {
        caps.clear();
        return find(req.path(), any_method, caps) ? not_allowed_ : not_found_;
    }
    auto idx = static_cast<std::size_t>(m);
    const route_entry* e = n->handlers[idx];
    if (e == nullptr && m == http::method::head) e = n->handlers[static_cast<std::size_t>(http::method::get)];
    if (e == nullptr) return auto_options_;  // OPTIONS on a path without an OPTIONS route

    auto& params = req.mutable_params();
    params.clear();
    std::size_t ci = 0;
    for (const auto& seg : e->segments) {
        if (seg.kind == segment::literal) continue;
        std::string_view raw = caps[ci++];
        auto decoded = percent_decode(raw);
        if (!decoded)
            throw HttpError{status::bad_request, fmt::format("path parameter '{}': malformed percent-encoding", seg.text)};
        params.push_back({seg.text, std::move(*decoded)});
    }
    req.set_route(&e->info);
    return e->built;
}

std::string route_table::allowed(std::string_view path) const {
    std::vector<std::string_view> caps;
    const node* n = find(path, any_method, caps);
    if (n == nullptr) return {};
    std::string out;
    auto add = [&](std::string_view m) {
        if (!out.empty()) out += ", ";
        out += m;
    };
    for (std::size_t i = 0; i < method_count; ++i) {
        auto m = static_cast<http::method>(i);
        if (n->handlers[i] != nullptr || (m == http::method::head && n->handlers[0] != nullptr) ||
            m == http::method::options)
            add(to_string(m));
    }
    return out;
}

std::string route_table::url_for(std::string_view name,
                                 const std::vector<std::pair<std::string, std::string>>& params) const {
    auto it = names_.find(std::string{name});
    if (it == names_.end()) throw std::invalid_argument{fmt::format("url_for: no route is named '{}'", name)};
    const route_entry& e = *it->second;
    std::vector<bool> used(params.size(), false);
    auto value_of = [&](const std::string& key) -> const std::string& {
        for (std::size_t i = 0; i < params.size(); ++i)
            if (params[i].first == key) {
                used[i] = true;
                return params[i].second;
            }
        throw std::invalid_argument{
            fmt::format("url_for('{}'): missing parameter '{}' for pattern '{}'", name, key, e.info.pattern)};
    };
    std::string out;
    for (const auto& seg : e.segments) {
        out += '/';
        switch (seg.kind) {
            case segment::literal: out += percent_encode(seg.text, false); break;
            case segment::param: out += percent_encode(value_of(seg.text)); break;
            case segment::int_param: {
                const std::string& v = value_of(seg.text);
                if (!is_integer(v))
                    throw std::invalid_argument{
                        fmt::format("url_for('{}'): parameter '{}' must be an integer, got '{}'", name, seg.text, v)};
                out += v;
                break;
            }
            case segment::catch_all: out += percent_encode(value_of(seg.text), true); break;
        }
    }
    if (out.empty()) out.push_back('/');  // (not `out = "/"`: GCC 12 -O3 warns falsely, -Wrestrict)
    char sep = '?';
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (used[i]) continue;
        out += sep;
        out += percent_encode(params[i].first);
        out += '=';
        out += percent_encode(params[i].second);
        sep = '&';
    }
    return out;
}

}  // namespace zephyr::http::detail
