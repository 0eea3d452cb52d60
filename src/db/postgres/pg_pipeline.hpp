// PostgreSQL's shared connections: the single statements of every coroutine on one event loop, pipelined over one
// connection. Internal to the PostgreSQL driver.
//
// Pool::run hands the driver each single statement that runs outside a transaction and whose rows are not
// streamed. Rather than borrowing a connection for a round trip each, they all go over one connection per event
// loop in libpq's pipeline mode: each caller appends its statement (Bind/Execute, after a Parse the first time)
// and a Sync of its own, so every statement is its own implicit transaction and an error fails that statement
// only; the server answers in order, and one caller at a time (the "leader") reads the answers and hands each
// statement's rows, error and completion to its caller. What changes for the caller, compared with a pooled
// connection of its own:
//  - statements wait for those sent before them on the same event loop: a slow one delays the others;
//  - session state is shared: SET, advisory locks, temporary tables, ... are the business of acquire() (a
//    statement without parameters that is not a plain SELECT/WITH/VALUES/TABLE/INSERT/UPDATE/DELETE, or that
//    holds several statements, is not shared: it borrows a pooled connection as before);
//  - a statement cannot be abandoned half way: its caller is resumed once its answer has arrived.
// A shared connection has no lock: it is used by the one thread that runs its event loop. An event loop that may
// be run by several threads (an io_context without a concurrency hint of 1) gets no shared connection: its
// statements borrow pooled connections as before.
#pragma once

#include "db/socket_waiter.hpp"

#include <zephyr/core/task.hpp>
#include <zephyr/db/session.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>

#include <libpq-fe.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace zephyr::db::detail {

/// An open libpq connection and its socket's registration with an event loop; closed when destroyed.
class pg_link {
public:
    pg_link() noexcept = default;
    pg_link(PGconn* conn, std::unique_ptr<socket_waiter> waiter) noexcept : conn{conn}, waiter{std::move(waiter)} {}
    pg_link(pg_link&& o) noexcept : conn{std::exchange(o.conn, nullptr)}, waiter{std::move(o.waiter)} {}
    pg_link& operator=(pg_link&& o) noexcept {
        if (this != &o) {
            close();
            conn = std::exchange(o.conn, nullptr);
            waiter = std::move(o.waiter);
        }
        return *this;
    }
    ~pg_link() { close(); }

    void close() noexcept {
        waiter.reset();  // unregistered before libpq closes the socket
        if (conn) PQfinish(conn);
        conn = nullptr;
    }

    PGconn* conn = nullptr;
    std::unique_ptr<socket_waiter> waiter{};
};

class pg_pipeline;

/// The shared connections of one driver: one per event loop, opened on first use, replaced when broken, closed
/// with the driver or when their event loop is destroyed.
class pg_shared_connections : public std::enable_shared_from_this<pg_shared_connections> {
public:
    /// Opens a connection (ready, not yet in pipeline mode) whose socket is watched by the event loop of `ex`.
    using opener = std::function<Task<pg_link>(boost::asio::any_io_executor ex)>;

    explicit pg_shared_connections(opener open) : open_{std::move(open)}, version_{next_version()} {}
    pg_shared_connections(const pg_shared_connections&) = delete;
    pg_shared_connections& operator=(const pg_shared_connections&) = delete;
    ~pg_shared_connections() { close_all(); }

    /// Whether a statement can be shared: any statement with parameters (the server takes one statement per
    /// Parse), and a single plain SELECT/WITH/VALUES/TABLE/INSERT/UPDATE/DELETE without.
    static bool shareable(std::string_view sql, const Params& params) noexcept;

    /// Runs one statement on the calling event loop's shared connection; on a pooled connection of `pool` when
    /// that loop may be run by several threads, which a shared connection cannot serve (it has no lock). Holding
    /// `pool` keeps the driver, and so these connections, alive.
    Task<std::optional<exec_result>> run(std::string_view sql, const Params& params, RowSink* sink);

    /// Closes every shared connection (the driver is going away).
    void close_all() noexcept;

private:
    friend class pg_pipeline;
    /// The shared connection of `loop` when it is open and passed its idle check; null otherwise.
    std::shared_ptr<pg_pipeline> ready(boost::asio::execution_context* loop);
    /// The shared connection of `loop`, opened (or waited for, or replaced when broken) as needed; null when the
    /// loop may be run by several threads. Throws connection_lost when none can be opened.
    Task<std::shared_ptr<pg_pipeline>> connect(boost::asio::execution_context* loop);
    /// The shared connection of `loop`, and whether the caller must open it (it was just created).
    std::pair<std::shared_ptr<pg_pipeline>, bool> find_or_create(boost::asio::execution_context* loop);
    /// Drops `p` from the map if it is still the connection of `loop`.
    void forget(boost::asio::execution_context* loop, const pg_pipeline* p) noexcept;

    opener open_;
    std::mutex mutex_;
    std::unordered_map<boost::asio::execution_context*, std::shared_ptr<pg_pipeline>> by_loop_;
    bool closed_ = false;
    /// Changes (from a process-wide counter) whenever by_loop_ does: see ready().
    std::atomic<std::uint64_t> version_;
    static std::uint64_t next_version() noexcept;
    /// by_loop_ changed (under the mutex).
    void changed_locked() noexcept;
};

}  // namespace zephyr::db::detail
