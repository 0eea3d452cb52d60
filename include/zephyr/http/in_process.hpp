// zephyr/http/in_process.hpp — answering a request without a socket.
//
// Runs raw HTTP/1.1 request bytes through the same parser, router, layers and error handling as the server,
// on a private event loop, and returns the response with any file or streamed body read into body().
// zephyr::testing::Client is built on this.
//
//     zephyr::Response res = zephyr::http::handle_in_process(app, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
#pragma once

#include <zephyr/http/response.hpp>
#include <zephyr/http/server.hpp>

#include <string_view>

namespace zephyr::http {

class Router;

/// Answers one request given as raw bytes. A request the parser rejects gets the status the server would
/// send; a HEAD request gets the headers of the GET response and an empty body (Content-Length is then set
/// explicitly to the length the GET body would have).
Response handle_in_process(Router& app, std::string_view raw_request, const server_limits& limits = {});

}  // namespace zephyr::http
