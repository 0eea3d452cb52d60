// The blocking test client: Beast's WebSocket client over asynchronous operations, each driven by this
// client's own io_context until it completes or the timeout passes.
#include <zephyr/testing/websocket.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <fmt/format.h>

#include <deque>
#include <random>

namespace zephyr::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bws = boost::beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

websocket_rejected::websocket_rejected(TestResponse r)
    : std::runtime_error{fmt::format("the server refused the WebSocket handshake with {}: {:.200}", r.status(), r.text())},
      response_{std::move(r)} {}

std::string websocket_frame(std::uint8_t opcode, std::string_view payload, bool fin, bool mask) {
    std::string f;
    f += static_cast<char>((fin ? 0x80 : 0x00) | (opcode & 0x0F));
    const std::uint8_t m = mask ? 0x80 : 0x00;
    const std::size_t n = payload.size();
    if (n < 126) {
        f += static_cast<char>(m | n);
    } else if (n <= 0xFFFF) {
        f += static_cast<char>(m | 126);
        f += static_cast<char>(n >> 8);
        f += static_cast<char>(n & 0xFF);
    } else {
        f += static_cast<char>(m | 127);
        for (int shift = 56; shift >= 0; shift -= 8) f += static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF);
    }
    if (!mask) return f += payload;
    static thread_local std::mt19937 rng{std::random_device{}()};
    std::uint32_t key = rng();
    char k[4] = {static_cast<char>(key >> 24), static_cast<char>(key >> 16), static_cast<char>(key >> 8),
                 static_cast<char>(key)};
    f.append(k, 4);
    for (std::size_t i = 0; i < n; ++i) f += static_cast<char>(payload[i] ^ k[i % 4]);
    return f;
}

struct WebSocketClient::impl {
    virtual ~impl() = default;
    TestResponse handshake;
    std::chrono::milliseconds timeout{5000};
    std::vector<std::string> pings;

    virtual void send(std::string_view data, bool binary) = 0;
    virtual void send_fragmented(std::string_view data, std::size_t frame_size, bool binary) = 0;
    virtual std::optional<http::websocket_message> read(std::chrono::milliseconds timeout) = 0;
    virtual std::string ping(std::string_view payload) = 0;
    virtual void close(std::uint16_t code, std::string_view reason) = 0;
    virtual std::optional<std::uint16_t> close_code() const noexcept = 0;
    virtual const std::string& close_reason() const noexcept = 0;
    virtual bool is_open() const noexcept = 0;
    virtual void write_raw(std::string_view bytes) = 0;
    virtual void drop() noexcept = 0;
};

namespace {

template <class Next>
class client_impl final : public WebSocketClient::impl {
public:
    client_impl(std::shared_ptr<asio::io_context> ioc, std::shared_ptr<asio::ssl::context> tls)
        : ioc_{std::move(ioc)}, tls_{std::move(tls)}, ws_{make_stream(*ioc_, tls_.get())} {}

    void start(std::uint16_t port, std::string_view target, const websocket_client_options& o) {
        timeout = o.timeout;
        auto& sock = beast::get_lowest_layer(ws_);
        sock.connect({asio::ip::make_address("127.0.0.1"), port});
        sock.set_option(tcp::no_delay{true});
        if constexpr (!std::is_same_v<Next, tcp::socket>) ws_.next_layer().handshake(asio::ssl::stream_base::client);

        bws::stream_base::timeout t{};
        t.handshake_timeout = o.timeout;
        t.idle_timeout = bws::stream_base::none();
        t.keep_alive_pings = false;
        ws_.set_option(t);
        ws_.read_message_max(o.max_message_size);
        ws_.auto_fragment(false);
        if (o.permessage_deflate) {
            bws::permessage_deflate pmd;
            pmd.client_enable = true;
            ws_.set_option(pmd);
        }
        ws_.set_option(bws::stream_base::decorator([headers = o.headers](bws::request_type& r) {
            for (const auto& [k, v] : headers) r.set(k, v);
        }));
        ws_.control_callback([this](bws::frame_type kind, beast::string_view payload) {
            if (kind == bws::frame_type::ping) pings.emplace_back(payload);
            if (kind == bws::frame_type::pong) {
                ++pongs_;
                last_pong_ = std::string{payload};
            }
        });

        bws::response_type res;
        bool done = false;
        error_code ec;
        ws_.async_handshake(res, fmt::format("127.0.0.1:{}", port), target, [&](error_code e) {
            ec = e;
            done = true;
        });
        run_until([&] { return done; }, o.timeout, "the handshake response");
        http::headers hs;
        for (const auto& f : res) hs.add(std::string{f.name_string()}, std::string{f.value()});
        handshake = TestResponse{static_cast<int>(res.result_int()), std::move(hs), res.body()};
        if (ec == bws::error::upgrade_declined || (!ec && res.result_int() != 101)) throw websocket_rejected{handshake};
        if (ec) throw std::runtime_error{fmt::format("WebSocket handshake failed: {}", ec.message())};
    }

    void send(std::string_view data, bool binary) override {
        ws_.binary(binary);
        bool done = false;
        error_code ec;
        ws_.async_write(asio::buffer(data.data(), data.size()), [&](error_code e, std::size_t) {
            ec = e;
            done = true;
        });
        run_until([&] { return done; }, timeout, "a message to be sent");
        if (ec) throw std::runtime_error{fmt::format("WebSocket send failed: {}", ec.message())};
    }

    void send_fragmented(std::string_view data, std::size_t frame_size, bool binary) override {
        if (frame_size == 0) throw std::invalid_argument{"send_fragmented: frame_size must be positive"};
        ws_.binary(binary);
        std::size_t pos = 0;
        do {
            std::size_t n = std::min(frame_size, data.size() - pos);
            bool fin = pos + n == data.size();
            bool done = false;
            error_code ec;
            ws_.async_write_some(fin, asio::buffer(data.data() + pos, n), [&](error_code e, std::size_t) {
                ec = e;
                done = true;
            });
            run_until([&] { return done; }, timeout, "a frame to be sent");
            if (ec) throw std::runtime_error{fmt::format("WebSocket send failed: {}", ec.message())};
            pos += n;
        } while (pos < data.size());
    }

    std::optional<http::websocket_message> read(std::chrono::milliseconds wait) override {
        if (inbox_.empty() && !ended_) {
            if (!reading_) start_read();
            run_until([&] { return !inbox_.empty() || ended_; }, wait, "a message");
        }
        if (inbox_.empty()) return std::nullopt;
        auto m = std::move(inbox_.front());
        inbox_.pop_front();
        return m;
    }

    std::string ping(std::string_view payload) override {
        bws::ping_data data;
        data.assign(payload.data(), payload.size());
        bool done = false;
        error_code ec;
        int before = pongs_;
        ws_.async_ping(data, [&](error_code e) {
            ec = e;
            done = true;
        });
        run_until([&] { return done; }, timeout, "a ping to be sent");
        if (ec) throw std::runtime_error{fmt::format("WebSocket ping failed: {}", ec.message())};
        if (!reading_ && !ended_) start_read();
        run_until([&] { return pongs_ > before || ended_; }, timeout, "a pong");
        if (pongs_ == before) throw std::runtime_error{"the connection closed before the pong arrived"};
        return last_pong_;
    }

    void close(std::uint16_t code, std::string_view reason) override {
        if (ended_ || closed_by_us_) return;
        closed_by_us_ = true;
        bws::close_reason cr;
        cr.code = code;
        cr.reason.assign(reason.data(), reason.size());
        bool done = false;
        ws_.async_close(cr, [&](error_code) { done = true; });
        run_until([&] { return done && !reading_; }, timeout, "the server's close frame");
        ended_ = true;
    }

    std::optional<std::uint16_t> close_code() const noexcept override {
        if (ws_.reason().code != bws::close_code::none) return static_cast<std::uint16_t>(ws_.reason().code);
        if (got_close_) return http::close_code::no_status;
        return std::nullopt;
    }
    const std::string& close_reason() const noexcept override {
        reason_.assign(ws_.reason().reason.data(), ws_.reason().reason.size());
        return reason_;
    }
    bool is_open() const noexcept override { return !ended_ && ws_.is_open(); }

    void write_raw(std::string_view bytes) override {
        asio::write(ws_.next_layer(), asio::buffer(bytes.data(), bytes.size()));
    }

    void drop() noexcept override {
        error_code ec;
        beast::get_lowest_layer(ws_).close(ec);
        ended_ = true;
        // Let the aborted operations finish before the stream goes away.
        ioc_drain();
    }

    ~client_impl() override {
        if (is_open()) {
            try {
                timeout = std::chrono::milliseconds{1000};
                close(http::close_code::normal, {});
            } catch (...) {
            }
        }
        error_code ec;
        beast::get_lowest_layer(ws_).close(ec);
        ioc_drain();
    }

private:
    static bws::stream<Next> make_stream(asio::io_context& ioc, asio::ssl::context* tls) {
        if constexpr (std::is_same_v<Next, tcp::socket>)
            return bws::stream<Next>{ioc};
        else
            return bws::stream<Next>{ioc, *tls};
    }

    void start_read() {
        reading_ = true;
        ws_.async_read(buf_, [this](error_code ec, std::size_t) {
            reading_ = false;
            if (ec) {
                ended_ = true;
                got_close_ = ec == bws::error::closed;
                return;
            }
            inbox_.push_back({beast::buffers_to_string(buf_.data()), ws_.got_binary()});
            buf_.consume(buf_.size());
        });
    }

    // Runs the io_context until `done()` or the timeout; a timeout drops the connection.
    template <class Pred>
    void run_until(Pred done, std::chrono::milliseconds wait, std::string_view what) {
        auto deadline = std::chrono::steady_clock::now() + wait;
        while (!done()) {
            if (ioc_->stopped()) ioc_->restart();
            if (ioc_->run_one_until(deadline) == 0) {
                if (done()) break;
                if (std::chrono::steady_clock::now() >= deadline) {
                    throw std::runtime_error{fmt::format("timed out after {} ms waiting for {}", wait.count(), what)};
                }
                throw std::logic_error{fmt::format("nothing pending while waiting for {}", what)};
            }
        }
    }

    // Runs the handlers of operations aborted by closing the socket, so none is left referring to this client.
    void ioc_drain() noexcept {
        try {
            ioc_->restart();
            ioc_->poll();
        } catch (...) {
        }
    }

    std::shared_ptr<asio::io_context> ioc_;
    std::shared_ptr<asio::ssl::context> tls_;
    bws::stream<Next> ws_;
    beast::flat_buffer buf_;
    std::deque<http::websocket_message> inbox_;
    bool reading_ = false;
    bool ended_ = false;
    bool got_close_ = false;
    bool closed_by_us_ = false;
    int pongs_ = 0;
    std::string last_pong_;
    mutable std::string reason_;
};

}  // namespace

WebSocketClient::WebSocketClient(std::uint16_t port, std::string_view target, websocket_client_options o) {
    auto ioc = std::make_shared<asio::io_context>(1);
    if (o.tls) {
        auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
        ctx->set_verify_mode(asio::ssl::verify_none);  // test servers use throwaway certificates
        auto c = std::make_unique<client_impl<asio::ssl::stream<tcp::socket>>>(ioc, ctx);
        c->start(port, target, o);
        impl_ = std::move(c);
    } else {
        auto c = std::make_unique<client_impl<tcp::socket>>(ioc, nullptr);
        c->start(port, target, o);
        impl_ = std::move(c);
    }
}

WebSocketClient::~WebSocketClient() = default;
WebSocketClient::WebSocketClient(WebSocketClient&&) noexcept = default;
WebSocketClient& WebSocketClient::operator=(WebSocketClient&&) noexcept = default;

const TestResponse& WebSocketClient::handshake() const noexcept { return impl_->handshake; }
void WebSocketClient::send_text(std::string_view text) { impl_->send(text, false); }
void WebSocketClient::send_binary(std::string_view data) { impl_->send(data, true); }
void WebSocketClient::send_fragmented(std::string_view data, std::size_t frame_size, bool binary) {
    impl_->send_fragmented(data, frame_size, binary);
}
std::optional<http::websocket_message> WebSocketClient::read() { return impl_->read(impl_->timeout); }
std::optional<http::websocket_message> WebSocketClient::read(std::chrono::milliseconds timeout) {
    return impl_->read(timeout);
}
std::string WebSocketClient::read_text() {
    auto m = read();
    if (!m) throw std::runtime_error{fmt::format("the server closed the session (code {})", close_code().value_or(0))};
    if (m->binary) throw std::runtime_error{"expected a text message, got a binary one"};
    return std::move(m->data);
}
std::string WebSocketClient::ping(std::string_view payload) { return impl_->ping(payload); }
const std::vector<std::string>& WebSocketClient::pings_received() const noexcept { return impl_->pings; }
void WebSocketClient::close(std::uint16_t code, std::string_view reason) { impl_->close(code, reason); }
std::optional<std::uint16_t> WebSocketClient::close_code() const noexcept { return impl_->close_code(); }
const std::string& WebSocketClient::close_reason() const noexcept { return impl_->close_reason(); }
bool WebSocketClient::is_open() const noexcept { return impl_ && impl_->is_open(); }
void WebSocketClient::write_raw(std::string_view bytes) { impl_->write_raw(bytes); }
void WebSocketClient::drop() { impl_->drop(); }

WebSocketClient Server::websocket(std::string_view target) const { return websocket(target, {}); }
WebSocketClient Server::websocket(std::string_view target, websocket_client_options o) const {
    return WebSocketClient{port(), target, std::move(o)};
}

WebSocketClient Client::websocket(std::string_view target) { return websocket(target, {}); }
WebSocketClient Client::websocket(std::string_view target, websocket_client_options o) {
    send_cookies(o.headers);
    // A WebSocket needs a connection: serve the app on a free loopback port for the session's lifetime.
    auto config = Server::test_config();
    config.limits = limits_;
    auto server = std::make_unique<http::Server>(app_, config);
    server->start();
    WebSocketClient ws{server->port(), target, std::move(o)};
    ws.server_ = std::move(server);
    remember_cookies(ws.handshake());
    return ws;
}

}  // namespace zephyr::testing
