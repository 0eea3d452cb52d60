// PostgreSQL LISTEN/NOTIFY through db::Listener, against the real server of the db_services ctest fixture:
// delivery and order, queueing, quoting of hostile channel names, unlisten, a backend killed under the listener,
// closing while next() waits, and the clear refusal of SQLite and MariaDB. Every test uses channels of its own,
// since ctest runs tests in parallel against one server (notifications are database-wide).
#include "db/integration/db_fixture.hpp"

#include <zephyr/db.hpp>
#include <zephyr/testing.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace db = zephyr::db;
namespace asio = boost::asio;
using zephyr::Task;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

std::string pg_url() { return db_test::service_url("postgres"); }

/// A channel name unique to this test and process.
std::string channel(const std::string& tag) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return std::string{"zl_"} + std::string{info->name()}.substr(0, 32) + "_" + std::to_string(::getpid()) + "_" + tag;
}

Task<void> notify(db::Pool& pool, const std::string& ch, const std::string& payload) {
    co_await pool.execute("SELECT pg_notify(?, ?)", ch, payload);
}

Task<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t{co_await asio::this_coro::executor, d};
    co_await t.async_wait(asio::use_awaitable);
}

/// The server process of the session whose last statement mentions `ch` (the listener's LISTEN), other than
/// the asking session; 0 when there is none.
Task<int> listener_pid(db::Pool& pool, const std::string& ch) {
    auto pid = co_await pool.query_opt<int>(
        "SELECT pid FROM pg_stat_activity WHERE query LIKE ? AND pid <> pg_backend_pid() ORDER BY backend_start DESC",
        "%" + ch + "%");
    co_return pid.value_or(0);
}

/// What `t` threw as a db::Error (its kind), or nullopt when it threw nothing or something else.
template <class T>
Task<std::optional<db::errc>> error_kind(Task<T> t) {
    std::optional<db::errc> kind;
    try {
        co_await std::move(t);
    } catch (const db::Error& e) {
        kind = e.kind();
    } catch (...) {
    }
    co_return kind;
}


/// A PostgreSQL server of this test's own (scripts/services/postgres.sh), to stop and restart without
/// disturbing the tests running beside it.
class own_postgres {
public:
    own_postgres() {
        char tmpl[] = "/tmp/zephyr-listen-XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error{"mkdtemp failed"};
        dir_ = tmpl;
        std::filesystem::permissions(dir_, std::filesystem::perms::owner_all | std::filesystem::perms::others_exec |
                                               std::filesystem::perms::group_exec);
        url = run("start");
    }
    own_postgres(const own_postgres&) = delete;
    own_postgres& operator=(const own_postgres&) = delete;
    ~own_postgres() {
        try {
            run("stop");
        } catch (...) {
        }
        std::filesystem::remove_all(dir_);
    }
    void stop() { run("stop"); }
    void restart() { run("restart"); }
    std::string url;

private:
    std::string run(const std::string& command) {
        const std::string cmd = std::string{ZEPHYR_SOURCE_DIR} + "/scripts/services/postgres.sh " + command + " " +
                                dir_ + " 2>>" + dir_ + "/script.log";
        std::string out;
        FILE* p = ::popen(cmd.c_str(), "r");
        if (!p) throw std::runtime_error{"cannot run " + cmd};
        char buf[512];
        while (std::fgets(buf, sizeof buf, p)) out += buf;
        if (::pclose(p) != 0) throw std::runtime_error{"failed: " + cmd};
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
        return out;
    }
    std::string dir_;
};

}  // namespace

ZEPHYR_TEST(listen, documented_example) {
    db::Pool pool{pg_url()};
    const std::string orders = channel("orders");
    std::vector<std::string> seen;
    // [listen]
    db::Listener listener = co_await pool.listen(orders);
    co_await pool.execute("SELECT pg_notify(?, ?)", orders, "42");
    while (std::optional<db::notification> n = co_await listener.next(1s)) {
        seen.push_back(n->channel + ": " + n->payload);
    }
    // [listen]
    EXPECT_EQ(seen, std::vector<std::string>{orders + ": 42"});
}

ZEPHYR_TEST(listen, one_notification_with_its_payload_and_sender) {
    db::Pool pool{pg_url()};
    const std::string ch = channel("a");
    db::Listener l = co_await pool.listen(ch);
    EXPECT_TRUE(l.is_open());
    EXPECT_EQ(l.channels(), std::vector<std::string>{ch});
    co_await notify(pool, ch, "hello");
    std::optional<db::notification> n = co_await l.next(5s);
    if (!n) {
        ADD_FAILURE() << "no notification";
        co_return;
    }
    EXPECT_EQ(n->channel, ch);
    EXPECT_EQ(n->payload, "hello");
    // Sent from the pool's shared connection of this event loop, which is also what answers this.
    EXPECT_EQ(n->pid, co_await pool.scalar<int>("SELECT pg_backend_pid()"));
    // NOTIFY without a payload, and nothing more after it.
    co_await pool.execute("NOTIFY \"" + ch + "\"");
    n = co_await l.next(5s);
    EXPECT_TRUE(n && n->channel == ch && n->payload.empty());
    EXPECT_FALSE(co_await l.next(200ms));
    EXPECT_EQ(l.reconnects(), 0u);
}

ZEPHYR_TEST(listen, several_channels) {
    db::Pool pool{pg_url()};
    const std::string a = channel("a");
    const std::string b = channel("b");
    const std::string c = channel("c");
    std::vector<std::string> ab{a, b};
    db::Listener l = co_await db::Listener::open(pool, ab);
    db::Listener two = co_await pool.listen(a, c);
    EXPECT_EQ(l.channels(), (std::vector<std::string>{a, b}));
    co_await notify(pool, b, "1");
    co_await notify(pool, c, "2");
    co_await notify(pool, a, "3");
    std::vector<std::string> got;
    while (auto n = co_await l.next(300ms)) got.push_back(n->channel + "=" + n->payload);
    EXPECT_EQ(got, (std::vector<std::string>{b + "=1", a + "=3"}));
    got.clear();
    while (auto n = co_await two.next(300ms)) got.push_back(n->channel + "=" + n->payload);
    EXPECT_EQ(got, (std::vector<std::string>{c + "=2", a + "=3"}));
}

ZEPHYR_TEST(listen, a_thousand_notifications_in_order) {
    db::Pool pool{pg_url()};
    const std::string ch = channel("n");
    const std::string other = channel("o");
    db::Listener l = co_await pool.listen(ch, other);
    // All sent before the first next(): they wait in the connection meanwhile.
    for (int i = 0; i < 1000; ++i) co_await notify(pool, i % 10 == 0 ? other : ch, std::to_string(i));
    int expected = 0;
    for (; expected < 1000; ++expected) {
        std::optional<db::notification> n = co_await l.next(5s);
        if (!n) break;
        if (n->payload != std::to_string(expected) || n->channel != (expected % 10 == 0 ? other : ch)) {
            ADD_FAILURE() << "notification " << expected << " came as " << n->channel << "=" << n->payload;
            break;
        }
    }
    EXPECT_EQ(expected, 1000);
    EXPECT_FALSE(co_await l.next(100ms));
}

ZEPHYR_TEST(listen, notifications_sent_before_next_are_queued) {
    db::Pool pool{pg_url()};
    const std::string ch = channel("q");
    db::Listener l = co_await pool.listen(ch);
    for (std::string p : {"x", "y", "z"}) co_await notify(pool, ch, p);
    co_await sleep_for(300ms);
    // A zero timeout still reads what has arrived.
    std::string got;
    while (auto n = co_await l.next(0ms)) got += n->payload;
    EXPECT_EQ(got, "xyz");
}

ZEPHYR_TEST(listen, payloads_with_quotes_and_unicode_arrive_intact) {
    db::Pool pool{pg_url()};
    const std::string ch = channel("p");
    db::Listener l = co_await pool.listen(ch);
    const std::vector<std::string> payloads{
        "it's \"quoted\"; \\ backslash $1 ? '); DROP TABLE x; --",
        "ünïcödé ✓ 日本語 🎉",
        std::string(7999, 'p'),  // PostgreSQL's limit is just below 8000 bytes
        "line\nbreak\ttab",
    };
    for (const std::string& p : payloads) co_await notify(pool, ch, p);
    for (const std::string& p : payloads) {
        std::optional<db::notification> n = co_await l.next(5s);
        EXPECT_TRUE(n && n->payload == p) << p.substr(0, 40);
    }
}

ZEPHYR_TEST(listen, hostile_channel_names_stay_names) {
    db::Pool pool{pg_url()};
    const std::string table = "t_listen_hostile_" + std::to_string(::getpid());
    co_await pool.execute("DROP TABLE IF EXISTS " + table);
    co_await pool.execute("CREATE TABLE " + table + " (id INT)");
    const std::string tag = std::to_string(::getpid());
    const std::vector<std::string> names{
        "\"; DROP TABLE " + table + "; --" + tag,
        "a\"b\"\"c" + tag,
        "O'Reilly'; SELECT 1; --" + tag,
        "Mixed Case " + tag,
        "*",  // a channel named "*", not UNLISTEN *
        "ünïcödé " + tag,
        "$1 ? " + tag,
    };
    db::Listener l = co_await db::Listener::open(pool, names);
    EXPECT_EQ(l.channels(), names);
    for (const std::string& ch : names) co_await notify(pool, ch, "to " + ch);
    for (const std::string& ch : names) {
        std::optional<db::notification> n = co_await l.next(5s);
        EXPECT_TRUE(n && n->channel == ch && n->payload == "to " + ch) << ch;
    }
    // Nothing was executed: the table is still there.
    EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM " + table), 0);

    // UNLISTEN of the channel named "*" leaves the others.
    co_await l.unlisten("*");
    co_await notify(pool, "*", "star");
    co_await notify(pool, names[0], "still");
    std::optional<db::notification> n = co_await l.next(5s);
    EXPECT_TRUE(n && n->channel == names[0] && n->payload == "still");
    EXPECT_EQ(l.channels().size(), names.size() - 1);

    // Names PostgreSQL cannot hold are refused before anything is sent.
    EXPECT_EQ(co_await error_kind(l.listen("")), db::errc::misuse);
    EXPECT_EQ(co_await error_kind(l.listen(std::string{"a\0b", 3})), db::errc::misuse);
    EXPECT_EQ(co_await error_kind(l.listen(std::string(64, 'x'))), db::errc::misuse);
    EXPECT_EQ(co_await error_kind(l.listen(std::string{"\xff\xfe"})), db::errc::misuse);
    std::vector<std::string> with_empty{"ok", ""};
    EXPECT_EQ(co_await error_kind(pool.listen(with_empty)), db::errc::misuse);
    const std::string longest = std::string(63 - tag.size(), 'x') + tag;
    co_await l.listen(longest);
    co_await notify(pool, longest, "63");
    n = co_await l.next(5s);
    EXPECT_TRUE(n && n->channel == longest);
    co_await pool.execute("DROP TABLE " + table);
}

ZEPHYR_TEST(listen, unlisten_stops_delivery) {
    db::Pool pool{pg_url()};
    const std::string a = channel("a");
    const std::string b = channel("b");
    const std::string c = channel("c");
    db::Listener l = co_await pool.listen(a, b);
    co_await notify(pool, b, "before");  // arrives, but is not read before unlisten()
    co_await sleep_for(100ms);
    co_await l.unlisten(b);
    EXPECT_EQ(l.channels(), std::vector<std::string>{a});
    co_await notify(pool, b, "after");
    co_await notify(pool, a, "a1");
    std::optional<db::notification> n = co_await l.next(5s);
    EXPECT_TRUE(n && n->channel == a && n->payload == "a1");
    EXPECT_FALSE(co_await l.next(300ms));

    co_await l.unlisten_all();
    EXPECT_TRUE(l.channels().empty());
    co_await notify(pool, a, "a2");
    EXPECT_FALSE(co_await l.next(300ms));

    co_await l.listen(c);
    co_await l.listen(c);  // twice is once
    EXPECT_EQ(l.channels(), std::vector<std::string>{c});
    co_await notify(pool, c, "c1");
    n = co_await l.next(5s);
    EXPECT_TRUE(n && n->channel == c && n->payload == "c1");
    EXPECT_FALSE(co_await l.next(200ms));
}

ZEPHYR_TEST(listen, listen_while_next_waits) {
    db::Pool pool{pg_url()};
    const std::string a = channel("a");
    const std::string late = channel("late");
    db::Listener l = co_await pool.listen(a);
    std::optional<db::notification> got;
    bool done = false;
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> Task<void> {
            got = co_await l.next(10s);
            done = true;
        },
        asio::detached);
    co_await sleep_for(100ms);
    EXPECT_FALSE(done);
    // A second next() at the same time is a mistake.
    EXPECT_EQ(co_await error_kind(l.next(1s)), db::errc::misuse);
    co_await l.listen(late);
    co_await notify(pool, late, "hi");
    for (int i = 0; i < 500 && !done; ++i) co_await sleep_for(10ms);
    EXPECT_TRUE(done);
    EXPECT_TRUE(got && got->channel == late && got->payload == "hi");
}

ZEPHYR_TEST(listen, next_times_out_and_can_be_cancelled) {
    using namespace asio::experimental::awaitable_operators;
    db::Pool pool{pg_url()};
    const std::string ch = channel("t");
    db::Listener l = co_await pool.listen(ch);
    auto started = clock_type::now();
    EXPECT_FALSE(co_await l.next(200ms));
    const auto waited = clock_type::now() - started;
    EXPECT_GE(waited, 190ms);
    EXPECT_LT(waited, 3s);

    // Cancelled by an awaitable operator: the listener is left as it was.
    asio::steady_timer timer{co_await asio::this_coro::executor, 100ms};
    Task<std::optional<db::notification>> next = l.next();
    Task<void> alarm = timer.async_wait(asio::use_awaitable);
    auto race = std::move(next) || std::move(alarm);
    auto r = co_await std::move(race);
    EXPECT_EQ(r.index(), 1u);
    co_await notify(pool, ch, "after");
    std::optional<db::notification> n = co_await l.next(5s);
    EXPECT_TRUE(n && n->payload == "after");
    EXPECT_EQ(l.reconnects(), 0u);
}

ZEPHYR_TEST(listen, killed_backend_reconnects_and_listens_again) {
    db::Pool pool{pg_url()};
    const std::string a = channel("a");
    const std::string b = channel("b");
    db::Listener l = co_await pool.listen(a, b);
    const int first = co_await listener_pid(pool, a);
    EXPECT_NE(first, 0);
    // Received by the connection before it is killed: still handed out.
    co_await notify(pool, a, "before");
    co_await sleep_for(300ms);
    EXPECT_TRUE(co_await pool.scalar<bool>("SELECT pg_terminate_backend(?)", first));
    std::optional<db::notification> n = co_await l.next(5s);
    EXPECT_TRUE(n && n->payload == "before");
    // Notifications sent while it reconnects are lost: send until one arrives, on both channels.
    std::optional<db::notification> again;
    for (int i = 0; i < 50 && !again; ++i) {
        co_await notify(pool, b, "after");
        again = co_await l.next(200ms);
    }
    EXPECT_TRUE(again && again->channel == b && again->payload == "after");
    EXPECT_EQ(l.reconnects(), 1u);
    const int second = co_await listener_pid(pool, a);
    EXPECT_NE(second, 0);
    EXPECT_NE(second, first);
    co_await notify(pool, a, "a");
    n = co_await l.next(5s);
    while (n && n->payload == "after") n = co_await l.next(5s);  // extra ones from the loop above
    EXPECT_TRUE(n && n->channel == a && n->payload == "a");
}

ZEPHYR_TEST(listen, killed_backend_without_reconnect_is_reported) {
    db::Pool pool{pg_url()};
    const std::string ch = channel("k");
    std::vector<std::string> channels{ch};
    db::Listener l = co_await db::Listener::open(pool, channels, {.reconnect = false});
    const int pid = co_await listener_pid(pool, ch);
    EXPECT_NE(pid, 0);
    EXPECT_TRUE(co_await pool.scalar<bool>("SELECT pg_terminate_backend(?)", pid));
    const auto started = clock_type::now();
    EXPECT_EQ(co_await error_kind(l.next(10s)), db::errc::connection_lost);
    EXPECT_LT(clock_type::now() - started, 5s);
    // And from then on.
    EXPECT_EQ(co_await error_kind(l.next(1s)), db::errc::connection_lost);
    EXPECT_EQ(co_await error_kind(l.listen(channel("other"))), db::errc::connection_lost);
    bool typed = false;
    try {
        (void)co_await l.next();
    } catch (const db::connection_lost&) {
        typed = true;
    }
    EXPECT_TRUE(typed);
    EXPECT_EQ(l.reconnects(), 0u);
}

ZEPHYR_TEST(listen, destroying_the_listener_while_next_waits) {
    db::Pool pool{pg_url()};
    const std::string ch = channel("d");
    std::optional<db::Listener> l{co_await pool.listen(ch)};
    const int pid = co_await listener_pid(pool, ch);
    EXPECT_NE(pid, 0);
    bool done = false;
    std::optional<db::notification> got{db::notification{"not", "set", 0}};
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> Task<void> {
            got = co_await l->next();
            done = true;
        },
        asio::detached);
    co_await sleep_for(100ms);
    EXPECT_FALSE(done);
    l.reset();
    for (int i = 0; i < 500 && !done; ++i) co_await sleep_for(10ms);
    EXPECT_TRUE(done);
    EXPECT_FALSE(got);
    // Its connection is closed.
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
        gone = !co_await pool.scalar<bool>("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = ?)", pid);
        if (!gone) co_await sleep_for(20ms);
    }
    EXPECT_TRUE(gone);
}

ZEPHYR_TEST(listen, close_while_next_waits) {
    db::Pool pool{pg_url()};
    const std::string ch = channel("c");
    db::Listener l = co_await pool.listen(ch);
    bool done = false;
    std::optional<db::notification> got{db::notification{}};
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> Task<void> {
            got = co_await l.next(30s);
            done = true;
        },
        asio::detached);
    co_await sleep_for(100ms);
    l.close();
    for (int i = 0; i < 500 && !done; ++i) co_await sleep_for(10ms);
    EXPECT_TRUE(done);
    EXPECT_FALSE(got);
    EXPECT_FALSE(l.is_open());
    EXPECT_FALSE(co_await l.next());
    EXPECT_EQ(co_await error_kind(l.listen(ch)), db::errc::misuse);
    // Moving another listener in is fine, and a moved-from one is closed.
    l = co_await pool.listen(ch);
    db::Listener moved = std::move(l);
    EXPECT_FALSE(l.is_open());  // NOLINT(bugprone-use-after-move): documented as closed
    co_await notify(pool, ch, "m");
    std::optional<db::notification> n = co_await moved.next(5s);
    EXPECT_TRUE(n && n->payload == "m");
}

TEST(listen, a_listener_outlives_the_event_loop_of_its_pending_next) {
    db::Pool pool{pg_url()};
    const std::string ch = channel("e");
    std::optional<db::Listener> l;
    {
        asio::io_context ioc{1};
        bool waiting = false;
        asio::co_spawn(
            ioc,
            [&]() -> Task<void> {
                l.emplace(co_await pool.listen(ch));
                waiting = true;
                (void)co_await l->next();
                ADD_FAILURE() << "next() returned although nothing was sent";
            },
            [](std::exception_ptr e) {
                if (!e) return;
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    ADD_FAILURE() << x.what();
                }
            });
        for (int i = 0; i < 500 && !waiting; ++i) ioc.run_for(10ms);
        ASSERT_TRUE(waiting);
        ioc.run_for(100ms);
    }  // destroyed with next() waiting: that coroutine is destroyed, the listener lives on
    ASSERT_TRUE(l);
    zephyr::testing::run_task([&]() -> Task<void> {
        co_await notify(pool, ch, "later");
        std::optional<db::notification> n = co_await l->next(5s);
        EXPECT_TRUE(n && n->payload == "later");
        EXPECT_EQ(l->reconnects(), 0u);  // the same connection, now watched by this event loop
    }());
    l.reset();
}

TEST(listen, server_restart_reconnects_after_it_is_back) {
    own_postgres server;
    db::Pool pool{server.url, {.connect_timeout = std::chrono::milliseconds{2000}}};
    const std::string ch = channel("r");
    std::optional<db::Listener> l;
    zephyr::testing::run_task([&]() -> Task<void> {
        l.emplace(co_await pool.listen(ch));
        co_await notify(pool, ch, "first");
        std::optional<db::notification> n = co_await l->next(5s);
        EXPECT_TRUE(n && n->payload == "first");
    }());
    server.stop();
    std::thread restarter{[&] {
        std::this_thread::sleep_for(1s);
        server.restart();
    }};
    zephyr::testing::run_task([&]() -> Task<void> {
        // The server is down: next() keeps trying to reconnect, and times out meanwhile.
        EXPECT_FALSE(co_await l->next(300ms));
        EXPECT_EQ(l->reconnects(), 0u);
        std::optional<db::notification> n;
        for (int i = 0; i < 150 && !n; ++i) {
            bool sent = false;
            try {
                co_await notify(pool, ch, "back");
                sent = true;
            } catch (const db::connection_lost&) {
            }
            n = co_await l->next(sent ? 200ms : 100ms);
        }
        EXPECT_TRUE(n && n->payload == "back");
        EXPECT_EQ(l->reconnects(), 1u);
    }());
    restarter.join();
    l.reset();
}

TEST(listen, sqlite_and_mariadb_say_they_have_no_notifications) {
    for (const std::string which : {"sqlite", "mariadb"}) {
        db::Pool pool{db_test::url_for(which, "listen_refused")};
        std::optional<db::Error> caught;
        zephyr::testing::run_task([&]() -> Task<void> {
            try {
                (void)co_await pool.listen("orders");
            } catch (const db::Error& e) {
                caught.emplace(e);
            }
        }());
        ASSERT_TRUE(caught) << which;
        EXPECT_EQ(caught->kind(), db::errc::misuse) << which;
        EXPECT_NE(std::string{caught->what()}.find("not supported"), std::string::npos) << caught->what();
        EXPECT_NE(std::string{caught->what()}.find(which == "sqlite" ? "SQLite" : "MariaDB"), std::string::npos)
            << caught->what();
    }
}
