// zephyr/http/layers/access_log.hpp — one JSON line per request.
//
// Writes {"time","method","path","route","status","bytes","duration_ms","request_id","remote"} through the
// access logger (stdout unless zephyr::log::set_access_log_file() says otherwise). Put it outside
// request_id so the id is known, or inside to log it anyway — the id is read from the response too.
//
//     app.layers(zephyr::layers::request_id(), zephyr::layers::access_log());
#pragma once

#include <zephyr/http/layers/layer.hpp>

#include <string>

namespace zephyr::http::layers {

struct access_log_options {
    bool include_query = false;  ///< Log the query string too (it may carry secrets; off by default).
};

class access_log {
public:
    explicit access_log(access_log_options o = {}) : options_{o} {}
    Task<Response> operator()(Request& req, Next next) const;

    /// The JSON line for one request; what the layer writes.
    static std::string format(const Request& req, const Response& res, double duration_ms, bool include_query);

private:
    access_log_options options_;
};

}  // namespace zephyr::http::layers
