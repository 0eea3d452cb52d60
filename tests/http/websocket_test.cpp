// WebSocket routes in process: registration, the handshake check, and the 101 response layers see. Sessions
// themselves need a socket; they are tested in integration/websocket_test.cpp.
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include "support/problem.hpp"

#include <gtest/gtest.h>

using zephyr::App;
using zephyr::Next;
using zephyr::Request;
using zephyr::Response;
using zephyr::Task;
using zephyr::WebSocket;
using zephyr::testing::Client;
using zephyr::testing::request_options;

namespace {

Task<void> quiet(WebSocket&) { co_return; }

request_options handshake(std::vector<std::pair<std::string, std::string>> extra = {}) {
    request_options o{.headers = {{"Upgrade", "websocket"},
                                  {"Connection", "keep-alive, Upgrade"},
                                  {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                  {"Sec-WebSocket-Version", "13"}}};
    for (auto& h : extra) o.headers.push_back(std::move(h));
    return o;
}

}  // namespace

TEST(websocket_route, a_valid_handshake_gets_101_through_the_layers) {
    App app;
    app.layers([](Request& req, Next next) -> Task<Response> {
        Response res = co_await next(req);
        res.headers().set("X-Seen-Status", std::to_string(zephyr::http::to_int(res.status())));
        co_return res;
    });
    app.websocket("/ws", quiet);
    Client client{app};
    auto res = client.get("/ws", handshake());
    EXPECT_EQ(res.status(), 101);  // in process there is no connection to upgrade: the session does not run
    EXPECT_EQ(res.header("X-Seen-Status"), "101");
}

TEST(websocket_route, requests_that_are_not_handshakes_are_refused) {
    App app;
    app.websocket("/ws", quiet);
    Client client{app};

    auto plain = client.get("/ws");
    zephyr::test_support::expect_problem(plain, 426);
    EXPECT_EQ(plain.header("Upgrade"), "websocket");
    EXPECT_EQ(client.head("/ws").status(), 426);
    EXPECT_EQ(client.post("/ws", "x", handshake()).status(), 405);

    struct bad_case {
        request_options o;
        std::string detail;
    };
    auto without = [](std::string_view name) {
        auto o = handshake();
        std::erase_if(o.headers, [&](const auto& h) { return h.first == name; });
        return o;
    };
    auto with = [](std::string_view name, std::string value) {
        auto o = handshake();
        for (auto& h : o.headers)
            if (h.first == name) h.second = std::move(value);
        return o;
    };
    std::vector<bad_case> cases{
        {without("Sec-WebSocket-Key"), "a WebSocket handshake needs a Sec-WebSocket-Key header"},
        {with("Sec-WebSocket-Key", "not base64 at all!!!!!=="), "Sec-WebSocket-Key must be 16 bytes in base64"},
        {with("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ"), "Sec-WebSocket-Key must be 16 bytes in base64"},
        {handshake({{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}}), "Sec-WebSocket-Key must be 16 bytes in base64"},
        {without("Sec-WebSocket-Version"), "a WebSocket handshake needs 'Sec-WebSocket-Version: 13'"},
        {with("Sec-WebSocket-Version", "12"), "unsupported WebSocket version; this server speaks version 13"},
        {without("Connection"), "a WebSocket handshake needs 'Connection: Upgrade'"},
    };
    for (auto& c : cases) {
        auto res = client.get("/ws", c.o);
        zephyr::test_support::expect_problem(res, 400);
        EXPECT_EQ(res.json().at("detail").as_string(), c.detail);
    }
    EXPECT_EQ(client.get("/ws", with("Sec-WebSocket-Version", "8")).header("Sec-WebSocket-Version"), "13");
}

TEST(websocket_route, extractors_are_checked_at_registration_and_run_before_the_upgrade) {
    App app;
    EXPECT_THROW(app.websocket("/ws", [](WebSocket&, zephyr::Path<int>) -> Task<void> { co_return; }),
                 zephyr::http::route_error);  // no parameter in the pattern
    app.websocket("/n/{n}", [](WebSocket&, zephyr::Path<int>) -> Task<void> { co_return; });
    Client client{app};
    EXPECT_EQ(client.get("/n/12", handshake()).status(), 101);
    zephyr::test_support::expect_problem(client.get("/n/twelve", handshake()), 400);
}

TEST(websocket_route, conflicts_with_a_get_route_on_the_same_pattern) {
    App app;
    app.get("/ws", [] { return "page"; });
    EXPECT_THROW(app.websocket("/ws", quiet), zephyr::http::route_error);
    app.post("/feed", [] { return "posted"; });
    app.websocket("/feed", quiet);  // GET and POST can share a pattern
    Client client{app};
    EXPECT_EQ(client.post("/feed", "x").text(), "posted");
    EXPECT_EQ(client.get("/feed").status(), 426);
}

TEST(websocket_route, an_unattached_sender_sends_nothing) {
    zephyr::http::websocket_sender s;
    EXPECT_FALSE(s.is_open());
    EXPECT_FALSE(s.send_text("x"));
    EXPECT_FALSE(s.send_binary("x"));
    EXPECT_FALSE(s.close());
    EXPECT_THROW(s.close(1005), std::invalid_argument);  // 1005 may never be sent
    EXPECT_THROW(s.close(1000, std::string(124, 'r')), std::invalid_argument);
}
