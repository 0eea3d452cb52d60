// The PostgreSQL driver against a real server (the db_services ctest fixture starts one and writes its URL to
// services/postgres.url). What is the same in every dialect is tested elsewhere; these are PostgreSQL's own
// behaviours: types as libpq sends them, SQLSTATE mapping, prepared statements, single-row streaming, lost
// connections. Every test uses its own tables, since ctest runs tests in parallel against one database.
#include <zephyr/db.hpp>
#include <zephyr/testing.hpp>
#include "db/integration/db_fixture.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/describe/class.hpp>

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
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

namespace pg_test {
struct sample {
    std::int64_t id = 0;
    bool flag = false;
    std::int64_t big = 0;
    double real = 0;
    std::string name;
    db::blob data;
    std::chrono::system_clock::time_point at;
    std::optional<std::int32_t> maybe;
};
BOOST_DESCRIBE_STRUCT(sample, (), (id, flag, big, real, name, data, at, maybe))

struct pair_ab {
    std::int32_t a = 0;
    std::int32_t b = 0;
};
BOOST_DESCRIBE_STRUCT(pair_ab, (), (a, b))
}  // namespace pg_test
using pg_test::sample;

namespace {

std::string pg_url() {
    return db_test::service_url("postgres");
}

/// The URL with another password.
std::string with_password(const std::string& url, std::string_view password) {
    const auto scheme = url.find("://") + 3;
    const auto at = url.find('@', scheme);
    const auto colon = url.find(':', scheme);
    return url.substr(0, colon + 1) + std::string{password} + url.substr(at);
}

/// The URL with another host.
std::string with_host(const std::string& url, std::string_view host) {
    const auto at = url.find('@');
    const auto colon = url.find(':', at);
    return url.substr(0, at + 1) + std::string{host} + url.substr(colon);
}

/// The URL pointing at 127.0.0.1:port.
std::string at_port(const std::string& url, int port) {
    const auto at = url.find('@');
    const auto slash = url.find('/', at);
    return url.substr(0, at + 1) + "127.0.0.1:" + std::to_string(port) + url.substr(slash);
}

/// What `t` threw if it was an E; fails the test (and returns nullopt) otherwise.
template <class E, class T>
Task<std::optional<E>> expect_throw(Task<T> t) {
    std::optional<E> caught;
    std::string other;
    try {
        co_await std::move(t);
    } catch (const E& e) {
        caught.emplace(e);
    } catch (const std::exception& e) {
        other = e.what();
    }
    if (!caught) ADD_FAILURE() << "expected " << typeid(E).name() << ", got: " << (other.empty() ? "no error" : other);
    co_return caught;
}

Task<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t{co_await asio::this_coro::executor, d};
    co_await t.async_wait(asio::use_awaitable);
}

/// A listening socket on 127.0.0.1 that never accepts: connections complete the TCP handshake and then hang.
class silent_server {
public:
    silent_server() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 16) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error{"cannot listen"};
        port_ = ntohs(a.sin_port);
    }
    ~silent_server() { ::close(fd_); }
    silent_server(const silent_server&) = delete;
    silent_server& operator=(const silent_server&) = delete;
    int port() const noexcept { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
};

/// A port nothing listens on (probably: it was free a moment ago).
int closed_port() {
    int port = 0;
    {
        silent_server s;
        port = s.port();
    }
    return port;
}

}  // namespace

// ---- types ------------------------------------------------------------------------------------------------------

ZEPHYR_TEST(Postgres, round_trips_every_value_kind) {
    db::Pool pool{pg_url()};
    co_await pool.execute("DROP TABLE IF EXISTS pgt_types");
    co_await pool.execute(
        "CREATE TABLE pgt_types (id bigserial PRIMARY KEY, flag boolean NOT NULL, big bigint NOT NULL, "
        "real double precision NOT NULL, name text NOT NULL, data bytea NOT NULL, at timestamptz NOT NULL, "
        "maybe integer)");
    db::blob bytes;
    for (int i = 0; i < 256; ++i)
        bytes.push_back(static_cast<std::byte>(i));
    const auto at = std::chrono::system_clock::time_point{std::chrono::microseconds{1'715'000'000'123'456}};
    const std::string unicode = "zß水🍌 \"quoted\" 'single' \\ back";
    auto r = co_await pool.execute(
        "INSERT INTO pgt_types (flag, big, real, name, data, at, maybe) VALUES (?, ?, ?, ?, ?, ?, ?), "
        "(?, ?, ?, ?, ?, ?, ?)",
        true, std::numeric_limits<std::int64_t>::max(), 0.1, unicode, bytes, at, std::optional<int>{}, false,
        std::numeric_limits<std::int64_t>::min(), -1.5e300, std::string{}, db::blob{}, at + 1us, 42);
    EXPECT_EQ(r.affected_rows, 2u);
    EXPECT_FALSE(r.last_insert_id.has_value());

    auto rows = co_await pool.query<sample>("SELECT * FROM pgt_types ORDER BY id");
    EXPECT_EQ(rows.size(), 2u);
    if (rows.size() == 2) {
        EXPECT_TRUE(rows[0].flag);
        EXPECT_EQ(rows[0].big, std::numeric_limits<std::int64_t>::max());
        EXPECT_EQ(rows[0].real, 0.1);
        EXPECT_EQ(rows[0].name, unicode);
        EXPECT_EQ(rows[0].data, bytes);
        EXPECT_EQ(rows[0].at, at);
        EXPECT_EQ(rows[0].maybe, std::nullopt);
        EXPECT_FALSE(rows[1].flag);
        EXPECT_EQ(rows[1].big, std::numeric_limits<std::int64_t>::min());
        EXPECT_EQ(rows[1].real, -1.5e300);
        EXPECT_EQ(rows[1].name, "");
        EXPECT_TRUE(rows[1].data.empty());
        EXPECT_EQ(rows[1].at, at + 1us);
        EXPECT_EQ(rows[1].maybe, 42);
    }
    // Parameters compare with the stored values on the server side too.
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM pgt_types WHERE name = ? AND data = ? "
                                                 "AND at = ? AND flag = ? AND real = ?",
                                                 unicode, bytes, at, true, 0.1),
              1);
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM pgt_types WHERE maybe IS NOT DISTINCT FROM ?",
                                                 std::optional<int>{}),
              1);
    co_await pool.execute("DROP TABLE pgt_types");
}

ZEPHYR_TEST(Postgres, reads_server_side_types) {
    db::Pool pool{pg_url()};
    auto [i, d, b, t, n] = co_await pool.query_one<std::tuple<int, double, bool, std::string, std::optional<double>>>(
        "SELECT 7::smallint, 2.5::real, true, 'x'::varchar, NULL::float8");
    EXPECT_EQ(i, 7);
    EXPECT_EQ(d, 2.5);
    EXPECT_TRUE(b);
    EXPECT_EQ(t, "x");
    EXPECT_EQ(n, std::nullopt);
    EXPECT_TRUE(std::isinf(co_await pool.scalar<double>("SELECT 'Infinity'::float8")));
    EXPECT_TRUE(std::isnan(co_await pool.scalar<double>("SELECT ?::float8", std::nan(""))));
    EXPECT_EQ(co_await pool.scalar<double>("SELECT ?::float8", -std::numeric_limits<double>::infinity()),
              -std::numeric_limits<double>::infinity());
    // numeric has no binary form here: it is read from its text.
    EXPECT_EQ(co_await pool.scalar<double>("SELECT 12.25::numeric"), 12.25);
    // A timestamp without time zone is taken as UTC; timestamptz text comes back in UTC (+00).
    const auto epoch_plus = std::chrono::system_clock::time_point{std::chrono::seconds{86400}};
    EXPECT_EQ(co_await pool.scalar<std::chrono::system_clock::time_point>("SELECT '1970-01-02 00:00:00'::timestamp"),
              epoch_plus);
    EXPECT_EQ(
        co_await pool.scalar<std::chrono::system_clock::time_point>("SELECT '1970-01-02 02:00:00+02'::timestamptz"),
        epoch_plus);
    const std::string zone = co_await pool.scalar<std::string>("SELECT current_setting('TimeZone')");
    EXPECT_TRUE(zone == "UTC" || zone == "Etc/UTC") << zone;
    EXPECT_EQ(co_await pool.scalar<std::string>("SELECT '2000-01-01 00:00:00+00'::timestamptz::text"),
              "2000-01-01 00:00:00+00");
    // A bytea read as text is PostgreSQL's hex form; a text read as bytes is its UTF-8.
    EXPECT_EQ(co_await pool.scalar<std::string>("SELECT '\\x0102'::bytea"), "\\x0102");
    const db::blob abc{std::byte{'a'}, std::byte{'b'}, std::byte{'c'}};
    EXPECT_EQ(co_await pool.scalar<db::blob>("SELECT 'abc'::text"), abc);
    // A large bytea crosses the socket in many writes and reads.
    db::blob big(1 << 20);
    for (std::size_t k = 0; k < big.size(); ++k)
        big[k] = static_cast<std::byte>(k * 7 % 251);
    EXPECT_EQ(co_await pool.scalar<db::blob>("SELECT ?::bytea", big), big);
}

ZEPHYR_TEST(Postgres, integers_are_read_exactly_or_refused) {
    db::Pool pool{pg_url()};
    // Around the fast path's limit of 18 digits, signs, and the ends of the 64-bit range.
    for (const std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{7}, std::int64_t{-42},
                                 std::int64_t{999'999'999'999'999'999}, std::int64_t{-999'999'999'999'999'999},
                                 std::int64_t{1'000'000'000'000'000'000}, std::int64_t{-1'000'000'000'000'000'000},
                                 std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min()})
        EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT ?::bigint", v), v);
    auto e = co_await expect_throw<db::Error>(pool.scalar<std::int64_t>("SELECT '9223372036854775808'::numeric"));
    if (e) {
        EXPECT_EQ(e->kind(), db::errc::bad_result);
        EXPECT_NE(std::string{e->what()}.find("does not fit"), std::string::npos) << e->what();
    }
    for (const char* text : {"", "-", "--1", "12a", "+5", " 1", "1 ", "0x10", "1e3", "123456789012345678901234"}) {
        auto bad = co_await expect_throw<db::Error>(pool.scalar<std::int64_t>("SELECT ?::text", std::string{text}));
        if (bad) {
            EXPECT_EQ(bad->kind(), db::errc::bad_result) << text;
        }
    }
}

ZEPHYR_TEST(Postgres, question_marks_and_injection_stay_text) {
    db::Pool pool{pg_url()};
    // `??` is a literal ? (the jsonb operator); a ? inside quotes is text, not a placeholder.
    EXPECT_TRUE(co_await pool.scalar<bool>("SELECT '{\"a\": 1}'::jsonb ?? ?", "a"));
    EXPECT_EQ(co_await pool.scalar<std::string>("SELECT '?' || ?::text", "!"), "?!");
    EXPECT_TRUE(co_await pool.scalar<bool>("SELECT '{\"a\": 1}'::jsonb ?? 'a'"));

    co_await pool.execute("DROP TABLE IF EXISTS pgt_inject");
    co_await pool.execute("CREATE TABLE pgt_inject (name text)");
    const std::string evil = "'); DROP TABLE pgt_inject; --";
    co_await pool.execute("INSERT INTO pgt_inject VALUES (?)", evil);
    const std::string evil2 = "x' OR '1'='1";
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM pgt_inject WHERE name = ?", evil2), 0);
    EXPECT_EQ(co_await pool.scalar<std::string>("SELECT name FROM pgt_inject"), evil);
    co_await pool.execute("DROP TABLE pgt_inject");
}

ZEPHYR_TEST(Postgres, mapping_errors_name_the_column) {
    db::Pool pool{pg_url()};
    auto e = co_await expect_throw<db::Error>(pool.scalar<int>("SELECT NULL::int AS empty"));
    if (e) {
        EXPECT_EQ(e->kind(), db::errc::bad_result);
        EXPECT_NE(std::string{e->what()}.find("empty"), std::string::npos) << e->what();
        EXPECT_NE(std::string{e->what()}.find("NULL"), std::string::npos) << e->what();
    }
    e = co_await expect_throw<db::Error>(pool.scalar<std::int64_t>("SELECT 'abc'::text"));
    if (e) {
        EXPECT_EQ(e->kind(), db::errc::bad_result);
    }
    e = co_await expect_throw<db::Error>(pool.scalar<std::int64_t>("SELECT 1.5::numeric"));
    if (e) {
        EXPECT_EQ(e->kind(), db::errc::bad_result);
    }
    e = co_await expect_throw<db::Error>(pool.scalar<std::int16_t>("SELECT 100000"));
    if (e) {
        EXPECT_EQ(e->kind(), db::errc::bad_result);
    }
    // Text with a NUL byte cannot be PostgreSQL text: refused before sending, rather than cut short.
    e = co_await expect_throw<db::Error>(pool.scalar<std::string>("SELECT ?::text", std::string{"a\0b", 3}));
    if (e) {
        EXPECT_EQ(e->kind(), db::errc::misuse);
    }
    e = co_await expect_throw<db::Error>(pool.execute("SELECT ?, ?", 1));
    if (e) {
        EXPECT_EQ(e->kind(), db::errc::misuse);
    }
    // More parameters than the protocol can carry: refused by libpq, the connection is fine.
    std::string many = "SELECT 1 WHERE 1 IN (?";
    db::Params values;
    values.push_back(db::Value{std::int64_t{0}});
    for (int i = 1; i < 70000; ++i) {
        many += ",?";
        values.push_back(db::Value{std::int64_t{i}});
    }
    many += ")";
    e = co_await expect_throw<db::Error>(pool.run(many, values, nullptr));
    if (e) {
        EXPECT_EQ(e->kind(), db::errc::other) << e->what();
    }
    EXPECT_EQ(co_await pool.scalar<int>("SELECT 1"), 1);
}

// ---- errors -----------------------------------------------------------------------------------------------------

ZEPHYR_TEST(Postgres, sqlstates_map_to_error_types) {
    db::Pool pool{pg_url()};
    co_await pool.execute("DROP TABLE IF EXISTS pgt_err_child; DROP TABLE IF EXISTS pgt_err_parent");
    co_await pool.execute(
        "CREATE TABLE pgt_err_parent (id int PRIMARY KEY, email text UNIQUE, age int CHECK (age >= 0), "
        "name text NOT NULL DEFAULT 'x'); "
        "CREATE TABLE pgt_err_child (id int PRIMARY KEY, parent int NOT NULL REFERENCES pgt_err_parent(id))");
    co_await pool.execute("INSERT INTO pgt_err_parent (id, email) VALUES (?, ?)", 1, "a@x");

    auto unique = co_await expect_throw<db::unique_violation>(
        pool.execute("INSERT INTO pgt_err_parent (id, email) VALUES (?, ?)", 2, "a@x"));
    if (unique) {
        EXPECT_EQ(unique->sqlstate(), "23505");
        EXPECT_EQ(unique->http_status(), 409);
        const std::string what = unique->what();
        EXPECT_NE(what.find("(SQLSTATE 23505)"), std::string::npos) << what;
        EXPECT_NE(what.find("INSERT INTO pgt_err_parent"), std::string::npos) << what;
        EXPECT_NE(what.find("already exists"), std::string::npos) << what;  // the DETAIL
    }
    auto fk = co_await expect_throw<db::foreign_key_violation>(
        pool.execute("INSERT INTO pgt_err_child VALUES (?, ?)", 1, 99));
    if (fk) {
        EXPECT_EQ(fk->sqlstate(), "23503");
    }
    auto notnull = co_await expect_throw<db::not_null_violation>(
        pool.execute("INSERT INTO pgt_err_parent (id, name) VALUES (?, ?)", 3, std::nullopt));
    if (notnull) {
        EXPECT_EQ(notnull->sqlstate(), "23502");
    }
    auto check = co_await expect_throw<db::check_violation>(
        pool.execute("INSERT INTO pgt_err_parent (id, age) VALUES (?, ?)", 4, -1));
    if (check) {
        EXPECT_EQ(check->sqlstate(), "23514");
    }
    // Syntax errors, with and without parameters (prepare fails / simple query fails).
    auto syntax = co_await expect_throw<db::Error>(pool.execute("SELEC 1 WHERE ? = 1", 1));
    if (syntax) {
        EXPECT_EQ(syntax->kind(), db::errc::other);
        EXPECT_EQ(syntax->sqlstate(), "42601");
        EXPECT_NE(std::string{syntax->what()}.find("SQLSTATE 42601"), std::string::npos) << syntax->what();
    }
    syntax = co_await expect_throw<db::Error>(pool.execute("SELEC 1"));
    if (syntax) {
        EXPECT_EQ(syntax->sqlstate(), "42601");
    }
    auto missing = co_await expect_throw<db::Error>(pool.query<int>("SELECT * FROM pgt_no_such_table"));
    if (missing) {
        EXPECT_EQ(missing->sqlstate(), "42P01");
    }
    // The same prepared statement fails and succeeds on the same connection.
    EXPECT_EQ((co_await pool.execute("INSERT INTO pgt_err_parent (id, email) VALUES (?, ?)", 5, "b@x")).affected_rows,
              1u);
    co_await pool.execute("DROP TABLE pgt_err_child; DROP TABLE pgt_err_parent");
}

ZEPHYR_TEST(Postgres, serialization_failure_deadlock_and_statement_timeout) {
    db::Pool pool{pg_url()};
    co_await pool.execute("DROP TABLE IF EXISTS pgt_conflict");
    co_await pool.execute("CREATE TABLE pgt_conflict (id int PRIMARY KEY, v int NOT NULL)");
    co_await pool.execute("INSERT INTO pgt_conflict VALUES (1, 0), (2, 0)");

    {
        db::Tx tx = co_await pool.begin(db::tx_options{.isolation = db::isolation::repeatable_read});
        EXPECT_EQ(co_await tx.scalar<int>("SELECT v FROM pgt_conflict WHERE id = ?", 1), 0);
        co_await pool.execute("UPDATE pgt_conflict SET v = 1 WHERE id = ?", 1);  // another connection
        auto e = co_await expect_throw<db::serialization_failure>(
            tx.execute("UPDATE pgt_conflict SET v = 2 WHERE id = ?", 1));
        if (e) {
            EXPECT_EQ(e->sqlstate(), "40001");
            EXPECT_TRUE(e->retryable());
        }
        co_await tx.rollback();
    }
    {
        // Two transactions lock rows 1 and 2, then each wants the other's: the server picks a victim after
        // deadlock_timeout (1 s by default).
        db::Tx a = co_await pool.begin();
        db::Tx b = co_await pool.begin();
        co_await a.execute("UPDATE pgt_conflict SET v = 10 WHERE id = ?", 1);
        co_await b.execute("UPDATE pgt_conflict SET v = 20 WHERE id = ?", 2);
        std::optional<db::errc> a_error;
        bool a_done = false;
        auto a_wants_2 = [&]() -> Task<void> {
            try {
                co_await a.execute("UPDATE pgt_conflict SET v = 11 WHERE id = ?", 2);
            } catch (const db::Error& e) {
                a_error = e.kind();
            }
            // As the victim, `a` still holds row 1 until it rolls back, and `b` waits for it.
            if (a_error) co_await a.rollback();
            a_done = true;
        };
        asio::co_spawn(co_await asio::this_coro::executor, a_wants_2(), asio::detached);
        co_await sleep_for(100ms);
        std::optional<db::errc> b_error;
        try {
            co_await b.execute("UPDATE pgt_conflict SET v = 21 WHERE id = ?", 1);
        } catch (const db::Error& e) {
            b_error = e.kind();
        }
        co_await b.rollback();  // lets `a` go on if `b` was the victim
        for (int i = 0; i < 500 && !a_done; ++i)
            co_await sleep_for(10ms);
        EXPECT_TRUE(a_done);
        EXPECT_TRUE(a_error == db::errc::deadlock || b_error == db::errc::deadlock);
        co_await a.rollback();
    }
    {
        db::Tx tx = co_await pool.begin();
        co_await tx.execute("SET LOCAL statement_timeout = 100");
        const auto started = std::chrono::steady_clock::now();
        auto e = co_await expect_throw<db::timeout>(tx.execute("SELECT pg_sleep(?)", 10));
        if (e) {
            EXPECT_EQ(e->sqlstate(), "57014");
        }
        EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
        co_await tx.rollback();
    }
    EXPECT_EQ(co_await pool.scalar<int>("SELECT v FROM pgt_conflict WHERE id = ?", 1), 1);
    co_await pool.execute("DROP TABLE pgt_conflict");
}

ZEPHYR_TEST(Postgres, transactions_begin_with_their_options) {
    db::Pool pool{pg_url()};
    co_await pool.transaction(
        [&](db::Tx& tx) -> Task<void> {
            EXPECT_EQ(co_await tx.scalar<std::string>("SELECT current_setting('transaction_isolation')"),
                      "serializable");
            EXPECT_EQ(co_await tx.scalar<std::string>("SELECT current_setting('transaction_read_only')"), "on");
        },
        db::tx_options{.isolation = db::isolation::serializable, .read_only = true});
    co_await pool.transaction(
        [&](db::Tx& tx) -> Task<void> {
            EXPECT_EQ(co_await tx.scalar<std::string>("SELECT current_setting('transaction_isolation')"),
                      "repeatable read");
            EXPECT_EQ(co_await tx.scalar<std::string>("SELECT current_setting('transaction_read_only')"), "off");
        },
        db::tx_options{.isolation = db::isolation::repeatable_read});
    co_await pool.transaction([&](db::Tx& tx) -> Task<void> {
        EXPECT_EQ(co_await tx.scalar<std::string>("SELECT current_setting('transaction_isolation')"), "read committed");
    });
}

// ---- prepared statements, sinks, streaming -----------------------------------------------------------------------

ZEPHYR_TEST(Postgres, prepared_statements_are_reused_and_bounded) {
    db::Pool pool{pg_url()};
    db::Connection c = co_await pool.acquire();
    const auto prepared = [&]() -> Task<std::int64_t> {
        co_return co_await c.scalar<std::int64_t>("SELECT count(*) FROM pg_prepared_statements");
    };
    const std::int64_t before = co_await prepared();
    for (int i = 0; i < 50; ++i)
        EXPECT_EQ(co_await c.scalar<std::int64_t>("SELECT ?::bigint * 2 /* pgt_reuse */", i), 2 * i);
    EXPECT_EQ(co_await c.scalar<std::int64_t>("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE ?",
                                              "%pgt_reuse%"),
              1);
    // More distinct statements than the cache holds: old ones are evicted and deallocated on the server.
    std::vector<std::string> texts;
    for (int i = 0; i < 300; ++i)
        texts.push_back("SELECT ?::int + " + std::to_string(i));
    for (int i = 0; i < 300; ++i)
        EXPECT_EQ(co_await c.scalar<int>(texts[static_cast<std::size_t>(i)], 1), i + 1);
    const std::int64_t after = co_await prepared();
    EXPECT_LE(after - before, 256 + 16 + 2);
    EXPECT_GE(after - before, 200);
    // Evicted ones are prepared again when used again.
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(co_await c.scalar<int>(texts[static_cast<std::size_t>(i)], 2), i + 2);
}

ZEPHYR_TEST(Postgres, stale_prepared_statements_are_prepared_again) {
    db::Pool pool{pg_url()};
    db::Connection c = co_await pool.acquire();
    co_await c.execute("DROP TABLE IF EXISTS pgt_stale");
    co_await c.execute("CREATE TABLE pgt_stale (id int)");
    co_await c.execute("INSERT INTO pgt_stale VALUES (?)", 1);
    const char* select = "SELECT * FROM pgt_stale WHERE id = ?";
    EXPECT_EQ((co_await c.query<std::tuple<int>>(select, 1)).size(), 1u);
    // The plan's result type changes (SQLSTATE 0A000 "cached plan must not change result type").
    co_await c.execute("ALTER TABLE pgt_stale ADD COLUMN name text DEFAULT 'n'");
    auto rows = co_await c.query<std::tuple<int, std::string>>(select, 1);
    EXPECT_EQ(rows.size(), 1u);
    if (!rows.empty()) {
        EXPECT_EQ(std::get<1>(rows[0]), "n");
    }
    // The server forgets every prepared statement (SQLSTATE 26000 on next use).
    co_await c.execute("DEALLOCATE ALL");
    EXPECT_EQ((co_await c.query<std::tuple<int, std::string>>(select, 1)).size(), 1u);
    // Inside a transaction the error cannot be retried (the transaction is aborted): it is reported.
    co_await c.execute("BEGIN");
    co_await c.execute("ALTER TABLE pgt_stale ADD COLUMN other int");
    auto e = co_await expect_throw<db::Error>(c.query<std::tuple<int, std::string>>(select, 1));
    if (e) {
        EXPECT_EQ(e->sqlstate(), "0A000");
    }
    co_await c.execute("ROLLBACK");
    EXPECT_EQ((co_await c.query<std::tuple<int, std::string>>(select, 1)).size(), 1u);
    co_await c.execute("DROP TABLE pgt_stale");
}

ZEPHYR_TEST(Postgres, failing_sink_leaves_the_connection_usable) {
    db::Pool pool{pg_url(), db::pool_options{.max_size = 1}};
    db::Connection c = co_await pool.acquire();
    const int pid = co_await c.scalar<int>("SELECT pg_backend_pid()");
    // Text read into an integer fails in the middle of the result; the rest is drained.
    auto e = co_await expect_throw<db::Error>(
        c.query<std::int64_t>("SELECT CASE WHEN g = 3 THEN 'x' ELSE g::text END FROM generate_series(1, ?) g", 1000));
    if (e) {
        EXPECT_EQ(e->kind(), db::errc::bad_result);
    }
    EXPECT_EQ(co_await c.scalar<int>("SELECT ?::int", 5), 5);
    // The same with a streaming sink whose function throws.
    std::size_t seen = 0;
    auto boom = co_await expect_throw<std::runtime_error>(c.for_each<std::int64_t>(
        [&](std::int64_t v) {
            ++seen;
            if (v == 10) throw std::runtime_error{"stop"};
        },
        "SELECT g FROM generate_series(1, ?) g", 10000));
    EXPECT_TRUE(boom.has_value());
    EXPECT_EQ(seen, 10u);
    EXPECT_EQ(co_await c.scalar<int>("SELECT 6"), 6);
    EXPECT_EQ(co_await c.scalar<int>("SELECT pg_backend_pid()"), pid);  // the same connection all along
}

ZEPHYR_TEST(Postgres, for_each_streams_rows) {
    db::Pool pool{pg_url()};
    std::int64_t sum = 0;
    auto n = co_await pool.for_each<std::int64_t>([&](std::int64_t v) { sum += v; },
                                                  "SELECT g FROM generate_series(1, ?) g", 10000);
    EXPECT_EQ(n, 10000u);
    EXPECT_EQ(sum, 10000LL * 10001 / 2);
    sum = 0;
    n = co_await pool.for_each<std::tuple<std::int64_t, std::string>>(
        [&](const std::tuple<std::int64_t, std::string>& row) { sum += std::get<0>(row); },
        "SELECT g, md5(g::text) FROM generate_series(1, 10000) g");
    EXPECT_EQ(n, 10000u);
    EXPECT_EQ(sum, 10000LL * 10001 / 2);
    // Rows reach the function as they arrive: those before an error in the middle were already seen (a
    // buffered result would have failed as a whole).
    std::size_t seen = 0;
    auto e = co_await expect_throw<db::Error>(
        pool.for_each<int>([&](int) { ++seen; }, "SELECT 1 / (? - g) FROM generate_series(1, 10000) g", 5000));
    if (e) {
        EXPECT_EQ(e->sqlstate(), "22012");
    }
    EXPECT_GT(seen, 0u);
    EXPECT_LT(seen, 5000u);
}

ZEPHYR_TEST(Postgres, scripts_without_parameters_run_whole) {
    db::Pool pool{pg_url()};
    auto r = co_await pool.execute(
        "DROP TABLE IF EXISTS pgt_script; "
        "CREATE TABLE pgt_script (id int PRIMARY KEY, note text); "
        "INSERT INTO pgt_script VALUES (1, 'a;b'), (2, '?'); "
        "-- a comment; with a semicolon\n"
        "UPDATE pgt_script SET note = note || '!' WHERE id IN (1, 2)");
    EXPECT_EQ(r.affected_rows, 2u);  // the last statement's count
    auto notes = co_await pool.query<std::string>("SELECT note FROM pgt_script ORDER BY id");
    EXPECT_EQ(notes, (std::vector<std::string>{"a;b!", "?!"}));
    // A function body in dollar quotes, as migrations have.
    co_await pool.execute(
        "CREATE OR REPLACE FUNCTION pgt_script_fn() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$; "
        "SELECT pgt_script_fn();");
    EXPECT_EQ(co_await pool.scalar<int>("SELECT pgt_script_fn()"), 1);
    // RETURNING rather than last_insert_id.
    auto ids = co_await pool.query<int>("INSERT INTO pgt_script VALUES (?, ?), (?, ?) RETURNING id", 3, "c", 4, "d");
    EXPECT_EQ(ids, (std::vector<int>{3, 4}));
    EXPECT_EQ((co_await pool.execute("DELETE FROM pgt_script WHERE id > ?", 1)).affected_rows, 3u);
    co_await pool.execute("DROP FUNCTION pgt_script_fn(); DROP TABLE pgt_script");
}

ZEPHYR_TEST(Postgres, copy_is_refused_and_the_connection_stays_usable) {
    db::Pool pool{pg_url(), db::pool_options{.max_size = 1}};
    co_await pool.execute("DROP TABLE IF EXISTS pgt_copy");
    co_await pool.execute("CREATE TABLE pgt_copy (id int)");
    auto e = co_await expect_throw<db::Error>(pool.execute("COPY pgt_copy FROM STDIN"));
    if (e) {
        EXPECT_EQ(e->kind(), db::errc::misuse);
    }
    e = co_await expect_throw<db::Error>(pool.execute("COPY (SELECT g FROM generate_series(1, 50000) g) TO STDOUT"));
    if (e) {
        EXPECT_EQ(e->kind(), db::errc::misuse);
    }
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM pgt_copy"), 0);
    co_await pool.execute("DROP TABLE pgt_copy");
}

ZEPHYR_TEST(Postgres, concurrent_statements_share_the_pool) {
    db::Pool pool{pg_url(), db::pool_options{.max_size = 4}};
    const auto ex = co_await asio::this_coro::executor;
    int done = 0;
    int wrong = 0;
    auto one = [&](int i) -> Task<void> {
        const auto [v, s] =
            co_await pool.query_one<std::tuple<int, std::string>>("SELECT ?::int, (pg_sleep(0.02))::text", i);
        if (v != i) ++wrong;
        ++done;
    };
    for (int i = 0; i < 20; ++i)
        asio::co_spawn(ex, one(i), asio::detached);
    for (int i = 0; i < 1000 && done < 20; ++i)
        co_await sleep_for(10ms);
    EXPECT_EQ(done, 20);
    EXPECT_EQ(wrong, 0);
    EXPECT_LE(pool.stats().opened, 4u);
}

TEST(Postgres, connections_move_between_event_loops) {
    // One pooled connection, used in turn by coroutines on two threads' event loops (both loops live throughout,
    // and longer than the pool).
    asio::io_context loop_a{1};
    asio::io_context loop_b{1};
    db::Pool pool{pg_url(), db::pool_options{.max_size = 1}};
    std::atomic<int> failures{0};
    auto worker = [&](int base) -> Task<void> {
        for (int i = 0; i < 100; ++i) {
            try {
                db::Connection c = co_await pool.acquire();
                if (co_await c.scalar<int>("SELECT ?::int", base + i) != base + i) ++failures;
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

TEST(Postgres, connection_outliving_its_event_loop_is_replaced) {
    db::Pool pool{pg_url()};
    int first = 0;
    int second = 0;
    auto pid = [&]() -> Task<int> {
        db::Connection c = co_await pool.acquire();
        co_return co_await c.scalar<int>("SELECT pg_backend_pid()");
    };
    zephyr::testing::run_task([&]() -> Task<void> { first = co_await pid(); }());
    // That event loop is gone: its connection cannot wait on it any more, so the pool opens another.
    zephyr::testing::run_task([&]() -> Task<void> { second = co_await pid(); }());
    EXPECT_NE(first, 0);
    EXPECT_NE(second, 0);
    EXPECT_NE(first, second);
}

// ---- shared, pipelined connections ---------------------------------------------------------------------------------
//
// The single statements a Pool runs (not for_each, not in a transaction) go over one connection per event loop in
// libpq's pipeline mode, each with a Sync of its own. The statements these tests need on the shared connection have
// parameters (those without are shared only when they are a single plain statement).

namespace {

template <class F>
Task<void> counted(F& f, int i, int& done) {
    co_await f(i);
    ++done;
}

/// Runs `f(0)` ... `f(n - 1)` as concurrent coroutines on this event loop and waits until all have finished.
template <class F>
Task<void> concurrently(int n, F f) {
    const auto ex = co_await asio::this_coro::executor;
    int done = 0;
    for (int i = 0; i < n; ++i)
        asio::co_spawn(ex, counted(f, i, done), asio::detached);
    for (int k = 0; k < 3000 && done < n; ++k)
        co_await sleep_for(5ms);
    EXPECT_EQ(done, n);
}

/// Throws from its second row.
struct throwing_sink final : db::RowSink {
    int seen = 0;
    void on_row(const db::Row&) override {
        if (++seen == 2) throw std::runtime_error{"the sink gives up"};
    }
};

}  // namespace

ZEPHYR_TEST(Postgres, shared_connection_pipelines_concurrent_statements) {
    db::Pool pool{pg_url() + "?application_name=pgt_pipeline"};
    db::Pool observer{pg_url()};
    int wrong = 0;
    std::vector<int> pids;
    auto one = [&](int i) -> Task<void> {
        try {
            const std::string text = "v" + std::to_string(i);
            const auto [v, t, pid] = co_await pool.query_one<std::tuple<int, std::string, int>>(
                "SELECT ?::int, ?::text, pg_backend_pid()", i, text);
            if (v != i || t != text) ++wrong;
            pids.push_back(pid);
            // Results of several rows, and statements one after another from the same caller.
            const auto rows = co_await pool.query<int>("SELECT g FROM generate_series(1, ?) g", i % 7);
            if (rows.size() != static_cast<std::size_t>(i % 7) || (!rows.empty() && rows.back() != i % 7)) ++wrong;
            if ((co_await pool.execute("SELECT ?::int", i)).affected_rows != 1) ++wrong;
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
            ++wrong;
        }
    };
    co_await concurrently(200, one);
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(pids.size(), 200u);
    if (!pids.empty()) {
        EXPECT_EQ(std::count(pids.begin(), pids.end(), pids.front()), 200);
    }
    // One connection for all of them, and none taken from the pool.
    EXPECT_EQ(co_await observer.scalar<std::int64_t>("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?",
                                                     "pgt_pipeline"),
              1);
    EXPECT_EQ(pool.stats().opened, 0u);
    EXPECT_EQ(pool.stats().acquired, 0u);
    // Statements that change the session are not shared: they borrow a pooled connection, as before.
    co_await pool.execute("SET application_name = 'pgt_pipeline_changed'");
    EXPECT_EQ(co_await pool.scalar<std::string>("SELECT current_setting(?)", "application_name"), "pgt_pipeline");
    EXPECT_EQ(pool.stats().opened, 1u);
}

ZEPHYR_TEST(Postgres, shared_connection_error_fails_only_its_statement) {
    db::Pool pool{pg_url()};
    co_await pool.execute("DROP TABLE IF EXISTS pgt_pipe_err");
    co_await pool.execute("CREATE TABLE pgt_pipe_err (id int PRIMARY KEY)");
    co_await pool.execute("INSERT INTO pgt_pipe_err VALUES (?)", 1);
    int ok = 0;
    int unique = 0;
    int divide = 0;
    int syntax = 0;
    int other = 0;
    auto one = [&](int i) -> Task<void> {
        try {
            switch (i % 4) {
                case 0:
                    co_await pool.execute("INSERT INTO pgt_pipe_err VALUES (?)", 1);
                    break;
                case 1:
                    co_await pool.scalar<int>("SELECT 1 / (?::int - ?::int)", i, i);
                    break;
                // Its Parse fails, for every caller that sent it before the first answer came.
                case 2:
                    co_await pool.execute("SELEC ?::int /* pgt_pipe_err */", i);
                    break;
                default:
                    if (co_await pool.scalar<int>("SELECT ?::int", i) == i) ++ok;
                    break;
            }
        } catch (const db::unique_violation&) {
            ++unique;
        } catch (const db::Error& e) {
            if (e.sqlstate() == "22012") {
                ++divide;
            } else if (e.sqlstate() == "42601") {
                ++syntax;
            } else {
                ADD_FAILURE() << e.what();
                ++other;
            }
        }
    };
    co_await concurrently(100, one);
    EXPECT_EQ(ok, 25);
    EXPECT_EQ(unique, 25);
    EXPECT_EQ(divide, 25);
    EXPECT_EQ(syntax, 25);
    EXPECT_EQ(other, 0);
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM pgt_pipe_err"), 1);
    co_await pool.execute("DROP TABLE pgt_pipe_err");
}

ZEPHYR_TEST(Postgres, shared_connection_throwing_sink_fails_only_its_caller) {
    db::Pool pool{pg_url()};
    int bad = 0;
    int ok = 0;
    int thrown = 0;
    auto one = [&](int i) -> Task<void> {
        try {
            if (i % 3 == 0) {
                // Text read into an integer: the sink throws in the middle of the rows.
                co_await pool.query<std::int64_t>(
                    "SELECT CASE WHEN g = 3 THEN 'x' ELSE g::text END FROM generate_series(1, ?) g", 10 + i);
            } else if (i % 3 == 1) {
                throwing_sink sink;
                bool caught = false;
                try {
                    co_await pool.run("SELECT g FROM generate_series(1, 5) g", {}, &sink);
                } catch (const std::runtime_error&) {
                    caught = true;
                }
                if (caught && sink.seen == 2) ++thrown;  // no rows after the throw
            } else {
                const auto rows = co_await pool.query<int>("SELECT g FROM generate_series(1, ?) g", i);
                if (rows.size() == static_cast<std::size_t>(i) && rows.back() == i) ++ok;
            }
        } catch (const db::Error& e) {
            if (e.kind() == db::errc::bad_result)
                ++bad;
            else
                ADD_FAILURE() << e.what();
        }
    };
    co_await concurrently(60, one);
    EXPECT_EQ(bad, 20);
    EXPECT_EQ(thrown, 20);
    EXPECT_EQ(ok, 20);
}

ZEPHYR_TEST(Postgres, shared_connection_lost_fails_in_flight_statements_then_reopens) {
    db::Pool pool{pg_url()};
    db::Pool killer{pg_url()};
    const int victim = co_await pool.scalar<int>("SELECT pg_backend_pid() + ?", 0);
    int lost = 0;
    int other = 0;
    bool killed = false;
    auto one = [&](int i) -> Task<void> {
        if (i == 0) {
            co_await sleep_for(150ms);
            killed = co_await killer.scalar<bool>("SELECT pg_terminate_backend(?, 5000)", victim);
            co_return;
        }
        try {
            // Queued one behind the other (0.3 s each): all in flight when the backend goes.
            co_await pool.scalar<int>("SELECT ?::int FROM pg_sleep(0.3)", i);
            ++other;
        } catch (const db::connection_lost& e) {
            ++lost;
            EXPECT_EQ(e.http_status(), 503);
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
            ++other;
        }
    };
    co_await concurrently(11, one);
    EXPECT_TRUE(killed);
    EXPECT_EQ(lost, 10);
    EXPECT_EQ(other, 0);
    // The next statement opens another connection.
    const int pid = co_await pool.scalar<int>("SELECT pg_backend_pid() + ?", 0);
    EXPECT_NE(pid, victim);
    EXPECT_EQ(co_await pool.scalar<int>("SELECT ?::int", 5), 5);
    // Killed while idle: noticed before the next statement is sent, which goes to a new connection.
    EXPECT_TRUE(co_await killer.scalar<bool>("SELECT pg_terminate_backend(?, 5000)", pid));
    const int next = co_await pool.scalar<int>("SELECT pg_backend_pid() + ?", 0);
    EXPECT_NE(next, pid);
}

ZEPHYR_TEST(Postgres, shared_connection_outlives_a_caller_that_gives_up) {
    using namespace asio::experimental::awaitable_operators;
    db::Pool pool{pg_url()};
    const int pid = co_await pool.scalar<int>("SELECT pg_backend_pid() + ?", 0);
    int wrong = 0;
    int gave_up = 0;
    auto one = [&](int i) -> Task<void> {
        try {
            if (i == 0) {
                // The first to send (it reads the answers for everyone) is cancelled after 50 ms by the timer of an
                // awaitable operator, while its statement takes 300 ms: it gives up, another caller reads on.
                auto r = co_await (pool.scalar<int>("SELECT ?::int FROM pg_sleep(0.3)", i) || sleep_for(50ms));
                if (r.index() == 1) ++gave_up;
            } else if (co_await pool.scalar<int>("SELECT ?::int", i) != i) {
                ++wrong;
            }
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
            ++wrong;
        }
    };
    co_await concurrently(20, one);
    EXPECT_EQ(gave_up, 1);
    EXPECT_EQ(wrong, 0);
    // The same connection goes on.
    EXPECT_EQ(co_await pool.scalar<int>("SELECT pg_backend_pid() + ?", 0), pid);
}

TEST(Postgres, shared_connection_closes_with_its_event_loop) {
    db::Pool pool{pg_url()};
    db::Pool observer{pg_url()};
    int first = 0;
    int second = 0;
    auto pid = [&]() -> Task<int> { co_return co_await pool.scalar<int>("SELECT pg_backend_pid() + ?", 0); };
    zephyr::testing::run_task([&]() -> Task<void> { first = co_await pid(); }());
    // A new event loop: a new shared connection (the first closed with its loop).
    zephyr::testing::run_task([&]() -> Task<void> { second = co_await pid(); }());
    EXPECT_NE(first, 0);
    EXPECT_NE(second, 0);
    EXPECT_NE(first, second);
    // Statements still in flight when their event loop is destroyed: their coroutines go with it.
    int finished = 0;
    {
        asio::io_context loop{1};
        auto slow = [&](int i) -> Task<void> {
            co_await pool.scalar<int>("SELECT ?::int FROM pg_sleep(0.2)", i);
            ++finished;
        };
        for (int i = 0; i < 20; ++i)
            asio::co_spawn(loop, slow(i), asio::detached);
        loop.run_for(50ms);
    }
    EXPECT_EQ(finished, 0);
    int third = 0;
    zephyr::testing::run_task([&]() -> Task<void> {
        third = co_await pool.scalar<int>("SELECT ?::int", 7);
        // The connections of the dead loops are closed on the server too.
        std::int64_t left = 1;
        for (int k = 0; k < 200 && left != 0; ++k) {
            left = co_await observer.scalar<std::int64_t>("SELECT count(*) FROM pg_stat_activity WHERE pid IN (?, ?)",
                                                          first, second);
            if (left != 0) co_await sleep_for(10ms);
        }
        EXPECT_EQ(left, 0);
    }());
    EXPECT_EQ(third, 7);
}

TEST(Postgres, shared_connections_one_per_event_loop) {
    // The loops outlive the pool here: its destruction closes their connections while they do not run.
    asio::io_context loop_a{1};
    asio::io_context loop_b{1};
    db::Pool pool{pg_url()};
    std::atomic<int> failures{0};
    std::vector<int> pids_a;
    std::vector<int> pids_b;
    auto worker = [&](int value, std::vector<int>& pids) -> Task<void> {
        try {
            const auto [v, pid] =
                co_await pool.query_one<std::tuple<int, int>>("SELECT ?::int, pg_backend_pid()", value);
            if (v != value) ++failures;
            pids.push_back(pid);
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
            ++failures;
        }
    };
    for (int i = 0; i < 100; ++i) {
        asio::co_spawn(loop_a, worker(i, pids_a), asio::detached);
        asio::co_spawn(loop_b, worker(1000 + i, pids_b), asio::detached);
    }
    std::thread a{[&] { loop_a.run(); }};
    std::thread b{[&] { loop_b.run(); }};
    a.join();
    b.join();
    EXPECT_EQ(failures.load(), 0);
    ASSERT_EQ(pids_a.size(), 100u);
    ASSERT_EQ(pids_b.size(), 100u);
    EXPECT_EQ(std::count(pids_a.begin(), pids_a.end(), pids_a.front()), 100);
    EXPECT_EQ(std::count(pids_b.begin(), pids_b.end(), pids_b.front()), 100);
    EXPECT_NE(pids_a.front(), pids_b.front());
}

TEST(Postgres, event_loop_of_several_threads_uses_pooled_connections) {
    // An io_context that may be run by several threads (the default concurrency hint): a shared connection has
    // no lock, so the pool gives each statement a connection of its own, as before.
    asio::io_context loop;
    db::Pool pool{pg_url(), db::pool_options{.max_size = 4}};
    std::atomic<int> failures{0};
    std::atomic<int> done{0};
    auto worker = [&](int value) -> Task<void> {
        try {
            if (co_await pool.scalar<int>("SELECT ?::int", value) != value) ++failures;
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
            ++failures;
        }
        ++done;
    };
    for (int i = 0; i < 100; ++i)
        asio::co_spawn(loop, worker(i), asio::detached);
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t)
        threads.emplace_back([&] { loop.run(); });
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(done.load(), 100);
    EXPECT_EQ(failures.load(), 0);
    EXPECT_GE(pool.stats().acquired, 100u);
}

ZEPHYR_TEST(Postgres, shared_connection_prepares_once_and_bounds_its_statements) {
    db::Pool pool{pg_url()};
    // pg_prepared_statements shows the session's own: here, the shared connection's.
    const auto prepared = [&]() -> Task<std::int64_t> {
        co_return co_await pool.scalar<std::int64_t>("SELECT count(*) FROM pg_prepared_statements WHERE name <> ?", "");
    };
    const std::int64_t before = co_await prepared();
    for (int i = 0; i < 50; ++i)
        EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT ?::bigint * 2 /* pgt_pipe_reuse */", i), 2 * i);
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE ?",
                                                 "%pgt_pipe_reuse%"),
              1);
    // More distinct statements than the cache holds, all at once: old ones are evicted and deallocated.
    std::vector<std::string> texts;
    for (int i = 0; i < 300; ++i)
        texts.push_back("SELECT ?::int + " + std::to_string(i) + " /* pgt_pipe_many */");
    int wrong = 0;
    auto one = [&](int i) -> Task<void> {
        if (co_await pool.scalar<int>(texts[static_cast<std::size_t>(i)], 1) != i + 1) ++wrong;
    };
    co_await concurrently(300, one);
    EXPECT_EQ(wrong, 0);
    const std::int64_t after = co_await prepared();
    EXPECT_LE(after - before, 256 + 16 + 2);
    EXPECT_GE(after - before, 200);
    // Evicted ones are prepared again when used again.
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(co_await pool.scalar<int>(texts[static_cast<std::size_t>(i)], 2), i + 2);
}

ZEPHYR_TEST(Postgres, shared_connection_prepares_stale_statements_again) {
    db::Pool pool{pg_url()};
    co_await pool.execute("DROP TABLE IF EXISTS pgt_pipe_stale");
    co_await pool.execute("CREATE TABLE pgt_pipe_stale (id int)");
    co_await pool.execute("INSERT INTO pgt_pipe_stale VALUES (?)", 1);
    const char* select = "SELECT * FROM pgt_pipe_stale WHERE id = ?";
    EXPECT_EQ((co_await pool.query<std::tuple<int>>(select, 1)).size(), 1u);
    // The plan's result type changes (SQLSTATE 0A000): prepared again, transparently.
    co_await pool.execute("ALTER TABLE pgt_pipe_stale ADD COLUMN name text DEFAULT 'n'");
    auto rows = co_await pool.query<std::tuple<int, std::string>>(select, 1);
    EXPECT_EQ(rows.size(), 1u);
    if (!rows.empty()) {
        EXPECT_EQ(std::get<1>(rows[0]), "n");
    }
    co_await pool.execute("DROP TABLE pgt_pipe_stale");
}

// Struct members are matched to a prepared statement's columns once (by its shape); when the columns change under
// it, the statement is prepared again and its rows are matched again.
ZEPHYR_TEST(Postgres, members_follow_columns_renamed_under_a_prepared_statement) {
    db::Pool pool{pg_url(), db::pool_options{.max_size = 1}};
    co_await pool.execute("DROP TABLE IF EXISTS pgt_shape");
    co_await pool.execute("CREATE TABLE pgt_shape (a int, b int)");
    co_await pool.execute("INSERT INTO pgt_shape VALUES (?, ?)", 1, 2);
    const char* select = "SELECT * FROM pgt_shape WHERE a + b = ?";
    db::Connection c = co_await pool.acquire();
    for (db::Session* s : {static_cast<db::Session*>(&pool), static_cast<db::Session*>(&c)}) {
        for (int i = 0; i < 2; ++i) {  // the second time from the prepared statement
            const pg_test::pair_ab r = co_await s->query_one<pg_test::pair_ab>(select, 3);
            EXPECT_EQ(r.a, 1);
            EXPECT_EQ(r.b, 2);
        }
    }
    // The first column is now called b and the second a: same types, other names.
    co_await c.execute("ALTER TABLE pgt_shape RENAME COLUMN a TO tmp");
    co_await c.execute("ALTER TABLE pgt_shape RENAME COLUMN b TO a");
    co_await c.execute("ALTER TABLE pgt_shape RENAME COLUMN tmp TO b");
    for (db::Session* s : {static_cast<db::Session*>(&pool), static_cast<db::Session*>(&c)}) {
        for (int i = 0; i < 2; ++i) {
            const pg_test::pair_ab r = co_await s->query_one<pg_test::pair_ab>(select, 3);
            EXPECT_EQ(r.a, 2);
            EXPECT_EQ(r.b, 1);
        }
    }
    co_await c.execute("DROP TABLE pgt_shape");
}

ZEPHYR_TEST(Postgres, shared_connection_carries_large_statements_among_small_ones) {
    db::Pool pool{pg_url()};
    db::blob big(2 << 20);
    for (std::size_t k = 0; k < big.size(); ++k)
        big[k] = static_cast<std::byte>(k * 13 % 251);
    int wrong = 0;
    auto one = [&](int i) -> Task<void> {
        try {
            if (i % 10 == 0) {
                // Larger than the socket's buffers both ways: sent and read in many pieces.
                if (co_await pool.scalar<db::blob>("SELECT ?::bytea", big) != big) ++wrong;
            } else if (co_await pool.scalar<int>("SELECT ?::int", i) != i) {
                ++wrong;
            }
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
            ++wrong;
        }
    };
    co_await concurrently(50, one);
    EXPECT_EQ(wrong, 0);
}

// ---- connections -------------------------------------------------------------------------------------------------

ZEPHYR_TEST(Postgres, terminated_backend_is_connection_lost_then_replaced) {
    db::Pool pool{pg_url(), db::pool_options{.max_size = 2}};
    db::Pool killer{pg_url(), db::pool_options{.max_size = 1}};
    int victim_pid = 0;
    {
        db::Connection c = co_await pool.acquire();
        victim_pid = co_await c.scalar<int>("SELECT pg_backend_pid()");
        EXPECT_TRUE(co_await killer.scalar<bool>("SELECT pg_terminate_backend(?, 5000)", victim_pid));
        auto e = co_await expect_throw<db::connection_lost>(c.scalar<int>("SELECT ?::int", 1));
        if (e) {
            EXPECT_EQ(e->http_status(), 503);
        }
        // Broken for good: the next statement says so without touching the socket.
        auto again = co_await expect_throw<db::connection_lost>(c.execute("SELECT 1"));
        EXPECT_TRUE(again.has_value());
    }
    const int pid = co_await pool.scalar<int>("SELECT pg_backend_pid()");
    EXPECT_NE(pid, victim_pid);
    // An idle pooled connection killed behind the pool's back is noticed before it is handed out.
    EXPECT_TRUE(co_await killer.scalar<bool>("SELECT pg_terminate_backend(?, 5000)", pid));
    const int next = co_await pool.scalar<int>("SELECT pg_backend_pid()");
    EXPECT_NE(next, pid);
}

ZEPHYR_TEST(Postgres, closed_port_is_connection_lost_quickly) {
    db::Pool pool{at_port(pg_url(), closed_port()), db::pool_options{.connect_timeout = 5000ms}};
    const auto started = std::chrono::steady_clock::now();
    auto e = co_await expect_throw<db::connection_lost>(pool.execute("SELECT 1"));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    if (e) {
        EXPECT_NE(std::string{e->what()}.find("127.0.0.1"), std::string::npos) << e->what();
    }
}

ZEPHYR_TEST(Postgres, silent_server_times_out) {
    silent_server silent;
    db::Pool pool{at_port(pg_url(), silent.port()), db::pool_options{.connect_timeout = 300ms}};
    const auto started = std::chrono::steady_clock::now();
    bool failed = false;
    try {
        co_await pool.execute("SELECT 1");
    } catch (const db::Error& e) {
        failed = e.kind() == db::errc::connection_lost || e.kind() == db::errc::timeout;
        EXPECT_TRUE(failed) << e.what();
    }
    EXPECT_TRUE(failed);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 3s);
}

ZEPHYR_TEST(Postgres, host_names_are_resolved_off_the_event_loop) {
    db::Pool pool{with_host(pg_url(), "localhost")};
    EXPECT_EQ(co_await pool.scalar<int>("SELECT ?::int", 3), 3);
    db::Pool nowhere{with_host(pg_url(), "no-such-host.invalid"), db::pool_options{.connect_timeout = 3000ms}};
    auto e = co_await expect_throw<db::connection_lost>(nowhere.execute("SELECT 1"));
    if (e) {
        EXPECT_NE(std::string{e->what()}.find("no-such-host.invalid"), std::string::npos) << e->what();
    }
}

ZEPHYR_TEST(Postgres, tries_each_host_of_a_list) {
    // libpq's host lists: the first refuses, the second is the server (a new socket, likely under the number of
    // the one just closed, which must be watched afresh).
    const std::string url = pg_url();
    const auto at = url.find('@');
    const std::string port = url.substr(url.find(':', at) + 1, url.find('/', at) - url.find(':', at) - 1);
    db::Pool pool{url + "?host=127.0.0.1,127.0.0.1&port=" + std::to_string(closed_port()) + "," + port};
    EXPECT_EQ(co_await pool.scalar<int>("SELECT ?::int", 4), 4);
}

ZEPHYR_TEST(Postgres, bad_password_is_connection_lost_without_the_password) {
    const std::string password = "Wr0ngPassw0rd-pgt";
    db::Pool pool{with_password(pg_url(), password)};
    auto e = co_await expect_throw<db::connection_lost>(pool.execute("SELECT 1"));
    if (e) {
        const std::string what = e->what();
        EXPECT_EQ(what.find(password), std::string::npos) << what;
        EXPECT_NE(what.find("password authentication failed"), std::string::npos) << what;
    }
    EXPECT_EQ(pool.url().find(password), std::string::npos);
}

ZEPHYR_TEST(Postgres, url_parameters_are_libpq_keywords) {
    db::Pool pool{pg_url() + "?application_name=pgt_app&sslmode=disable"};
    EXPECT_EQ(co_await pool.scalar<std::string>("SELECT current_setting('application_name')"), "pgt_app");
    EXPECT_EQ(co_await pool.scalar<std::string>("SELECT current_setting('client_encoding')"), "UTF8");
    // The session is put in UTC whatever the server's or the URL's time zone.
    db::Pool berlin{pg_url() + "?options=-c%20TimeZone%3DEurope/Berlin"};
    EXPECT_EQ(co_await berlin.scalar<std::string>("SELECT current_setting('TimeZone')"), "UTC");
    EXPECT_EQ(co_await berlin.scalar<std::string>("SELECT '2000-01-01 01:00:00+01'::timestamptz::text"),
              "2000-01-01 00:00:00+00");
    bool bad_url = false;
    try {
        db::Pool wrong{pg_url() + "?no_such_option=1"};
    } catch (const db::Error& e) {
        bad_url = e.kind() == db::errc::bad_url;
        EXPECT_NE(std::string{e.what()}.find("no_such_option"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(bad_url);
    EXPECT_EQ(pool.dialect(), db::dialect::postgresql);
}
