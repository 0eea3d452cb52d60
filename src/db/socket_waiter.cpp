#include "db/socket_waiter.hpp"

#include <zephyr/db/error.hpp>

#include <boost/asio/execution/context.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <mutex>
#include <unordered_set>

namespace zephyr::db::detail {

namespace asio = boost::asio;

// Lives in each event loop (an Asio service) and knows the waiters registered with it. The event loop's
// destruction shuts services down before freeing them; shutdown() then drops the waiters' registrations while
// the reactor still exists, so a connection that outlives its event loop never touches freed memory.
class waiter_registry {
public:
    void add(socket_waiter* w) {
        std::lock_guard lock{mutex_};
        if (shut_) {
            w->orphan();
            return;
        }
        waiters_.insert(w);
    }
    // Unregisters `w` and drops its registration unless shutdown() already did: under the mutex, so the
    // event loop's shutdown cannot orphan it halfway.
    void remove(socket_waiter* w) {
        std::lock_guard lock{mutex_};
        waiters_.erase(w);
        if (!w->orphaned()) w->descriptor_->release();
    }
    void shutdown() {
        std::lock_guard lock{mutex_};
        shut_ = true;
        for (socket_waiter* w : waiters_) w->orphan();
        waiters_.clear();
    }

private:
    std::mutex mutex_;
    std::unordered_set<socket_waiter*> waiters_;
    bool shut_ = false;
};

namespace {
class registry_service final : public asio::execution_context::service {
public:
    static inline asio::execution_context::id id;
    explicit registry_service(asio::execution_context& ctx)
        : asio::execution_context::service{ctx}, registry{std::make_shared<waiter_registry>()} {}
    void shutdown() override { registry->shutdown(); }
    std::shared_ptr<waiter_registry> registry;
};
}  // namespace

socket_waiter::socket_waiter(asio::any_io_executor ex, int fd) : descriptor_{std::in_place, ex} {
    boost::system::error_code ec;
    descriptor_->assign(fd, ec);
    if (ec) throw connection_lost{"cannot watch the database socket: " + ec.message()};
    // Created after the descriptor, so the service shuts down before the reactor it relies on.
    auto& ctx = asio::query(ex, asio::execution::context);
    registry_ = asio::use_service<registry_service>(ctx).registry;
    registry_->add(this);
}

socket_waiter::~socket_waiter() { registry_->remove(this); }

void socket_waiter::orphan() noexcept {
    if (orphaned_.exchange(true, std::memory_order_acq_rel)) return;
    // release() deregisters without closing: the client library owns the socket.
    descriptor_->release();
    descriptor_.reset();
}

Task<void> socket_waiter::wait(asio::posix::descriptor_base::wait_type what) {
    if (orphaned()) throw connection_lost{"the connection's event loop has stopped"};
    boost::system::error_code ec;
    co_await descriptor_->async_wait(what, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) throw connection_lost{"waiting on the database socket failed: " + ec.message()};
}

Task<void> socket_waiter::readable() { return wait(asio::posix::descriptor_base::wait_read); }

Task<void> socket_waiter::writable() { return wait(asio::posix::descriptor_base::wait_write); }

Task<void> socket_waiter::readable_unmapped() {
    if (orphaned()) throw connection_lost{"the connection's event loop has stopped"};
    return descriptor_->async_wait(asio::posix::descriptor_base::wait_read, asio::use_awaitable);
}

Task<std::exception_ptr> settled(Task<void> t) {
    std::exception_ptr failure;
    try {
        co_await std::move(t);
    } catch (...) {
        failure = std::current_exception();
    }
    co_return failure;
}

}  // namespace zephyr::db::detail
