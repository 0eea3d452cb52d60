#include <zephyr/core/log.hpp>
#include <zephyr/http/layers/access_log.hpp>
#include <zephyr/http/layers/request_id.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <optional>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace zephyr::http::layers {

std::string access_log::format(const Request& req, const Response& res, double duration_ms, bool include_query) {
    auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    boost::json::object o;
    o["time"] = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", now);
    o["method"] = req.method_name();
    o["path"] = req.path();
    if (include_query && !req.query_string().empty()) o["query"] = req.query_string();
    if (const route_info* r = req.route()) {
        o["route"] = r->name.empty() ? r->pattern : r->name;
    } else {
        o["route"] = nullptr;
    }
    o["status"] = to_int(res.status());
    o["bytes"] = res.file() ? 0 : res.body().size();
    o["duration_ms"] = static_cast<double>(static_cast<long long>(duration_ms * 1000.0)) / 1000.0;
    if (const auto* id = req.extensions().get<http::request_id>()) {
        o["request_id"] = id->value;
    } else if (auto h = res.headers().get("X-Request-Id")) {
        o["request_id"] = *h;
    } else {
        o["request_id"] = nullptr;
    }
    if (!req.remote_address().empty()) o["remote"] = req.remote_address();
    return boost::json::serialize(o);
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
