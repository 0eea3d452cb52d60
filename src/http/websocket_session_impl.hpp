// The WebSocket session behind zephyr::http::WebSocket: Boost.Beast's websocket::stream over the connection's
// own stream (plain TCP or TLS), with Zephyr's rules on top: one write at a time, a queue for messages sent
// from other threads, close codes recorded for the handler, and a bound on every closing handshake.
//
// Everything here runs on the executor of the connection, which one thread drives; only the outbox is
// shared with other threads, under its mutex.
#pragma once

#include <zephyr/core/log.hpp>
#include <zephyr/http/websocket.hpp>

#include "http/serialize.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace zephyr::http::detail {

/// The part of a session other threads reach through websocket_sender.
struct websocket_outbox {
    struct item {
        std::string data;
        bool binary = false;
        bool close = false;
        std::uint16_t code = 0;
    };
    std::mutex mutex;
    bool open = true;
    bool scheduled = false;  // a wake-up is posted, or the session's writer is running
    std::deque<item> queue;
    std::size_t bytes = 0;
    std::size_t max_bytes = 0;
    std::optional<std::uint16_t> close_now;  // set when the queue overflowed: close without waiting for it
    std::function<void()> wake;              // posts "look at the queue" to the session's executor
};

/// True for a code an endpoint may send in a close frame (RFC 6455 section 7.4).
constexpr bool sendable_close_code(std::uint16_t c) noexcept {
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

/// A stream that first hands out bytes read before the upgrade (the server's read buffer may already hold the
/// first frames), then reads from the connection's stream.
template <class Stream>
class prefixed_stream {
public:
    using executor_type = typename Stream::executor_type;

    prefixed_stream(Stream& next, std::string prefix) : next_{next}, prefix_{std::move(prefix)} {}

    executor_type get_executor() noexcept { return next_.get_executor(); }
    Stream& next_layer() noexcept { return next_; }
    const Stream& next_layer() const noexcept { return next_; }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, const MutableBuffers& b) {
                if (pos_ < prefix_.size()) {
                    std::size_t n = boost::asio::buffer_copy(b, boost::asio::buffer(prefix_) + pos_);
                    pos_ += n;
                    if (pos_ == prefix_.size()) {
                        std::string{}.swap(prefix_);
                        pos_ = 0;
                    }
                    auto ex = boost::asio::get_associated_executor(handler, next_.get_executor());
                    boost::asio::post(ex, boost::beast::bind_front_handler(std::move(handler),
                                                                           boost::system::error_code{}, n));
                } else {
                    next_.async_read_some(b, std::move(handler));
                }
            },
            token, buffers);
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return next_.async_write_some(buffers, std::forward<Token>(token));
    }

private:
    Stream& next_;
    std::string prefix_;
    std::size_t pos_ = 0;
};

// Closing a prefixed stream closes the stream below it (Beast finds these by argument-dependent lookup).
template <class Stream>
void teardown(boost::beast::role_type role, prefixed_stream<Stream>& s, boost::system::error_code& ec) {
    using boost::beast::websocket::teardown;
    teardown(role, s.next_layer(), ec);
}
template <class Stream, class Handler>
void async_teardown(boost::beast::role_type role, prefixed_stream<Stream>& s, Handler&& handler) {
    using boost::beast::websocket::async_teardown;
    async_teardown(role, s.next_layer(), std::forward<Handler>(handler));
}

template <class Stream>
class websocket_session final : public WebSocket, public std::enable_shared_from_this<websocket_session<Stream>> {
    using error_code = boost::system::error_code;
    using ws_stream = boost::beast::websocket::stream<prefixed_stream<Stream>>;

public:
    websocket_session(Stream& stream, std::string_view leftover, const websocket_options& o)
        : ws_{stream, std::string{leftover}},
          options_{o},
          executor_{ws_.get_executor()},
          signal_{executor_, std::chrono::steady_clock::time_point::max()},
          watchdog_{executor_},
          box_{std::make_shared<websocket_outbox>()},
          // A read buffer bounded by the message limit: Beast then refuses an oversized frame with an error
          // (closing 1009) instead of trying to allocate what a hostile frame header claims.
          rbuf_{o.max_message_size > 0 ? o.max_message_size : std::numeric_limits<std::size_t>::max()} {
        namespace bws = boost::beast::websocket;
        ws_.read_message_max(options_.max_message_size);
        ws_.auto_fragment(options_.auto_fragment);
        bws::stream_base::timeout t{};
        t.handshake_timeout = options_.close_timeout.count() > 0 ? std::chrono::duration_cast<bws::stream_base::duration>(options_.close_timeout)
                                                                   : bws::stream_base::none();
        t.idle_timeout = options_.idle_timeout.count() > 0 ? std::chrono::duration_cast<bws::stream_base::duration>(options_.idle_timeout)
                                                           : bws::stream_base::none();
        t.keep_alive_pings = options_.idle_timeout.count() > 0;
        ws_.set_option(t);
        if (options_.permessage_deflate) {
            bws::permessage_deflate pmd;
            pmd.server_enable = true;
            ws_.set_option(pmd);
        }
        box_->max_bytes = options_.max_queued_bytes;
    }

    ~websocket_session() override { close_outbox(); }

    /// Sends the 101 response, with the headers `extra` that layers set, and opens the session.
    Task<bool> accept(const Request& req, const http::headers& extra, std::string_view server_name) {
        namespace bhttp = boost::beast::http;
        namespace bws = boost::beast::websocket;
        bhttp::request<bhttp::empty_body> breq;
        breq.method_string(req.method_name());
        breq.target(req.target());
        breq.version(req.version_minor() == 0 ? 10 : 11);
        for (const auto& [name, value] : req.headers()) breq.insert(name, value);

        std::vector<std::pair<std::string, std::string>> fields;
        for (const auto& [name, value] : extra)
            if (!handshake_field(name)) fields.emplace_back(name, value);
        ws_.set_option(bws::stream_base::decorator(
            [fields = std::move(fields), server = std::string{server_name}](bws::response_type& r) {
                for (const auto& [name, value] : fields) r.insert(name, value);
                if (!server.empty()) r.set(bhttp::field::server, server);
                r.set(bhttp::field::date, http_date());
            }));

        error_code ec;
        co_await ws_.async_accept(breq, boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (ec) {
            log::debug(fmt::format("WebSocket handshake failed: {}", ec.message()));
            ended(close_code::abnormal, {});
            co_return false;
        }
        auto weak = this->weak_from_this();
        box_->wake = [ex = executor_, weak] {
            boost::asio::post(ex, [weak] {
                if (auto s = weak.lock()) s->drain_outbox();
            });
        };
        co_return true;
    }

    Task<std::optional<websocket_message>> read() override {
        if (reading_) throw std::logic_error{"WebSocket::read: another read is already pending on this session"};
        if (!open_ || read_done_) co_return std::nullopt;
        auto self = this->shared_from_this();
        reading_ = true;
        rbuf_.clear();
        error_code ec;
        co_await ws_.async_read(rbuf_, boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        reading_ = false;
        signal_.cancel();
        if (ec) {
            read_failed(ec);
            co_return std::nullopt;
        }
        websocket_message m{boost::beast::buffers_to_string(rbuf_.data()), ws_.got_binary()};
        rbuf_.clear();
        if (rbuf_.capacity() > 64 * 1024) rbuf_.shrink_to_fit();
        co_return m;
    }

    Task<void> send_text(std::string_view text) override { return send(text, false); }
    Task<void> send_binary(std::string_view data) override { return send(data, true); }

    Task<void> ping(std::string_view payload) override {
        if (payload.size() > boost::beast::websocket::ping_data::static_capacity)
            throw std::invalid_argument{"WebSocket::ping: the payload must be at most 125 bytes"};
        auto self = this->shared_from_this();
        co_await lock_writes();
        write_guard guard{*this};
        if (!open_) throw websocket_closed{"the WebSocket session is closed"};
        boost::beast::websocket::ping_data data;
        data.assign(payload.data(), payload.size());
        error_code ec;
        co_await ws_.async_ping(data, boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (ec) {
            write_failed(ec);
            throw websocket_closed{"the WebSocket connection was lost: " + ec.message()};
        }
    }

    Task<void> close(std::uint16_t code, std::string_view reason) override {
        if (!sendable_close_code(code))
            throw std::invalid_argument{fmt::format("WebSocket::close: {} is not a close code an endpoint may send", code)};
        if (reason.size() > 123)
            throw std::invalid_argument{"WebSocket::close: the reason must be at most 123 bytes"};
        auto self = this->shared_from_this();
        if (closing_) {
            while (!close_done_) co_await wait();
            co_return;
        }
        if (!open_) co_return;
        closing_ = true;
        open_ = false;
        close_outbox();
        if (!code_) {
            code_ = code;
            reason_ = reason;
        }
        // Beast bounds the handshake once the close frame is written; a close frame that cannot be written
        // (the client stopped reading while a write is pending) is bounded here.
        if (options_.close_timeout.count() > 0) {
            watchdog_.expires_after(options_.close_timeout + std::chrono::milliseconds{100});
            watchdog_.async_wait([weak = this->weak_from_this()](const error_code& ec) {
                if (auto s = weak.lock(); s && !ec && !s->close_done_) s->drop();
            });
        }
        boost::beast::websocket::close_reason cr;
        cr.code = code;
        cr.reason.assign(reason.data(), reason.size());
        error_code ec;
        co_await ws_.async_close(cr, boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (ec) log::debug(fmt::format("WebSocket closing handshake ended early: {}", ec.message()));
        watchdog_.cancel();
        close_done_ = true;
        signal_.cancel();
    }

    bool is_open() const noexcept override { return open_; }
    std::optional<std::uint16_t> close_code() const noexcept override { return code_; }
    const std::string& close_reason() const noexcept override { return reason_; }
    websocket_sender sender() override { return websocket_sender{box_}; }

    /// Graceful shutdown: close with 1001 from a coroutine of its own. Safe to call repeatedly.
    void going_away() noexcept {
        if (!open_ || closing_) return;
        try {
            boost::asio::co_spawn(executor_, close_task(this->shared_from_this(), close_code::going_away,
                                                        "the server is shutting down"),
                                  boost::asio::detached);
        } catch (...) {
            drop();
        }
    }

    /// After the handler: close normally if it did not, and wait until nothing of the session is pending.
    Task<void> finish() {
        auto self = this->shared_from_this();
        close_outbox();
        if (open_) co_await close(close_code::normal, {});
        while ((closing_ && !close_done_) || writer_running_) co_await wait();
    }

private:
    // Serialises writes: Beast allows one at a time. Waiters sleep on signal_, which any state change wakes.
    struct write_guard {
        websocket_session& s;
        ~write_guard() {
            s.writing_ = false;
            s.signal_.cancel();
        }
    };

    Task<void> wait() {
        error_code ec;
        co_await signal_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    }
    Task<void> lock_writes() {
        while (writing_) co_await wait();
        writing_ = true;
    }

    Task<void> send(std::string_view data, bool binary) {
        auto self = this->shared_from_this();
        co_await lock_writes();
        write_guard guard{*this};
        if (!open_) throw websocket_closed{"the WebSocket session is closed"};
        ws_.binary(binary);
        error_code ec;
        co_await ws_.async_write(boost::asio::buffer(data.data(), data.size()),
                                 boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (ec) {
            write_failed(ec);
            throw websocket_closed{"the WebSocket connection was lost: " + ec.message()};
        }
    }

    static Task<void> close_task(std::shared_ptr<websocket_session> self, std::uint16_t code, std::string reason) {
        co_await self->close(code, reason);
    }

    // Writes what other threads queued, in order, until the queue is empty.
    static Task<void> write_queued(std::shared_ptr<websocket_session> self) {
        websocket_outbox& box = *self->box_;
        while (true) {
            websocket_outbox::item it;
            {
                std::lock_guard lock{box.mutex};
                if (box.queue.empty()) {
                    box.scheduled = false;
                    break;
                }
                it = std::move(box.queue.front());
                box.queue.pop_front();
                box.bytes -= it.data.size();
            }
            bool failed = false;
            try {
                if (it.close)
                    co_await self->close(it.code, it.data);
                else
                    co_await self->send(it.data, it.binary);
            } catch (const std::exception&) {
                failed = true;  // the session is over; close_outbox() has dropped the rest
            }
            if (failed) {
                std::lock_guard lock{box.mutex};
                box.scheduled = false;
                break;
            }
        }
        self->writer_running_ = false;
        self->signal_.cancel();
    }

    void drain_outbox() {
        std::optional<std::uint16_t> close_now;
        {
            std::lock_guard lock{box_->mutex};
            close_now = std::exchange(box_->close_now, std::nullopt);
        }
        if (close_now) {
            going_away_with(*close_now, "the client does not keep up with its messages");
            return;
        }
        if (writer_running_ || close_done_) return;
        writer_running_ = true;
        boost::asio::co_spawn(executor_, write_queued(this->shared_from_this()), boost::asio::detached);
    }

    void going_away_with(std::uint16_t code, std::string reason) {
        if (!open_ || closing_) return;
        boost::asio::co_spawn(executor_, close_task(this->shared_from_this(), code, std::move(reason)),
                              boost::asio::detached);
    }

    void close_outbox() noexcept {
        std::lock_guard lock{box_->mutex};
        box_->open = false;
        box_->queue.clear();
        box_->bytes = 0;
        box_->wake = nullptr;
    }

    // The closing handshake cannot complete: close the socket under it.
    void drop() noexcept { boost::beast::close_socket(boost::beast::get_lowest_layer(ws_)); }

    void ended(std::uint16_t code, std::string_view reason) {
        open_ = false;
        if (!code_) {
            code_ = code;
            reason_ = reason;
        }
    }

    void read_failed(const error_code& ec) {
        namespace bws = boost::beast::websocket;
        read_done_ = true;
        close_outbox();
        if (ec == bws::error::closed) {
            auto r = ws_.reason();
            ended(r.code == bws::close_code::none ? close_code::no_status : static_cast<std::uint16_t>(r.code),
                  std::string_view{r.reason.data(), r.reason.size()});
        } else if (ec == bws::error::message_too_big) {
            ended(close_code::too_big, "message too big");
        } else if (ec == bws::error::bad_frame_payload) {
            ended(close_code::invalid_payload, "invalid UTF-8");
        } else if (ec == bws::condition::protocol_violation) {
            ended(close_code::protocol_error, "protocol error");
        } else {
            ended(close_code::abnormal, {});
        }
        if (code_ != close_code::normal && code_ != close_code::going_away && code_ != close_code::no_status)
            log::debug(fmt::format("WebSocket session ended with {}: {}", *code_, ec.message()));
    }

    void write_failed(const error_code& ec) {
        close_outbox();
        ended(close_code::abnormal, {});
        log::debug(fmt::format("WebSocket write failed: {}", ec.message()));
    }

    static bool handshake_field(std::string_view name) noexcept {
        for (std::string_view f : {"connection", "upgrade", "sec-websocket-accept", "sec-websocket-extensions",
                                   "content-length", "transfer-encoding", "date", "server"})
            if (iequals(name, f)) return true;
        return false;
    }

    ws_stream ws_;
    websocket_options options_;
    boost::asio::any_io_executor executor_;
    boost::asio::steady_timer signal_;    // never expires; cancel() wakes everyone waiting on it
    boost::asio::steady_timer watchdog_;  // bounds a closing handshake
    std::shared_ptr<websocket_outbox> box_;
    boost::beast::flat_buffer rbuf_;
    std::optional<std::uint16_t> code_;
    std::string reason_;
    bool open_ = true;
    bool reading_ = false;
    bool read_done_ = false;
    bool writing_ = false;
    bool closing_ = false;
    bool close_done_ = false;
    bool writer_running_ = false;
};

/// The whole life of a session on `stream`; see serve_websocket in websocket_session.hpp.
template <class Stream>
Task<void> run_websocket_session(Stream& stream, std::string_view leftover, const Request& req, const Response& res,
                                 std::string_view server_name, websocket_control& control) {
    const websocket_upgrade* up = res.upgrade();
    if (up == nullptr || !up->session) co_return;
    auto handler = up->session;
    auto session = std::make_shared<websocket_session<Stream>>(stream, leftover, up->options);
    if (!co_await session->accept(req, res.headers(), server_name)) co_return;

    control.going_away = [weak = std::weak_ptr<websocket_session<Stream>>{session}] {
        if (auto s = weak.lock()) s->going_away();
    };
    std::string failure;
    try {
        co_await handler(*session);
    } catch (const websocket_closed&) {
        // The client went away while the handler was sending: not an error of the handler.
    } catch (const std::exception& e) {
        failure = e.what();
        if (failure.empty()) failure = "exception";
    } catch (...) {
        failure = "non-standard exception";
    }
    if (!failure.empty()) {
        log::error(fmt::format("WebSocket handler of '{}' failed: {}; closing the session with 1011",
                               req.route() ? req.route()->pattern : std::string{req.path()}, failure));
        co_await session->close(close_code::internal_error, "internal error");
    }
    co_await session->finish();
    control.going_away = nullptr;
}

}  // namespace zephyr::http::detail
