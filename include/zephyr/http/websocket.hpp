// zephyr/http/websocket.hpp — WebSocket (RFC 6455) sessions.
//
// `app.websocket(pattern, handler)` registers a GET route that upgrades the connection. The upgrade request
// runs through the app's layers like any other request (an authentication layer can refuse it), and the
// handler's extractors are taken from it. The handler is a coroutine whose first parameter is `WebSocket&`;
// the session ends, with a closing handshake, when it returns.
//
//     app.websocket("/echo/{room}", [](zephyr::WebSocket& ws, zephyr::Path<std::string> room) -> zephyr::Task<void> {
//         while (auto msg = co_await ws.read()) co_await ws.send_text(msg->text());
//     });
//
// The frame codec is Boost.Beast's; this header keeps it out of your includes.
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/http/handler.hpp>
#include <zephyr/http/request.hpp>
#include <zephyr/http/response.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace zephyr::http {

/// Close codes of RFC 6455 section 7.4.1. Applications may also use their own codes from 4000 to 4999.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;            ///< The purpose of the session is fulfilled.
inline constexpr std::uint16_t going_away = 1001;        ///< The server shuts down (or the page is left).
inline constexpr std::uint16_t protocol_error = 1002;    ///< A malformed or forbidden frame was received.
inline constexpr std::uint16_t unsupported_data = 1003;  ///< A message type the endpoint cannot accept.
inline constexpr std::uint16_t no_status = 1005;         ///< A close frame without a code (never sent).
inline constexpr std::uint16_t abnormal = 1006;          ///< The connection dropped without a close frame.
inline constexpr std::uint16_t invalid_payload = 1007;   ///< A text message that is not UTF-8.
inline constexpr std::uint16_t policy_violation = 1008;  ///< A generic refusal.
inline constexpr std::uint16_t too_big = 1009;           ///< A message above the size limit.
inline constexpr std::uint16_t internal_error = 1011;    ///< The handler failed.
inline constexpr std::uint16_t try_again_later = 1013;   ///< The server is overloaded.
}  // namespace close_code

/// Settings of the sessions of one WebSocket route: `app.websocket(pattern, handler, {}, {.max_message_size = 64 * 1024})`.
struct websocket_options {
    /// A larger incoming message ends the session with close code 1009 (too big).
    std::size_t max_message_size = 1024 * 1024;
    /// When nothing arrives from the client for half of this, the server sends a ping; when nothing arrives
    /// for the whole of it, the connection is dropped (read() returns nothing, close code 1006). Zero
    /// disables both.
    std::chrono::milliseconds idle_timeout{60'000};
    /// How long writing the 101 response and the closing handshake may take before the connection is dropped.
    std::chrono::milliseconds close_timeout{5'000};
    /// Split large outgoing messages into frames (a client sees the same messages either way).
    bool auto_fragment = false;
    /// Negotiate per-message deflate compression (RFC 7692) when the client offers it.
    bool permessage_deflate = false;
    /// Messages queued through websocket_sender beyond this many bytes close the session with 1008: a
    /// client that does not keep up with its messages is dropped instead of growing the server's memory.
    std::size_t max_queued_bytes = 16 * 1024 * 1024;
};

/// One received message.
struct websocket_message {
    std::string data{};  ///< The payload, reassembled from all of the message's frames.
    bool binary = false;  ///< True for a binary message, false for a text message (valid UTF-8).

    /// The payload as text.
    std::string_view text() const noexcept { return data; }
    bool is_binary() const noexcept { return binary; }
    bool is_text() const noexcept { return !binary; }
};

/// Thrown by WebSocket::send_text, send_binary and ping when the session is closed or the connection dropped.
/// A handler may let it escape: the session then ends quietly, without an error in the log.
class websocket_closed : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

namespace detail {
struct websocket_outbox;
}

/// A handle to send messages into a session from anywhere, typically another session on another thread
/// (a chat room broadcasting). Copyable and thread-safe. Messages are queued and written in order by the
/// session's own event loop; sending never blocks. A default-constructed sender is not attached to any
/// session.
class websocket_sender {
public:
    websocket_sender() = default;
    explicit websocket_sender(std::shared_ptr<detail::websocket_outbox> box) noexcept : box_{std::move(box)} {}

    /// Queues a text message. False when the session has ended, or when its queue is over
    /// websocket_options::max_queued_bytes (the session is then closed with 1008).
    bool send_text(std::string text) const;
    /// Queues a binary message; as send_text.
    bool send_binary(std::string data) const;
    /// Asks the session to close with `code` and `reason` after the messages already queued. False when the
    /// session has ended.
    bool close(std::uint16_t code = close_code::normal, std::string reason = {}) const;
    /// False once the session has ended.
    bool is_open() const noexcept;

    friend bool operator==(const websocket_sender& a, const websocket_sender& b) noexcept { return a.box_ == b.box_; }

private:
    bool enqueue(std::string data, bool binary) const;
    std::shared_ptr<detail::websocket_outbox> box_;
};

/// The server side of one WebSocket session, handed to the route's handler. The reference is valid until the
/// handler returns. Call its members from the handler (or coroutines it runs on the same executor); use
/// sender() to send from other threads.
class WebSocket {
public:
    virtual ~WebSocket() = default;

    /// The next message, or nothing once the session is over: the client closed it (see close_code()), a
    /// message broke a limit or the protocol (the server has then closed with 1009, 1002 or 1007), or the
    /// connection dropped. Ping and pong frames are answered and skipped. At most one read may be pending;
    /// a second concurrent read throws std::logic_error.
    virtual Task<std::optional<websocket_message>> read() = 0;

    /// Sends a text message (`text` must be UTF-8) and resumes once it has been written to the connection, so
    /// a slow client slows the sender down. Concurrent sends from several coroutines are written one after
    /// the other. Throws websocket_closed when the session is over.
    virtual Task<void> send_text(std::string_view text) = 0;
    /// Sends a binary message; as send_text.
    virtual Task<void> send_binary(std::string_view data) = 0;
    /// Sends a ping frame (`payload` at most 125 bytes); the client answers with a pong, which read() skips.
    /// Throws websocket_closed when the session is over and std::invalid_argument for a longer payload.
    virtual Task<void> ping(std::string_view payload = {}) = 0;
    /// Starts the closing handshake with `code` and `reason` (at most 123 bytes) and resumes when it is done
    /// or has timed out. Does nothing when the session is already closed.
    virtual Task<void> close(std::uint16_t code = http::close_code::normal, std::string_view reason = {}) = 0;

    /// False once a close frame was sent or received, or the connection dropped.
    virtual bool is_open() const noexcept = 0;
    /// How the session ended: the code of the first close frame sent or received, close_code::abnormal
    /// (1006) when the connection dropped without one; nothing while the session is open.
    virtual std::optional<std::uint16_t> close_code() const noexcept = 0;
    /// The reason text of that close frame.
    virtual const std::string& close_reason() const noexcept = 0;

    /// A thread-safe handle that queues messages into this session (see websocket_sender).
    virtual websocket_sender sender() = 0;
};

/// The session an upgrade response runs once the handshake is done; see Response::websocket().
struct websocket_upgrade {
    std::function<Task<void>(WebSocket&)> session{};
    websocket_options options{};
};

namespace detail {

// What a WebSocket handler's parameter list looks like: WebSocket& first, then extractors.
template <class Args>
struct websocket_params {
    static constexpr bool first_is_websocket = false;
    static constexpr bool rest_valid = true;
};
template <class... R>
struct websocket_params<std::tuple<WebSocket&, R...>> {
    static constexpr bool first_is_websocket = true;
    static constexpr bool rest_valid = ((valid_param<R> && !body_extractor<param_value<R>>) && ...);
};

/// Checks an upgrade request against RFC 6455 section 4.2.1. Returns nothing when it is a valid WebSocket
/// handshake; throws HttpError 426 (with `Upgrade: websocket`) for a request that does not ask for an
/// upgrade, and 400 naming the problem for a malformed handshake.
void check_websocket_handshake(const Request& req);

template <class F, class Args>
class websocket_endpoint;

template <class F, class... A>
class websocket_endpoint<F, std::tuple<WebSocket&, A...>> final : public endpoint {
public:
    websocket_endpoint(F f, websocket_options o) : f_{std::make_shared<F>(std::move(f))}, options_{o} {}

    bool is_sync() const noexcept override { return true; }
    // The handshake is checked and the extractors run now, so that a rejection is an ordinary HTTP response;
    // the session itself runs after the layers have returned this 101 response.
    Response call_sync(Request& req) override {
        check_websocket_handshake(req);
        auto held = std::make_shared<std::tuple<arg_holder<A>...>>(extract_one<A>(req)...);
        return Response::websocket(websocket_upgrade{
            [f = f_, held](WebSocket& ws) -> Task<void> { return run(f, held, ws); }, options_});
    }
    Task<Response> call(Request& req) override { co_return call_sync(req); }
    void check_route(const route_check& c) const override { (check_one<A>(c), ...); }

private:
    template <class P>
    static void check_one(const route_check& c) {
        if constexpr (!is_request_param<P>)
            if constexpr (requires { param_value<P>::check_route(c); }) param_value<P>::check_route(c);
    }

    // Takes its state by value: the coroutine outlives the lambda that starts it.
    static Task<void> run(std::shared_ptr<F> f, std::shared_ptr<std::tuple<arg_holder<A>...>> held, WebSocket& ws) {
        co_await [&]<std::size_t... I>(std::index_sequence<I...>) {
            return (*f)(ws, pass<A>(std::get<I>(*held))...);
        }(std::index_sequence_for<A...>{});
    }

    std::shared_ptr<F> f_;
    websocket_options options_;
};

}  // namespace detail

/// Wraps a WebSocket handler: a coroutine `Task<void>(WebSocket&, extractors...)`. Fails to compile, with
/// the reason, for another signature.
template <class F>
std::shared_ptr<endpoint> make_websocket_endpoint(F&& f, websocket_options o = {}) {
    using Fn = std::decay_t<F>;
    if constexpr (!detail::has_traits<Fn>) {
        static_assert(detail::has_traits<Fn>,
                      "a WebSocket handler must be a function or a non-generic lambda taking zephyr::WebSocket& "
                      "first; see docs/websocket.md");
        return nullptr;
    } else {
        using Args = typename detail::fn_traits<Fn>::args;
        using params = detail::websocket_params<Args>;
        static_assert(params::first_is_websocket,
                      "a WebSocket handler's first parameter must be zephyr::WebSocket&; see docs/websocket.md");
        static_assert(params::rest_valid,
                      "after WebSocket&, every WebSocket handler parameter must be zephyr::Request& or an extractor "
                      "that does not read a body (Path, Query, Header, Cookie, Ext, Inject, ...); see "
                      "docs/websocket.md");
        static_assert(std::is_same_v<typename detail::fn_traits<Fn>::result, Task<void>>,
                      "a WebSocket handler must be a coroutine returning zephyr::Task<void>; see docs/websocket.md");
        if constexpr (params::first_is_websocket && params::rest_valid)
            return std::make_shared<detail::websocket_endpoint<Fn, Args>>(std::forward<F>(f), o);
        else
            return nullptr;
    }
}

}  // namespace zephyr::http
