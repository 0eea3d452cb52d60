// zephyr/http/method.hpp — request methods.
//
// The methods of RFC 9110 and PATCH (RFC 5789) are an enum; any other token is `method::other` and its
// spelling is kept on the request.
//
//     if (req.method() == zephyr::http::method::post) { ... }
//     auto m = zephyr::http::parse_method("PATCH");        // method::patch
#pragma once

#include <cstdint>
#include <string_view>

namespace zephyr::http {

/// A request method. `other` stands for an extension method; `Request::method_name()` has its spelling.
enum class method : std::uint8_t { get, head, post, put, delete_, connect, options, trace, patch, other };

/// Number of named methods (everything before `other`).
inline constexpr std::size_t method_count = static_cast<std::size_t>(method::other);

/// The method for a token, case-sensitively as RFC 9110 requires ("get" is an extension method, not GET).
constexpr method parse_method(std::string_view s) noexcept {
    switch (s.size()) {
        case 3:
            if (s == "GET") return method::get;
            if (s == "PUT") return method::put;
            break;
        case 4:
            if (s == "POST") return method::post;
            if (s == "HEAD") return method::head;
            break;
        case 5:
            if (s == "PATCH") return method::patch;
            if (s == "TRACE") return method::trace;
            break;
        case 6:
            if (s == "DELETE") return method::delete_;
            break;
        case 7:
            if (s == "OPTIONS") return method::options;
            if (s == "CONNECT") return method::connect;
            break;
        default: break;
    }
    return method::other;
}

/// The canonical spelling of a named method ("GET"); "" for `other`.
constexpr std::string_view to_string(method m) noexcept {
    switch (m) {
        case method::get: return "GET";
        case method::head: return "HEAD";
        case method::post: return "POST";
        case method::put: return "PUT";
        case method::delete_: return "DELETE";
        case method::connect: return "CONNECT";
        case method::options: return "OPTIONS";
        case method::trace: return "TRACE";
        case method::patch: return "PATCH";
        case method::other: break;
    }
    return "";
}

}  // namespace zephyr::http
