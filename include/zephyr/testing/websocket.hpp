// zephyr/testing/websocket.hpp — a blocking WebSocket client for tests.
//
// testing::Server::websocket() connects to the real server; testing::Client::websocket() starts the real
// server on a free loopback port for as long as the WebSocketClient lives (a WebSocket needs a socket), and
// sends the client's cookies with the handshake. Every call blocks until done or the timeout passes.
//
//     zephyr::testing::Server server{app};
//     auto ws = server.websocket("/echo/lobby");
//     ws.send_text("hi");
//     EXPECT_EQ(ws.read_text(), "hi");
//     ws.close();
#pragma once

#include <zephyr/http/websocket.hpp>
#include <zephyr/testing.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zephyr::testing {

/// How a WebSocketClient connects.
struct websocket_client_options {
    /// Extra handshake request headers (Cookie, Authorization, Origin, ...).
    std::vector<std::pair<std::string, std::string>> headers{};
    /// Limit for the handshake and for each read, ping and close.
    std::chrono::milliseconds timeout{5000};
    /// Connect with TLS (the server's certificate is not verified).
    bool tls = false;
    /// Offer per-message deflate compression.
    bool permessage_deflate = false;
    /// A larger message from the server fails the read.
    std::size_t max_message_size = 64 * 1024 * 1024;
};

/// Thrown when the server answers the handshake with something other than 101; response() is that answer.
class websocket_rejected : public std::runtime_error {
public:
    explicit websocket_rejected(TestResponse r);
    const TestResponse& response() const noexcept { return response_; }

private:
    TestResponse response_;
};

/// Frame opcodes for websocket_frame().
namespace ws_opcode {
inline constexpr std::uint8_t continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA;
}

/// The bytes of one WebSocket frame as a client sends it (masked unless `mask` is false), for wire-level tests
/// that write frames by hand.
std::string websocket_frame(std::uint8_t opcode, std::string_view payload, bool fin = true, bool mask = true);

/// A blocking WebSocket client session (see the file comment). Move-only. The destructor closes the session
/// with 1000 when it is still open.
class WebSocketClient {
public:
    /// Connects to 127.0.0.1:`port` and performs the handshake for `target`. Throws websocket_rejected when the
    /// server refuses the upgrade, std::runtime_error for other failures.
    WebSocketClient(std::uint16_t port, std::string_view target, websocket_client_options o = {});
    ~WebSocketClient();
    WebSocketClient(WebSocketClient&&) noexcept;
    WebSocketClient& operator=(WebSocketClient&&) noexcept;

    /// The server's 101 response.
    const TestResponse& handshake() const noexcept;

    /// Sends one text message. Throws std::runtime_error when the connection is closed.
    void send_text(std::string_view text);
    /// Sends one binary message.
    void send_binary(std::string_view data);
    /// Sends one message split into frames of at most `frame_size` bytes.
    void send_fragmented(std::string_view data, std::size_t frame_size, bool binary = false);

    /// The next message, or nothing once the server has closed the session (see close_code()). Throws
    /// std::runtime_error when nothing arrives within the timeout.
    std::optional<http::websocket_message> read();
    std::optional<http::websocket_message> read(std::chrono::milliseconds timeout);
    /// The next message, which must be a text message. Throws std::runtime_error otherwise.
    std::string read_text();

    /// Sends a ping and waits for the pong; returns the pong's payload. Messages arriving meanwhile are kept
    /// for read().
    std::string ping(std::string_view payload = {});
    /// The payloads of the pings the server sent (answered automatically), seen by reads so far.
    const std::vector<std::string>& pings_received() const noexcept;

    /// The closing handshake: sends a close frame and waits for the server's. Does nothing when closed.
    void close(std::uint16_t code = http::close_code::normal, std::string_view reason = {});
    /// The code of the server's close frame, once one arrived (1005 when it had none).
    std::optional<std::uint16_t> close_code() const noexcept;
    /// The reason of the server's close frame.
    const std::string& close_reason() const noexcept;
    /// True until a close frame was received or the connection dropped.
    bool is_open() const noexcept;

    /// Writes bytes straight to the connection (for frames built with websocket_frame()).
    void write_raw(std::string_view bytes);
    /// Drops the connection without a closing handshake, as a crashed client would.
    void drop();

    struct impl;

private:
    friend class Client;
    std::unique_ptr<http::Server> server_;  // the server started by Client::websocket(), if any
    std::unique_ptr<impl> impl_;
};

}  // namespace zephyr::testing
