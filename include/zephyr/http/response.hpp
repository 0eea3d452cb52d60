// zephyr/http/response.hpp — what a handler sends back, and the `to_response` customisation point.
//
// A Response is a value: status, headers and a body that is text, a file or a coroutine that streams chunks.
// Layers receive it on the way out and may change any part of it.
//
//     return zephyr::Response::text("created", zephyr::http::status::created);
//     return zephyr::Response::file("/srv/report.pdf");
//     return zephyr::Response::stream([](zephyr::http::body_writer& w) -> zephyr::Task<void> {
//         for (int i = 0; i < 3; ++i) co_await w.write(std::to_string(i) + "\n");
//     });
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/http/cookies.hpp>
#include <zephyr/http/headers.hpp>
#include <zephyr/http/status.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace zephyr::http {

/// Where a streamed body goes. Each write is sent as one chunk (or raw bytes to an HTTP/1.0 client).
class body_writer {
public:
    virtual ~body_writer() = default;
    /// Sends `data` to the client. Resumes once the bytes are handed to the socket; throws
    /// boost::system::system_error when the client has gone away. Empty writes are ignored.
    virtual Task<void> write(std::string_view data) = 0;
};

/// A coroutine that produces a streamed body by writing to a body_writer.
using stream_producer = std::function<Task<void>(body_writer&)>;

/// The Content-Type for a file name, from its extension ("text/css; charset=utf-8" for "a.css"), or
/// "application/octet-stream" when the extension is unknown.
std::string_view content_type_for(std::string_view path) noexcept;

/// A WebSocket session to run after a 101 response; defined in zephyr/http/websocket.hpp.
struct websocket_upgrade;

/// A body sent from a file: `length` bytes (or to the end) starting at `offset`.
struct file_body {
    std::string path;
    std::uint64_t offset = 0;
    std::optional<std::uint64_t> length;
};

class Response {
public:
    Response() = default;
    /// An empty response with status `s`.
    explicit Response(http::status s) : status_{s} {}
    /// A response with a text body and a Content-Type. Throws std::invalid_argument for a Content-Type with
    /// CR, LF or NUL.
    /// Throws std::invalid_argument when `content_type` contains CR, LF or NUL.
    Response(http::status s, std::string body, std::string_view content_type = "text/plain; charset=utf-8")
        : status_{s}, body_{std::move(body)} {
        headers_.append("Content-Type", content_type);
    }

    /// text/plain; charset=utf-8.
    static Response text(std::string body, http::status s = http::status::ok) {
        return {s, std::move(body), known_type{"text/plain; charset=utf-8"}};
    }
    /// text/html; charset=utf-8.
    static Response html(std::string body, http::status s = http::status::ok) {
        return {s, std::move(body), known_type{"text/html; charset=utf-8"}};
    }
    /// application/json, with `serialized` sent as it is.
    static Response json(std::string serialized, http::status s = http::status::ok) {
        return {s, std::move(serialized), known_type{"application/json"}};
    }
    /// An RFC 9457 application/problem+json response with `title` from the status and the given `detail`.
    static Response problem(http::status s, std::string_view detail);
    /// The file at `path`, with a Content-Type guessed from its extension unless given. A missing or
    /// unreadable file is answered with 404 when the response is sent.
    static Response file(std::string path, std::string_view content_type = {});
    /// A body produced by `producer`, sent with chunked transfer coding.
    static Response stream(stream_producer producer, std::string_view content_type = "text/plain; charset=utf-8");
    /// A redirect to `location` (302 unless given) with an empty body.
    static Response redirect(std::string_view location, http::status s = http::status::found);
    /// 101 Switching Protocols: once layers have returned it, the server completes the WebSocket handshake
    /// (adding the headers layers set, such as Set-Cookie) and runs `u.session` on the connection. Built by
    /// WebSocket routes (see zephyr/http/websocket.hpp); a layer that replaces it refuses the upgrade.
    static Response websocket(websocket_upgrade u);

    http::status status() const noexcept { return status_; }
    void set_status(http::status s) noexcept { status_ = s; }

    http::headers& headers() noexcept { return headers_; }
    const http::headers& headers() const noexcept { return headers_; }
    /// Adds a Set-Cookie field. Throws std::invalid_argument for a cookie RFC 6265 does not allow.
    void set_cookie(const cookie& c) { headers_.add("Set-Cookie", to_set_cookie(c)); }

    /// The text body; empty for file and stream bodies.
    const std::string& body() const noexcept;
    /// The text body, for changing it in place (turns a file or stream body into an empty text body).
    std::string& body();
    /// Replaces the body with `text`, and sets Content-Type when `content_type` is given.
    void set_body(std::string text, std::string_view content_type = {});

    /// The file body, or nullptr.
    const file_body* file() const noexcept { return std::get_if<file_body>(&payload_); }
    /// Restricts a file body to `length` bytes from `offset` (for 206 responses); no effect on other bodies.
    void set_file_range(std::uint64_t offset, std::uint64_t length) noexcept {
        if (auto* f = std::get_if<file_body>(&payload_)) {
            f->offset = offset;
            f->length = length;
        }
    }
    /// The stream producer, or nullptr.
    const stream_producer* stream() const noexcept { return std::get_if<stream_producer>(&payload_); }
    /// The WebSocket session of an upgrade response, or nullptr.
    const websocket_upgrade* upgrade() const noexcept {
        auto* u = std::get_if<std::shared_ptr<websocket_upgrade>>(&payload_);
        return u ? u->get() : nullptr;
    }

private:
    // A content type the library spells itself: no need to validate it on the hot path.
    struct known_type {
        std::string_view value;
    };
    Response(http::status s, std::string body, known_type t) : status_{s}, body_{std::move(body)} {
        headers_.add("Content-Type", std::string{t.value});
    }

    http::status status_ = http::status::ok;
    http::headers headers_;
    std::string body_;
    std::variant<std::monostate, file_body, stream_producer, std::shared_ptr<websocket_upgrade>> payload_;
};

// ---- to_response: the one customisation point for handler results -----------------------------------------
// Write `Response to_response(my_type)` in my_type's namespace and handlers may return my_type.

inline Response to_response(Response r) { return r; }
inline Response to_response(std::string s) { return Response::text(std::move(s)); }
inline Response to_response(std::string_view s) { return Response::text(std::string{s}); }
inline Response to_response(const char* s) { return Response::text(std::string{s}); }
inline Response to_response(http::status s) { return Response{s}; }
template <class T>
Response to_response(std::pair<http::status, T> p) {
    Response r = to_response(std::move(p.second));
    r.set_status(p.first);
    return r;
}

/// Types a handler may return: those with a `to_response` overload found by ADL.
template <class T>
concept into_response = requires(T t) {
    { to_response(std::move(t)) } -> std::same_as<Response>;
};

}  // namespace zephyr::http
