// Running a WebSocket session on a connection the server has upgraded. Declarations only: the Beast-based
// implementation is in websocket_session_impl.hpp, compiled once in websocket.cpp.
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/http/request.hpp>
#include <zephyr/http/response.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <functional>
#include <string_view>

namespace zephyr::http::detail {

/// What the connection that hosts a session may ask of it.
struct websocket_control {
    /// Set while the session runs: starts a closing handshake with 1001 (graceful shutdown). Idempotent.
    std::function<void()> going_away;
};

/// Completes the handshake of `res` (a Response::websocket() that layers may have added headers to) for the
/// upgrade request `req`, runs the session, and closes it. `leftover` holds bytes the server read after the
/// request; they are the start of the WebSocket stream. The connection is finished afterwards.
Task<void> serve_websocket(boost::asio::ip::tcp::socket& stream, std::string_view leftover, const Request& req,
                           const Response& res, std::string_view server_name, websocket_control& control);
Task<void> serve_websocket(boost::asio::ssl::stream<boost::asio::ip::tcp::socket>& stream,
                           std::string_view leftover, const Request& req, const Response& res,
                           std::string_view server_name, websocket_control& control);

}  // namespace zephyr::http::detail
