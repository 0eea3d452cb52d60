#include <zephyr/core/log.hpp>
#include <zephyr/http/layers/access_log.hpp>
#include <zephyr/http/layers/request_id.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/string_view.hpp>

#include <chrono>
#include <optional>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace zephyr::http::layers {

namespace {

// A JSON string literal for `s`, escaped.
std::string quoted(std::string_view s) { return boost::json::serialize(boost::json::string_view{s.data(), s.size()}); }

}  // namespace

// Built by hand rather than through boost::json::object so that numbers keep a fixed, readable form
// (Boost.JSON would print a duration of 0.014 ms as 1.4E-2).
std::string access_log::format(const Request& req, const Response& res, double duration_ms, bool include_query) {
    auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    std::string out = fmt::format(R"({{"time":"{:%Y-%m-%dT%H:%M:%S}Z","method":{},"path":{})", now,
                                  quoted(req.method_name()), quoted(req.path()));
    if (include_query && !req.query_string().empty()) out += R"(,"query":)" + quoted(req.query_string());
    out += R"(,"route":)";
    if (const route_info* r = req.route())
        out += quoted(r->name.empty() ? r->pattern : r->name);
    else
        out += "null";
    std::size_t bytes = (res.file() || req.method() == method::head) ? 0 : res.body().size();
    out += fmt::format(R"(,"status":{},"bytes":{},"duration_ms":{:.3f},"request_id":)", to_int(res.status()), bytes,
                       duration_ms);
    if (const auto* id = req.extensions().get<http::request_id>())
        out += quoted(id->value);
    else if (auto h = res.headers().get("X-Request-Id"))
        out += quoted(*h);
    else
        out += "null";
    if (!req.remote_address().empty()) out += R"(,"remote":)" + quoted(req.remote_address());
    out += '}';
    return out;
}

Task<Response> access_log::operator()(Request& req, Next next) const {
    auto start = std::chrono::steady_clock::now();
    Response res = co_await next(req);
    if (log::enabled(log::level::info)) {
        std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
        log::access(format(req, res, took.count(), options_.include_query));
    }
    co_return res;
}

}  // namespace zephyr::http::layers
