// The db module in handlers: errors map to statuses, and Inject<db::Tx> commits or rolls back per request.
#include "db/temp_dir.hpp"
#include <gtest/gtest.h>

#include <zephyr/db.hpp>
#include <zephyr/db/http.hpp>
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <filesystem>

namespace db = zephyr::db;
using zephyr::Task;

namespace {
std::shared_ptr<db::Pool> notes_db() {
    const auto dir = db_test::temp_dir("zephyr-db-http");
    static int n = 0;
    auto pool = std::make_shared<db::Pool>("sqlite://" + (dir / ("n" + std::to_string(++n) + ".db")).string());
    zephyr::testing::run_task([&]() -> Task<void> {
        co_await pool->execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE)");
    }());
    return pool;
}

std::int64_t count_notes(db::Pool& pool) {
    std::int64_t n = -1;
    zephyr::testing::run_task([&]() -> Task<void> { n = co_await pool.scalar<std::int64_t>("SELECT count(*) FROM notes"); }());
    return n;
}
}  // namespace

TEST(db_http, database_errors_become_statuses) {
    auto pool = notes_db();
    zephyr::App app;
    app.provide(pool);
    app.post("/notes/new/{text}", [](zephyr::Path<std::string> text, zephyr::Inject<db::Pool> db) -> Task<zephyr::http::status> {
        co_await db->execute("INSERT INTO notes (text) VALUES (?)", *text);
        co_return zephyr::http::status::created;
    });
    app.get("/notes/{id}", [](zephyr::Path<int> id, zephyr::Inject<db::Pool> db) -> Task<std::string> {
        co_return co_await db->query_one<std::string>("SELECT text FROM notes WHERE id = ?", *id);
    });
    zephyr::testing::Client client{app};
    EXPECT_EQ(client.post("/notes/new/hello", "").status(), 201);
    auto dup = client.post("/notes/new/hello", "");
    EXPECT_EQ(dup.status(), 409);
    EXPECT_EQ(dup.json().at("detail"), "a record with this value already exists");
    EXPECT_EQ(dup.text().find("UNIQUE"), std::string::npos) << "the SQL error stays in the log";
    EXPECT_EQ(client.get("/notes/1").text(), "hello");
    EXPECT_EQ(client.get("/notes/99").status(), 404);
}

TEST(db_http, request_transaction_commits_below_400_and_rolls_back_otherwise) {
    auto pool = notes_db();
    zephyr::App app;
    db::provide_request_transaction(app, pool);
    app.post("/ok/{text}", [](zephyr::Path<std::string> text, zephyr::Inject<db::Tx> tx) -> Task<zephyr::http::status> {
        co_await tx->execute("INSERT INTO notes (text) VALUES (?)", *text);
        co_return zephyr::http::status::created;
    });
    app.post("/throws/{text}", [](zephyr::Path<std::string> text, zephyr::Inject<db::Tx> tx) -> Task<zephyr::http::status> {
        co_await tx->execute("INSERT INTO notes (text) VALUES (?)", *text);
        throw std::runtime_error{"boom"};
    });
    app.post("/refuses/{text}", [](zephyr::Path<std::string> text, zephyr::Inject<db::Tx> tx) -> Task<zephyr::http::status> {
        co_await tx->execute("INSERT INTO notes (text) VALUES (?)", *text);
        co_return zephyr::http::status::unprocessable_content;
    });
    app.get("/untouched", [](zephyr::Inject<db::Tx>) { return "no statement, no connection"; });
    zephyr::testing::Client client{app};
    EXPECT_EQ(client.post("/ok/a", "").status(), 201);
    EXPECT_EQ(client.post("/throws/b", "").status(), 500);
    EXPECT_EQ(client.post("/refuses/c", "").status(), 422);
    EXPECT_EQ(client.post("/ok/a", "").status(), 409);  // the first one was committed
    EXPECT_EQ(client.get("/untouched").status(), 200);
    EXPECT_EQ(count_notes(*pool), 1);
    EXPECT_EQ(pool->stats().in_use, 0u);
    EXPECT_EQ(pool->stats().opened, 1u);
}
