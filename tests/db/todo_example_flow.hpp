// The to-do example (examples/05-todo-api) driven through the in-process client: shared by the SQLite test and
// the PostgreSQL/MariaDB one, which must behave the same.
#pragma once

#include <gtest/gtest.h>

#include <zephyr/testing.hpp>
#include <zephyr/testing/db.hpp>

#ifndef TODO_MIGRATIONS_DIR
#define TODO_MIGRATIONS_DIR ZEPHYR_SOURCE_DIR "/examples/05-todo-api/migrations"
#endif
#define ZEPHYR_EXAMPLE_NO_MAIN
#include "../../examples/05-todo-api/main.cpp"

namespace todo_flow {

/// A database with the example's migrations applied, on the server `server_url` ("sqlite:" for SQLite).
inline std::unique_ptr<zephyr::testing::TestDatabase> database(const std::string& server_url) {
    auto tdb = std::make_unique<zephyr::testing::TestDatabase>(server_url);
    tdb->migrate(TODO_MIGRATIONS_DIR);
    return tdb;
}

inline void lists_todos_and_pages(zephyr::testing::TestDatabase& tdb) {
    App app;
    make_app(app, tdb.shared_pool());
    zephyr::testing::Client client{app};
    auto home = client.post_json("/lists", boost::json::object{{"name", "home"}});
    EXPECT_EQ(home.status(), 201);
    EXPECT_EQ(home.header("Location"), "/lists/1");
    EXPECT_EQ(home.json().at("todos").as_array().size(), 0u);
    EXPECT_EQ(client.post_json("/lists", boost::json::object{{"name", "work"}}).status(), 201);
    for (const char* title : {"write docs", "fix the 50% bug", "water plants"}) {
        auto t = client.post_json("/lists/1/todos", boost::json::object{{"title", title}});
        EXPECT_EQ(t.status(), 201);
        EXPECT_EQ(t.json().at("done"), false);
    }
    EXPECT_EQ(client.post_json("/lists/2/todos", boost::json::object{{"title", "plan"}}).status(), 201);
    EXPECT_EQ(client.post("/todos/2/done", "").status(), 204);

    // Every list with its to-dos.
    const auto lists = client.get("/lists").json().as_array();
    EXPECT_EQ(lists.size(), 2u);
    if (lists.size() == 2) {
        EXPECT_EQ(lists[0].at("name"), "home");
        EXPECT_EQ(lists[0].at("todos").as_array().size(), 3u);
        EXPECT_EQ(lists[1].at("todos").as_array().size(), 1u);
    }
    EXPECT_EQ(client.get("/lists/2").json().at("todos").as_array().at(0).at("title"), "plan");

    // Filters and pages.
    auto open = client.get("/todos?done=false&per_page=2").json();
    EXPECT_EQ(open.at("total"), 3);
    EXPECT_EQ(open.at("pages"), 2);
    EXPECT_EQ(open.at("items").as_array().size(), 2u);
    EXPECT_EQ(client.get("/todos?done=false&per_page=2&page=2").json().at("items").as_array().size(), 1u);
    auto search = client.get("/todos?q=50%25").json();  // a literal %, not a wildcard
    EXPECT_EQ(search.at("total"), 1);
    EXPECT_EQ(client.get("/todos?done=true").json().at("items").as_array().at(0).at("title"), "fix the 50% bug");

    // Deleting: a to-do, then a list with its to-dos.
    EXPECT_EQ(client.del("/todos/1").status(), 204);
    EXPECT_EQ(client.del("/todos/1").status(), 404);
    EXPECT_EQ(client.get("/todos/1").status(), 404);
    EXPECT_EQ(client.del("/lists/1").status(), 204);
    EXPECT_EQ(client.get("/lists/1").status(), 404);
    EXPECT_EQ(client.get("/todos").json().at("total"), 1);  // only "plan" is left
}

inline void bad_input_writes_nothing(zephyr::testing::TestDatabase& tdb) {
    App app;
    make_app(app, tdb.shared_pool());
    zephyr::testing::Client client{app};
    EXPECT_EQ(client.post_json("/lists", boost::json::object{{"name", ""}}).status(), 422);
    EXPECT_EQ(client.post("/lists", "{not json", {.headers = {{"Content-Type", "application/json"}}}).status(), 400);
    EXPECT_EQ(client.post_json("/lists", boost::json::object{{"name", "a"}}).status(), 201);
    EXPECT_EQ(client.post_json("/lists", boost::json::object{{"name", "a"}}).status(), 409);  // names are unique
    EXPECT_EQ(client.post_json("/lists/99/todos", boost::json::object{{"title", "x"}}).status(), 409);  // no list 99
    EXPECT_EQ(client.post_json("/lists/1/todos", boost::json::object{{"title", std::string(201, 'x')}}).status(), 422);
    EXPECT_EQ(client.get("/todos?per_page=0").status(), 400);
    EXPECT_EQ(client.get("/todos?per_page=1000").status(), 400);
    EXPECT_EQ(client.get("/todos?page=abc").status(), 400);
    EXPECT_EQ(client.get("/lists/abc").status(), 400);
    EXPECT_EQ(client.post("/todos/42/done", "").status(), 404);
    EXPECT_EQ(client.get("/todos").json().at("total"), 0);
    EXPECT_EQ(client.get("/lists").json().as_array().size(), 1u);
}

}  // namespace todo_flow
