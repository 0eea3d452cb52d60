// db::Listener: a handle on the driver's listener connection (the PostgreSQL driver has the only one).
#include "db/driver.hpp"

#include <zephyr/db/error.hpp>
#include <zephyr/db/listen.hpp>

#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include <utility>

namespace zephyr::db {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace detail {

Task<std::shared_ptr<driver_listener>> driver::listen(asio::any_io_executor ex, std::vector<std::string> channels,
                                                      const listen_options& options) {
    (void)ex;
    (void)channels;
    (void)options;
    const char* name = dialect() == dialect::sqlite ? "SQLite" : "MariaDB/MySQL";
    throw Error{errc::misuse,
                fmt::format("LISTEN/NOTIFY is not supported by {}: notifications are a PostgreSQL feature", name)};
}

}  // namespace detail

namespace {

// The calls below keep the listener alive in their own frames (the shared_ptr is a parameter, copied when the
// call is made), so the Listener may be closed, moved or destroyed while one of them waits.

Task<std::optional<notification>> next_of(std::shared_ptr<detail::driver_listener> l, clock::time_point deadline) {
    if (!l) co_return std::nullopt;
    co_return co_await l->next(deadline);
}

[[noreturn]] void closed() { throw Error{errc::misuse, "this db::Listener is closed (or moved from)"}; }

Task<void> listen_of(std::shared_ptr<detail::driver_listener> l, std::string channel) {
    if (!l) closed();
    co_await l->listen(std::move(channel));
}

Task<void> unlisten_of(std::shared_ptr<detail::driver_listener> l, std::optional<std::string> channel) {
    if (!l) closed();
    co_await l->unlisten(std::move(channel));
}

}  // namespace

Listener::Listener() noexcept = default;

Listener::Listener(Listener&& o) noexcept : impl_{std::move(o.impl_)} {}

Listener& Listener::operator=(Listener&& o) noexcept {
    if (this != &o) {
        close();
        impl_ = std::move(o.impl_);
    }
    return *this;
}

Listener::~Listener() { close(); }

Task<Listener> Listener::open(Pool& pool, std::vector<std::string> channels, listen_options options) {
    const asio::any_io_executor ex = co_await asio::this_coro::executor;
    Listener out;
    out.impl_ = co_await pool.backend().listen(ex, std::move(channels), options);
    co_return out;
}

Task<std::optional<notification>> Listener::next() { return next_of(impl_, clock::time_point::max()); }

Task<std::optional<notification>> Listener::next(std::chrono::milliseconds timeout) {
    const auto now = clock::now();
    // A timeout too large to add is no timeout.
    const auto deadline = timeout >= clock::time_point::max() - now ? clock::time_point::max() : now + timeout;
    return next_of(impl_, deadline);
}

Task<void> Listener::listen(std::string channel) { return listen_of(impl_, std::move(channel)); }

Task<void> Listener::unlisten(std::string channel) { return unlisten_of(impl_, std::move(channel)); }

Task<void> Listener::unlisten_all() { return unlisten_of(impl_, std::nullopt); }

std::vector<std::string> Listener::channels() const { return impl_ ? impl_->channels() : std::vector<std::string>{}; }

std::uint64_t Listener::reconnects() const noexcept { return impl_ ? impl_->reconnects() : 0; }

void Listener::close() noexcept {
    if (!impl_) return;
    impl_->close();
    impl_.reset();
}

// ---- Pool

Task<Listener> Pool::listen(std::vector<std::string> channels) { return Listener::open(*this, std::move(channels)); }

}  // namespace zephyr::db
