// The to-do example (examples/05-todo-api) on SQLite, through the in-process client.
#include "db/temp_dir.hpp"
#include <gtest/gtest.h>

#include <zephyr/testing.hpp>

#define ZEPHYR_EXAMPLE_NO_MAIN
#include "../../examples/05-todo-api/main.cpp"

#include <filesystem>

namespace {
std::shared_ptr<db::Pool> fresh_pool() {
    const auto dir = db_test::temp_dir("zephyr-todo");
    static int n = 0;
    auto file = dir / ("todo" + std::to_string(++n) + ".db");
    std::filesystem::remove(file);
    auto pool = std::make_shared<db::Pool>("sqlite://" + file.string());
    block_on(create_schema(*pool));
    return pool;
}
}  // namespace

TEST(todo_example, create_list_complete_delete) {
    App app;
    make_app(app, fresh_pool());
    zephyr::testing::Client client{app};
    auto created = client.post_json("/todos", boost::json::object{{"title", "write docs"}});
    EXPECT_EQ(created.status(), 201);
    EXPECT_EQ(created.header("Location"), "/todos/1");
    const auto body = created.json();
    EXPECT_EQ(body.at("title"), "write docs");
    EXPECT_EQ(body.at("done"), false);
    EXPECT_EQ(client.post("/todos/1/done", "").status(), 204);
    const auto one = client.get("/todos/1").json();
    EXPECT_EQ(one.at("done"), true);
    EXPECT_EQ(client.get("/todos").json().as_array().size(), 1u);
    EXPECT_EQ(client.del("/todos/1").status(), 204);
    EXPECT_EQ(client.get("/todos/1").status(), 404);
    EXPECT_EQ(client.post("/todos/1/done", "").status(), 404);
}

TEST(todo_example, invalid_input_writes_nothing) {
    auto pool = fresh_pool();
    App app;
    make_app(app, pool);
    zephyr::testing::Client client{app};
    EXPECT_EQ(client.post_json("/todos", boost::json::object{{"title", ""}}).status(), 422);
    EXPECT_EQ(client.post("/todos", "{not json", {.headers = {{"Content-Type", "application/json"}}}).status(), 400);
    EXPECT_EQ(client.get("/todos").json().as_array().size(), 0u);
    EXPECT_EQ(client.get("/todos/abc").status(), 400);
}
