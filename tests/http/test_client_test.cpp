// The in-process test client behaves like a browser with cookies.
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <gtest/gtest.h>

using namespace zephyr;

TEST(test_client, keeps_and_sends_cookies_and_forgets_deleted_ones) {
    App app;
    app.post("/login", [] {
        Response r = Response::text("in");
        r.set_cookie({.name = "session", .value = "s1", .path = "/", .http_only = true});
        r.set_cookie({.name = "theme", .value = "dark"});
        return r;
    });
    app.post("/logout", [] {
        Response r = Response::text("out");
        r.set_cookie({.name = "session", .value = "", .max_age = std::chrono::seconds{0}});
        r.set_cookie({.name = "theme", .value = "x", .expires = std::chrono::system_clock::now() - std::chrono::hours{1}});
        return r;
    });
    app.get("/me", [](Cookie<"session", std::optional<std::string>> s) { return s->value_or("anonymous"); });
    zephyr::testing::Client client{app};
    EXPECT_EQ(client.get("/me").text(), "anonymous");
    client.post("/login", "");
    EXPECT_EQ(client.cookies().size(), 2u);
    EXPECT_EQ(client.get("/me").text(), "s1");
    EXPECT_EQ(client.get("/me", {.headers = {{"Cookie", "session=explicit"}}}).text(), "explicit");
    client.post("/logout", "");
    EXPECT_TRUE(client.cookies().empty());
    EXPECT_EQ(client.get("/me").text(), "anonymous");
    client.set_cookie("session", "manual");
    EXPECT_EQ(client.get("/me").text(), "manual");
}
