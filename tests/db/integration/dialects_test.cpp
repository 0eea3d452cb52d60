// The same behaviour on SQLite, PostgreSQL and MariaDB: typed round trips, typed errors, transactions,
// savepoints, streaming and a busy pool. The servers are real (see db_fixture.hpp).
#include "db/integration/db_fixture.hpp"

#include <zephyr/db.hpp>
#include <zephyr/testing.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe/class.hpp>
#include <boost/describe/enum.hpp>

#include <gtest/gtest.h>

namespace db = zephyr::db;
using db_test::col;
using db_test::type_of;
using zephyr::Task;

namespace db_test {
enum class mood { happy, grumpy };
BOOST_DESCRIBE_ENUM(mood, happy, grumpy)

struct sample {
    std::int64_t id = 0;
    std::string name;
    std::optional<std::int64_t> big;
    double ratio = 0;
    bool flag = false;
    db::blob data;
    std::chrono::system_clock::time_point at{};
    std::optional<std::string> note;
    mood feeling = mood::happy;
};
BOOST_DESCRIBE_STRUCT(sample, (), (id, name, big, ratio, flag, data, at, note, feeling))

struct pair_ab {
    std::int64_t a = 0;
    std::int64_t b = 0;
};
BOOST_DESCRIBE_STRUCT(pair_ab, (), (a, b))

struct camel {
    std::int64_t itemId = 0;
    std::string displayName;
};
BOOST_DESCRIBE_STRUCT(camel, (), (itemId, displayName))
}  // namespace db_test

using db_test::sample;

class dialects : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        pool_ = std::make_unique<db::Pool>(db_test::url_for(GetParam(), db_test::table_name(GetParam())),
                                           db::pool_options{.max_size = 5});
        table_ = db_test::table_name(GetParam());
    }
    void TearDown() override {
        if (!pool_) return;
        zephyr::testing::run_task([&]() -> Task<void> { co_await pool_->execute("DROP TABLE IF EXISTS " + table_); }());
    }
    db::dialect dialect() const { return pool_->dialect(); }
    std::string t(col c) const { return type_of(dialect(), c); }
    void run(std::function<Task<void>()> body) { zephyr::testing::run_task(body()); }

    std::unique_ptr<db::Pool> pool_;
    std::string table_;
};

TEST_P(dialects, every_type_round_trips) {
    run([&]() -> Task<void> {
        auto& db = *pool_;
        co_await db.execute("CREATE TABLE " + table_ + " (id " + t(col::serial_pk) + ", name " + t(col::text) +
                            " NOT NULL, big " + t(col::bigint) + ", ratio " + t(col::real) + ", flag " +
                            t(col::boolean) + ", data " + t(col::blob) + ", at " + t(col::timestamp) + ", note " +
                            t(col::text) + ", feeling " + t(col::text) + ")");
        const auto at = std::chrono::system_clock::time_point{std::chrono::microseconds{1'714'979'289'123'456}};
        const db::blob bytes{std::byte{0}, std::byte{0xff}, std::byte{'\''}, std::byte{'\\'}, std::byte{10}};
        const std::string name = "Zoë 🦊 'quoted' \"double\" \\ back";
        co_await db.execute("INSERT INTO " + table_ +
                                " (name, big, ratio, flag, data, at, note, feeling) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            name, std::optional<std::int64_t>{9'007'199'254'740'993}, 0.1, true, bytes, at,
                            std::optional<std::string>{}, db_test::mood::grumpy);
        co_await db.execute("INSERT INTO " + table_ +
                                " (name, big, ratio, flag, data, at, note, feeling) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            "second", std::optional<std::int64_t>{}, -2.5e-300, false, db::blob{}, at,
                            std::optional<std::string>{"n"}, db_test::mood::happy);
        auto rows = co_await db.query<sample>("SELECT * FROM " + table_ + " ORDER BY id");
        EXPECT_EQ(rows.size(), 2u);
        if (rows.size() != 2) co_return;
        EXPECT_EQ(rows[0].name, name);
        EXPECT_EQ(rows[0].big, 9'007'199'254'740'993);
        EXPECT_DOUBLE_EQ(rows[0].ratio, 0.1);
        EXPECT_TRUE(rows[0].flag);
        EXPECT_EQ(rows[0].data, bytes);
        EXPECT_EQ(rows[0].at, at);
        EXPECT_EQ(rows[0].note, std::nullopt);
        EXPECT_EQ(rows[0].feeling, db_test::mood::grumpy);
        EXPECT_EQ(rows[1].big, std::nullopt);
        EXPECT_DOUBLE_EQ(rows[1].ratio, -2.5e-300);
        EXPECT_FALSE(rows[1].flag);
        EXPECT_TRUE(rows[1].data.empty());
        EXPECT_EQ(rows[1].note, "n");
        // Values compare as values in WHERE clauses too.
        EXPECT_EQ(co_await db.scalar<std::string>("SELECT name FROM " + table_ + " WHERE name = ? AND big = ?", name,
                                                  9'007'199'254'740'993),
                  name);
        EXPECT_EQ(co_await db.scalar<std::int64_t>("SELECT count(*) FROM " + table_ + " WHERE at = ?", at), 2);
    });
}

TEST_P(dialects, injection_attempts_stay_data) {
    run([&]() -> Task<void> {
        co_await pool_->execute("CREATE TABLE " + table_ + " (name " + t(col::text) + ")");
        for (std::string evil : {"'); DROP TABLE " + table_ + "; --", std::string{"\\'; SELECT 1; --"},
                                 std::string{"?"}, std::string{"$1"}}) {
            co_await pool_->execute("INSERT INTO " + table_ + " (name) VALUES (?)", evil);
            EXPECT_EQ(co_await pool_->scalar<std::int64_t>("SELECT count(*) FROM " + table_ + " WHERE name = ?", evil),
                      1)
                << evil;
        }
        // A NUL byte: data in SQLite and MariaDB; PostgreSQL text cannot hold one, which is an error, not a
        // value silently cut short.
        const std::string nul{"a\0b", 3};
        if (dialect() == db::dialect::postgresql) {
            bool refused = false;
            try {
                co_await pool_->execute("INSERT INTO " + table_ + " (name) VALUES (?)", nul);
            } catch (const db::Error& e) {
                refused = e.kind() == db::errc::misuse;
            }
            EXPECT_TRUE(refused);
        } else {
            co_await pool_->execute("INSERT INTO " + table_ + " (name) VALUES (?)", nul);
            EXPECT_EQ(co_await pool_->scalar<std::string>("SELECT name FROM " + table_ + " WHERE name = ?", nul), nul);
        }
    });
}

TEST_P(dialects, constraint_errors_are_typed) {
    run([&]() -> Task<void> {
        auto& db = *pool_;
        const std::string parent = table_ + "_p";
        co_await db.execute("DROP TABLE IF EXISTS " + table_);
        co_await db.execute("DROP TABLE IF EXISTS " + parent);
        co_await db.execute("CREATE TABLE " + parent + " (id " + t(col::bigint) +
                            " PRIMARY KEY, email VARCHAR(100) UNIQUE)");
        co_await db.execute("CREATE TABLE " + table_ + " (id " + t(col::bigint) + " PRIMARY KEY, parent " +
                            t(col::bigint) + " NOT NULL REFERENCES " + parent + "(id), legs " + t(col::bigint) +
                            " CHECK (legs >= 0))");
        co_await db.execute("INSERT INTO " + parent + " (id, email) VALUES (?, ?)", 1, "a@x");
        int caught = 0;
        try {
            co_await db.execute("INSERT INTO " + parent + " (id, email) VALUES (?, ?)", 2, "a@x");
        } catch (const db::unique_violation&) {
            ++caught;
        }
        try {
            co_await db.execute("INSERT INTO " + table_ + " (id, parent) VALUES (?, ?)", 1, 42);
        } catch (const db::foreign_key_violation&) {
            ++caught;
        }
        try {
            co_await db.execute("INSERT INTO " + table_ + " (id, parent) VALUES (?, ?)", 1, std::optional<int>{});
        } catch (const db::not_null_violation&) {
            ++caught;
        }
        try {
            co_await db.execute("INSERT INTO " + table_ + " (id, parent, legs) VALUES (?, ?, ?)", 1, 1, -1);
        } catch (const db::check_violation&) {
            ++caught;
        }
        try {
            co_await db.execute("SELEKT 1");
        } catch (const db::Error& e) {
            caught += e.kind() == db::errc::other ? 1 : 0;
        }
        EXPECT_EQ(caught, 5);
        EXPECT_EQ(co_await db.scalar<std::int64_t>("SELECT count(*) FROM " + parent), 1);
        co_await db.execute("DROP TABLE " + table_);
        co_await db.execute("DROP TABLE " + parent);
    });
}

TEST_P(dialects, transactions_commit_roll_back_and_nest) {
    run([&]() -> Task<void> {
        auto& db = *pool_;
        co_await db.execute("CREATE TABLE " + table_ + " (id " + t(col::bigint) + " PRIMARY KEY, v " + t(col::bigint) +
                            ")");
        co_await db.execute("INSERT INTO " + table_ + " (id, v) VALUES (1, 0)");
        const std::string bump = "UPDATE " + table_ + " SET v = v + 1 WHERE id = 1";
        co_await db.transaction([&](db::Tx& tx) -> Task<void> { co_await tx.execute(bump); });
        bool threw = false;
        try {
            co_await db.transaction([&](db::Tx& tx) -> Task<void> {
                co_await tx.execute(bump);
                throw std::runtime_error{"no"};
            });
        } catch (const std::runtime_error&) {
            threw = true;
        }
        EXPECT_TRUE(threw);
        co_await db.transaction([&](db::Tx& tx) -> Task<void> {
            co_await tx.execute(bump);  // 2
            try {
                co_await tx.transaction([&](db::Tx& inner) -> Task<void> {
                    co_await inner.execute(bump);
                    co_await inner.execute("INSERT INTO " + table_ + " (id, v) VALUES (1, 0)");  // duplicate key
                });
            } catch (const db::unique_violation&) {
            }
            co_await tx.transaction([&](db::Tx& inner) -> Task<void> { co_await inner.execute(bump); });  // 3
        });
        EXPECT_EQ(co_await db.scalar<std::int64_t>("SELECT v FROM " + table_ + " WHERE id = 1"), 3);
        for (auto level :
             {db::isolation::read_committed, db::isolation::repeatable_read, db::isolation::serializable}) {
            auto v = co_await db.transaction(
                [&](db::Tx& tx) -> Task<std::int64_t> {
                    co_return co_await tx.scalar<std::int64_t>("SELECT v FROM " + table_ + " WHERE id = 1");
                },
                {.isolation = level});
            EXPECT_EQ(v, 3);
        }
    });
}

TEST_P(dialects, for_each_streams_ten_thousand_rows) {
    run([&]() -> Task<void> {
        auto& db = *pool_;
        co_await db.execute("CREATE TABLE " + table_ + " (v " + t(col::bigint) + ")");
        co_await db.transaction([&](db::Tx& tx) -> Task<void> {
            for (int i = 0; i < 100; ++i) {
                std::string sql = "INSERT INTO " + table_ + " (v) VALUES ";
                for (int k = 0; k < 100; ++k)
                    sql += k ? ",(" + std::to_string(i * 100 + k + 1) + ")" : "(" + std::to_string(i * 100 + 1) + ")";
                co_await tx.execute(sql);
            }
        });
        std::int64_t sum = 0;
        auto n = co_await db.for_each<std::int64_t>([&](std::int64_t v) { sum += v; }, "SELECT v FROM " + table_);
        EXPECT_EQ(n, 10000u);
        EXPECT_EQ(sum, 50005000);
    });
}

TEST_P(dialects, a_busy_pool_serves_everyone) {
    run([&]() -> Task<void> {
        auto ex = co_await boost::asio::this_coro::executor;
        auto& db = *pool_;
        co_await db.execute("CREATE TABLE " + table_ + " (v " + t(col::bigint) + ")");
        int done = 0;
        std::vector<std::exception_ptr> errors;
        for (int i = 0; i < 40; ++i)
            boost::asio::co_spawn(
                ex,
                [&, i]() -> Task<void> {
                    co_await db.transaction([&](db::Tx& tx) -> Task<void> {
                        co_await tx.execute("INSERT INTO " + table_ + " (v) VALUES (?)", i);
                    });
                    ++done;
                },
                [&](std::exception_ptr e) {
                    if (e) errors.push_back(e);
                });
        while (done + static_cast<int>(errors.size()) < 40) {
            boost::asio::steady_timer pause{ex, std::chrono::milliseconds{5}};
            co_await pause.async_wait(boost::asio::use_awaitable);
        }
        EXPECT_TRUE(errors.empty());
        EXPECT_EQ(co_await db.scalar<std::int64_t>("SELECT count(*) FROM " + table_), 40);
        auto s = db.stats();
        EXPECT_LE(s.opened, 5u);
        EXPECT_EQ(s.in_use, 0u);
        EXPECT_GE(s.acquired, 40u);  // one per transaction (single statements may use a shared connection)
    });
}

TEST_P(dialects, columns_are_matched_to_members_by_name) {
    run([&]() -> Task<void> {
        auto& db = *pool_;
        // Any order, case ignored (PostgreSQL folds unquoted names to lower case), extra columns ignored.
        auto rows = co_await db.query<db_test::camel>("SELECT 'x' AS extra, 'Ann' AS displayname, 7 AS ITEMID");
        EXPECT_EQ(rows.size(), 1u);
        if (rows.size() == 1) {
            EXPECT_EQ(rows[0].itemId, 7);
            EXPECT_EQ(rows[0].displayName, "Ann");
        }
        // An exact match wins over one that differs in case, wherever it is.
        const char* exact = dialect() == db::dialect::mysql
                                ? "SELECT 1 AS itemid, 'lower' AS displayname, 'exact' AS `displayName`"
                                : "SELECT 1 AS itemid, 'lower' AS displayname, 'exact' AS \"displayName\"";
        auto picked = co_await db.query_one<db_test::camel>(exact);
        EXPECT_EQ(picked.displayName, "exact");
        // Statements run again and again with other column orders, into the same struct: each its own order.
        co_await db.execute("CREATE TABLE " + table_ + " (a " + t(col::bigint) + ", b " + t(col::bigint) + ")");
        co_await db.execute("INSERT INTO " + table_ + " (a, b) VALUES (?, ?)", 1, 2);
        for (int i = 0; i < 3; ++i) {
            auto ab = co_await db.query_one<db_test::pair_ab>("SELECT a, b FROM " + table_ + " WHERE a = ?", 1);
            auto ba = co_await db.query_one<db_test::pair_ab>("SELECT b, a FROM " + table_ + " WHERE a = ?", 1);
            EXPECT_EQ(ab.a, 1);
            EXPECT_EQ(ab.b, 2);
            EXPECT_EQ(ba.a, 1);
            EXPECT_EQ(ba.b, 2);
        }
        // A missing member names the struct, the member and the columns there are.
        try {
            (void)co_await db.query<db_test::camel>("SELECT 1 AS item_id, 'n' AS displayname");
            ADD_FAILURE() << "a missing column was not reported";
        } catch (const db::Error& e) {
            EXPECT_EQ(e.kind(), db::errc::bad_result);
            EXPECT_NE(std::string{e.what()}.find("itemId"), std::string::npos) << e.what();
            EXPECT_NE(std::string{e.what()}.find("item_id, displayname"), std::string::npos) << e.what();
        }
    });
}

INSTANTIATE_TEST_SUITE_P(db, dialects, ::testing::Values("sqlite", "postgres", "mariadb"),
                         [](const auto& info) { return info.param; });
