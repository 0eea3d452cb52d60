// zephyr/db/pool.hpp — a pool of database connections, and transactions on them.
//
// A Pool opens connections lazily (up to max_size), hands one to each operation and takes it back. Queries on
// the Pool itself borrow a connection for one statement; acquire() keeps one for several; transaction() keeps one
// for a transaction that commits when the body returns and rolls back when it throws.
//
//     auto db = std::make_shared<zephyr::db::Pool>("sqlite:///var/app.db");
//     co_await db->execute("INSERT INTO users(name) VALUES (?)", "ada");
//     co_await db->transaction([&](zephyr::db::Tx& tx) -> zephyr::Task<void> {
//         co_await tx.execute("UPDATE accounts SET balance = balance - ? WHERE id = ?", 10, from);
//         co_await tx.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", 10, to);
//     });
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/db/session.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace zephyr::db {

namespace detail {
class pool_state;
class driver_connection;
class driver;
}  // namespace detail

class Listener;

/// Sizes and timeouts of a Pool.
struct pool_options {
    std::size_t min_size = 0;   ///< Connections warm_up() opens and idle expiry keeps.
    std::size_t max_size = 10;  ///< At most this many connections at once (SQLite :memory: always uses 1).
    std::chrono::milliseconds acquire_timeout{5000};    ///< Waiting longer throws db::timeout.
    std::chrono::milliseconds connect_timeout{5000};    ///< Opening one connection.
    std::chrono::milliseconds max_lifetime{30 * 60 * 1000};  ///< A connection older than this is closed on return.
    std::chrono::milliseconds idle_timeout{10 * 60 * 1000};  ///< An idle connection older than this is closed.
    /// A connection idle longer than this is checked (a round trip) before it is handed out; 0 checks every time.
    std::chrono::milliseconds health_check_after{30 * 1000};
    /// PostgreSQL: single statements run on the pool itself (not in a transaction, not for_each) share one
    /// pipelined connection per event-loop thread instead of taking a pooled connection each. Much faster under
    /// load; but a slow or blocked statement delays the ones queued behind it on that thread, and session state
    /// (SET, advisory locks, temporary tables) needs acquire(). Those shared connections come on top of max_size.
    bool share_connections = true;
    /// SQLite: the worker threads that run statements; also the most connections a SQLite pool opens.
    std::size_t sqlite_threads = 4;
    /// SQLite: how long a statement waits for another connection's write lock before SQLITE_BUSY.
    std::chrono::milliseconds sqlite_busy_timeout{5000};
};

/// A snapshot of a pool's counters, for metrics.
struct pool_stats {
    std::size_t size = 0;     ///< Open connections (idle + in use) plus those being opened.
    std::size_t idle = 0;     ///< Open and waiting in the pool.
    std::size_t in_use = 0;   ///< Handed out.
    std::size_t waiting = 0;  ///< Callers waiting for a connection.
    std::uint64_t acquired = 0;         ///< Total successful acquisitions.
    std::uint64_t timeouts = 0;         ///< Acquisitions that gave up.
    std::uint64_t opened = 0;           ///< Connections opened since the pool was created.
    std::uint64_t closed = 0;           ///< Connections closed (expired, broken or at shutdown).
    std::chrono::microseconds acquire_time{0};  ///< Total time spent acquiring.
};

/// Transaction isolation levels (SQLite transactions are always serializable).
enum class isolation { database_default, read_uncommitted, read_committed, repeatable_read, serializable };

/// How transaction() runs its body.
struct tx_options {
    db::isolation isolation = isolation::database_default;
    bool read_only = false;
    /// Extra attempts after a serialization failure or deadlock (the body must be safe to run again).
    int retries = 0;
};

/// One connection taken from a Pool; it goes back when this object is destroyed.
class Connection final : public Session {
public:
    Connection() noexcept;
    Connection(Connection&&) noexcept;
    Connection& operator=(Connection&&) noexcept;
    ~Connection();

    Task<exec_result> run(std::string_view sql, const Params& params, RowSink* sink) override;
    db::dialect dialect() const noexcept override;
    explicit operator bool() const noexcept { return conn_ != nullptr; }

private:
    friend class Pool;
    friend class Tx;
    friend class detail::pool_state;
    Connection(std::shared_ptr<detail::pool_state> pool, std::unique_ptr<detail::driver_connection> conn) noexcept;
    void release() noexcept;
    std::shared_ptr<detail::pool_state> pool_;
    std::unique_ptr<detail::driver_connection> conn_;
};

class Tx;

/// A transaction body: `[&](db::Tx& tx) -> Task<R> { ... }`.
template <class F>
concept tx_body = std::is_invocable_v<F&, Tx&>;

namespace detail {
template <class F>
using tx_result = typename std::invoke_result_t<F&, Tx&>::value_type;
}  // namespace detail

/// An open transaction. Commit with commit(); destroyed without commit() or rollback() it is rolled back
/// before its connection is used again. Nested transaction() calls are savepoints.
class Tx final : public Session {
public:
    Tx() = default;
    Tx(Tx&&) noexcept;
    Tx& operator=(Tx&&) noexcept;
    ~Tx();

    Task<exec_result> run(std::string_view sql, const Params& params, RowSink* sink) override;
    db::dialect dialect() const noexcept override;

    /// Makes the changes permanent. Throws what the database reports (a serialization failure at commit, ...).
    Task<void> commit();
    /// Undoes the changes. Safe to call on a transaction whose connection was lost (does nothing then).
    Task<void> rollback();
    /// True until commit() or rollback().
    bool active() const noexcept { return active_; }
    /// True once the transaction holds a connection (a deferred transaction begins with its first statement).
    bool begun() const noexcept { return static_cast<bool>(conn_); }

    /// Runs `body` inside a savepoint: released when it returns, rolled back to when it throws (the exception
    /// propagates, the outer transaction stays usable).
    template <tx_body F>
    Task<detail::tx_result<F>> transaction(F body) {
        using R = detail::tx_result<F>;
        if constexpr (std::is_void_v<R>) {
            co_await savepoint([&](Tx& t) -> Task<void> { co_await body(t); });
        } else {
            std::optional<R> out;
            co_await savepoint([&](Tx& t) -> Task<void> { out.emplace(co_await body(t)); });
            co_return std::move(*out);
        }
    }

private:
    friend class Pool;
    explicit Tx(Connection c) noexcept : conn_{std::move(c)}, active_{true} {}
    Task<void> savepoint(std::function<Task<void>(Tx&)> body);
    Task<void> ensure_begun();
    Connection conn_;
    std::shared_ptr<detail::pool_state> deferred_{};  ///< Set until a deferred transaction begins.
    tx_options options_{};
    bool active_ = false;
    int depth_ = 0;
};

/// A pool of connections to one database. Thread-safe; share it (`std::shared_ptr<db::Pool>`, `Inject<db::Pool>`).
class Pool final : public Session {
public:
    /// Checks the URL (db::Error with errc::bad_url when it is unusable); connects lazily, on first use.
    explicit Pool(std::string_view url, pool_options options = {});
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    ~Pool();

    /// Borrows a connection for one statement.
    Task<exec_result> run(std::string_view sql, const Params& params, RowSink* sink) override;
    db::dialect dialect() const noexcept override;

    /// A connection for several statements. Waits up to acquire_timeout when all max_size are in use (then
    /// throws db::timeout); throws db::connection_lost when the database cannot be reached.
    Task<Connection> acquire();
    /// Opens connections until min_size are open.
    Task<void> warm_up();

    /// Begins a transaction; prefer transaction(), which cannot forget to commit.
    Task<Tx> begin(tx_options options = {});
    /// A transaction that takes a connection and begins only when its first statement runs, so a request that
    /// never touches the database costs nothing (see db::provide_request_transaction in zephyr/db/http.hpp).
    /// commit() and rollback() of one that never began do nothing.
    Tx deferred(tx_options options = {});

    /// Runs `body` in a transaction: commits when it returns, rolls back and rethrows when it throws. With
    /// `options.retries`, a serialization failure or deadlock runs the body again in a new transaction.
    template <tx_body F>
    Task<detail::tx_result<F>> transaction(F body, tx_options options = {}) {
        using R = detail::tx_result<F>;
        if constexpr (std::is_void_v<R>) {
            co_await run_transaction([&](Tx& t) -> Task<void> { co_await body(t); }, options);
        } else {
            std::optional<R> out;
            co_await run_transaction([&](Tx& t) -> Task<void> { out.emplace(co_await body(t)); }, options);
            co_return std::move(*out);
        }
    }

    /// PostgreSQL LISTEN on one channel or several, `co_await pool.listen("orders", "users")`, over a connection
    /// of the listener's own (see zephyr/db/listen.hpp, which declares Listener). Throws db::Error
    /// (errc::misuse) on SQLite and MariaDB.
    template <class... Names>
        requires(sizeof...(Names) > 0 && (std::is_convertible_v<const Names&, std::string_view> && ...))
    Task<Listener> listen(const Names&... channels) {
        return listen(std::vector<std::string>{std::string{std::string_view{channels}}...});
    }
    Task<Listener> listen(std::vector<std::string> channels);

    pool_stats stats() const;
    const pool_options& options() const noexcept;
    /// The URL with the password hidden.
    std::string url() const;

private:
    friend class Listener;
    Task<void> run_transaction(std::function<Task<void>(Tx&)> body, tx_options options);
    detail::driver& backend() const noexcept;
    std::shared_ptr<detail::pool_state> state_;
};

}  // namespace zephyr::db
