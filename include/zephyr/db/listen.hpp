// zephyr/db/listen.hpp — PostgreSQL LISTEN/NOTIFY as a stream of notifications.
//
// A Listener holds a PostgreSQL connection of its own (not one of the pool's), LISTENs on channels and hands
// over the notifications sent to them, in the order the server delivered them. Sending needs nothing special:
// any statement on the pool, `pg_notify(channel, payload)` or `NOTIFY`.
//
//     db::Listener orders = co_await pool->listen("orders");
//     while (std::optional<db::notification> n = co_await orders.next()) {
//         log::info(n->channel + ": " + n->payload);
//     }
//
//     co_await pool->execute("SELECT pg_notify(?, ?)", "orders", "42");   // elsewhere
//
// Only PostgreSQL has notifications: on SQLite and MariaDB, listen() throws db::Error (errc::misuse).
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/db/pool.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace zephyr::db {

namespace detail {
class driver_listener;
}  // namespace detail

/// One notification: the channel it was sent to, its payload ("" when none) and the server process id of the
/// session that sent it.
struct notification {
    std::string channel;
    std::string payload;
    int pid = 0;
};

/// How a Listener behaves when its connection is lost.
struct listen_options {
    /// Reconnect and LISTEN again on every channel when the connection is lost (a server restart, an
    /// administrator's pg_terminate_backend). Notifications sent while the listener was disconnected are lost;
    /// reconnects() counts the reconnections, so a caller can tell that there was a gap. When false, next()
    /// and listen() throw db::connection_lost from then on.
    bool reconnect = true;
    /// How long reconnecting is attempted (with pauses from 50 ms growing to 2 s) before next() gives up and
    /// throws db::connection_lost; the next call starts trying again.
    std::chrono::milliseconds reconnect_timeout{30'000};
};

/// A PostgreSQL connection of its own that receives notifications. Open one with Pool::listen() or open();
/// destroying it (or close()) closes the connection, and a next() that is waiting then returns std::nullopt.
///
/// Notifications that arrive while nobody is waiting in next() stay in the connection: Zephyr reads from the
/// socket only inside next(), so a listener that is not read keeps them in the socket's buffer and then in
/// PostgreSQL's notification queue (max_notify_queue_pages, 8 GB by default), which holds each notification until
/// every listening session has read it. Nothing is dropped on the client side, and memory stays small; but a
/// listener that is never read makes that queue grow, and once it is full, NOTIFY fails for everyone. Read
/// listeners promptly, or close them.
///
/// A Listener is used from one event-loop thread at a time (like a Connection); a next() may wait in one
/// coroutine while another calls listen() or unlisten(). At most one next() may wait at a time.
class Listener {
public:
    /// A closed listener: next() returns std::nullopt.
    Listener() noexcept;
    Listener(Listener&&) noexcept;
    /// Closes this listener's connection first.
    Listener& operator=(Listener&&) noexcept;
    ~Listener();

    /// Opens a connection with the pool's URL and connect timeout and LISTENs on `channels` (possibly none).
    /// Throws db::connection_lost when PostgreSQL cannot be reached, errc::misuse for a database without
    /// notifications and for a channel name PostgreSQL cannot hold (see listen()).
    static Task<Listener> open(Pool& pool, std::vector<std::string> channels, listen_options options = {});

    /// The next notification, waiting as long as it takes; std::nullopt once the listener is closed. Throws
    /// db::connection_lost when the connection is lost and listen_options::reconnect is false (or reconnecting
    /// failed for reconnect_timeout). Cancelling the awaiting coroutine (an awaitable operator, a cancellation
    /// slot) stops the wait with boost::system::system_error (operation_aborted) and leaves the listener usable.
    Task<std::optional<notification>> next();
    /// As next(), but std::nullopt also when nothing arrived within `timeout`.
    Task<std::optional<notification>> next(std::chrono::milliseconds timeout);

    /// LISTENs on one more channel. Channel names are identifiers, quoted as such: any text up to 63 bytes
    /// without a NUL byte, case-sensitive exactly as given (send with pg_notify(?, ...), since an unquoted name
    /// in `NOTIFY orders` is folded to lower case). Anything else throws db::Error (errc::misuse).
    Task<void> listen(std::string channel);
    /// Stops listening on `channel`. Once it returns, next() returns no notification of that channel, not even
    /// one that arrived before.
    Task<void> unlisten(std::string channel);
    /// Stops listening on every channel.
    Task<void> unlisten_all();

    /// The channels listened on.
    std::vector<std::string> channels() const;
    /// How many times the connection was lost and opened again (each time, some notifications may be missing).
    std::uint64_t reconnects() const noexcept;
    /// False once closed (or moved from).
    bool is_open() const noexcept { return impl_ != nullptr; }
    explicit operator bool() const noexcept { return is_open(); }
    /// Closes the connection (after a next() that is waiting has returned std::nullopt). Later calls to listen()
    /// throw errc::misuse; next() returns std::nullopt.
    void close() noexcept;

private:
    std::shared_ptr<detail::driver_listener> impl_;
};

}  // namespace zephyr::db
