// WebSocket routes: the handshake check, the thread-safe sender and the session runner for the server's two
// stream types.
#include <zephyr/http/websocket.hpp>

#include "http/websocket_session.hpp"
#include "http/websocket_session_impl.hpp"

#include <boost/asio/ssl/stream.hpp>


namespace zephyr::http {

namespace detail {

namespace {

bool is_base64(std::string_view s) noexcept {
    for (char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
              c == '='))
            return false;
    return true;
}

[[noreturn]] void bad_handshake(std::string detail, bool version_header = false) {
    HttpError e{status::bad_request, std::move(detail)};
    if (version_header) e.headers().add("Sec-WebSocket-Version", "13");
    throw e;
}

}  // namespace

void check_websocket_handshake(const Request& req) {
    auto upgrade = req.header("Upgrade");
    if (!upgrade || !has_token(*upgrade, "websocket")) {
        HttpError e{status::upgrade_required, "this resource is a WebSocket endpoint: send a WebSocket handshake"};
        e.headers().add("Upgrade", "websocket");
        throw e;
    }
    if (req.method() != method::get) bad_handshake("a WebSocket handshake must use GET");
    if (req.version_minor() < 1) bad_handshake("a WebSocket handshake needs HTTP/1.1");
    if (!req.header("Host")) bad_handshake("a WebSocket handshake needs a Host header");
    auto connection = req.header("Connection");
    bool upgrade_token = false;
    for (const auto& [name, value] : req.headers())
        if (iequals(name, "connection") && has_token(value, "upgrade")) upgrade_token = true;
    if (!connection || !upgrade_token) bad_handshake("a WebSocket handshake needs 'Connection: Upgrade'");
    auto version = req.header("Sec-WebSocket-Version");
    if (!version) bad_handshake("a WebSocket handshake needs 'Sec-WebSocket-Version: 13'", true);
    if (*version != "13") bad_handshake("unsupported WebSocket version; this server speaks version 13", true);
    auto keys = req.headers().get_all("Sec-WebSocket-Key");
    if (keys.empty()) bad_handshake("a WebSocket handshake needs a Sec-WebSocket-Key header");
    // 16 random bytes in base64: 24 characters ending in "==".
    if (keys.size() > 1 || keys[0].size() != 24 || !keys[0].ends_with("==") || !is_base64(keys[0].substr(0, 22)))
        bad_handshake("Sec-WebSocket-Key must be 16 bytes in base64");
}

Task<void> serve_websocket(boost::asio::ip::tcp::socket& stream, std::string_view leftover, const Request& req,
                           const Response& res, std::string_view server_name, websocket_control& control) {
    return run_websocket_session(stream, leftover, req, res, server_name, control);
}

Task<void> serve_websocket(boost::asio::ssl::stream<boost::asio::ip::tcp::socket>& stream,
                           std::string_view leftover, const Request& req, const Response& res,
                           std::string_view server_name, websocket_control& control) {
    return run_websocket_session(stream, leftover, req, res, server_name, control);
}

}  // namespace detail

bool websocket_sender::enqueue(std::string data, bool binary) const {
    if (!box_) return false;
    std::lock_guard lock{box_->mutex};
    if (!box_->open) return false;
    if (box_->bytes + data.size() > box_->max_bytes) {
        // The client does not keep up: drop what waits and close the session.
        box_->open = false;
        box_->queue.clear();
        box_->bytes = 0;
        box_->close_now = close_code::policy_violation;
        if (box_->wake) box_->wake();
        return false;
    }
    box_->bytes += data.size();
    box_->queue.push_back({std::move(data), binary, false, 0});
    if (!box_->scheduled && box_->wake) {
        box_->scheduled = true;
        box_->wake();
    }
    return true;
}

bool websocket_sender::send_text(std::string text) const { return enqueue(std::move(text), false); }

bool websocket_sender::send_binary(std::string data) const { return enqueue(std::move(data), true); }

bool websocket_sender::close(std::uint16_t code, std::string reason) const {
    if (!detail::sendable_close_code(code))
        throw std::invalid_argument{"websocket_sender::close: " + std::to_string(code) +
                                    " is not a close code an endpoint may send"};
    if (reason.size() > 123) throw std::invalid_argument{"websocket_sender::close: the reason must be at most 123 bytes"};
    if (!box_) return false;
    std::lock_guard lock{box_->mutex};
    if (!box_->open) return false;
    box_->open = false;  // nothing may follow the close
    box_->queue.push_back({std::move(reason), false, true, code});
    if (!box_->scheduled && box_->wake) {
        box_->scheduled = true;
        box_->wake();
    }
    return true;
}

bool websocket_sender::is_open() const noexcept {
    if (!box_) return false;
    std::lock_guard lock{box_->mutex};
    return box_->open;
}

}  // namespace zephyr::http
