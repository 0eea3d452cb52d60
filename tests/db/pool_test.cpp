// The pool, sessions and transactions on SQLite (embedded, no server); the same behaviour on PostgreSQL and
// MariaDB is checked by the integration tests.
#include "db/temp_dir.hpp"
#include <zephyr/db.hpp>
#include <zephyr/testing.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe/class.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <tuple>

namespace db = zephyr::db;
using zephyr::Task;

namespace db_test {
// [person]
struct person {
    std::int64_t id = 0;
    std::string name;
    std::optional<int> age;
};
BOOST_DESCRIBE_STRUCT(person, (), (id, name, age))
// [person]
}  // namespace db_test
using db_test::person;

namespace {
std::string temp_db() {
    static int n = 0;
    const auto dir = db_test::temp_dir("zephyr-db-test");
    return "sqlite://" + (dir / ("t" + std::to_string(++n) + ".db")).string();
}

Task<void> make_people(db::Session& s) {
    co_await s.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, age INTEGER)");
    co_await s.execute("INSERT INTO people (name, age) VALUES (?, ?), (?, ?), (?, ?)", "ada", 36, "alan", 41, "grace",
                       std::optional<int>{});
}
}  // namespace

ZEPHYR_TEST(db_pool, query_maps_structs_tuples_and_scalars) {
    db::Pool pool{"sqlite::memory:"};
    co_await make_people(pool);
    // [query]
    std::vector<person> all = co_await pool.query<person>("SELECT * FROM people ORDER BY id");
    auto pairs = co_await pool.query<std::tuple<std::string, std::optional<int>>>(
        "SELECT name, age FROM people WHERE age > ? ORDER BY name", 40);
    std::int64_t count = co_await pool.scalar<std::int64_t>("SELECT count(*) FROM people");
    std::optional<person> nobody = co_await pool.query_opt<person>("SELECT * FROM people WHERE name = ?", "nobody");
    // [query]
    EXPECT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].name, "ada");
    EXPECT_EQ(all[0].age, 36);
    EXPECT_EQ(all[2].age, std::nullopt);
    EXPECT_EQ(pairs.size(), 1u);
    EXPECT_EQ(std::get<0>(pairs.at(0)), "alan");
    EXPECT_EQ(count, 3);
    EXPECT_FALSE(nobody.has_value());
    bool threw = false;
    try {
        co_await pool.query_one<person>("SELECT * FROM people WHERE name = ?", "nobody");
    } catch (const db::not_found& e) {
        threw = true;
        EXPECT_EQ(e.http_status(), 404);
    }
    EXPECT_TRUE(threw);
}

ZEPHYR_TEST(db_pool, execute_reports_rows_and_keys) {
    db::Pool pool{"sqlite::memory:"};
    co_await make_people(pool);
    auto ins = co_await pool.execute("INSERT INTO people (name) VALUES (?)", "linus");
    EXPECT_EQ(ins.affected_rows, 1u);
    EXPECT_EQ(ins.last_insert_id, 4);
    auto upd = co_await pool.execute("UPDATE people SET age = age + 1 WHERE age IS NOT NULL");
    EXPECT_EQ(upd.affected_rows, 2u);
    EXPECT_FALSE(upd.last_insert_id.has_value());
}

ZEPHYR_TEST(db_pool, injection_attempts_stay_data) {
    db::Pool pool{"sqlite::memory:"};
    co_await make_people(pool);
    const std::string evil = "x'); DROP TABLE people; --";
    co_await pool.execute("INSERT INTO people (name) VALUES (?)", evil);
    EXPECT_EQ(co_await pool.scalar<std::string>("SELECT name FROM people WHERE name = ?", evil), evil);
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM people"), 4);
}

ZEPHYR_TEST(db_pool, bad_results_name_the_column) {
    db::Pool pool{"sqlite::memory:"};
    co_await make_people(pool);
    std::string message;
    try {
        co_await pool.query<person>("SELECT id, name FROM people");
    } catch (const db::Error& e) {
        message = e.what();
        EXPECT_EQ(e.kind(), db::errc::bad_result);
    }
    EXPECT_NE(message.find("no column 'age'"), std::string::npos) << message;
    message.clear();
    try {
        co_await pool.query<std::int64_t>("SELECT age FROM people ORDER BY id");
    } catch (const db::Error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("is NULL"), std::string::npos) << message;
    message.clear();
    try {
        co_await pool.query<std::int8_t>("SELECT 300");
    } catch (const db::Error& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("300 does not fit"), std::string::npos) << message;
    message.clear();
    try {
        co_await pool.execute("SELECT ?, ?", 1);
    } catch (const db::Error& e) {
        message = e.what();
        EXPECT_EQ(e.kind(), db::errc::misuse);
    }
    EXPECT_NE(message.find("2 placeholders but 1 value"), std::string::npos) << message;
    // The connection is still usable after each failure.
    EXPECT_EQ(co_await pool.scalar<int>("SELECT 1"), 1);
}

ZEPHYR_TEST(db_pool, constraint_errors_are_typed) {
    db::Pool pool{"sqlite::memory:"};
    co_await make_people(pool);
    co_await pool.execute("CREATE TABLE pets (id INTEGER PRIMARY KEY, owner INTEGER NOT NULL REFERENCES people(id), "
                          "legs INTEGER CHECK (legs >= 0))");
    int caught = 0;
    try {
        co_await pool.execute("INSERT INTO people (name) VALUES (?)", "ada");
    } catch (const db::unique_violation& e) {
        ++caught;
        EXPECT_EQ(e.http_status(), 409);
        EXPECT_NE(std::string{e.what()}.find("UNIQUE"), std::string::npos) << e.what();
    }
    try {
        co_await pool.execute("INSERT INTO pets (owner) VALUES (?)", 999);
    } catch (const db::foreign_key_violation&) {
        ++caught;
    }
    try {
        co_await pool.execute("INSERT INTO pets (owner) VALUES (NULL)");
    } catch (const db::not_null_violation&) {
        ++caught;
    }
    try {
        co_await pool.execute("INSERT INTO pets (owner, legs) VALUES (1, -1)");
    } catch (const db::check_violation&) {
        ++caught;
    }
    try {
        co_await pool.execute("SELEC nonsense");
    } catch (const db::Error& e) {
        ++caught;
        EXPECT_EQ(e.kind(), db::errc::other);
        EXPECT_NE(std::string{e.what()}.find("SELEC nonsense"), std::string::npos) << e.what();
    }
    EXPECT_EQ(caught, 5);
}

ZEPHYR_TEST(db_pool, transaction_commits_or_rolls_back) {
    db::Pool pool{temp_db()};
    co_await make_people(pool);
    // [transaction]
    co_await pool.transaction([&](db::Tx& tx) -> Task<void> {
        co_await tx.execute("UPDATE people SET age = 1 WHERE name = ?", "ada");
    });
    // [transaction]
    EXPECT_EQ(co_await pool.scalar<int>("SELECT age FROM people WHERE name = 'ada'"), 1);
    bool threw = false;
    try {
        co_await pool.transaction([&](db::Tx& tx) -> Task<void> {
            co_await tx.execute("UPDATE people SET age = 2 WHERE name = ?", "ada");
            throw std::runtime_error{"changed my mind"};
        });
    } catch (const std::runtime_error& e) {
        threw = std::string{e.what()} == "changed my mind";
    }
    EXPECT_TRUE(threw);
    EXPECT_EQ(co_await pool.scalar<int>("SELECT age FROM people WHERE name = 'ada'"), 1);
    // A value returned by the body comes back out.
    auto n = co_await pool.transaction(
        [&](db::Tx& tx) -> Task<std::int64_t> { co_return co_await tx.scalar<std::int64_t>("SELECT count(*) FROM people"); });
    EXPECT_EQ(n, 3);
}

ZEPHYR_TEST(db_pool, nested_transactions_are_savepoints) {
    db::Pool pool{temp_db()};
    co_await make_people(pool);
    // [savepoint]
    co_await pool.transaction([&](db::Tx& tx) -> Task<void> {
        co_await tx.execute("UPDATE people SET age = 10 WHERE name = 'ada'");
        bool inner_failed = false;
        try {
            co_await tx.transaction([&](db::Tx& inner) -> Task<void> {
                co_await inner.execute("UPDATE people SET age = 20 WHERE name = 'ada'");
                co_await inner.execute("INSERT INTO people (name) VALUES ('alan')");  // unique violation
            });
        } catch (const db::unique_violation&) {
            inner_failed = true;
        }
        EXPECT_TRUE(inner_failed);
        EXPECT_EQ(co_await tx.scalar<int>("SELECT age FROM people WHERE name = 'ada'"), 10);
        co_await tx.transaction([&](db::Tx& inner) -> Task<void> {
            co_await inner.execute("UPDATE people SET age = 30 WHERE name = 'alan'");
        });
    });
    // [savepoint]
    EXPECT_EQ(co_await pool.scalar<int>("SELECT age FROM people WHERE name = 'ada'"), 10);
    EXPECT_EQ(co_await pool.scalar<int>("SELECT age FROM people WHERE name = 'alan'"), 30);
}

ZEPHYR_TEST(db_pool, a_dropped_transaction_is_rolled_back_before_reuse) {
    db::Pool pool{temp_db(), {.max_size = 1}};
    co_await make_people(pool);
    {
        db::Tx tx = co_await pool.begin();
        co_await tx.execute("DELETE FROM people");
        // Destroyed without commit().
    }
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM people"), 3);
    db::Tx tx = co_await pool.begin();
    co_await tx.commit();
    bool misuse = false;
    try {
        co_await tx.execute("SELECT 1");
    } catch (const db::Error& e) {
        misuse = e.kind() == db::errc::misuse;
    }
    EXPECT_TRUE(misuse);
}

ZEPHYR_TEST(db_pool, for_each_streams_rows) {
    db::Pool pool{"sqlite::memory:"};
    co_await pool.execute("CREATE TABLE n (v INTEGER)");
    co_await pool.execute("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000) "
                          "INSERT INTO n SELECT x FROM c");
    // [for_each]
    std::int64_t sum = 0;
    auto rows = co_await pool.for_each<std::int64_t>([&](std::int64_t v) { sum += v; }, "SELECT v FROM n");
    // [for_each]
    EXPECT_EQ(rows, 10000u);
    EXPECT_EQ(sum, 50005000);
}

ZEPHYR_TEST(db_pool, scripts_without_parameters_run_every_statement) {
    db::Pool pool{"sqlite::memory:"};
    co_await pool.execute("CREATE TABLE a (x INTEGER); CREATE TABLE b (y INTEGER);\nINSERT INTO a VALUES (1);");
    EXPECT_EQ(co_await pool.scalar<int>("SELECT count(*) FROM a"), 1);
    EXPECT_EQ(co_await pool.scalar<int>("SELECT count(*) FROM b"), 0);
}

ZEPHYR_TEST(db_pool, waits_for_a_free_connection_then_times_out) {
    db::Pool pool{temp_db(), {.max_size = 1, .acquire_timeout = std::chrono::milliseconds{200}}};
    auto ex = co_await boost::asio::this_coro::executor;
    db::Connection held = co_await pool.acquire();
    // Another caller waits; releasing the connection after 50 ms hands it over.
    boost::asio::co_spawn(
        ex,
        [&]() -> Task<void> {
            boost::asio::steady_timer t{ex, std::chrono::milliseconds{50}};
            co_await t.async_wait(boost::asio::use_awaitable);
            held = db::Connection{};
        },
        boost::asio::detached);
    auto start = std::chrono::steady_clock::now();
    db::Connection second = co_await pool.acquire();
    EXPECT_TRUE(static_cast<bool>(second));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds{190});
    EXPECT_EQ(pool.stats().waiting, 0u);
    EXPECT_EQ(pool.stats().in_use, 1u);
    // Nobody releases now: the next caller gives up after the acquire timeout.
    bool timed_out = false;
    try {
        co_await pool.acquire();
    } catch (const db::timeout& e) {
        timed_out = true;
        EXPECT_EQ(e.http_status(), 503);
    }
    EXPECT_TRUE(timed_out);
    auto s = pool.stats();
    EXPECT_EQ(s.timeouts, 1u);
    EXPECT_EQ(s.size, 1u);
    EXPECT_EQ(s.opened, 1u);
}

ZEPHYR_TEST(db_pool, memory_database_is_one_connection) {
    db::Pool pool{"sqlite::memory:", {.max_size = 8}};
    co_await pool.execute("CREATE TABLE t (x INTEGER)");
    co_await pool.execute("INSERT INTO t VALUES (1)");
    // Every statement sees the same database.
    EXPECT_EQ(co_await pool.scalar<int>("SELECT count(*) FROM t"), 1);
    EXPECT_EQ(pool.stats().size, 1u);
}

ZEPHYR_TEST(db_pool, file_database_is_in_wal_mode) {
    db::Pool pool{temp_db()};
    EXPECT_EQ(co_await pool.scalar<std::string>("PRAGMA journal_mode"), "wal");
    EXPECT_EQ(co_await pool.scalar<int>("PRAGMA foreign_keys"), 1);
}

ZEPHYR_TEST(db_pool, missing_directory_is_a_clear_error) {
    db::Pool pool{"sqlite:///nonexistent-dir-zephyr/x.db"};
    std::string message;
    try {
        co_await pool.execute("SELECT 1");
    } catch (const db::connection_lost& e) {
        message = e.what();
    }
    EXPECT_NE(message.find("cannot open SQLite database"), std::string::npos) << message;
}
