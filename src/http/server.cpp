// The HTTP/1.1 server: one io_context, acceptor and sweeper per thread; one coroutine per connection.
//
// Hot path per request on a keep-alive connection: one recv (performed by the reactor when the socket is
// readable), an in-place parse, a direct call of a plain handler, the response serialized into one buffer and
// written with one send. Pipelined requests found in the same read are answered with one send.
//
// Timeouts are enforced by a per-thread sweeper that runs a few times per second over the thread's
// connections and cancels the I/O of those past their deadline, so the request path never arms a timer.
#include <zephyr/core/log.hpp>
#include <zephyr/http/layers/error_boundary.hpp>
#include <zephyr/http/router/router.hpp>
#include <zephyr/http/server.hpp>

#include "http/parser.hpp"
#include "http/router/route_table.hpp"
#include "http/serialize.hpp"
#include "http/websocket_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>
#include <type_traits>
#include <vector>

namespace zephyr::http {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

// Read buffer per connection: small while idle (it is held by the pending read), larger while requests keep
// arriving faster than one buffer at a time (pipelining), and as large as the limits allow for a big head.
constexpr std::size_t initial_buffer = 2 * 1024;
constexpr std::size_t busy_buffer = 16 * 1024;
constexpr std::size_t flush_threshold = 64 * 1024;
constexpr std::size_t inline_body_limit = 16 * 1024;  // larger bodies are written from their own buffer

struct worker;

// The monotonic clock at jiffy resolution (a few ms), which is all a timeout needs and cheaper to read than
// steady_clock::now() twice per request. Same epoch as steady_clock (CLOCK_MONOTONIC) on Linux.
clock_type::time_point coarse_now() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return clock_type::time_point{std::chrono::seconds{ts.tv_sec} + std::chrono::nanoseconds{ts.tv_nsec}};
}

// What a worker's sweeper sees of a connection.
struct conn_base {
    enum class phase : std::uint8_t { idle, head, body, handling, writing, upgraded };
    conn_base* prev = nullptr;
    conn_base* next = nullptr;
    clock_type::time_point deadline = clock_type::time_point::max();
    phase state = phase::idle;
    bool timed_out = false;
    virtual void cancel() noexcept = 0;

protected:
    ~conn_base() = default;
};

struct worker {
    // Declared before the io_context: connections still alive when it is destroyed unlink themselves.
    conn_base* first = nullptr;
    std::size_t connections = 0;
    bool draining = false;
    bool destroying = false;
    // Every socket and timer of a worker is used only from its own thread, so the reactor needs no locks.
    asio::io_context ioc{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    std::optional<tcp::acceptor> acceptor;
    std::optional<asio::steady_timer> sweeper;
    std::thread thread;

    // Connections cut off by the drain deadline are destroyed with the io_context; they must not touch the
    // acceptor or sweeper then.
    ~worker() {
        destroying = true;
        acceptor.reset();
        sweeper.reset();
    }

    void link(conn_base* c) noexcept {
        c->next = first;
        if (first) first->prev = c;
        first = c;
        ++connections;
    }
    void unlink(conn_base* c) noexcept {
        if (c->prev) c->prev->next = c->next;
        else first = c->next;
        if (c->next) c->next->prev = c->prev;
        --connections;
    }
};

}  // namespace

struct Server::impl {
    impl(Router& r, server_config c) : router{r}, table{r.table()}, config{std::move(c)} {
        plimits.max_request_line = config.limits.max_request_line;
        plimits.max_header_bytes = config.limits.max_header_bytes;
        plimits.max_headers = config.limits.max_headers;
        auto shortest = std::min({config.timeouts.header, config.timeouts.body, config.timeouts.idle,
                                  config.timeouts.write});
        sweep_period = std::clamp(shortest / 4, std::chrono::milliseconds{10}, std::chrono::milliseconds{1000});
        max_buffer = std::max(initial_buffer, plimits.max_request_line + plimits.max_header_bytes + 64);
    }

    Router& router;
    detail::route_table& table;
    server_config config;
    detail::parser_limits plimits;
    std::chrono::milliseconds sweep_period{1000};
    std::size_t max_buffer = 0;
    std::optional<ssl::context> tls;
    std::vector<std::unique_ptr<worker>> workers;
    std::uint16_t bound_port = 0;

    std::mutex state_mutex;
    std::condition_variable state_cv;
    bool running = false;
    bool stop_requested = false;
    std::size_t threads_alive = 0;

    void start();
    void request_stop();
    Task<void> accept_loop(worker& w);
    Task<void> sweep_loop(worker& w);
};

namespace {

// Raises the open-file limit to its hard maximum so that thousands of connections can be held.
void raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

template <class Stream>
tcp::socket& lowest(Stream& s) {
    if constexpr (std::is_same_v<Stream, tcp::socket>)
        return s;
    else
        return s.next_layer();
}

template <class Stream>
class connection final : public conn_base {
public:
    connection(Server::impl& srv, worker& w, Stream s) : srv_{srv}, w_{w}, stream_{std::move(s)} {
        w_.link(this);
    }
    ~connection() {
        w_.unlink(this);
        delete[] buf_;
        // The last connection of a draining thread lets the sweeper, and so the thread, finish now.
        if (!w_.destroying && w_.draining && w_.connections == 0 && w_.sweeper) w_.sweeper->cancel();
    }

    static Task<void> serve(Server::impl& srv, worker& w, Stream s) {
        connection c{srv, w, std::move(s)};
        co_await c.run();
    }

    void cancel() noexcept override {
        // A WebSocket session is asked to close with 1001 rather than cut off (graceful shutdown).
        if (state == phase::upgraded) {
            if (ws_control_.going_away) ws_control_.going_away();
            return;
        }
        error_code ec;
        lowest(stream_).cancel(ec);
    }

private:
    static constexpr bool plain = std::is_same_v<Stream, tcp::socket>;

    void set_phase(phase p, std::chrono::milliseconds timeout) noexcept {
        state = p;
        deadline = timeout.count() > 0 ? coarse_now() + timeout : clock_type::time_point::max();
    }

    std::string_view buffered() const noexcept { return {buf_ + begin_, end_ - begin_}; }

    // Makes room at the end of the buffer for a read. False when the buffer is at its limit (the parser has
    // rejected such a request before this can happen).
    bool make_room() {
        if (buf_ == nullptr) {
            buf_ = new char[initial_buffer];
            cap_ = initial_buffer;
        }
        if (end_ < cap_) return true;
        if (begin_ > 0 && (cap_ >= busy_buffer || cap_ >= srv_.max_buffer)) {
            std::memmove(buf_, buf_ + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
            return true;
        }
        if (cap_ >= srv_.max_buffer) return false;
        std::size_t next = std::min(cap_ * 2, srv_.max_buffer);
        char* grown = new char[next];
        std::memcpy(grown, buf_ + begin_, end_ - begin_);
        delete[] buf_;
        buf_ = grown;
        cap_ = next;
        end_ -= begin_;
        begin_ = 0;
        return true;
    }

    // Reads more bytes into the buffer. False on end of stream, error, timeout or shutdown.
    Task<bool> fill() {
        if (!make_room()) co_return false;
        error_code ec;
        std::size_t n = co_await stream_.async_read_some(asio::buffer(buf_ + end_, cap_ - end_),
                                                         asio::redirect_error(asio::use_awaitable, ec));
        end_ += n;
        co_return !ec;
    }

    // Writes a buffer sequence completely: first directly, then asynchronously for whatever the socket
    // did not take at once.
    template <class Buffers>
    Task<bool> write_all(const Buffers& buffers) {
        error_code ec;
        std::size_t total = asio::buffer_size(buffers);
        std::size_t done = 0;
        if constexpr (plain) {
            done = stream_.write_some(buffers, ec);
            if (!ec && done == total) co_return true;
            if (ec && ec != asio::error::would_block) co_return false;
            ec = {};
        }
        auto saved = state;
        set_phase(phase::writing, srv_.config.timeouts.write);
        // Skip what was already written.
        std::vector<asio::const_buffer> rest;
        std::size_t skip = done;
        for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
            asio::const_buffer b = *it;
            if (skip >= b.size()) {
                skip -= b.size();
                continue;
            }
            rest.push_back(b + skip);
            skip = 0;
        }
        co_await asio::async_write(stream_, rest, asio::redirect_error(asio::use_awaitable, ec));
        state = saved;
        deadline = clock_type::time_point::max();
        co_return !ec;
    }

    Task<bool> flush() {
        if (out_.empty()) co_return true;
        bool ok = co_await write_all(asio::buffer(out_));
        out_.clear();
        co_return ok;
    }

    // Sends out_ directly when the socket takes all of it. True when nothing is left to send.
    bool try_flush_now() {
        if (out_.empty()) return true;
        if constexpr (plain) {
            error_code ec;
            std::size_t n = stream_.write_some(asio::buffer(out_), ec);
            if (!ec && n == out_.size()) {
                out_.clear();
                return true;
            }
            if (!ec) out_.erase(0, n);
        }
        return false;
    }

    // Answers a request the parser rejected, then the connection closes.
    Task<void> reject(const detail::parse_error& err) {
        Response res{err.code, fmt::format("{}: {}\n", reason_phrase(err.code), err.message)};
        detail::serialize_head(out_, res, res.body().size(), false, false, srv_.config.server_name);
        out_ += res.body();
        co_await flush();
    }

    Task<void> run() {
        error_code ec;
        lowest(stream_).set_option(tcp::no_delay{true}, ec);
        if constexpr (plain) {
            stream_.non_blocking(true, ec);
        } else {
            set_phase(phase::head, srv_.config.timeouts.header);
            co_await stream_.async_handshake(ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return;
        }
        if (auto ep = lowest(stream_).remote_endpoint(ec); !ec) remote_ = ep.address().to_string();

        bool open = true;
        while (open) {
            // ---- wait for (the rest of) a request head --------------------------------------------------
            if (begin_ == end_) {
                if (w_.draining) break;
                if (cap_ > initial_buffer) {  // give back what a large request made us grow
                    delete[] buf_;
                    buf_ = nullptr;
                    cap_ = 0;
                }
                begin_ = end_ = 0;
                if (out_.capacity() > flush_threshold) std::string{}.swap(out_);
                if (!owned_head_.empty()) std::string{}.swap(owned_head_);
                set_phase(phase::idle, srv_.config.timeouts.idle);
            } else if (state != phase::head) {
                set_phase(phase::head, srv_.config.timeouts.header);
            }
            // Read directly here rather than through fill(): no coroutine frame on the hot path.
            if (!make_room()) break;
            std::size_t n = co_await stream_.async_read_some(asio::buffer(buf_ + end_, cap_ - end_),
                                                             asio::redirect_error(asio::use_awaitable, ec));
            end_ += n;
            if (ec) {
                if (timed_out && state == phase::head)
                    co_await reject({status::request_timeout, "the request was not received in time"});
                break;
            }
            if (state == phase::idle) set_phase(phase::head, srv_.config.timeouts.header);

            // ---- answer every complete request in the buffer -------------------------------------------
            while (open && begin_ < end_) {
                detail::request_head head;
                detail::parse_error err;
                req_.reset();
                auto st = detail::parse_request_head(buffered(), srv_.plimits, head, req_.mutable_headers(), err,
                                                     scan_from_);
                if (st == detail::parse_status::incomplete) break;
                if (st == detail::parse_status::error) {
                    co_await flush();
                    co_await reject(err);
                    open = false;
                    break;
                }
                set_phase(phase::handling, std::chrono::milliseconds{0});
                bool keep_alive = head.keep_alive && !w_.draining;
                req_.set_method(head.method, head.method_name);
                req_.set_target(head.target);
                req_.set_version_minor(head.version_minor);
                req_.set_keep_alive(keep_alive);
                req_.set_remote_address(remote_);

                // Routing comes before the body: the route decides how large a body may be and whether its
                // handler reads the body itself as it arrives.
                Response res;
                const detail::chain* ch = nullptr;
                try {
                    ch = &srv_.table.match(req_);
                } catch (...) {
                    res = error_response(req_, std::current_exception());
                }
                const std::uint64_t max_body =
                    ch != nullptr && ch->max_body ? *ch->max_body : srv_.config.limits.max_body;
                const std::uint64_t length = head.content_length.value_or(0);
                if (length > max_body) {
                    co_await flush();
                    co_await reject_problem(status::payload_too_large,
                                            fmt::format("the request body is larger than {} bytes", max_body));
                    open = false;
                    break;
                }

                std::size_t consumed = head.size;
                if (ch != nullptr && ch->streams_body) {
                    co_await serve_streamed(head, *ch, max_body, res, keep_alive);
                    consumed = 0;  // serve_streamed() moved begin_ past the body
                } else {
                    // The body: usually already in the buffer; otherwise read it (slow path, own coroutine).
                    if (!head.chunked && length <= end_ - begin_ - head.size) {
                        if (length > 0)
                            req_.body().assign(buf_ + begin_ + head.size, static_cast<std::size_t>(length));
                        consumed += static_cast<std::size_t>(length);
                    } else if (!co_await read_body(head, consumed, max_body)) {
                        open = false;
                        break;
                    }
                    if (ch != nullptr) {
                        if (ch->sync())
                            res = ch->run_sync(req_);  // a plain handler: no coroutine at all
                        else
                            res = co_await ch->run(req_);
                    }
                }

                if (res.upgrade() != nullptr && res.status() == status::switching_protocols) {
                    co_await upgrade(res, consumed);  // the connection now carries a WebSocket session
                    open = false;
                    break;
                }
                keep_alive = keep_alive && !w_.draining;
                if (!res.file() && !res.stream() && res.body().size() <= inline_body_limit) {
                    append_response(res, keep_alive);
                } else if (!co_await send(req_, res, keep_alive)) {
                    keep_alive = false;
                }
                begin_ += consumed;
                if (begin_ >= end_) begin_ = end_ = 0;
                open = keep_alive;
                if (out_.size() >= flush_threshold && !co_await flush()) open = false;
            }
            if (!try_flush_now() && !co_await flush()) break;
        }
        error_code ignored;
        if constexpr (!plain) {
            // Best effort close_notify; bounded by the write timeout through the sweeper.
            if (!timed_out) {
                set_phase(phase::writing, srv_.config.timeouts.write);
                co_await stream_.async_shutdown(asio::redirect_error(asio::use_awaitable, ignored));
            }
        } else if (linger_) {
            co_await linger();
        }
        lowest(stream_).shutdown(tcp::socket::shutdown_both, ignored);
        lowest(stream_).close(ignored);
    }

    // Serializes a response with a text body into out_.
    void append_response(const Response& res, bool& keep_alive) {
        if (auto c = res.headers().get("Connection"); c && has_token(*c, "close")) keep_alive = false;
        const std::string& body = res.body();
        detail::serialize_head(out_, res, body.size(), keep_alive, false, srv_.config.server_name,
                               req_.version_minor());
        if (req_.method() != method::head && !status_forbids_body(res.status())) out_ += body;
    }

    // Reads a body that is not (completely) in the buffer yet. `consumed` becomes the number of bytes of the
    // buffer (from begin_) that the request used. False when the connection must close.
    Task<bool> read_body(detail::request_head& head, std::size_t& consumed, std::uint64_t max_body) {
        rebase_head(head);
        if (head.content_length) {
            const auto length = static_cast<std::size_t>(*head.content_length);
            std::size_t have = end_ - begin_ - head.size;  // less than length, or we would not be here
            req_.body().resize(length);
            std::memcpy(req_.body().data(), buf_ + begin_ + head.size, have);
            begin_ = end_ = 0;
            consumed = 0;
            if (head.expect_continue && !co_await send_continue()) co_return false;
            while (have < length) {
                set_phase(phase::body, srv_.config.timeouts.body);
                error_code ec;
                std::size_t n = co_await stream_.async_read_some(asio::buffer(req_.body().data() + have, length - have),
                                                                 asio::redirect_error(asio::use_awaitable, ec));
                have += n;
                if (ec) {
                    if (timed_out) co_await reject({status::request_timeout, "the request body was not received in time"});
                    co_return false;
                }
            }
            co_return true;
        }
        detail::chunked_decoder dec;
        detail::parse_error err;
        std::size_t pos = begin_ + head.size;
        bool asked = false;
        while (true) {
            std::size_t used = 0;
            auto r = dec.feed({buf_ + pos, end_ - pos}, used, req_.body(), max_body, srv_.plimits, err);
            pos += used;
            if (r == detail::chunked_decoder::result::done) break;
            if (r == detail::chunked_decoder::result::error) {
                co_await flush();
                if (err.code == status::payload_too_large) {
                    linger_ = true;
                    co_await reject_problem(err.code, fmt::format("the request body is larger than {} bytes", max_body));
                } else {
                    co_await reject(err);
                }
                co_return false;
            }
            if (head.expect_continue && !asked) {
                asked = true;
                if (!co_await send_continue()) co_return false;
            }
            begin_ = end_ = pos = 0;  // the decoder consumed everything buffered
            set_phase(phase::body, srv_.config.timeouts.body);
            if (!co_await fill()) {
                if (timed_out) co_await reject({status::request_timeout, "the request body was not received in time"});
                co_return false;
            }
        }
        consumed = pos - begin_;
        co_return true;
    }

    // Copies the head out of the read buffer and re-parses it there, so the buffer can be reused for the body.
    void rebase_head(detail::request_head& head) {
        owned_head_.assign(buf_ + begin_, head.size);
        detail::parse_error err;
        std::size_t scan = 0;
        detail::parse_request_head(owned_head_, srv_.plimits, head, req_.mutable_headers(), err, scan);
        req_.set_method(head.method, head.method_name);
        req_.set_target(head.target);
    }

    // Answers with a problem+json error and closes the connection, for a request refused after routing.
    Task<void> reject_problem(status s, std::string_view why) {
        Response res = Response::problem(s, why);
        detail::serialize_head(out_, res, res.body().size(), false, false, srv_.config.server_name);
        out_ += res.body();
        linger_ = true;  // the client may be sending the body we refused
        co_await flush();
    }

    // The body of a streaming route, read while the handler asks for it: the bytes already buffered first, then
    // the socket. A Content-Length body goes straight from the socket into the handler's buffer; a chunked one
    // through the read buffer and the chunked decoder. Never reads past the end of the body, so pipelined
    // requests stay in the buffer.
    class stream_reader final : public body_reader {
    public:
        stream_reader(connection& c, const detail::request_head& head, std::uint64_t max_body)
            : c_{c},
              chunked_{head.chunked},
              remaining_{head.content_length.value_or(0)},
              max_body_{max_body},
              expect_continue_{head.expect_continue},
              received_{c.end_ > c.begin_} {
            done_ = !chunked_ && remaining_ == 0;
        }

        Task<std::size_t> read_some(std::span<char> out) override {
            if (broken_)
                throw HttpError{status::bad_request, "the request body cannot be read after an earlier failure"};
            if (out.empty()) co_return 0;
            if (chunked_) co_return co_await read_chunked(out);
            if (remaining_ == 0) co_return 0;
            const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), remaining_));
            std::size_t n = 0;
            if (c_.begin_ < c_.end_) {
                n = std::min(want, c_.end_ - c_.begin_);
                std::memcpy(out.data(), c_.buf_ + c_.begin_, n);
                c_.begin_ += n;
            } else {
                n = co_await receive(asio::buffer(out.data(), want));
            }
            remaining_ -= n;
            done_ = remaining_ == 0;
            co_return n;
        }

        // Reads and discards the rest of a body the handler left unread, up to `limit` bytes, so the connection
        // can carry the next request. False when the connection has to close instead.
        Task<bool> drain(std::uint64_t limit) {
            if (done_) co_return true;
            if (broken_ || (!chunked_ && remaining_ > limit)) co_return false;
            // A client waiting for 100 Continue has not sent the body and may never send it.
            if (expect_continue_ && !continued_ && !received_) co_return false;
            std::vector<char> scratch(16 * 1024);
            std::uint64_t total = 0;
            try {
                while (true) {
                    std::size_t n = co_await read_some(scratch);
                    if (n == 0) co_return true;
                    total += n;
                    if (total > limit) co_return false;
                }
            } catch (const std::exception&) {
                broken_ = true;
            }
            co_return false;
        }

        bool done() const noexcept { return done_; }

    private:
        Task<std::size_t> read_chunked(std::span<char> out) {
            while (true) {
                if (decoded_pos_ < decoded_.size()) {
                    std::size_t n = std::min(out.size(), decoded_.size() - decoded_pos_);
                    std::memcpy(out.data(), decoded_.data() + decoded_pos_, n);
                    decoded_pos_ += n;
                    if (decoded_pos_ == decoded_.size()) {
                        delivered_ += decoded_.size();
                        decoded_.clear();
                        decoded_pos_ = 0;
                    }
                    co_return n;
                }
                if (done_) co_return 0;
                if (c_.begin_ < c_.end_) {
                    // decoded_ is empty here, so the decoder's limit check covers the whole body so far.
                    std::size_t used = 0;
                    detail::parse_error err;
                    auto r = dec_.feed({c_.buf_ + c_.begin_, c_.end_ - c_.begin_}, used, decoded_,
                                       max_body_ - delivered_, c_.srv_.plimits, err);
                    c_.begin_ += used;
                    if (r == detail::chunked_decoder::result::error) {
                        broken_ = true;
                        if (err.code == status::payload_too_large)
                            throw HttpError{err.code, fmt::format("the request body is larger than {} bytes", max_body_)};
                        throw HttpError{err.code, fmt::format("malformed chunked request body: {}", err.message)};
                    }
                    done_ = r == detail::chunked_decoder::result::done;
                    continue;
                }
                // Everything buffered is decoded; the head was copied out, so the buffer starts over.
                c_.begin_ = c_.end_ = 0;
                if (!c_.make_room()) throw HttpError{status::internal_server_error, "no read buffer"};
                std::size_t n = co_await receive(asio::buffer(c_.buf_, c_.cap_));
                c_.end_ = n;
            }
        }

        // One read from the socket, under the body timeout. Asks for the body first when the client waits
        // for 100 Continue, and sends the responses of earlier pipelined requests before waiting.
        Task<std::size_t> receive(asio::mutable_buffer b) {
            bool ok = true;
            if (expect_continue_ && !continued_ && !received_) {
                continued_ = true;
                ok = co_await c_.send_continue();
            } else if (!c_.out_.empty()) {
                ok = co_await c_.flush();
            }
            if (!ok) {
                broken_ = true;
                throw HttpError{status::bad_request, "the client closed the connection before sending the body"};
            }
            c_.set_phase(phase::body, c_.srv_.config.timeouts.body);
            error_code ec;
            std::size_t n = co_await c_.stream_.async_read_some(b, asio::redirect_error(asio::use_awaitable, ec));
            c_.set_phase(phase::handling, std::chrono::milliseconds{0});
            if (ec) {
                broken_ = true;
                if (c_.timed_out)
                    throw HttpError{status::request_timeout, "the request body was not received in time"};
                throw HttpError{status::bad_request, "the client closed the connection before the end of the body"};
            }
            received_ = true;
            co_return n;
        }

        connection& c_;
        bool chunked_;
        std::uint64_t remaining_;  // of a Content-Length body
        std::uint64_t max_body_;
        bool expect_continue_;
        bool received_;            // some body bytes have arrived
        bool continued_ = false;   // 100 Continue was sent
        bool done_ = false;
        bool broken_ = false;      // a read failed: the connection cannot carry another request
        detail::chunked_decoder dec_;
        std::string decoded_;      // decoded chunk data not yet handed out
        std::size_t decoded_pos_ = 0;
        std::uint64_t delivered_ = 0;
    };

    // Runs the handler of a streaming route, which reads the body itself. Afterwards a small unread rest of
    // the body is read and dropped; a larger one (or a failed read) closes the connection after the response.
    Task<void> serve_streamed(detail::request_head& head, const detail::chain& ch, std::uint64_t max_body,
                              Response& res, bool& keep_alive) {
        static constexpr std::uint64_t drain_limit = 256 * 1024;
        if (head.chunked) rebase_head(head);  // the decoder reuses the read buffer
        begin_ += head.size;                  // the body starts here; a Content-Length body never moves the buffer
        stream_reader reader{*this, head, max_body};
        req_.set_body_reader(&reader);
        if (ch.sync())
            res = ch.run_sync(req_);
        else
            res = co_await ch.run(req_);
        req_.set_body_reader(nullptr);
        if (!co_await reader.drain(drain_limit)) {
            keep_alive = false;
            linger_ = !timed_out;
        }
    }

    // Before closing a connection whose request body was not read to its end: stop sending, then read and drop
    // what the client still sends, for a moment. Closing with unread bytes makes the kernel answer with a
    // reset, which can destroy the response before the client has read it.
    Task<void> linger() {
        error_code ec;
        lowest(stream_).shutdown(tcp::socket::shutdown_send, ec);
        begin_ = end_ = 0;
        if (ec || !make_room()) co_return;
        set_phase(phase::body, std::min<std::chrono::milliseconds>(srv_.config.timeouts.body, std::chrono::seconds{2}));
        std::size_t total = 0;
        while (total < 16 * 1024 * 1024) {
            std::size_t n = co_await stream_.async_read_some(asio::buffer(buf_, cap_),
                                                             asio::redirect_error(asio::use_awaitable, ec));
            if (ec) break;
            total += n;
        }
    }

    // Hands the connection to a WebSocket session: bytes after the request are its first frames.
    Task<void> upgrade(const Response& res, std::size_t consumed) {
        if (!co_await flush()) co_return;
        std::string_view leftover{buf_ + begin_ + consumed, end_ - begin_ - consumed};
        set_phase(phase::upgraded, std::chrono::milliseconds{0});
        co_await detail::serve_websocket(stream_, leftover, req_, res, srv_.config.server_name, ws_control_);
    }

    Task<bool> send_continue() {
        if (!co_await flush()) co_return false;
        static constexpr std::string_view msg = "HTTP/1.1 100 Continue\r\n\r\n";
        co_return co_await write_all(asio::buffer(msg.data(), msg.size()));
    }

    Task<bool> send(const Request& req, Response& res, bool& keep_alive) {
        const bool head_only = req.method() == method::head;
        if (auto c = res.headers().get("Connection"); c && has_token(*c, "close")) keep_alive = false;
        const int v = req.version_minor();
        if (const file_body* f = res.file()) co_return co_await send_file(req, res, *f, keep_alive);
        if (const stream_producer* p = res.stream()) {
            if (req.version_minor() == 0) keep_alive = false;  // no chunked coding: the close ends the body
            detail::serialize_head(out_, res, std::nullopt, keep_alive, v == 1, srv_.config.server_name, v);
            if (head_only) co_return true;
            co_return co_await send_stream(*p, req.version_minor() == 1);
        }
        const std::string& body = res.body();
        detail::serialize_head(out_, res, body.size(), keep_alive, false, srv_.config.server_name, v);
        if (head_only || status_forbids_body(res.status()) || body.empty()) co_return true;
        if (body.size() <= inline_body_limit) {
            out_ += body;
            co_return true;
        }
        std::array<asio::const_buffer, 2> bufs{asio::buffer(out_), asio::buffer(body)};
        bool ok = co_await write_all(bufs);
        out_.clear();
        co_return ok;
    }

    class chunk_sink final : public body_writer {
    public:
        chunk_sink(connection& c, bool chunked) : c_{c}, chunked_{chunked} {}
        Task<void> write(std::string_view data) override {
            if (data.empty()) co_return;
            bool ok = true;
            if (chunked_) {
                char size_line[24];
                auto len = fmt::format_to_n(size_line, sizeof size_line, "{:x}\r\n", data.size()).size;
                std::array<asio::const_buffer, 3> b{asio::buffer(size_line, len), asio::buffer(data),
                                                    asio::buffer("\r\n", 2)};
                ok = co_await c_.write_all(b);
            } else {
                ok = co_await c_.write_all(asio::buffer(data));
            }
            if (!ok) throw boost::system::system_error{asio::error::broken_pipe, "client went away"};
        }

    private:
        connection& c_;
        bool chunked_;
    };

    Task<bool> send_stream(const stream_producer& producer, bool chunked) {
        if (!co_await flush()) co_return false;
        chunk_sink sink{*this, chunked};
        bool failed = false;
        try {
            co_await producer(sink);
        } catch (const boost::system::system_error& e) {
            log::debug(fmt::format("streamed response aborted: {}", e.what()));  // the client went away
            failed = true;
        } catch (const std::exception& e) {
            log::error(fmt::format("streamed response aborted by its producer: {}", e.what()));
            failed = true;
        }
        // A body cut short must not look complete: close without the last chunk.
        if (failed) co_return false;
        if (chunked) {
            static constexpr std::string_view last = "0\r\n\r\n";
            co_return co_await write_all(asio::buffer(last.data(), last.size()));
        }
        co_return true;
    }

    Task<bool> send_file(const Request& req, Response& res, const file_body& f, bool& keep_alive) {
        int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC);
        struct stat st {};
        if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            if (fd >= 0) ::close(fd);
            Response missing = Response::problem(status::not_found, "file not found");
            co_return co_await send(req, missing, keep_alive);
        }
        struct fd_guard {
            int fd;
            ~fd_guard() { ::close(fd); }
        } guard{fd};
        auto size = static_cast<std::uint64_t>(st.st_size);
        std::uint64_t offset = std::min(f.offset, size);
        std::uint64_t length = std::min(f.length.value_or(size - offset), size - offset);
        detail::serialize_head(out_, res, length, keep_alive, false, srv_.config.server_name, req.version_minor());
        if (req.method() == method::head || length == 0) co_return true;
        if (!co_await flush()) co_return false;

        if constexpr (plain) {
            auto off = static_cast<off_t>(offset);
            std::uint64_t left = length;
            set_phase(phase::writing, srv_.config.timeouts.write);
            while (left > 0) {
                ssize_t n = ::sendfile(stream_.native_handle(), fd, &off, static_cast<std::size_t>(std::min<std::uint64_t>(left, 1 << 20)));
                if (n > 0) {
                    left -= static_cast<std::uint64_t>(n);
                    deadline = coarse_now() + srv_.config.timeouts.write;
                    continue;
                }
                if (n < 0 && errno == EINTR) continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                    error_code ec;
                    co_await stream_.async_wait(tcp::socket::wait_write, asio::redirect_error(asio::use_awaitable, ec));
                    if (ec) co_return false;
                    continue;
                }
                co_return false;  // the file shrank, or the client went away
            }
            co_return true;
        } else {
            std::vector<char> chunk(64 * 1024);
            std::uint64_t left = length;
            auto off = static_cast<off_t>(offset);
            while (left > 0) {
                ssize_t n = ::pread(fd, chunk.data(), std::min<std::size_t>(chunk.size(), left), off);
                if (n <= 0) co_return false;
                if (!co_await write_all(asio::buffer(chunk.data(), static_cast<std::size_t>(n)))) co_return false;
                left -= static_cast<std::uint64_t>(n);
                off += n;
            }
            co_return true;
        }
    }

    Server::impl& srv_;
    worker& w_;
    Stream stream_;
    char* buf_ = nullptr;
    std::size_t cap_ = 0;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t scan_from_ = 0;
    std::string out_;
    std::string owned_head_;  // a request's head, copied out of buf_ while its body is read
    bool linger_ = false;     // closing with part of a request body unread: see linger()
    std::string remote_;
    detail::websocket_control ws_control_;  // reaches the WebSocket session of an upgraded connection
    Request req_;             // reused by every request on the connection, keeping its capacity
};

}  // namespace

Task<void> Server::impl::accept_loop(worker& w) {
    while (w.acceptor && w.acceptor->is_open()) {
        error_code ec;
        // At the connection limit, stop accepting until connections close; clients wait in the backlog.
        while (w.connections >= config.limits.max_connections && !w.draining) {
            asio::steady_timer t{w.ioc, std::chrono::milliseconds{10}};
            co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        tcp::socket sock = co_await w.acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) {
            if (ec == asio::error::operation_aborted || !w.acceptor->is_open()) break;
            // Out of descriptors or a transient error: back off briefly instead of spinning.
            log::warn(fmt::format("accept failed: {}", ec.message()));
            asio::steady_timer t{w.ioc, std::chrono::milliseconds{50}};
            co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
        }
        if (w.draining) continue;  // the socket closes as it goes out of scope
        if (tls)
            asio::co_spawn(w.ioc,
                           connection<ssl::stream<tcp::socket>>::serve(*this, w, ssl::stream<tcp::socket>{std::move(sock), *tls}),
                           asio::detached);
        else
            asio::co_spawn(w.ioc, connection<tcp::socket>::serve(*this, w, std::move(sock)), asio::detached);
    }
}

Task<void> Server::impl::sweep_loop(worker& w) {
    while (true) {
        error_code ec;
        w.sweeper->expires_after(sweep_period);
        co_await w.sweeper->async_wait(asio::redirect_error(asio::use_awaitable, ec));
        auto now = coarse_now();
        for (conn_base* c = w.first; c != nullptr; c = c->next) {
            bool idle_on_drain = w.draining && (c->state == conn_base::phase::idle ||
                                                c->state == conn_base::phase::upgraded);
            if (c->deadline <= now || idle_on_drain) {
                c->timed_out = !idle_on_drain;
                c->deadline = clock_type::time_point::max();
                c->cancel();
            }
        }
        if (w.draining && w.connections == 0) break;
    }
}

void Server::impl::start() {
    table.freeze();
    raise_fd_limit();
    if (config.tls) {
        tls.emplace(ssl::context::tls_server);
        tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
        try {
            tls->use_certificate_chain_file(config.tls->cert_file);
            tls->use_private_key_file(config.tls->key_file, ssl::context::pem);
        } catch (const boost::system::system_error& e) {
            throw std::runtime_error{fmt::format("TLS: cannot use certificate '{}' and key '{}': {}",
                                                 config.tls->cert_file, config.tls->key_file, e.what())};
        }
    }

    unsigned n = config.threads != 0 ? config.threads : std::max(1u, std::thread::hardware_concurrency());
    error_code ec;
    auto address = asio::ip::make_address(config.host, ec);
    if (ec) throw std::system_error{ec, fmt::format("invalid host '{}'", config.host)};
    std::uint16_t port = config.port;
    for (unsigned i = 0; i < n; ++i) {
        auto w = std::make_unique<worker>();
        tcp::endpoint ep{address, port};
        w->acceptor.emplace(w->ioc);
        w->acceptor->open(ep.protocol());
        w->acceptor->set_option(tcp::acceptor::reuse_address{true});
        int one = 1;
        ::setsockopt(w->acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (i == 0 && port != 0) {
            // SO_REUSEPORT would let this server silently share the port with another one already running. A
            // probe bound without it (but with SO_REUSEADDR, so TIME_WAIT leftovers do not count) fails exactly
            // when something listens there.
            tcp::acceptor probe{w->ioc};
            probe.open(ep.protocol());
            probe.set_option(tcp::acceptor::reuse_address{true});
            probe.bind(ep, ec);
            if (ec) throw std::system_error{ec, fmt::format("cannot listen on {}:{}", config.host, port)};
            probe.close();
        }
        w->acceptor->bind(ep, ec);
        if (ec) throw std::system_error{ec, fmt::format("cannot listen on {}:{}", config.host, port)};
        w->acceptor->listen(asio::socket_base::max_listen_connections);
        port = w->acceptor->local_endpoint().port();  // later threads share the port the first one got
        w->sweeper.emplace(w->ioc);
        workers.push_back(std::move(w));
    }
    bound_port = port;

    {
        std::lock_guard lock{state_mutex};
        running = true;
        threads_alive = workers.size();
    }
    for (auto& wp : workers) {
        worker& w = *wp;
        asio::co_spawn(w.ioc, accept_loop(w), asio::detached);
        asio::co_spawn(w.ioc, sweep_loop(w), asio::detached);
        w.thread = std::thread{[this, &w] {
            // A completion handler that throws (a bug, or an allocation failure) loses its own work only: log
            // it and keep serving this thread's other connections.
            for (;;) {
                try {
                    w.ioc.run();
                    break;
                } catch (const std::exception& e) {
                    log::error(fmt::format("exception escaped to the event loop (serving on): {}", e.what()));
                } catch (...) {
                    log::error("non-standard exception escaped to the event loop (serving on)");
                }
            }
            std::lock_guard lock{state_mutex};
            if (--threads_alive == 0) {
                running = false;
                state_cv.notify_all();
            }
        }};
    }
}

void Server::impl::request_stop() {
    {
        std::lock_guard lock{state_mutex};
        if (stop_requested) return;
        stop_requested = true;
    }
    for (auto& wp : workers) {
        worker& w = *wp;
        asio::post(w.ioc, [&w] {
            w.draining = true;
            error_code ec;
            if (w.acceptor) w.acceptor->close(ec);
            // Idle connections close now rather than at the next sweep.
            for (conn_base* c = w.first; c != nullptr; c = c->next)
                if (c->state == conn_base::phase::idle || c->state == conn_base::phase::upgraded) c->cancel();
            if (w.connections == 0 && w.sweeper) w.sweeper->cancel();
        });
    }
}

Server::Server(Router& router, server_config config) : impl_{std::make_unique<impl>(router, std::move(config))} {}

Server::~Server() {
    try {
        stop();
    } catch (...) {
    }
}

void Server::start() { impl_->start(); }

std::uint16_t Server::port() const noexcept { return impl_->bound_port; }

std::size_t Server::connection_count() const noexcept {
    std::size_t n = 0;
    for (const auto& w : impl_->workers) n += w->connections;  // a snapshot; racy by nature
    return n;
}

void Server::stop() {
    if (impl_->workers.empty()) return;
    impl_->request_stop();
    {
        std::unique_lock lock{impl_->state_mutex};
        if (!impl_->state_cv.wait_for(lock, impl_->config.timeouts.drain, [&] { return !impl_->running; })) {
            log::warn("graceful shutdown: drain deadline passed; closing the remaining connections");
            for (auto& w : impl_->workers) w->ioc.stop();
        }
    }
    for (auto& w : impl_->workers)
        if (w->thread.joinable()) w->thread.join();
    impl_->workers.clear();
}

void Server::wait() {
    std::unique_lock lock{impl_->state_mutex};
    impl_->state_cv.wait(lock, [&] { return !impl_->running; });
}

void Server::run() {
    asio::io_context signals_ctx{1};
    asio::signal_set signals{signals_ctx, SIGINT, SIGTERM};
    start();
    log::info(fmt::format("listening on {}://{}:{} with {} thread{}", impl_->tls ? "https" : "http",
                          impl_->config.host, port(), impl_->workers.size(), impl_->workers.size() == 1 ? "" : "s"));
    signals.async_wait([&](const error_code& ec, int signo) {
        if (!ec) log::info(fmt::format("received signal {}; shutting down gracefully", signo));
    });
    std::thread watcher{[&] { signals_ctx.run(); }};
    watcher.join();
    stop();
    log::info("server stopped");
}

}  // namespace zephyr::http
