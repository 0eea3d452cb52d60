// zephyr/http/date.hpp — HTTP dates (RFC 9110 IMF-fixdate), always in GMT.
//
// Used by Date, Last-Modified, Expires and If-Modified-Since.
//
//     std::string d = zephyr::http::to_http_date(std::time(nullptr));   // "Sun, 06 Nov 1994 08:49:37 GMT"
//     std::optional<std::time_t> t = zephyr::http::parse_http_date(d);
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace zephyr::http {

/// `t` as an IMF-fixdate in GMT, whatever the local time zone.
std::string to_http_date(std::time_t t);

/// An IMF-fixdate back to a time; nothing for any other text.
std::optional<std::time_t> parse_http_date(std::string_view text);

}  // namespace zephyr::http
