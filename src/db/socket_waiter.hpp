// Waiting on a client library's socket (libpq, libmariadb) with Asio, without owning it.
#pragma once

#include <zephyr/core/task.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <atomic>
#include <exception>
#include <memory>
#include <optional>

namespace zephyr::db::detail {

class waiter_registry;

/// Registers a socket that a C client library owns with the event loop of `ex`, so a coroutine can wait until
/// it is readable or writable. The socket is never closed here (the library closes it).
///
/// When the event loop is destroyed while the connection still exists (a pool outliving an io_context, as in
/// tests), the waiter is orphaned: the registration is dropped and every later wait throws connection_lost, so
/// the pool discards the connection instead of touching a dead event loop.
class socket_waiter {
public:
    socket_waiter(boost::asio::any_io_executor ex, int fd);
    socket_waiter(const socket_waiter&) = delete;
    socket_waiter& operator=(const socket_waiter&) = delete;
    ~socket_waiter();

    /// Suspends until the socket is readable. Throws db::connection_lost when orphaned.
    Task<void> readable();
    /// Suspends until the socket is writable. Throws db::connection_lost when orphaned.
    Task<void> writable();
    /// readable() for a caller that treats every failure alike: one coroutine frame less. Throws
    /// db::connection_lost when orphaned, boost::system::system_error when the wait fails.
    Task<void> readable_unmapped();
    bool orphaned() const noexcept { return orphaned_.load(std::memory_order_acquire); }

private:
    friend class waiter_registry;
    void orphan() noexcept;
    Task<void> wait(boost::asio::posix::descriptor_base::wait_type what);
    // Optional so orphan() can destroy it while the event loop's services still exist: destroying it later
    // would call into a freed service.
    std::optional<boost::asio::posix::stream_descriptor> descriptor_;
    std::shared_ptr<waiter_registry> registry_;
    std::atomic<bool> orphaned_{false};
};

/// Runs `t` to its end and returns how it failed (null: it did not), without throwing. Asio's awaitable
/// operators finish with the first branch that *succeeds*, so a branch that fails would leave `||` waiting for
/// its partner: wrap each branch in settled() to race failures too.
Task<std::exception_ptr> settled(Task<void> t);

}  // namespace zephyr::db::detail
