// WebSocket sessions fed arbitrary bytes as client frames: the server-side session (the one the server runs
// after an upgrade) on an in-memory stream, with a small message limit, an echo handler and, when the first
// byte says so, per-message deflate. Part of the input arrives with the handshake (as bytes the server read
// together with the request), the rest from the stream. Whatever the bytes, the session must end without a
// crash, with a close code of 1000 or above.
#include "fuzz_check.hpp"

#include <zephyr/core/log.hpp>
#include <zephyr/http/websocket.hpp>

#include "http/parser.hpp"
#include "http/websocket_session.hpp"
#include "http/websocket_session_impl.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace {

using namespace zephyr::http;

constexpr std::string_view plain_head =
    "GET /ws HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
constexpr std::string_view deflate_head =
    "GET /ws HTTP/1.1\r\nHost: fuzz\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

struct outcome {
    std::optional<std::uint16_t> code;
    std::size_t messages = 0;
};

std::shared_ptr<endpoint> make(bool deflate, outcome& out) {
    return make_websocket_endpoint(
        [&out](WebSocket& ws) -> zephyr::Task<void> {
            while (auto m = co_await ws.read()) {
                FUZZ_CHECK(m->data.size() <= 4096);
                ++out.messages;
                if (m->is_binary())
                    co_await ws.send_binary(m->data);
                else
                    co_await ws.send_text(m->text());
            }
            out.code = ws.close_code();
        },
        {.max_message_size = 4096,
         .idle_timeout = std::chrono::milliseconds{0},
         .close_timeout = std::chrono::milliseconds{0},
         .permessage_deflate = deflate});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool quiet = [] {
        zephyr::log::set_level(zephyr::log::level::off);
        return true;
    }();
    (void)quiet;
    if (size < 2) return 0;
    std::string_view in{reinterpret_cast<const char*>(data), size};
    const bool deflate = (in[0] & 1) != 0;
    const std::size_t split = std::min<std::size_t>(static_cast<unsigned char>(in[1]), in.size() - 2);
    in.remove_prefix(2);

    std::string_view head = deflate ? deflate_head : plain_head;
    Request req;
    detail::request_head h;
    detail::parse_error err;
    std::size_t scan = 0;
    FUZZ_CHECK(detail::parse_request_head(head, {}, h, req.mutable_headers(), err, scan) ==
               detail::parse_status::complete);
    req.set_method(h.method, h.method_name);
    req.set_target(h.target);
    req.set_version_minor(h.version_minor);

    outcome out;
    auto ep = make(deflate, out);
    Response res = ep->call_sync(req);
    FUZZ_CHECK(res.status() == status::switching_protocols && res.upgrade() != nullptr);

    boost::asio::io_context ioc;
    boost::beast::test::stream server{ioc};
    boost::beast::test::stream client{ioc};
    server.connect(client);
    server.append(in.substr(split));  // arrives from the socket after the bytes read with the request
    server.close_remote();            // then the client has nothing more to say

    detail::websocket_control control;
    bool finished = false;
    boost::asio::co_spawn(ioc,
                          detail::run_websocket_session(server, in.substr(0, split), req, res, "fuzz", control),
                          [&](std::exception_ptr e) {
                              FUZZ_CHECK(!e);
                              finished = true;
                          });
    ioc.run();
    FUZZ_CHECK(finished);
    // The handshake response went out first, whatever followed.
    FUZZ_CHECK(client.str().starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    // Codes below 1000 are never valid; a client may close with one above 4999, which is reported as received.
    if (out.code) FUZZ_CHECK(*out.code >= 1000);
    return 0;
}
