// The MariaDB/MySQL driver against a real server (the db_services ctest fixture starts one and writes its URL to
// services/mariadb.url). What every dialect shares is tested in dialects_test.cpp; these are MariaDB's own
// behaviours: both wire protocols (text without parameters, prepared statements with), error numbers, the
// statement cache, streaming, multi-statement scripts, lost and unreachable servers. Every test uses its own
// tables, since ctest runs tests in parallel against one database.
#include "db/integration/db_fixture.hpp"
#include "db/driver.hpp"

#include <zephyr/db.hpp>
#include <zephyr/testing.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe/class.hpp>

#include <gtest/gtest.h>

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace db = zephyr::db;
namespace asio = boost::asio;
using zephyr::Task;
using namespace std::chrono_literals;

namespace my_test {
struct sample {
    std::int64_t id = 0;
    bool flag = false;
    std::int64_t big = 0;
    double real = 0;
    std::string name;
    db::blob data;
    std::chrono::system_clock::time_point at{};
    std::chrono::system_clock::time_point stamp{};
    std::optional<std::int32_t> maybe;
};
BOOST_DESCRIBE_STRUCT(sample, (), (id, flag, big, real, name, data, at, stamp, maybe))
}  // namespace my_test
using my_test::sample;

namespace {

std::string mysql_url() { return db_test::service_url("mariadb"); }

/// The URL with another password.
std::string with_password(const std::string& url, std::string_view password) {
    const auto scheme = url.find("://") + 3;
    const auto at = url.find('@', scheme);
    const auto colon = url.find(':', scheme);
    return url.substr(0, colon + 1) + std::string{password} + url.substr(at);
}

/// The URL pointing at 127.0.0.1:port.
std::string at_port(const std::string& url, int port) {
    const auto at = url.find('@');
    const auto slash = url.find('/', at);
    return url.substr(0, at + 1) + "127.0.0.1:" + std::to_string(port) + url.substr(slash);
}

/// A table name unique to the running test.
std::string table_name() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string{"my_"} + info->name();
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return name;
}

/// Runs `f` and returns what it threw if that was an E; fails the test (and returns nullopt) otherwise.
template <class E, class F>
Task<std::optional<E>> thrown(F f) {
    std::exception_ptr error;
    try {
        co_await f();
    } catch (...) {
        error = std::current_exception();
    }
    std::optional<E> out;
    if (!error) {
        ADD_FAILURE() << "nothing was thrown";
        co_return out;
    }
    try {
        std::rethrow_exception(error);
    } catch (const E& e) {
        out.emplace(e);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "threw something else: " << typeid(e).name() << ": " << e.what();
    }
    co_return out;
}

/// The value of a session status counter (Com_stmt_prepare, ...) of connection `c`.
Task<std::int64_t> session_status(db::Session& c, std::string_view name) {
    auto row = co_await c.query_one<std::tuple<std::string, std::int64_t>>("SHOW SESSION STATUS LIKE '" +
                                                                           std::string{name} + "'");
    co_return std::get<1>(row);
}

Task<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t{co_await asio::this_coro::executor, d};
    co_await t.async_wait(asio::use_awaitable);
}

/// A port on 127.0.0.1 that nothing listens on (bound, then closed again).
int closed_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
}

/// A socket that listens but never accepts nor says anything: TCP connects, the MySQL handshake never comes.
struct silent_server {
    silent_server() {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::listen(fd, 8);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~silent_server() { ::close(fd); }
    silent_server(const silent_server&) = delete;
    silent_server& operator=(const silent_server&) = delete;
    int fd = -1;
    int port = 0;
};

}  // namespace

ZEPHYR_TEST(Mysql, every_value_kind_round_trips_through_both_protocols) {
    db::Pool pool{mysql_url()};
    const std::string t = table_name();
    co_await pool.execute("DROP TABLE IF EXISTS " + t);
    co_await pool.execute("CREATE TABLE " + t +
                          " (id BIGINT AUTO_INCREMENT PRIMARY KEY, flag BOOLEAN NOT NULL, big BIGINT NOT NULL, "
                          "`real` DOUBLE NOT NULL, name VARCHAR(200) NOT NULL, data LONGBLOB NOT NULL, "
                          "at DATETIME(6) NOT NULL, stamp TIMESTAMP(6) NOT NULL, maybe INT NULL) "
                          "CHARACTER SET utf8mb4");
    std::string all_bytes;
    for (int i = 0; i < 256; ++i)
        all_bytes.push_back(static_cast<char>(i));
    const db::blob bytes{reinterpret_cast<const std::byte*>(all_bytes.data()),
                         reinterpret_cast<const std::byte*>(all_bytes.data()) + all_bytes.size()};
    const std::string emoji = "Zoë 🦊👩‍👩‍👧 日本語 'q' \"d\" \\ back";
    using tp = std::chrono::system_clock::time_point;
    const tp at{std::chrono::microseconds{1'714'979'289'123'456}};          // 2024-05-06 07:08:09.123456 UTC
    const tp before_1970{std::chrono::microseconds{-315'619'199'500'000}};  // 1960-01-01 00:00:00.5 UTC
    const tp stamp{std::chrono::microseconds{1'000'000'000'000'001}};       // 2001-09-09 01:46:40.000001 UTC

    const auto ins = "INSERT INTO " + t + " (flag, big, `real`, name, data, at, stamp, maybe) VALUES (?,?,?,?,?,?,?,?)";
    co_await pool.execute(ins, true, std::numeric_limits<std::int64_t>::max(), 0.1, emoji, bytes, at, stamp,
                          std::optional<std::int32_t>{-7});
    co_await pool.execute(ins, false, std::numeric_limits<std::int64_t>::min(), -2.5e-300, std::string{}, db::blob{},
                          before_1970, stamp, std::optional<std::int32_t>{});
    co_await pool.execute(ins, true, std::int64_t{9'007'199'254'740'993}, 3.141592653589793, "x", bytes, at, stamp,
                          std::nullopt);

    const auto check = [&](const std::vector<sample>& rows, const char* protocol) {
        SCOPED_TRACE(protocol);
        EXPECT_EQ(rows.size(), 3u);
        if (rows.size() != 3) return;
        EXPECT_TRUE(rows[0].flag);
        EXPECT_EQ(rows[0].big, std::numeric_limits<std::int64_t>::max());
        EXPECT_EQ(rows[0].real, 0.1);
        EXPECT_EQ(rows[0].name, emoji);
        EXPECT_EQ(rows[0].data, bytes);
        EXPECT_EQ(rows[0].at, at);
        EXPECT_EQ(rows[0].stamp, stamp);
        EXPECT_EQ(rows[0].maybe, std::optional<std::int32_t>{-7});
        EXPECT_FALSE(rows[1].flag);
        EXPECT_EQ(rows[1].big, std::numeric_limits<std::int64_t>::min());
        EXPECT_EQ(rows[1].real, -2.5e-300);
        EXPECT_EQ(rows[1].name, "");
        EXPECT_TRUE(rows[1].data.empty());
        EXPECT_EQ(rows[1].at, before_1970);
        EXPECT_EQ(rows[1].maybe, std::nullopt);
        EXPECT_EQ(rows[2].big, 9'007'199'254'740'993);
        EXPECT_EQ(rows[2].real, 3.141592653589793);
    };
    // No parameters: the text protocol. A parameter: a prepared statement and the binary protocol.
    check(co_await pool.query<sample>("SELECT * FROM " + t + " ORDER BY id"), "text protocol");
    check(co_await pool.query<sample>("SELECT * FROM " + t + " WHERE id > ? ORDER BY id", 0), "binary protocol");

    // Values read back where they were compared as parameters: the binding is exact, not text.
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM " + t + " WHERE at = ? AND name = ?", at, emoji),
              1);
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM " + t + " WHERE data = ?", bytes), 2);
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM " + t + " WHERE stamp = ?", stamp), 3);
    EXPECT_EQ(co_await pool.scalar<std::string>("SELECT CHAR_LENGTH(?)", std::string{"🦊"}), "1");
    EXPECT_EQ(co_await pool.scalar<double>("SELECT ?", 1e300), 1e300);
    EXPECT_EQ(co_await pool.scalar<double>("SELECT ?", -0.3333333333333333), -0.3333333333333333);
    EXPECT_EQ(co_await pool.scalar<bool>("SELECT ?", true), true);
    EXPECT_EQ(co_await pool.scalar<std::optional<std::string>>("SELECT ?", std::nullopt), std::nullopt);
    co_await pool.execute("DROP TABLE " + t);
}

ZEPHYR_TEST(Mysql, long_values_are_read_whole) {
    db::Pool pool{mysql_url()};
    const std::string t = table_name();
    co_await pool.execute("DROP TABLE IF EXISTS " + t);
    co_await pool.execute("CREATE TABLE " + t + " (id INT PRIMARY KEY, body LONGTEXT, data LONGBLOB)");
    std::string text(300'000, 'a');
    for (std::size_t i = 0; i < text.size(); i += 997)
        text[i] = static_cast<char>('b' + i % 20);
    std::string raw(1'000'000, '\0');
    for (std::size_t i = 0; i < raw.size(); ++i)
        raw[i] = static_cast<char>(i * 31 % 251);
    const db::blob bytes{reinterpret_cast<const std::byte*>(raw.data()),
                         reinterpret_cast<const std::byte*>(raw.data()) + raw.size()};
    co_await pool.execute("INSERT INTO " + t + " VALUES (1, ?, ?), (2, 'short', ''), (3, ?, ?)", text, bytes,
                          text + "!", bytes);
    // Short, long, short, long again through the same buffers: each long value is fetched whole into a grown one.
    auto rows = co_await pool.query<std::tuple<std::int32_t, std::string, db::blob>>(
        "SELECT id, body, data FROM " + t + " WHERE id >= ? ORDER BY id", 1);
    EXPECT_EQ(rows.size(), 3u);
    if (rows.size() == 3) {
        EXPECT_EQ(std::get<1>(rows[0]), text);
        EXPECT_EQ(std::get<2>(rows[0]), bytes);
        EXPECT_EQ(std::get<1>(rows[1]), "short");
        EXPECT_EQ(std::get<1>(rows[2]), text + "!");
        EXPECT_EQ(std::get<2>(rows[2]), bytes);
    }
    auto plain = co_await pool.query<std::string>("SELECT body FROM " + t + " ORDER BY id");
    EXPECT_EQ(plain.size(), 3u);
    if (plain.size() == 3) {
        EXPECT_EQ(plain[2], text + "!");
    }
    co_await pool.execute("DROP TABLE " + t);
}

ZEPHYR_TEST(Mysql, conversions_fail_with_the_column_named) {
    db::Pool pool{mysql_url()};
    for (const char* sql : {"SELECT NULL AS n, 'abc' AS s, 18446744073709551615 AS u, 3000000000 AS w, 2 AS b",
                            "SELECT NULL AS n, 'abc' AS s, 18446744073709551615 AS u, 3000000000 AS w, ? AS b"}) {
        SCOPED_TRACE(sql);
        const bool with_param = std::string_view{sql}.find('?') != std::string_view::npos;
        auto read = [&]<class T>(std::string_view column) -> Task<void> {
            db::Params p;
            if (with_param) p.push_back(db::Value{std::int64_t{2}});
            struct sink final : db::RowSink {
                std::string_view column;
                void on_row(const db::Row& row) override { (void)row.get<T>(column); }
            } s;
            s.column = column;
            co_await pool.run(sql, p, &s);
        };
        auto e = co_await thrown<db::Error>([&] { return read.operator()<std::int64_t>("n"); });
        if (e) {
            EXPECT_NE(std::string{e->what()}.find("NULL"), std::string::npos) << e->what();
        }
        if (e) {
            EXPECT_EQ(e->kind(), db::errc::bad_result);
        }
        e = co_await thrown<db::Error>([&] { return read.operator()<std::int64_t>("s"); });
        if (e) {
            EXPECT_NE(std::string{e->what()}.find("'s'"), std::string::npos) << e->what();
        }
        e = co_await thrown<db::Error>([&] { return read.operator()<double>("s"); });
        if (e) {
            EXPECT_EQ(e->kind(), db::errc::bad_result);
        }
        e = co_await thrown<db::Error>([&] { return read.operator()<std::int64_t>("u"); });
        if (e) {
            EXPECT_NE(std::string{e->what()}.find("range"), std::string::npos) << e->what();
        }
        e = co_await thrown<db::Error>([&] { return read.operator()<std::int32_t>("w"); });
        if (e) {
            EXPECT_EQ(e->kind(), db::errc::bad_result);
        }
        e = co_await thrown<db::Error>([&] { return read.operator()<bool>("b"); });
        if (e) {
            EXPECT_EQ(e->kind(), db::errc::bad_result);
        }
    }
    EXPECT_EQ(co_await pool.scalar<double>("SELECT CAST(12.50 AS DECIMAL(6,2))"), 12.5);
    EXPECT_EQ(co_await pool.scalar<double>("SELECT CAST(? AS DECIMAL(6,2))", 12.5), 12.5);
    // BIT columns arrive as raw big-endian bytes, not digits.
    const std::string t = table_name();
    co_await pool.execute("DROP TABLE IF EXISTS " + t);
    co_await pool.execute("CREATE TABLE " + t + " (b BIT(12), f BIT(1))");
    co_await pool.execute("INSERT INTO " + t + " VALUES (b'101000000101', b'1')");
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT b FROM " + t), 0b101000000101);
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT b FROM " + t + " WHERE f = ?", true), 0b101000000101);
    EXPECT_EQ(co_await pool.scalar<bool>("SELECT f FROM " + t), true);
    EXPECT_EQ(co_await pool.scalar<bool>("SELECT f FROM " + t + " WHERE b > ?", 0), true);
    co_await pool.execute("DROP TABLE " + t);
    EXPECT_EQ(co_await pool.scalar<bool>("SELECT CAST(1 AS UNSIGNED) = ?", 1), true);
    EXPECT_EQ(co_await pool.scalar<std::string>("SELECT 'Zoë'"), "Zoë");
}

ZEPHYR_TEST(Mysql, injection_attempts_stay_data) {
    db::Pool pool{mysql_url()};
    const std::string t = table_name();
    co_await pool.execute("DROP TABLE IF EXISTS " + t);
    co_await pool.execute("CREATE TABLE " + t + " (name VARCHAR(200))");
    const std::vector<std::string> evil{"x'; DROP TABLE " + t + "; -- ",
                                        "\\'; DROP TABLE " + t + "; #",
                                        "' OR '1'='1",
                                        std::string{"nul\0byte", 8},
                                        "?",
                                        "??"};
    for (const auto& s : evil)
        co_await pool.execute("INSERT INTO " + t + " (name) VALUES (?)", s);
    auto names = co_await pool.query<std::string>("SELECT name FROM " + t + " WHERE name <> ? ORDER BY name", "");
    EXPECT_EQ(names.size(), evil.size());
    for (const auto& s : evil)
        EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM " + t + " WHERE name = ?", s), 1) << s;
    // A question mark inside a literal is not a placeholder.
    EXPECT_EQ(co_await pool.scalar<std::string>("SELECT CONCAT('?', ?)", "!"), "?!");
    co_await pool.execute("DROP TABLE " + t);
}

ZEPHYR_TEST(Mysql, server_errors_are_typed) {
    db::Pool pool{mysql_url(), {.max_size = 4}};
    const std::string parent = table_name() + "_p", child = table_name() + "_c";
    co_await pool.execute("DROP TABLE IF EXISTS " + child + ", " + parent);
    co_await pool.execute("CREATE TABLE " + parent +
                          " (id INT PRIMARY KEY, email VARCHAR(100) UNIQUE, "
                          "n INT NOT NULL, m INT NOT NULL, v INT CHECK (v > 0)) ENGINE=InnoDB");
    co_await pool.execute("CREATE TABLE " + child +
                          " (id INT PRIMARY KEY, parent_id INT NOT NULL, FOREIGN KEY "
                          "(parent_id) REFERENCES " +
                          parent + " (id)) ENGINE=InnoDB");
    co_await pool.execute("INSERT INTO " + parent + " (id, email, n, m, v) VALUES (?, ?, 1, 1, 1)", 1, "a@x");
    co_await pool.execute("INSERT INTO " + child + " VALUES (1, 1)");

    const auto sql_dup = "INSERT INTO " + parent + " (id, email, n, m) VALUES (?, ?, 1, 1)";
    auto u = co_await thrown<db::unique_violation>([&] { return pool.execute(sql_dup, 2, "a@x"); });
    if (u) {
        EXPECT_EQ(u->sqlstate(), "23000");
        const std::string what = u->what();
        EXPECT_NE(what.find("MySQL error 1062, SQLSTATE 23000"), std::string::npos) << what;
        EXPECT_NE(what.find("in: INSERT INTO " + parent), std::string::npos) << what;
    }
    // The same error through the text protocol.
    const auto sql_dup_text = "INSERT INTO " + parent + " (id, email, n, m) VALUES (3, 'a@x', 1, 1)";
    co_await thrown<db::unique_violation>([&] { return pool.execute(sql_dup_text); });

    const auto sql_fk_insert = "INSERT INTO " + child + " VALUES (?, ?)";
    co_await thrown<db::foreign_key_violation>([&] { return pool.execute(sql_fk_insert, 2, 99); });
    const auto sql_fk_delete = "DELETE FROM " + parent + " WHERE id = ?";
    co_await thrown<db::foreign_key_violation>([&] { return pool.execute(sql_fk_delete, 1); });

    const auto sql_null = "INSERT INTO " + parent + " (id, n, m) VALUES (?, ?, 1)";
    co_await thrown<db::not_null_violation>([&] { return pool.execute(sql_null, 4, std::nullopt); });
    const auto sql_no_default = "INSERT INTO " + parent + " (id, n) VALUES (?, 1)";  // m has no default: 1364
    co_await thrown<db::not_null_violation>([&] { return pool.execute(sql_no_default, 5); });
    const auto sql_check = "INSERT INTO " + parent + " (id, n, m, v) VALUES (?, 1, 1, ?)";
    co_await thrown<db::check_violation>([&] { return pool.execute(sql_check, 6, -1); });

    auto other = co_await thrown<db::Error>([&] { return pool.execute("SELEC 1"); });
    if (other) {
        EXPECT_EQ(other->kind(), db::errc::other);
        EXPECT_NE(std::string{other->what()}.find("MySQL error 1064"), std::string::npos) << other->what();
    }
    other = co_await thrown<db::Error>([&] { return pool.execute("SELECT * FROM no_such_table_here WHERE a = ?", 1); });
    if (other) {
        EXPECT_EQ(other->kind(), db::errc::other);
    }

    // Lock wait timeout (1205) → db::timeout.
    {
        db::Tx holder = co_await pool.begin();
        co_await holder.execute("UPDATE " + parent + " SET n = 2 WHERE id = ?", 1);
        db::Connection c = co_await pool.acquire();
        co_await c.execute("SET SESSION innodb_lock_wait_timeout = 1");
        const auto sql_locked = "UPDATE " + parent + " SET n = 3 WHERE id = ?";
        auto e = co_await thrown<db::timeout>([&] { return c.execute(sql_locked, 1); });
        if (e) {
            EXPECT_NE(std::string{e->what()}.find("1205"), std::string::npos) << e->what();
        }
        co_await holder.rollback();
    }

    // Deadlock (1213): two transactions take two rows in opposite order; InnoDB picks one as the victim.
    co_await pool.execute("INSERT INTO " + parent + " (id, n, m) VALUES (10, 0, 0), (11, 0, 0)");
    {
        db::Tx a = co_await pool.begin();
        db::Tx b = co_await pool.begin();
        co_await a.execute("UPDATE " + parent + " SET n = 1 WHERE id = 10");
        co_await b.execute("UPDATE " + parent + " SET n = 1 WHERE id = 11");
        std::exception_ptr a_error, b_error;
        bool a_done = false;
        const auto a_sql = "UPDATE " + parent + " SET n = 2 WHERE id = ?";
        asio::co_spawn(
            co_await asio::this_coro::executor, [&]() -> Task<void> { co_await a.execute(a_sql, 11); },
            [&](std::exception_ptr e) {
                a_error = e;
                a_done = true;
            });
        co_await sleep_for(300ms);  // a now waits for b's lock
        try {
            co_await b.execute(a_sql, 10);
        } catch (...) {
            b_error = std::current_exception();
        }
        while (!a_done)
            co_await sleep_for(10ms);
        int deadlocks = 0;
        for (auto& e : {a_error, b_error}) {
            if (!e) continue;
            try {
                std::rethrow_exception(e);
            } catch (const db::deadlock& d) {
                ++deadlocks;
                EXPECT_TRUE(d.retryable());
                EXPECT_EQ(d.sqlstate(), "40001");
            } catch (const std::exception& other_error) {
                ADD_FAILURE() << other_error.what();
            }
        }
        EXPECT_EQ(deadlocks, 1);
        co_await a.rollback();
        co_await b.rollback();
    }
    co_await pool.execute("DROP TABLE " + child + ", " + parent);
}

ZEPHYR_TEST(Mysql, statement_cache_reuses_and_evicts) {
    db::Pool pool{mysql_url() + "?statement_cache=2", {.max_size = 1}};
    db::Connection c = co_await pool.acquire();
    const auto prepares0 = co_await session_status(c, "Com_stmt_prepare");
    const auto closes0 = co_await session_status(c, "Com_stmt_close");
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(co_await c.scalar<std::int64_t>("SELECT ? + 1", i), i + 1);
    EXPECT_EQ(co_await session_status(c, "Com_stmt_prepare") - prepares0, 1);  // prepared once, run five times

    // Capacity 2: B and C join A, which is pushed out by C; D pushes out B; A again is prepared anew (out: C).
    EXPECT_EQ(co_await c.scalar<std::int64_t>("SELECT ? + 2", 1), 3);
    EXPECT_EQ(co_await c.scalar<std::int64_t>("SELECT ? + 3", 1), 4);
    EXPECT_EQ(co_await c.scalar<std::int64_t>("SELECT ? + 4", 1), 5);
    EXPECT_EQ(co_await c.scalar<std::int64_t>("SELECT ? + 1", 1), 2);
    EXPECT_EQ(co_await session_status(c, "Com_stmt_prepare") - prepares0, 5);
    EXPECT_EQ(co_await session_status(c, "Com_stmt_close") - closes0, 3);
    // The most recently used ones are still there.
    EXPECT_EQ(co_await c.scalar<std::int64_t>("SELECT ? + 4", 2), 6);
    EXPECT_EQ(co_await session_status(c, "Com_stmt_prepare") - prepares0, 5);

    // statement_cache=0: every statement is prepared and closed again.
    db::Pool uncached{mysql_url() + "?statement_cache=0", {.max_size = 1}};
    db::Connection u = co_await uncached.acquire();
    const auto p0 = co_await session_status(u, "Com_stmt_prepare");
    const auto c0 = co_await session_status(u, "Com_stmt_close");
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(co_await u.scalar<std::int64_t>("SELECT ?", i), i);
    EXPECT_EQ(co_await session_status(u, "Com_stmt_prepare") - p0, 3);
    EXPECT_EQ(co_await session_status(u, "Com_stmt_close") - c0, 3);

    // A statement that fails to prepare is not cached and leaves the connection usable.
    co_await thrown<db::Error>([&] { return c.execute("SELECT ? FROM no_such_table_here", 1); });
    EXPECT_EQ(co_await c.scalar<std::int64_t>("SELECT ? + 1", 41), 42);
}

ZEPHYR_TEST(Mysql, a_failing_sink_leaves_the_connection_usable) {
    db::Pool pool{mysql_url(), {.max_size = 1}};
    db::Connection c = co_await pool.acquire();
    const auto id = co_await c.scalar<std::int64_t>("SELECT CONNECTION_ID()");
    const std::string seq = "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 2000) ";
    for (bool with_param : {false, true}) {
        SCOPED_TRACE(with_param ? "binary protocol" : "text protocol");
        std::size_t seen = 0;
        const std::string sql = seq + (with_param ? "SELECT n FROM seq WHERE n > ?" : "SELECT n FROM seq");
        auto e = co_await thrown<std::runtime_error>([&]() -> Task<void> {
            auto f = [&](std::int64_t) {
                if (++seen == 10) throw std::runtime_error{"sink says no"};
            };
            if (with_param)
                co_await c.for_each<std::int64_t>(f, sql, 0);
            else
                co_await c.for_each<std::int64_t>(f, sql);
        });
        if (e) {
            EXPECT_STREQ(e->what(), "sink says no");
        }
        EXPECT_EQ(seen, 10u);  // no rows after the failure reach the sink
        // A row that cannot be read (NULL into a non-optional) fails the same way.
        const std::string with_null =
            "SELECT IF(n = 5, NULL, n) FROM (" + seq + "SELECT n FROM seq) s" + (with_param ? " WHERE n > ?" : "");
        co_await thrown<db::Error>(
            [&] { return with_param ? c.query<std::int64_t>(with_null, 0) : c.query<std::int64_t>(with_null); });
        EXPECT_EQ(co_await c.scalar<std::int64_t>("SELECT ?", 7), 7);
        EXPECT_EQ(co_await c.scalar<std::int64_t>("SELECT 8"), 8);
    }
    EXPECT_EQ(co_await c.scalar<std::int64_t>("SELECT CONNECTION_ID()"), id);  // the same connection throughout
}

ZEPHYR_TEST(Mysql, streams_ten_thousand_rows) {
    db::Pool pool{mysql_url()};
    // 0..9 four times over: 10,000 rows (a recursive CTE stops at max_recursive_iterations, 1000 by default).
    const std::string digits =
        "(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL "
        "SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL "
        "SELECT 8 UNION ALL SELECT 9)";
    const std::string sql =
        "SELECT n, REPEAT('x', 200) FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 1 "
        "AS n FROM " +
        digits + " a, " + digits + " b, " + digits + " c, " + digits + " e) s";
    for (bool with_param : {false, true}) {
        std::int64_t sum = 0;
        std::size_t longest = 0;
        auto f = [&](std::tuple<std::int64_t, std::string> row) {
            sum += std::get<0>(row);
            longest = std::max(longest, std::get<1>(row).size());
        };
        const std::size_t n =
            with_param ? co_await pool.for_each<std::tuple<std::int64_t, std::string>>(f, sql + " WHERE n >= ?", 1)
                       : co_await pool.for_each<std::tuple<std::int64_t, std::string>>(f, sql);
        EXPECT_EQ(n, 10'000u);
        EXPECT_EQ(sum, 10'000 * 10'001 / 2);
        EXPECT_EQ(longest, 200u);
    }
}

ZEPHYR_TEST(Mysql, multi_statement_scripts_run_without_parameters) {
    db::Pool pool{mysql_url(), {.max_size = 1}};
    const std::string t = table_name();
    auto r = co_await pool.execute("DROP TABLE IF EXISTS " + t + "; CREATE TABLE " + t +
                                   " (id INT AUTO_INCREMENT PRIMARY KEY, v INT); INSERT INTO " + t +
                                   " (v) VALUES (1), (2); INSERT INTO " + t + " (v) VALUES (3); UPDATE " + t +
                                   " SET v = v * 10 WHERE v < 3");
    EXPECT_EQ(r.affected_rows, 5u);  // 2 + 1 + 2
    EXPECT_EQ(r.last_insert_id, std::optional<std::int64_t>{3});
    // The rows of the first result with columns; the later results are read and dropped.
    auto rows = co_await pool.query<std::int64_t>("SELECT v FROM " + t + " ORDER BY id; SELECT 99; DO 1");
    EXPECT_EQ(rows, (std::vector<std::int64_t>{10, 20, 3}));
    // A failing statement in the middle stops the script; the connection is fine afterwards.
    const std::string script = "INSERT INTO " + t + " (id, v) VALUES (10, 1); INSERT INTO " + t +
                               " (id, v) VALUES (10, 2); INSERT INTO " + t + " (id, v) VALUES (11, 3)";
    co_await thrown<db::unique_violation>([&] { return pool.execute(script); });
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM " + t), 4);
    co_await pool.execute("DROP TABLE " + t);
}

ZEPHYR_TEST(Mysql, last_insert_id_and_affected_rows) {
    db::Pool pool{mysql_url()};
    const std::string t = table_name();
    co_await pool.execute("DROP TABLE IF EXISTS " + t);
    co_await pool.execute("CREATE TABLE " + t + " (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)");
    auto r = co_await pool.execute("INSERT INTO " + t + " (v) VALUES (?)", 1);
    EXPECT_EQ(r.affected_rows, 1u);
    EXPECT_EQ(r.last_insert_id, std::optional<std::int64_t>{1});
    r = co_await pool.execute("INSERT INTO " + t + " (v) VALUES (?), (?), (?)", 2, 3, 4);
    EXPECT_EQ(r.affected_rows, 3u);
    EXPECT_EQ(r.last_insert_id, std::optional<std::int64_t>{2});  // MySQL reports the batch's first id
    r = co_await pool.execute("INSERT INTO " + t + " (v) VALUES (5)");
    EXPECT_EQ(r.last_insert_id, std::optional<std::int64_t>{5});
    r = co_await pool.execute("UPDATE " + t + " SET v = v + 1 WHERE v > ?", 2);
    EXPECT_EQ(r.affected_rows, 3u);
    EXPECT_EQ(r.last_insert_id, std::nullopt);
    r = co_await pool.execute("DELETE FROM " + t + " WHERE v < 100");
    EXPECT_EQ(r.affected_rows, 5u);
    r = co_await pool.execute("SELECT * FROM " + t);
    EXPECT_EQ(r.affected_rows, 0u);
    co_await pool.execute("DROP TABLE " + t);
}

ZEPHYR_TEST(Mysql, a_killed_connection_is_lost_and_the_pool_recovers) {
    db::Pool pool{mysql_url(), {.max_size = 3, .health_check_after = 1h}};
    // Killed while held: the next statement throws connection_lost.
    for (bool with_param : {false, true}) {
        db::Connection victim = co_await pool.acquire();
        const auto id = co_await victim.scalar<std::int64_t>("SELECT CONNECTION_ID()");
        co_await pool.execute("KILL CONNECTION " + std::to_string(id));
        co_await sleep_for(50ms);
        auto e = co_await thrown<db::connection_lost>(
            [&] { return with_param ? victim.execute("SELECT ?", 1) : victim.execute("SELECT 1"); });
        if (e) {
            EXPECT_NE(std::string{e->what()}.find("MySQL error"), std::string::npos) << e->what();
        }
    }
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT 1"), 1);

    // Killed while idle in the pool: noticed without a round trip (the socket reads EOF), replaced.
    std::int64_t idle_id = 0;
    {
        db::Connection idle = co_await pool.acquire();
        db::Connection killer = co_await pool.acquire();
        idle_id = co_await idle.scalar<std::int64_t>("SELECT CONNECTION_ID()");
        idle = db::Connection{};  // back to the pool
        co_await killer.execute("KILL CONNECTION " + std::to_string(idle_id));
    }
    co_await sleep_for(100ms);
    {
        // Both idle connections handed out at once: the killed one is replaced by a new one.
        db::Connection a = co_await pool.acquire();
        db::Connection b = co_await pool.acquire();
        EXPECT_NE(co_await a.scalar<std::int64_t>("SELECT CONNECTION_ID()"), idle_id);
        EXPECT_NE(co_await b.scalar<std::int64_t>("SELECT CONNECTION_ID()"), idle_id);
    }

    // Killed in the middle of a query.
    db::Connection busy = co_await pool.acquire();
    const auto busy_id = co_await busy.scalar<std::int64_t>("SELECT CONNECTION_ID()");
    bool done = false;
    std::exception_ptr busy_error;
    asio::co_spawn(
        co_await asio::this_coro::executor, [&]() -> Task<void> { co_await busy.execute("SELECT SLEEP(?)", 10); },
        [&](std::exception_ptr e) {
            busy_error = e;
            done = true;
        });
    co_await sleep_for(200ms);
    const auto started = std::chrono::steady_clock::now();
    co_await pool.execute("KILL CONNECTION " + std::to_string(busy_id));
    while (!done)
        co_await sleep_for(10ms);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    EXPECT_TRUE(busy_error != nullptr);
    if (busy_error) {
        try {
            std::rethrow_exception(busy_error);
        } catch (const db::connection_lost&) {
        } catch (const std::exception& other) {
            ADD_FAILURE() << other.what();
        }
    }
    busy = db::Connection{};
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT 2"), 2);
}

ZEPHYR_TEST(Mysql, a_cancelled_statement_abandons_its_connection) {
    using namespace asio::experimental::awaitable_operators;
    db::Pool pool{mysql_url(), {.max_size = 1}};
    const auto first_id = co_await pool.scalar<std::int64_t>("SELECT CONNECTION_ID()");
    asio::steady_timer timer{co_await asio::this_coro::executor, 200ms};
    const auto started = std::chrono::steady_clock::now();
    auto which = co_await (pool.scalar<std::int64_t>("SELECT SLEEP(?)", 10) || timer.async_wait(asio::use_awaitable));
    EXPECT_EQ(which.index(), 1u);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
    // The connection was mid-statement: it is discarded and the pool opens another.
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT 5"), 5);
    EXPECT_NE(co_await pool.scalar<std::int64_t>("SELECT CONNECTION_ID()"), first_id);
}

ZEPHYR_TEST(Mysql, a_closed_port_is_connection_lost_quickly) {
    db::Pool pool{at_port(mysql_url(), closed_port())};
    const auto started = std::chrono::steady_clock::now();
    auto e = co_await thrown<db::connection_lost>([&] { return pool.execute("SELECT 1"); });
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    if (e) {
        EXPECT_NE(std::string{e->what()}.find("cannot connect"), std::string::npos) << e->what();
    }
}

ZEPHYR_TEST(Mysql, a_silent_server_times_out_connecting) {
    silent_server server;
    db::Pool pool{at_port(mysql_url(), server.port), {.connect_timeout = 300ms}};
    const auto started = std::chrono::steady_clock::now();
    auto e = co_await thrown<db::connection_lost>([&] { return pool.execute("SELECT 1"); });
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 3s);
    if (e) {
        EXPECT_NE(std::string{e->what()}.find("300 ms"), std::string::npos) << e->what();
    }
}

ZEPHYR_TEST(Mysql, a_bad_password_is_connection_lost_without_the_password) {
    const std::string secret = "s3cret-Wr0ng-pw";
    db::Pool pool{with_password(mysql_url(), secret)};
    auto e = co_await thrown<db::connection_lost>([&] { return pool.execute("SELECT 1"); });
    if (e) {
        const std::string what = e->what();
        EXPECT_EQ(what.find(secret), std::string::npos) << what;
        EXPECT_NE(what.find("Access denied"), std::string::npos) << what;
        EXPECT_NE(what.find("1045"), std::string::npos) << what;
    }
}

ZEPHYR_TEST(Mysql, transactions_begin_with_their_options) {
    db::Pool pool{mysql_url(), {.max_size = 2}};
    const std::string t = table_name();
    co_await pool.execute("DROP TABLE IF EXISTS " + t);
    co_await pool.execute("CREATE TABLE " + t + " (v INT) ENGINE=InnoDB");
    co_await pool.transaction(
        [&](db::Tx& tx) -> Task<void> { co_await tx.execute("INSERT INTO " + t + " VALUES (?)", 1); },
        {.isolation = db::isolation::serializable});
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM " + t), 1);
    // READ ONLY is enforced by the server (error 1792).
    const auto insert = "INSERT INTO " + t + " VALUES (2)";
    auto e = co_await thrown<db::Error>([&] {
        return pool.transaction([&](db::Tx& tx) -> Task<void> { co_await tx.execute(insert); },
                                {.isolation = db::isolation::read_committed, .read_only = true});
    });
    if (e) {
        EXPECT_NE(std::string{e->what()}.find("1792"), std::string::npos) << e->what();
    }
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM " + t), 1);
    co_await pool.execute("DROP TABLE " + t);
}

TEST(Mysql, begin_sql_sets_the_isolation_first) {
    auto drv = db::detail::make_mysql_driver(db::parse_url(mysql_url()), {});
    EXPECT_EQ(drv->dialect(), db::dialect::mysql);
    EXPECT_EQ(drv->begin_sql({}), "START TRANSACTION");
    EXPECT_EQ(drv->begin_sql({.read_only = true}), "START TRANSACTION READ ONLY");
    EXPECT_EQ(drv->begin_sql({.isolation = db::isolation::serializable}),
              "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE; START TRANSACTION");
    EXPECT_EQ(drv->begin_sql({.isolation = db::isolation::read_committed, .read_only = true}),
              "SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION READ ONLY");
}

TEST(Mysql, url_parameters_are_checked) {
    EXPECT_THROW(db::detail::make_mysql_driver(db::parse_url(mysql_url() + "?bogus=1"), {}), db::Error);
    EXPECT_THROW(db::detail::make_mysql_driver(db::parse_url(mysql_url() + "?statement_cache=x"), {}), db::Error);
    EXPECT_NO_THROW(db::detail::make_mysql_driver(db::parse_url(mysql_url() + "?statement_cache=3"), {}));
    // mariadb:// is the same driver.
    std::string url = mysql_url();
    url.replace(0, url.find("://"), "mariadb");
    EXPECT_EQ(db::parse_url(url).dialect, db::dialect::mysql);
}

ZEPHYR_TEST(Mysql, the_driver_pings_and_checks_liveness) {
    auto drv = db::detail::make_mysql_driver(db::parse_url(mysql_url()), {});
    auto conn = co_await drv->connect(co_await asio::this_coro::executor);
    EXPECT_FALSE(conn->broken());
    EXPECT_TRUE(conn->looks_alive());
    co_await conn->ping();
    co_await conn->simple("SET @x = 1; SET @y = 2");
    struct one final : db::RowSink {
        std::int64_t v = 0;
        void on_row(const db::Row& row) override { v = row.get<std::int64_t>(0); }
    } sink;
    co_await conn->run("SELECT @x + @y", {}, &sink);
    EXPECT_EQ(sink.v, 3);
    co_await conn->run("SELECT @@session.time_zone = '+00:00'", {}, &sink);
    EXPECT_EQ(sink.v, 1);
    co_await conn->run("SELECT @@character_set_client = 'utf8mb4'", {}, &sink);
    EXPECT_EQ(sink.v, 1);
    // Killed: looks_alive() sees the closed socket without a round trip.
    co_await conn->run("SELECT CONNECTION_ID()", {}, &sink);
    auto other = co_await drv->connect(co_await asio::this_coro::executor);
    co_await other->simple("KILL CONNECTION " + std::to_string(sink.v));
    co_await sleep_for(100ms);
    EXPECT_FALSE(conn->looks_alive());
    EXPECT_TRUE(conn->broken());
    EXPECT_TRUE(other->looks_alive());
}

// A pool that outlives the event loop its connections were opened on (as in tests that keep a pool across
// run_task calls): the idle connection is orphaned, dropped, and a new one is opened on the new loop.
TEST(Mysql, a_pool_survives_its_event_loop) {
    db::Pool pool{mysql_url()};
    std::int64_t first = 0, second = 0;
    zephyr::testing::run_task(
        [&]() -> Task<void> { first = co_await pool.scalar<std::int64_t>("SELECT CONNECTION_ID()"); }());
    zephyr::testing::run_task(
        [&]() -> Task<void> { second = co_await pool.scalar<std::int64_t>("SELECT CONNECTION_ID()"); }());
    EXPECT_NE(first, 0);
    EXPECT_NE(second, 0);
    EXPECT_NE(first, second);
}

ZEPHYR_TEST(Mysql, a_cached_statement_survives_a_changed_table) {
    db::Pool pool{mysql_url(), {.max_size = 1}};
    const std::string t = table_name();
    co_await pool.execute("DROP TABLE IF EXISTS " + t);
    co_await pool.execute("CREATE TABLE " + t + " (id INT PRIMARY KEY, a INT)");
    co_await pool.execute("INSERT INTO " + t + " VALUES (1, 10)");
    const std::string select = "SELECT * FROM " + t + " WHERE id >= ?";
    struct names_sink final : db::RowSink {
        std::vector<std::string> names;
        void on_row(const db::Row& row) override {
            names.clear();
            for (std::size_t i = 0; i < row.size(); ++i)
                names.emplace_back(row.name(i));
        }
    } sink;
    co_await pool.run(select, db::make_params(1), &sink);
    EXPECT_EQ(sink.names, (std::vector<std::string>{"id", "a"}));
    co_await pool.execute("ALTER TABLE " + t + " ADD COLUMN b VARCHAR(10) DEFAULT 'x'");
    co_await pool.run(select, db::make_params(1), &sink);
    EXPECT_EQ(sink.names, (std::vector<std::string>{"id", "a", "b"}));
    co_await pool.execute("ALTER TABLE " + t + " DROP COLUMN a, DROP COLUMN b");
    co_await pool.run(select, db::make_params(1), &sink);
    EXPECT_EQ(sink.names, (std::vector<std::string>{"id"}));
    co_await pool.execute("DROP TABLE " + t);
    co_await pool.execute("CREATE TABLE " + t + " (id INT PRIMARY KEY, z TEXT)");
    co_await pool.execute("INSERT INTO " + t + " VALUES (1, 'zz')");
    co_await pool.run(select, db::make_params(1), &sink);
    EXPECT_EQ(sink.names, (std::vector<std::string>{"id", "z"}));
    // As many columns as before, other names and order: read by name, they must not be mixed up.
    co_await pool.execute("DROP TABLE " + t);
    co_await pool.execute("CREATE TABLE " + t + " (y VARCHAR(10), id INT PRIMARY KEY)");
    co_await pool.execute("INSERT INTO " + t + " VALUES ('yy', 1)");
    co_await pool.run(select, db::make_params(1), &sink);
    EXPECT_EQ(sink.names, (std::vector<std::string>{"y", "id"}));
    auto row = co_await pool.query_one<std::tuple<std::string, std::int64_t>>(select, 1);
    EXPECT_EQ(std::get<0>(row), "yy");
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT ?", 1), 1);
    co_await pool.execute("DROP TABLE " + t);
}

// One connection used in turn by coroutines on two threads' event loops: it is watched from whichever loop waits.
TEST(Mysql, a_connection_moves_between_event_loops) {
    asio::io_context loop_a{1};
    asio::io_context loop_b{1};
    db::Pool pool{mysql_url(), db::pool_options{.max_size = 1}};
    std::atomic<int> failures{0};
    auto worker = [&](int base) -> Task<void> {
        for (int i = 0; i < 100; ++i) {
            try {
                if (co_await pool.scalar<int>("SELECT ?", base + i) != base + i) ++failures;
                if (co_await pool.scalar<int>("SELECT " + std::to_string(base - i)) != base - i) ++failures;
            } catch (const std::exception& e) {
                ADD_FAILURE() << e.what();
                ++failures;
            }
        }
    };
    asio::co_spawn(loop_a, worker(0), asio::detached);
    asio::co_spawn(loop_b, worker(1000), asio::detached);
    std::thread a{[&] { loop_a.run(); }};
    std::thread b{[&] { loop_b.run(); }};
    a.join();
    b.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(pool.stats().opened, 1u);
}

ZEPHYR_TEST(Mysql, host_names_are_resolved_off_the_event_loop) {
    // This machine's name, if it resolves to the loopback address the test server listens on.
    char name[256] = {};
    ::gethostname(name, sizeof name - 1);
    addrinfo hints{};
    hints.ai_family = AF_INET;
    addrinfo* found = nullptr;
    bool loopback = false;
    if (::getaddrinfo(name, nullptr, &hints, &found) == 0) {
        for (addrinfo* a = found; a; a = a->ai_next)
            loopback =
                loopback || reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
        ::freeaddrinfo(found);
    }
    if (loopback) {
        std::string url = mysql_url();
        url.replace(url.find("127.0.0.1"), 9, name);
        db::Pool pool{url};
        EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT ?", 3), 3);
    }
    std::string nowhere_url = mysql_url();
    nowhere_url.replace(nowhere_url.find("127.0.0.1"), 9, "no-such-host.invalid");
    db::Pool nowhere{nowhere_url, {.connect_timeout = 3000ms}};
    auto e = co_await thrown<db::connection_lost>([&] { return nowhere.execute("SELECT 1"); });
    if (e) {
        EXPECT_NE(std::string{e->what()}.find("no-such-host.invalid"), std::string::npos) << e->what();
    }
}

ZEPHYR_TEST(Mysql, connects_through_a_unix_socket) {
    // The test server's socket (scripts/services/mariadb.sh puts it under the services directory).
    const std::string socket = ZEPHYR_SERVICES_DIR "/mariadb/mariadb.sock";
    if (::access(socket.c_str(), F_OK) != 0) co_return;  // a server started elsewhere: nothing to test here
    std::string url = mysql_url();
    const auto at = url.find('@');
    url = url.substr(0, at + 1) + "localhost" + url.substr(url.find('/', at)) + "?socket=" + socket;
    db::Pool pool{url};
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT ?", 9), 9);
    EXPECT_EQ(co_await pool.scalar<std::string>("SELECT SUBSTRING_INDEX(USER(), '@', -1)"), "localhost");
}
