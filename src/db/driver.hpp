// The interface a database driver implements, and what the pool keeps about each connection.
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/db/pool.hpp>
#include <zephyr/db/url.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zephyr::db {
struct notification;
struct listen_options;
}  // namespace zephyr::db

namespace zephyr::db::detail {

/// One open connection. Used by one caller at a time (the pool guarantees it), possibly from different threads
/// one after the other.
class driver_connection {
public:
    virtual ~driver_connection() = default;

    /// Runs one statement with `?` placeholders. Throws db::Error; after errc::connection_lost, broken() is true.
    virtual Task<exec_result> run(std::string_view sql, const Params& params, RowSink* sink) = 0;
    /// A plain statement without parameters or rows (BEGIN, COMMIT, SAVEPOINT ...).
    virtual Task<void> simple(std::string_view sql) = 0;
    /// Checks the connection with a round trip.
    virtual Task<void> ping() = 0;
    /// True when the connection cannot be used again (lost, or its event loop is gone).
    virtual bool broken() const noexcept = 0;
    /// A cheap check without a round trip: false when the server has already closed the connection.
    virtual bool looks_alive() noexcept { return !broken(); }

    // Kept by the pool.
    std::chrono::steady_clock::time_point opened_at{};
    std::chrono::steady_clock::time_point idle_since{};
    bool in_transaction = false;  ///< A Tx was dropped without commit or rollback: roll back before reuse.
    boost::asio::any_io_executor executor{};  ///< Where it was opened; the pool prefers giving it back there.
};

/// The connection of a db::Listener (LISTEN/NOTIFY). db::Listener keeps it alive, with a shared_ptr, for as long
/// as one of its calls runs, so closing or destroying the Listener meanwhile is safe.
class driver_listener {
public:
    virtual ~driver_listener() = default;
    /// The next notification; nullopt once closed or when `deadline` passed first.
    virtual Task<std::optional<notification>> next(std::chrono::steady_clock::time_point deadline) = 0;
    virtual Task<void> listen(std::string channel) = 0;
    /// Stops listening on `channel`, or on every channel when it is nullopt.
    virtual Task<void> unlisten(std::optional<std::string> channel) = 0;
    virtual std::vector<std::string> channels() const = 0;
    virtual std::uint64_t reconnects() const noexcept = 0;
    /// Closes the connection, at once or, when a call is using it, as soon as that call returns (a next() that is
    /// waiting returns nullopt at once).
    virtual void close() noexcept = 0;
};

/// Opens connections for one pool.
class driver {
public:
    virtual ~driver() = default;
    virtual Task<std::unique_ptr<driver_connection>> connect(boost::asio::any_io_executor ex) = 0;
    /// The statement that begins a transaction with these options, e.g. "BEGIN ISOLATION LEVEL SERIALIZABLE".
    virtual std::string begin_sql(const tx_options& o) const;
    virtual db::dialect dialect() const noexcept = 0;
    /// The largest pool that makes sense (1 for SQLite :memory:, whose database lives in one connection).
    virtual std::size_t max_connections() const noexcept { return static_cast<std::size_t>(-1); }

    /// Whether run_shared() takes this statement. The pool asks for every single statement it runs outside a
    /// transaction whose rows are not streamed (Pool::run, not for_each); when false, the statement borrows a
    /// pooled connection of its own. A driver that shares must keep the semantics of a statement run on its own
    /// connection outside any transaction: its own implicit transaction, its own error, its own rows.
    virtual bool shares(std::string_view sql, const Params& params) const noexcept {
        (void)sql;
        (void)params;
        return false;
    }
    /// Runs one statement on a connection shared with the other statements of the calling event loop (PostgreSQL
    /// pipelines them over one connection per event loop). Only called when shares() said yes. Returns nullopt,
    /// having done nothing, when the driver cannot share on this event loop (the pool then runs the statement on
    /// a connection of its own); throws db::Error as driver_connection::run() does.
    virtual Task<std::optional<exec_result>> run_shared(std::string_view sql, const Params& params, RowSink* sink) {
        (void)sql;
        (void)params;
        (void)sink;
        co_return std::nullopt;
    }

    /// Opens a connection of its own, watched by the event loop of `ex`, that LISTENs on `channels`. What it
    /// needs to reconnect is shared with (not borrowed from) the driver: a listener may outlive its pool. The
    /// default throws db::Error (errc::misuse): the database has no notifications. Defined in listen.cpp.
    virtual Task<std::shared_ptr<driver_listener>> listen(boost::asio::any_io_executor ex,
                                                          std::vector<std::string> channels,
                                                          const listen_options& options);
};

std::unique_ptr<driver> make_sqlite_driver(const connection_url& url, const pool_options& options);
std::unique_ptr<driver> make_postgres_driver(const connection_url& url, const pool_options& options);
std::unique_ptr<driver> make_mysql_driver(const connection_url& url, const pool_options& options);

}  // namespace zephyr::db::detail
