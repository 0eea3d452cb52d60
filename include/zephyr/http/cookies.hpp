// zephyr/http/cookies.hpp — cookies in (Cookie) and out (Set-Cookie), RFC 6265.
//
// Read a request cookie with `req.cookie("session")`; send one with `res.set_cookie({...})`. Every RFC 6265
// attribute is supported, plus SameSite and Partitioned.
//
//     res.set_cookie({.name = "session", .value = token, .max_age = std::chrono::hours{24},
//                     .path = "/", .secure = true, .http_only = true,
//                     .same_site = zephyr::http::same_site::lax});
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zephyr::http {

/// The SameSite attribute; `unset` leaves it out (browsers then default to Lax).
enum class same_site { unset, lax, strict, none };

/// A cookie to send in a Set-Cookie header.
struct cookie {
    std::string name{};  ///< A token (no spaces, separators or control characters).
    std::string value{};  ///< cookie-octets: printable ASCII except space, '"', ',', ';' and '\'.
    std::optional<std::chrono::system_clock::time_point> expires{};  ///< Expires, written as an IMF-fixdate.
    std::optional<std::chrono::seconds> max_age{};  ///< Max-Age; zero or less deletes the cookie.
    std::string domain{};  ///< Domain, when not empty.
    std::string path{};  ///< Path, when not empty.
    bool secure = false;                                           ///< Secure.
    bool http_only = false;                                        ///< HttpOnly.
    http::same_site same_site = same_site::unset;                  ///< SameSite.
    bool partitioned = false;                                      ///< Partitioned (CHIPS); implies Secure.
};

/// The Set-Cookie field value for `c`. Throws std::invalid_argument, naming the cookie and the offending part,
/// when the name, value, domain or path contains characters RFC 6265 does not allow, or when SameSite=None or
/// Partitioned is asked for without Secure.
std::string to_set_cookie(const cookie& c);

/// Splits a Cookie request header ("a=1; b=2") into (name, value) pairs, in order. Pairs without '=' and
/// empty names are skipped; a value in double quotes is returned without them.
std::vector<std::pair<std::string_view, std::string_view>> parse_cookie_header(std::string_view header);

}  // namespace zephyr::http
