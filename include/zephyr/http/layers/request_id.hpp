// zephyr/http/layers/request_id.hpp — X-Request-Id in and out.
//
// Keeps a well-formed incoming X-Request-Id (up to 128 visible characters) or makes a new random one, stores
// it in the request's extensions and echoes it on the response. The access log and error boundary log it.
//
//     app.layers(zephyr::layers::request_id());
//     app.get("/", [](zephyr::Request& req) {
//         return std::string{req.extensions().get<zephyr::http::request_id>()->value};
//     });
#pragma once

#include <zephyr/http/layers/layer.hpp>

#include <string>

namespace zephyr::http {

/// The request's id, set by the request_id layer.
struct request_id {
    std::string value;
};

namespace layers {

/// Options of the request_id layer.
struct request_id_options {
    std::string header = "X-Request-Id";  ///< Header read from the request and written to the response.
    bool trust_incoming = true;           ///< Keep a valid incoming id (set false at an untrusted edge).
};

/// The layer. Ids it makes are 32 lowercase hex characters from a per-thread random generator.
class request_id {
public:
    explicit request_id(request_id_options o = {}) : options_{std::move(o)} {}
    Task<Response> operator()(Request& req, Next next) const;

private:
    request_id_options options_;
};

/// A new random 32-hex-character id.
std::string make_request_id();

}  // namespace layers
}  // namespace zephyr::http
