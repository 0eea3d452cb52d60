// A database server that goes away mid-transaction and mid-pool-use, then comes back: the transaction is
// reported lost and leaves nothing behind, and the pool reconnects by itself. Each test runs its own throwaway
// server (scripts/services/*.sh), since stopping the shared one would disturb the tests running beside it.
#include <zephyr/db.hpp>
#include <zephyr/testing.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace db = zephyr::db;
using zephyr::Task;

namespace {

// Runs `scripts/services/<service>.sh <command> <dir>` and returns what it printed (the URL for start).
std::string service(const std::string& service, const std::string& command, const std::string& dir) {
    const std::string cmd = std::string{ZEPHYR_SOURCE_DIR} + "/scripts/services/" + service + ".sh " + command + " " +
                            dir + " 2>>" + dir + "/script.log";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        char buf[512];
        while (std::fgets(buf, sizeof buf, p)) out += buf;
        if (::pclose(p) != 0) throw std::runtime_error{"failed: " + cmd};
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

class own_server {
public:
    explicit own_server(std::string name) : name_{std::move(name)} {
        char tmpl[] = "/tmp/zephyr-restart-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        std::filesystem::permissions(dir_, std::filesystem::perms::owner_all | std::filesystem::perms::others_exec |
                                               std::filesystem::perms::group_exec);
        url = service(name_, "start", dir_);
    }
    ~own_server() {
        try {
            service(name_, "stop", dir_);
        } catch (...) {
        }
        std::filesystem::remove_all(dir_);
    }
    void stop() { service(name_, "stop", dir_); }
    void restart() { service(name_, "restart", dir_); }
    std::string url;

private:
    std::string name_;
    std::string dir_;
};

class restart : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(restart, transaction_is_lost_and_pool_recovers) {
    own_server server{GetParam()};
    db::Pool pool{server.url, {.max_size = 3, .connect_timeout = std::chrono::milliseconds{2000}}};
    zephyr::testing::run_task([&]() -> Task<void> {
        co_await pool.execute("CREATE TABLE notes (id INT PRIMARY KEY, text VARCHAR(100))");
        co_await pool.execute("INSERT INTO notes (id, text) VALUES (?, ?)", 1, "committed");
        // Warm the pool: a connection that sits idle while the server restarts.
        co_await pool.scalar<std::int64_t>("SELECT count(*) FROM notes");

        db::Tx tx = co_await pool.begin();
        co_await tx.execute("INSERT INTO notes (id, text) VALUES (?, ?)", 2, "half written");
        server.stop();
        bool lost = false;
        try {
            co_await tx.execute("INSERT INTO notes (id, text) VALUES (?, ?)", 3, "never");
            co_await tx.commit();
        } catch (const db::connection_lost& e) {
            lost = true;
            EXPECT_EQ(e.http_status(), 503);
        }
        EXPECT_TRUE(lost) << "the statement after the server went away must fail";
        co_await tx.rollback();  // safe on a lost connection

        // While the server is down, callers get a quick, typed error.
        bool down = false;
        try {
            co_await pool.scalar<std::int64_t>("SELECT count(*) FROM notes");
        } catch (const db::connection_lost&) {
            down = true;
        }
        EXPECT_TRUE(down);
    }());

    server.restart();
    zephyr::testing::run_task([&]() -> Task<void> {
        // The pool reconnects by itself; only the committed row is there.
        auto texts = co_await pool.query<std::string>("SELECT text FROM notes ORDER BY id");
        EXPECT_EQ(texts, std::vector<std::string>{"committed"});
        co_await pool.transaction([&](db::Tx& t) -> Task<void> {
            co_await t.execute("INSERT INTO notes (id, text) VALUES (?, ?)", 2, "after restart");
        });
        EXPECT_EQ(co_await pool.scalar<std::int64_t>("SELECT count(*) FROM notes"), 2);
        EXPECT_EQ(pool.stats().in_use, 0u);
        EXPECT_GE(pool.stats().closed, 1u);
    }());
}

INSTANTIATE_TEST_SUITE_P(db, restart, ::testing::Values("postgres", "mariadb"),
                         [](const auto& info) { return info.param; });
