// The testing example of docs/server.md, compiled and run as part of the suite.
// [testing]
#include <gtest/gtest.h>
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <string>

zephyr::App& make_app(zephyr::App& app) {  // shared by main() and the tests
    app.get("/twice/{n:int}", [](zephyr::Request& req) { return std::to_string(req.param<int>("n") * 2); });
    return app;
}

TEST(twice, doubles_in_process) {
    zephyr::App app;
    zephyr::testing::Client client{make_app(app)};  // same parser, router and layers; no socket
    EXPECT_EQ(client.get("/twice/21").text(), "42");
    EXPECT_EQ(client.get("/twice/x").status(), 404);  // {n:int} does not match
}

TEST(twice, doubles_over_a_socket) {
    zephyr::App app;
    zephyr::testing::Server server{make_app(app)};  // 127.0.0.1, a free port, background thread
    EXPECT_EQ(server.get("/twice/21").text(), "42");
    auto conn = server.connect();                   // raw bytes, for wire-level tests
    conn.write("GET /twice/1 HTTP/1.1\r\nHost: t\r\n\r\nGET /twice/2 HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(conn.read_response().text(), "2");
    EXPECT_EQ(conn.read_response().text(), "4");
}

zephyr::Task<int> answer() { co_return 42; }

ZEPHYR_TEST(twice, body_is_a_coroutine) {
    EXPECT_EQ(co_await answer(), 42);
}
// [testing]
