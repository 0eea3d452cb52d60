// WebSocket sessions over real sockets: messages, control frames, close codes, limits, hostile clients,
// layers and extractors on the upgrade request, many sessions, shutdown and TLS.
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include "support/problem.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace std::chrono_literals;
using zephyr::App;
using zephyr::Next;
using zephyr::Path;
using zephyr::Query;
using zephyr::Request;
using zephyr::Response;
using zephyr::Task;
using zephyr::http::WebSocket;
using zephyr::http::websocket_options;
using zephyr::testing::Server;
using zephyr::testing::WebSocketClient;
using zephyr::testing::websocket_frame;
namespace close_code = zephyr::http::close_code;
namespace ws_opcode = zephyr::testing::ws_opcode;

namespace {

Task<void> sleep_for(std::chrono::milliseconds d) {
    boost::asio::steady_timer t{co_await boost::asio::this_coro::executor, d};
    co_await t.async_wait(boost::asio::use_awaitable);
}

// [echo]
Task<void> echo(WebSocket& ws) {
    while (auto msg = co_await ws.read()) {
        if (msg->is_binary())
            co_await ws.send_binary(msg->data);
        else
            co_await ws.send_text(msg->text());
    }
}
// [echo]

// Waits until `pred` holds (checked every few milliseconds) or the time is up.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5s) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

std::string handshake_head(std::string_view target, std::string_view extra = {}) {
    return "GET " + std::string{target} +
           " HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
           std::string{extra} + "\r\n";
}

// What a session saw when it ended, for the test thread to check.
struct ended_session {
    std::mutex m;
    std::optional<std::uint16_t> code;
    std::string reason;
    bool done = false;
    void record(WebSocket& ws) {
        std::lock_guard lock{m};
        code = ws.close_code();
        reason = ws.close_reason();
        done = true;
    }
    bool is_done() {
        std::lock_guard lock{m};
        return done;
    }
};

}  // namespace

// [testing]
TEST(websocket, echoes_text_and_binary_messages) {
    App app;
    app.websocket("/echo", echo);
    Server server{app};
    auto ws = server.websocket("/echo");
    EXPECT_EQ(ws.handshake().status(), 101);
    EXPECT_EQ(ws.handshake().header("Server"), "Zephyr");
    EXPECT_TRUE(ws.handshake().has_header("Date"));

    ws.send_text("hello");
    auto m = ws.read();
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->is_text());
    EXPECT_EQ(m->text(), "hello");

    std::string bytes{"\x00\x01\xff\xfe", 4};
    ws.send_binary(bytes);
    m = ws.read();
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->is_binary());
    EXPECT_EQ(m->data, bytes);

    ws.send_text("");
    EXPECT_EQ(ws.read_text(), "");
    ws.close();
    EXPECT_EQ(ws.close_code(), close_code::normal);
}
// [testing]

TEST(websocket, large_and_fragmented_messages_arrive_whole) {
    App app;
    app.websocket("/echo", echo);
    Server server{app};
    auto ws = server.websocket("/echo");

    std::string big(512 * 1024, 'x');
    for (std::size_t i = 0; i < big.size(); i += 97) big[i] = static_cast<char>('a' + i % 26);
    ws.send_text(big);
    EXPECT_EQ(ws.read_text(), big);

    ws.send_fragmented(big, 10'000);
    EXPECT_EQ(ws.read_text(), big);

    std::string bin(7'000, '\0');
    for (std::size_t i = 0; i < bin.size(); ++i) bin[i] = static_cast<char>(i * 7);
    ws.send_fragmented(bin, 3, true);
    auto m = ws.read();
    ASSERT_TRUE(m);
    EXPECT_TRUE(m->is_binary());
    EXPECT_EQ(m->data, bin);
}

TEST(websocket, the_server_fragments_large_messages_when_asked) {
    App app;
    app.websocket("/big", [](WebSocket& ws) -> Task<void> {
        co_await ws.send_text(std::string(300'000, 'f'));
        co_await ws.read();
    }, {}, {.auto_fragment = true});
    Server server{app};
    auto ws = server.websocket("/big");
    EXPECT_EQ(ws.read_text(), std::string(300'000, 'f'));
}

TEST(websocket, ping_and_pong_both_ways) {
    App app;
    app.websocket("/ping", [](WebSocket& ws) -> Task<void> {
        co_await ws.ping("from server");
        co_await ws.send_text("pinged");
        co_await echo(ws);
    });
    Server server{app};
    auto ws = server.websocket("/ping");
    EXPECT_EQ(ws.read_text(), "pinged");
    ASSERT_EQ(ws.pings_received().size(), 1u);
    EXPECT_EQ(ws.pings_received()[0], "from server");

    EXPECT_EQ(ws.ping("are you there"), "are you there");
    ws.send_text("still echoing");
    EXPECT_EQ(ws.read_text(), "still echoing");
}

TEST(websocket, the_client_close_code_and_reason_reach_the_handler) {
    App app;
    auto seen = std::make_shared<ended_session>();
    app.websocket("/s", [seen](WebSocket& ws) -> Task<void> {
        while (co_await ws.read()) {
        }
        EXPECT_FALSE(ws.is_open());
        seen->record(ws);
    });
    Server server{app};
    auto ws = server.websocket("/s");
    ws.close(4001, "see you");
    ASSERT_TRUE(eventually([&] { return seen->is_done(); }));
    EXPECT_EQ(seen->code, 4001);
    EXPECT_EQ(seen->reason, "see you");
    EXPECT_EQ(ws.close_code(), 4001);  // the server echoes the code back
}

TEST(websocket, the_server_close_code_reaches_the_client) {
    App app;
    app.websocket("/kick", [](WebSocket& ws) -> Task<void> {
        auto msg = co_await ws.read();
        if (msg && msg->text() == "bad") co_await ws.close(close_code::policy_violation, "not allowed");
    });
    app.websocket("/done", [](WebSocket& ws) -> Task<void> { co_await ws.send_text("bye"); });
    Server server{app};

    auto ws = server.websocket("/kick");
    ws.send_text("bad");
    EXPECT_FALSE(ws.read());
    EXPECT_EQ(ws.close_code(), close_code::policy_violation);
    EXPECT_EQ(ws.close_reason(), "not allowed");
    EXPECT_FALSE(ws.is_open());

    auto done = server.websocket("/done");  // a handler that returns closes with 1000
    EXPECT_EQ(done.read_text(), "bye");
    EXPECT_FALSE(done.read());
    EXPECT_EQ(done.close_code(), close_code::normal);
}

TEST(websocket, a_message_over_the_limit_closes_with_1009_and_others_are_served) {
    App app;
    auto seen = std::make_shared<ended_session>();
    // [options]
    app.websocket("/small", [seen](WebSocket& ws) -> Task<void> {
        co_await echo(ws);
        seen->record(ws);
    }, {}, {.max_message_size = 1024});
    // [options]
    Server server{app};

    auto ws = server.websocket("/small");
    ws.send_text(std::string(1024, 'a'));  // exactly the limit is fine
    EXPECT_EQ(ws.read_text().size(), 1024u);
    ws.send_fragmented(std::string(2000, 'b'), 500);
    EXPECT_FALSE(ws.read());
    EXPECT_EQ(ws.close_code(), close_code::too_big);
    ASSERT_TRUE(eventually([&] { return seen->is_done(); }));
    EXPECT_EQ(seen->code, close_code::too_big);

    auto other = server.websocket("/small");
    other.send_text("fine");
    EXPECT_EQ(other.read_text(), "fine");
}

TEST(websocket, a_handler_that_throws_closes_with_1011) {
    App app;
    app.websocket("/boom", [](WebSocket& ws) -> Task<void> {
        co_await ws.read();
        throw std::runtime_error{"handler bug"};
    });
    Server server{app};
    auto ws = server.websocket("/boom");
    ws.send_text("go");
    EXPECT_FALSE(ws.read());
    EXPECT_EQ(ws.close_code(), close_code::internal_error);
    EXPECT_EQ(ws.close_reason(), "internal error");  // the exception's text stays in the log
}

TEST(websocket, a_plain_get_is_answered_with_426) {
    App app;
    app.websocket("/echo", echo);
    Server server{app};
    auto res = server.get("/echo");
    zephyr::test_support::expect_problem(res, 426);
    EXPECT_EQ(res.header("Upgrade"), "websocket");

    zephyr::testing::Client client{app};  // the in-process client sees the same answer
    EXPECT_EQ(client.get("/echo").status(), 426);
    EXPECT_EQ(server.post("/echo", "x").status(), 405);
}

TEST(websocket, a_malformed_handshake_is_answered_with_400) {
    App app;
    app.websocket("/echo", echo);
    Server server{app};
    struct bad_case {
        std::string head;
        std::string detail_part;
    };
    std::vector<bad_case> cases{
        {handshake_head("/echo", "Sec-WebSocket-Version: 8\r\n"), "version"},
        {handshake_head("/echo"), "Sec-WebSocket-Version"},
        {"GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n",
         "Sec-WebSocket-Key"},
        {"GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n\r\n",
         "Sec-WebSocket-Key"},
        {"GET /echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
         "Connection: Upgrade"},
        {"GET /echo HTTP/1.0\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
         "HTTP/1.1"},
    };
    for (const auto& c : cases) {
        auto conn = server.connect();
        conn.write(c.head);
        auto res = conn.read_response();
        zephyr::test_support::expect_problem(res, 400);
        EXPECT_NE(res.text().find(c.detail_part), std::string::npos) << c.head << "\n" << res.text();
        if (c.detail_part == "version" || c.detail_part == "Sec-WebSocket-Version") {
            EXPECT_EQ(res.header("Sec-WebSocket-Version"), "13");
        }
    }
    // The server is still fine.
    auto ws = server.websocket("/echo");
    ws.send_text("ok");
    EXPECT_EQ(ws.read_text(), "ok");
}

TEST(websocket, layers_see_the_upgrade_request_and_can_refuse_it) {
    App app;
    // [layers]
    app.layers([](Request& req, Next next) -> Task<Response> {
        if (req.header("Authorization") != "Bearer let-me-in")
            throw zephyr::HttpError{zephyr::status::unauthorized, "a token is required"};
        Response res = co_await next(req);  // 101 when the handshake is valid
        res.headers().set("X-Layer", "seen");
        res.set_cookie({.name = "session", .value = "abc"});
        co_return res;
    });
    app.websocket("/secure", echo);
    // [layers]
    Server server{app};

    try {
        server.websocket("/secure");
        ADD_FAILURE() << "the upgrade should be refused";
    } catch (const zephyr::testing::websocket_rejected& e) {
        EXPECT_EQ(e.response().status(), 401);
        EXPECT_EQ(e.response().json().at("detail"), "a token is required");
    }

    auto ws = server.websocket("/secure", {.headers = {{"Authorization", "Bearer let-me-in"}}});
    EXPECT_EQ(ws.handshake().status(), 101);
    EXPECT_EQ(ws.handshake().header("X-Layer"), "seen");
    EXPECT_TRUE(ws.handshake().header("Set-Cookie").starts_with("session=abc")) << ws.handshake().header("Set-Cookie");
    EXPECT_EQ(ws.handshake().header("Upgrade"), "websocket");
    ws.send_text("authorised");
    EXPECT_EQ(ws.read_text(), "authorised");
}

struct chat_query {
    std::string name;
    int volume = 1;
};
BOOST_DESCRIBE_STRUCT(chat_query, (), (name, volume))

TEST(websocket, extractors_read_the_upgrade_request) {
    App app;
    app.websocket("/rooms/{room}", [](WebSocket& ws, Path<std::string> room, Query<chat_query> q,
                                      zephyr::Header<"X-Client"> client) -> Task<void> {
        co_await ws.send_text(*room + "|" + q->name + "|" + std::to_string(q->volume) + "|" + std::string{*client});
    });
    Server server{app};
    auto ws = server.websocket("/rooms/lobby?name=ann&volume=3", {.headers = {{"X-Client", "cli"}}});
    EXPECT_EQ(ws.read_text(), "lobby|ann|3|cli");

    // A failing extractor refuses the upgrade with its usual problem response.
    try {
        server.websocket("/rooms/lobby?name=ann&volume=loud", {.headers = {{"X-Client", "cli"}}});
        ADD_FAILURE() << "the upgrade should be refused";
    } catch (const zephyr::testing::websocket_rejected& e) {
        zephyr::test_support::expect_problem(e.response(), 400);
    }
}

TEST(websocket, a_hundred_concurrent_sessions) {
    App app;
    app.websocket("/echo/{n}", [](WebSocket& ws, Path<int> n) -> Task<void> {
        while (auto msg = co_await ws.read()) co_await ws.send_text(std::to_string(*n) + ":" + std::string{msg->text()});
    });
    auto config = Server::test_config();
    config.threads = 2;
    Server server{app, config};
    std::vector<WebSocketClient> clients;
    for (int i = 0; i < 100; ++i) clients.push_back(server.websocket("/echo/" + std::to_string(i)));
    for (int i = 0; i < 100; ++i) clients[i].send_text("m" + std::to_string(i));
    for (int i = 0; i < 100; ++i) EXPECT_EQ(clients[i].read_text(), std::to_string(i) + ":m" + std::to_string(i));
    EXPECT_EQ(server.server().connection_count(), 100u);
    for (auto& c : clients) c.close();
    EXPECT_TRUE(eventually([&] { return server.server().connection_count() == 0; }));
}

TEST(websocket, a_client_that_vanishes_mid_message_ends_the_session) {
    App app;
    auto seen = std::make_shared<ended_session>();
    app.websocket("/s", [seen](WebSocket& ws) -> Task<void> {
        co_await echo(ws);
        seen->record(ws);
    });
    Server server{app};
    auto ws = server.websocket("/s");
    ws.send_text("first");
    EXPECT_EQ(ws.read_text(), "first");
    // A frame header announcing 100000 bytes, a few of them, then the connection is gone.
    std::string frame = websocket_frame(ws_opcode::binary, std::string(100'000, 'z'));
    ws.write_raw(frame.substr(0, 200));
    ws.drop();
    ASSERT_TRUE(eventually([&] { return seen->is_done(); }));
    EXPECT_EQ(seen->code, close_code::abnormal);
    EXPECT_TRUE(eventually([&] { return server.server().connection_count() == 0; }));
}

TEST(websocket, hostile_frames_close_the_session_with_the_right_code) {
    App app;
    app.websocket("/echo", echo);
    Server server{app};
    struct hostile {
        std::string bytes;
        std::uint16_t code;
    };
    std::vector<hostile> cases{
        {websocket_frame(ws_opcode::text, "not masked", true, false), close_code::protocol_error},
        {websocket_frame(ws_opcode::text, "\xff\xfe invalid utf-8"), close_code::invalid_payload},
        {websocket_frame(0x3, "reserved opcode"), close_code::protocol_error},
        {websocket_frame(ws_opcode::ping, std::string(126, 'p')), close_code::protocol_error},
        {websocket_frame(ws_opcode::continuation, "no message to continue"), close_code::protocol_error},
        {websocket_frame(ws_opcode::ping, "fragmented control", false), close_code::protocol_error},
    };
    for (const auto& h : cases) {
        auto ws = server.websocket("/echo");
        ws.write_raw(h.bytes);
        EXPECT_FALSE(ws.read());
        EXPECT_EQ(ws.close_code(), h.code);
    }
    auto ws = server.websocket("/echo");
    ws.send_text("still fine");
    EXPECT_EQ(ws.read_text(), "still fine");
}

TEST(websocket, a_compressed_frame_claiming_a_huge_length_is_refused_without_allocating_it) {
    App app;
    app.websocket("/z", echo, {}, {.permessage_deflate = true});
    Server server{app};
    auto ws = server.websocket("/z", {.permessage_deflate = true});
    // FIN + RSV1 (compressed) + binary, masked, 64-bit length of about 2^56 bytes, then a few bytes of payload.
    std::string frame{"\xc2\xff\x00\xff\xff\xff\xff\xff\xff\xff\x12\x34\x56\x78"
                      "abcdefgh",
                      22};
    ws.write_raw(frame);
    // The session ends ("abcdefgh" does not inflate; Beast drops the connection without a close frame, 1006);
    // the server neither tries to reserve the claimed length nor stops serving.
    EXPECT_FALSE(ws.read());
    EXPECT_NE(ws.close_code(), close_code::normal);
    auto again = server.websocket("/z", {.permessage_deflate = true});
    again.send_text("still fine");
    EXPECT_EQ(again.read_text(), "still fine");
}

TEST(websocket, graceful_shutdown_closes_sessions_with_1001) {
    App app;
    app.websocket("/echo", echo);
    Server server{app};
    auto a = server.websocket("/echo");
    auto b = server.websocket("/echo");
    a.send_text("before");
    EXPECT_EQ(a.read_text(), "before");

    auto start = std::chrono::steady_clock::now();
    auto stopped = std::async(std::launch::async, [&] { server.stop(); });
    EXPECT_FALSE(a.read());
    EXPECT_EQ(a.close_code(), close_code::going_away);
    EXPECT_FALSE(b.read());
    EXPECT_EQ(b.close_code(), close_code::going_away);
    EXPECT_EQ(stopped.wait_for(5s), std::future_status::ready);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(websocket, the_drain_deadline_ends_a_session_that_ignores_shutdown) {
    App app;
    app.websocket("/deaf", [](WebSocket& ws) -> Task<void> {
        co_await ws.send_text("ready");
        co_await sleep_for(std::chrono::hours{1});  // never reads, so never sees the close
    });
    auto config = Server::test_config();
    config.timeouts.drain = 300ms;
    Server server{app, config};
    auto ws = server.websocket("/deaf");
    EXPECT_EQ(ws.read_text(), "ready");
    auto start = std::chrono::steady_clock::now();
    server.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(websocket, a_first_frame_sent_with_the_handshake_is_not_lost) {
    App app;
    // This raw client never answers the close frame: the server gives up on it after close_timeout.
    app.websocket("/once", [](WebSocket& ws) -> Task<void> {
        if (auto msg = co_await ws.read()) co_await ws.send_text(msg->text());
    }, {}, {.close_timeout = 200ms});
    Server server{app};
    auto conn = server.connect();
    conn.write(handshake_head("/once", "Sec-WebSocket-Version: 13\r\n") + websocket_frame(ws_opcode::text, "hello"));
    auto res = conn.read_response();
    EXPECT_EQ(res.status(), 101);
    EXPECT_EQ(res.header("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");  // RFC 6455's example
    std::string rest = conn.read_until_close();
    EXPECT_TRUE(rest.starts_with(std::string{"\x81\x05hello", 7})) << rest;
    EXPECT_NE(rest.find("\x88\x02\x03\xe8"), std::string::npos);  // then a close frame with 1000
}

TEST(websocket, concurrent_sends_from_one_session_are_not_interleaved) {
    App app;
    app.websocket("/two", [](WebSocket& ws) -> Task<void> {
        using namespace boost::asio::experimental::awaitable_operators;
        auto burst = [&ws](char c) -> Task<void> {
            for (int i = 0; i < 50; ++i) co_await ws.send_text(std::string(20'000 + i, c));
        };
        co_await (burst('a') && burst('b'));
        co_await ws.read();
    });
    Server server{app};
    auto ws = server.websocket("/two");
    int a = 0, b = 0;
    for (int i = 0; i < 100; ++i) {
        std::string m = ws.read_text();
        ASSERT_FALSE(m.empty());
        char c = m[0];
        EXPECT_EQ(m, std::string(20'000 + (c == 'a' ? a : b), c));
        (c == 'a' ? a : b)++;
    }
    EXPECT_EQ(a, 50);
    EXPECT_EQ(b, 50);
}

TEST(websocket, senders_broadcast_from_other_sessions_and_threads) {
    // A room: every session registers its sender; a message goes to every member, whatever its thread.
    struct room {
        std::mutex m;
        std::vector<zephyr::http::websocket_sender> members;
        void join(zephyr::http::websocket_sender s) {
            std::lock_guard lock{m};
            members.push_back(std::move(s));
        }
        void broadcast(const std::string& text) {
            std::lock_guard lock{m};
            std::erase_if(members, [&](auto& s) { return !s.send_text(text); });
        }
        std::size_t size() {
            std::lock_guard lock{m};
            return members.size();
        }
    };
    App app;
    auto hub = std::make_shared<room>();
    app.provide(hub);
    app.websocket("/room", [](WebSocket& ws, zephyr::Inject<room> r) -> Task<void> {
        r->join(ws.sender());
        co_await ws.send_text("joined");
        while (auto msg = co_await ws.read()) r->broadcast(std::string{msg->text()});
    });
    auto config = Server::test_config();
    config.threads = 3;
    Server server{app, config};
    std::vector<WebSocketClient> clients;
    for (int i = 0; i < 6; ++i) {
        clients.push_back(server.websocket("/room"));
        EXPECT_EQ(clients.back().read_text(), "joined");
    }
    clients[0].send_text("hi all");
    clients[3].send_text("hello");
    for (auto& c : clients) {
        std::set<std::string> got{c.read_text(), c.read_text()};
        EXPECT_EQ(got, (std::set<std::string>{"hi all", "hello"}));
    }
    // A sender works from any thread (here the test's), and a closed session's sender says so.
    clients[5].close();
    ASSERT_TRUE(eventually([&] { return server.server().connection_count() == 5; }));
    hub->broadcast("from outside");
    EXPECT_EQ(hub->size(), 5u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(clients[i].read_text(), "from outside");
}

TEST(websocket, a_sender_can_close_and_an_overfull_queue_closes_with_1008) {
    App app;
    auto senders = std::make_shared<std::promise<zephyr::http::websocket_sender>>();
    auto got = senders->get_future();
    app.websocket("/q", [senders](WebSocket& ws) -> Task<void> {
        senders->set_value(ws.sender());
        co_await echo(ws);
    }, {}, {.max_queued_bytes = 1000});
    app.websocket("/c", [](WebSocket& ws) -> Task<void> {
        auto s = ws.sender();
        EXPECT_TRUE(s.send_text("queued first"));
        EXPECT_TRUE(s.close(4000, "closed by sender"));
        EXPECT_FALSE(s.send_text("after the close"));
        co_await echo(ws);
    });
    Server server{app};

    auto c = server.websocket("/c");
    EXPECT_EQ(c.read_text(), "queued first");
    EXPECT_FALSE(c.read());
    EXPECT_EQ(c.close_code(), 4000);
    EXPECT_EQ(c.close_reason(), "closed by sender");

    auto q = server.websocket("/q");
    ASSERT_EQ(got.wait_for(5s), std::future_status::ready);
    auto sender = got.get();
    EXPECT_TRUE(sender.is_open());
    EXPECT_TRUE(sender.send_text("small"));
    EXPECT_EQ(q.read_text(), "small");
    EXPECT_FALSE(sender.send_text(std::string(2000, 'x')));  // over max_queued_bytes
    EXPECT_FALSE(q.read());
    EXPECT_EQ(q.close_code(), close_code::policy_violation);
    EXPECT_TRUE(eventually([&] { return !sender.is_open(); }));
    EXPECT_FALSE(zephyr::http::websocket_sender{}.send_text("nobody"));
}

TEST(websocket, an_idle_client_is_pinged_and_dropped_when_silent) {
    App app;
    auto seen = std::make_shared<ended_session>();
    app.websocket("/idle", [seen](WebSocket& ws) -> Task<void> {
        co_await echo(ws);
        seen->record(ws);
    }, {}, {.idle_timeout = 300ms});
    Server server{app};

    // A client that reads answers the server's pings and stays connected past the idle timeout.
    auto live = server.websocket("/idle");
    EXPECT_THROW(live.read(700ms), std::runtime_error);  // nothing to read, but pings were answered
    EXPECT_FALSE(live.pings_received().empty());
    live.send_text("alive");
    EXPECT_EQ(live.read_text(), "alive");

    // A client that never reads never answers: the server drops it.
    auto silent = server.websocket("/idle");
    ASSERT_TRUE(eventually([&] { return seen->is_done(); }, 3s));
    EXPECT_EQ(seen->code, close_code::abnormal);
}

TEST(websocket, the_in_process_client_serves_the_app_for_the_session) {
    App app;
    app.get("/login", [] {
        Response r{zephyr::status::no_content};
        r.set_cookie({.name = "user", .value = "ann"});
        return r;
    });
    app.websocket("/whoami", [](WebSocket& ws, zephyr::Cookie<"user"> user) -> Task<void> {
        co_await ws.send_text(std::string{*user});
    });
    zephyr::testing::Client client{app};
    EXPECT_EQ(client.get("/login").status(), 204);
    auto ws = client.websocket("/whoami");
    EXPECT_EQ(ws.read_text(), "ann");
}

TEST(websocket, permessage_deflate_is_negotiated_when_enabled) {
    App app;
    app.websocket("/z", echo, {}, {.permessage_deflate = true});
    app.websocket("/plain", echo);
    Server server{app};
    auto ws = server.websocket("/z", {.permessage_deflate = true});
    EXPECT_NE(ws.handshake().header("Sec-WebSocket-Extensions").find("permessage-deflate"), std::string::npos);
    std::string text(100'000, 'r');
    ws.send_text(text);
    EXPECT_EQ(ws.read_text(), text);

    auto plain = server.websocket("/plain", {.permessage_deflate = true});
    EXPECT_FALSE(plain.handshake().has_header("Sec-WebSocket-Extensions"));
    plain.send_text("uncompressed");
    EXPECT_EQ(plain.read_text(), "uncompressed");
}

namespace {

struct self_signed {
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("zephyr-ws-tls-" + std::to_string(::getpid()));
    std::filesystem::path cert = dir / "cert.pem";
    std::filesystem::path key = dir / "key.pem";
    self_signed() {
        std::filesystem::create_directories(dir);
        std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " +
                          key.string() + " -out " + cert.string() + " 2>/dev/null";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error{"openssl could not make a certificate"};
    }
    ~self_signed() { std::filesystem::remove_all(dir); }
};

}  // namespace

TEST(websocket, echoes_over_tls) {
    self_signed certs;
    App app;
    app.websocket("/echo", echo);
    auto config = Server::test_config();
    config.tls = zephyr::http::tls_config{certs.cert.string(), certs.key.string()};
    Server server{app, config};
    auto ws = server.websocket("/echo", {.tls = true});
    ws.send_text("secret");
    EXPECT_EQ(ws.read_text(), "secret");
    std::string big(200'000, 's');
    ws.send_binary(big);
    auto m = ws.read();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->data, big);
    ws.close(close_code::normal, "done");
    EXPECT_EQ(ws.close_code(), close_code::normal);

    auto other = server.websocket("/echo", {.tls = true});  // and graceful shutdown over TLS
    auto stopped = std::async(std::launch::async, [&] { server.stop(); });
    EXPECT_FALSE(other.read());
    EXPECT_EQ(other.close_code(), close_code::going_away);
    EXPECT_EQ(stopped.wait_for(5s), std::future_status::ready);
}
