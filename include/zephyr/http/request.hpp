// zephyr/http/request.hpp — an incoming HTTP request as a handler sees it.
//
// Strings returned by a Request refer into the connection's buffer and stay valid until the handler's
// response has been produced; copy them to keep them longer.
//
//     app.get("/users/{id}", [](zephyr::Request& req) {
//         auto id = req.param<std::int64_t>("id");          // 400 if not an integer
//         auto page = req.query("page").value_or("1");       // percent- and '+'-decoded
//         return fmt::format("user {} page {}", id, page);
//     });
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/http/error.hpp>
#include <zephyr/http/extensions.hpp>
#include <zephyr/http/headers.hpp>
#include <zephyr/http/method.hpp>

#include <charconv>
#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace zephyr::http {

/// A path parameter captured by the router, percent-decoded.
struct path_param {
    std::string_view name;
    std::string value;
};

/// What the router knows about the route a request matched.
struct route_info {
    std::string name;               ///< The route's name, or empty.
    std::string pattern;            ///< The full pattern, e.g. "/api/users/{id}".
    std::string summary;            ///< route_options::summary.
    std::vector<std::string> tags;  ///< route_options::tags.
};

/// Decodes %XX escapes (and '+' as space when `plus_is_space`). Returns nothing for a malformed escape.
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space = false);
/// Percent-encodes everything but RFC 3986 unreserved characters (and '/' when `keep_slash`).
std::string percent_encode(std::string_view s, bool keep_slash = false);

/// Splits an application/x-www-form-urlencoded string (a query string or form body) into decoded pairs.
/// Throws HttpError 400 naming the key for a malformed escape.
std::vector<std::pair<std::string, std::string>> parse_urlencoded(std::string_view s);

class services;

/// Where a streamed request body comes from: the server implements it for routes whose handler streams the
/// body (see BodyStream and Multipart). Handlers use Request::read_body_some() rather than this.
class body_reader {
public:
    virtual ~body_reader() = default;
    /// Reads up to `buf.size()` bytes of the body into `buf`; returns 0 at the end of the body. Throws HttpError:
    /// 408 when the client stops sending for longer than the body timeout, 413 when a chunked body grows past
    /// the route's max_body, 400 for malformed chunked framing or a connection closed before the end.
    virtual Task<std::size_t> read_some(std::span<char> buf) = 0;
};

class Request {
public:
    Request() = default;

    /// The method; `method::other` for extension methods (see method_name()).
    http::method method() const noexcept { return method_; }
    /// The method as sent ("GET", "PROPFIND").
    std::string_view method_name() const noexcept { return method_name_; }
    /// The request target as sent: path and query, still percent-encoded.
    std::string_view target() const noexcept { return target_; }
    /// The path part of the target, still percent-encoded.
    std::string_view path() const noexcept { return path_; }
    /// The query part of the target without the '?', still encoded; empty when there is none.
    std::string_view query_string() const noexcept { return query_; }
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    int version_minor() const noexcept { return version_minor_; }
    /// Whether the connection stays open after this request (HTTP/1.1 default, or 1.0 with keep-alive).
    bool keep_alive() const noexcept { return keep_alive_; }

    /// The header fields, in the order received.
    const header_view& headers() const noexcept { return headers_; }
    /// The first value of header `name` (case-insensitive), or nothing.
    std::optional<std::string_view> header(std::string_view name) const noexcept { return headers_.get(name); }

    /// The body, fully read and de-chunked. Empty on a route whose handler streams the body (it takes
    /// BodyStream or Multipart): read that with read_body_some().
    const std::string& body() const noexcept { return body_; }
    std::string& body() noexcept { return body_; }

    /// Reads the next bytes of the body into `buf` and returns how many; 0 at the end of the body. On a
    /// streaming route the bytes come from the connection as the client sends them; otherwise from body(),
    /// which this does not change. Throws HttpError 408, 413 or 400 as body_reader::read_some() describes.
    Task<std::size_t> read_body_some(std::span<char> buf);
    /// True when the body is read from the connection (a streaming route) rather than from body().
    bool body_streamed() const noexcept { return body_reader_ != nullptr; }

    /// Every path parameter of the matched route, in pattern order.
    std::span<const path_param> params() const noexcept { return params_; }
    /// The decoded path parameter `name`. Throws std::out_of_range if the route has no such parameter,
    /// which is a bug in the handler rather than bad input.
    std::string_view param(std::string_view name) const;
    /// The path parameter `name` converted to T (an integer, floating-point or string type). Throws HttpError
    /// 400 ("path parameter 'id': expected an integer") when the text does not convert.
    template <class T>
    T param(std::string_view name) const {
        return convert<T>("path parameter", name, param(name));
    }

    /// The first decoded value of query key `key`, or nothing. Throws HttpError 400 for a malformed escape.
    std::optional<std::string> query(std::string_view key) const;
    /// Every decoded value of query key `key`, in order (for `?tag=a&tag=b`).
    std::vector<std::string> query_all(std::string_view key) const;
    /// Every decoded query pair, in order.
    const std::vector<std::pair<std::string, std::string>>& query_params() const;

    /// The value of cookie `name` from the Cookie header(s), or nothing.
    std::optional<std::string_view> cookie(std::string_view name) const;

    /// Typed values attached by layers (request id, authenticated user, ...).
    http::extensions& extensions() noexcept { return extensions_; }
    const http::extensions& extensions() const noexcept { return extensions_; }

    /// The route this request matched, or nullptr before routing and for unmatched requests.
    const route_info* route() const noexcept { return route_; }
    /// The app's services (see services.hpp), or nullptr outside an app.
    const http::services* services() const noexcept { return services_; }
    void set_services(const http::services* s) noexcept { services_ = s; }

    /// The peer's IP address as text, or empty for in-process requests.
    std::string_view remote_address() const noexcept { return remote_address_; }

    /// Converts `text` to T, throwing HttpError 400 "<what> '<name>': expected ..." when it does not.
    template <class T>
    static T convert(std::string_view what, std::string_view name, std::string_view text) {
        if constexpr (std::is_same_v<T, std::string>) {
            return std::string{text};
        } else if constexpr (std::is_same_v<T, std::string_view>) {
            return text;
        } else if constexpr (std::is_same_v<T, bool>) {
            if (text == "true" || text == "1") return true;
            if (text == "false" || text == "0") return false;
            conversion_failed(what, name, "true or false");
        } else if constexpr (std::is_integral_v<T> || std::is_floating_point_v<T>) {
            T value{};
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (ec == std::errc{} && end == text.data() + text.size() && !text.empty()) return value;
            if (ec == std::errc::result_out_of_range) conversion_failed(what, name, "a number in range");
            conversion_failed(what, name, std::is_integral_v<T> ? "an integer" : "a number");
        } else {
            static_assert(std::is_same_v<T, void>,
                          "Request::param<T>: T must be an integer, floating-point, bool or string type");
        }
    }

    // --- Set by the server and the router; applications rarely need these. -------------------------------
    void set_method(http::method m, std::string_view name) noexcept {
        method_ = m;
        method_name_ = name;
    }
    void set_target(std::string_view target) noexcept;
    void set_version_minor(int v) noexcept { version_minor_ = v; }
    void set_keep_alive(bool k) noexcept { keep_alive_ = k; }
    header_view& mutable_headers() noexcept { return headers_; }
    std::vector<path_param>& mutable_params() noexcept { return params_; }
    void set_route(const route_info* r) noexcept { route_ = r; }
    /// Makes read_body_some() read from `r` (which must outlive the handler), or from body() for nullptr.
    void set_body_reader(body_reader* r) noexcept { body_reader_ = r; }
    /// `a` must outlive the request (the server passes its connection's copy).
    void set_remote_address(std::string_view a) noexcept { remote_address_ = a; }
    /// Clears the request for reuse by the next request on a connection, keeping allocated capacity.
    void reset() noexcept;

private:
    [[noreturn]] static void conversion_failed(std::string_view what, std::string_view name,
                                               std::string_view expected);

    http::method method_ = http::method::get;
    std::string_view method_name_ = "GET";
    std::string_view target_ = "/";
    std::string_view path_ = "/";
    std::string_view query_;
    int version_minor_ = 1;
    bool keep_alive_ = true;
    header_view headers_;
    std::string body_;
    std::size_t body_read_ = 0;  // how much of body_ read_body_some() has returned
    body_reader* body_reader_ = nullptr;
    std::vector<path_param> params_;
    mutable std::optional<std::vector<std::pair<std::string, std::string>>> query_params_;
    http::extensions extensions_;
    const route_info* route_ = nullptr;
    const http::services* services_ = nullptr;
    std::string_view remote_address_;
};

}  // namespace zephyr::http
