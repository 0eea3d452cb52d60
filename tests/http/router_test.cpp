#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <gtest/gtest.h>

TEST(router, path_param_is_typed) {
    zephyr::App app;
    app.get("/twice/{n:int}", [](zephyr::Request& req) { return std::to_string(req.param<int>("n") * 2); });
    zephyr::testing::Client client{app};
    EXPECT_EQ(client.get("/twice/21").text(), "42");
    EXPECT_EQ(client.get("/twice/x").status(), 404);
}
