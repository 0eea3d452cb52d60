// zephyr/json/rfc3339.hpp — RFC 3339 date-times, the timestamp format of JSON APIs.
//
// `std::chrono::system_clock::time_point` values travel through JSON as these strings. Parsing accepts
// fractional seconds and any UTC offset; formatting always writes UTC:
//
//     auto t = zephyr::json::parse_rfc3339("2024-05-01T14:34:56.5+02:00");   // optional<time_point>
//     zephyr::json::format_rfc3339(*t);                                      // "2024-05-01T12:34:56.500Z"
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace zephyr::json {

/// Parses an RFC 3339 date-time, `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`. `T` and `Z` may be lower
/// case; the fraction may have any number of digits (those beyond nanoseconds are dropped); a leap second
/// (`:60`) is read as the first second of the next minute. Returns std::nullopt when the text does not have
/// that form, names an impossible date or time (`2023-02-29`, `24:00:00`), or lies outside what
/// system_clock::time_point can hold (about the years 1678 to 2261).
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text) noexcept;

/// Formats `t` in UTC as `YYYY-MM-DDTHH:MM:SSZ`, with `.mmm` milliseconds before the `Z` only when they are not
/// zero. Anything finer than a millisecond is truncated toward the past.
std::string format_rfc3339(std::chrono::system_clock::time_point t);

}  // namespace zephyr::json
