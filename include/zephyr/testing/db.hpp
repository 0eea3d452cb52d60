// zephyr/testing/db.hpp — databases for tests: a fresh one per test, rolled-back transactions, factories.
//
//     zephyr::testing::TestDatabase tdb{std::getenv("TEST_DATABASE_URL")};   // or {} for SQLite
//     tdb.create_tables<user, post>();          // or tdb.migrate("migrations")
//     auto& db = tdb.pool();
//
//     zephyr::testing::Factory<user> users{[](std::size_t n) {
//         return user{.name = "user" + std::to_string(n), .email = fmt::format("u{}@example.com", n)};
//     }};
//     user ada = co_await users.create(db, [](user& u) { u.name = "ada"; });
//     auto ten = co_await users.create_many(db, 10);
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/db.hpp>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zephyr::testing {

/// A database of its own for one test, dropped when the object goes: tests can run in parallel against one
/// server and never see each other's rows. From the server URL given:
/// - SQLite (`sqlite:` / any sqlite URL, the default): a new file in a temporary directory;
/// - PostgreSQL: a new schema, which the pool's connections use through search_path;
/// - MariaDB/MySQL: a new database named `zephyr_test_<random>` (the user needs CREATE and DROP on it).
class TestDatabase {
public:
    explicit TestDatabase(std::string_view server_url = "sqlite:", db::pool_options options = {});
    ~TestDatabase();
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;

    /// The URL of this test's database.
    const std::string& url() const noexcept { return url_; }
    db::dialect dialect() const noexcept;
    /// A pool on it (the same one each call).
    db::Pool& pool() noexcept { return *pool_; }
    std::shared_ptr<db::Pool> shared_pool() const noexcept { return pool_; }

    /// Creates the models' tables (in the order given).
    template <db::model_type... Ts>
    TestDatabase& create_tables() {
        run(db::create_tables<Ts...>(*pool_));
        return *this;
    }
    /// Applies the migrations in `directory`.
    TestDatabase& migrate(const std::filesystem::path& directory);

private:
    void run(Task<void> task);
    void admin(const std::vector<std::string>& statements) const;

    std::string server_, name_, url_;
    std::filesystem::path sqlite_dir_;
    std::shared_ptr<db::Pool> pool_;
};

/// Runs `body` in a transaction that is always rolled back: nothing it writes outlives it.
Task<void> in_rollback(db::Pool& pool, std::function<Task<void>(db::Tx&)> body);

/// Builds sample rows of model T: `make(n)` gets 1, 2, 3... so values can be unique; a tweak adjusts one row.
template <db::model_type T>
class Factory {
public:
    using make_fn = std::function<T(std::size_t n)>;
    using tweak_fn = std::function<void(T&)>;

    explicit Factory(make_fn make) : make_{std::move(make)} {}

    /// A row, not inserted.
    T build(const tweak_fn& tweak = {}) {
        T row = make_(++count_);
        if (tweak) tweak(row);
        return row;
    }
    /// A row inserted through `db` (its generated key and timestamps set).
    Task<T> create(db::Session& db, tweak_fn tweak = {}) {
        T row = build(tweak);
        co_await db::insert(db, row);
        co_return row;
    }
    Task<std::vector<T>> create_many(db::Session& db, std::size_t n, tweak_fn tweak = {}) {
        std::vector<T> rows;
        rows.reserve(n);
        for (std::size_t i = 0; i < n; ++i) rows.push_back(co_await create(db, tweak));
        co_return rows;
    }
    /// How many rows this factory built.
    std::size_t count() const noexcept { return count_; }

private:
    make_fn make_;
    std::size_t count_ = 0;
};

}  // namespace zephyr::testing
