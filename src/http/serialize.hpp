// Writing a response head onto the wire.
#pragma once

#include <zephyr/http/response.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zephyr::http::detail {

/// The current time as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), formatted at most once per second
/// per thread.
std::string_view http_date() noexcept;

/// Appends the status line and header section of `res` to `out`. `content_length` is sent unless the status
/// forbids a body or `chunked` is set; the Server, Date and Connection fields are the server's own, and any
/// Content-Length, Transfer-Encoding or Connection set by the application is replaced.
void serialize_head(std::string& out, const Response& res, std::optional<std::uint64_t> content_length,
                    bool keep_alive, bool chunked, std::string_view server_name, int version_minor = 1);

}  // namespace zephyr::http::detail
