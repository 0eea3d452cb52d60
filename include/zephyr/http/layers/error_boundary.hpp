// zephyr/http/layers/error_boundary.hpp — exceptions to responses.
//
// Zephyr maps exceptions to responses around the handler and around every layer, so a layer always receives
// a Response from `next` (never an exception) and a throwing handler never takes the connection down.
// error_response() is that mapping; the error_boundary layer applies it explicitly and is only needed to
// give a layer's *own* exceptions a response before an outer layer of yours sees them.
//
//     app.layers(zephyr::layers::request_id(), zephyr::layers::error_boundary(), my_layer_that_may_throw);
#pragma once

#include <zephyr/http/layers/layer.hpp>

#include <exception>

namespace zephyr::http {

/// The response for an exception: an HttpError becomes problem+json with its status, detail and headers;
/// anything else becomes a 500 problem+json with a generic detail and is logged once (with the request id
/// when the request_id layer ran) — the exception's text never reaches the client.
Response error_response(const Request& req, std::exception_ptr e) noexcept;

namespace layers {

/// Catches any exception from the layers and handler inside it and answers with error_response().
struct error_boundary {
    Task<Response> operator()(Request& req, Next next) const;
};

}  // namespace layers
}  // namespace zephyr::http
