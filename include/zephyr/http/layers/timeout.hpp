// zephyr/http/layers/timeout.hpp — a deadline for the layers and handler inside it.
//
// When the deadline passes first, the inner coroutine is cancelled at its current await (timers, sockets and
// other Asio operations honour cancellation) and the client gets 503 (or the status you choose) with a
// problem+json body saying how long the limit was. CPU-bound code that never awaits cannot be interrupted.
//
//     app.get("/report", slow_report).layers(zephyr::layers::timeout(std::chrono::seconds{5}));
#pragma once

#include <zephyr/http/layers/layer.hpp>

#include <chrono>

namespace zephyr::http::layers {

class timeout {
public:
    explicit timeout(std::chrono::milliseconds limit, http::status s = http::status::service_unavailable)
        : limit_{limit}, status_{s} {}
    Task<Response> operator()(Request& req, Next next) const;

private:
    std::chrono::milliseconds limit_;
    http::status status_;
};

}  // namespace zephyr::http::layers
