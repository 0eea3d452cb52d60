#include "db/driver.hpp"

#include <zephyr/core/log.hpp>
#include <zephyr/config.hpp>
#include <zephyr/db/pool.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <list>
#include <mutex>
#include <random>

namespace zephyr::db {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace detail {

std::string driver::begin_sql(const tx_options& o) const {
    std::string sql = "BEGIN";
    switch (o.isolation) {
        case isolation::database_default: break;
        case isolation::read_uncommitted: sql += " ISOLATION LEVEL READ UNCOMMITTED"; break;
        case isolation::read_committed: sql += " ISOLATION LEVEL READ COMMITTED"; break;
        case isolation::repeatable_read: sql += " ISOLATION LEVEL REPEATABLE READ"; break;
        case isolation::serializable: sql += " ISOLATION LEVEL SERIALIZABLE"; break;
    }
    if (o.read_only) sql += " READ ONLY";
    return sql;
}

// A caller waiting for a connection. Everything but the timer is guarded by the pool's mutex.
struct pool_waiter {
    explicit pool_waiter(asio::any_io_executor ex) : timer{ex} {}
    asio::steady_timer timer;
    std::unique_ptr<driver_connection> conn;  ///< Handed over by release().
    bool may_open = false;                    ///< A slot was freed (and reserved) for this waiter to open one.
};

class pool_state {
public:
    pool_state(connection_url u, pool_options o) : url{std::move(u)}, options{o} {
        switch (url.dialect) {
            case dialect::sqlite: drv = make_sqlite_driver(url, options); break;
            case dialect::postgresql:
#if ZEPHYR_HAS_POSTGRES
                drv = make_postgres_driver(url, options);
#else
                throw Error{errc::bad_url, "this build of Zephyr has no PostgreSQL driver (ZEPHYR_WITH_POSTGRES=OFF)"};
#endif
                break;
            case dialect::mysql:
#if ZEPHYR_HAS_MYSQL
                drv = make_mysql_driver(url, options);
#else
                throw Error{errc::bad_url, "this build of Zephyr has no MySQL driver (ZEPHYR_WITH_MYSQL=OFF)"};
#endif
                break;
        }
        max = std::max<std::size_t>(1, std::min(options.max_size, drv->max_connections()));
    }

    ~pool_state() {
        // Connections close outside any lock, as in close_all().
        close_all();
    }

    Task<Connection> acquire(std::shared_ptr<pool_state> self);
    // A caller stopped waiting without being resumed (its coroutine was destroyed): take back what it was given.
    void abandon(const std::shared_ptr<pool_waiter>& w) noexcept;
    void release(std::unique_ptr<driver_connection> c) noexcept;

    void close_all() noexcept {
        std::deque<std::unique_ptr<driver_connection>> closing;
        {
            std::lock_guard lock{mutex};
            closing.swap(idle);
            open -= closing.size();
            stats.closed += closing.size();
        }
    }

    pool_stats snapshot() const {
        std::lock_guard lock{mutex};
        pool_stats s = stats;
        s.size = open;
        s.idle = idle.size();
        s.in_use = in_use;
        s.waiting = waiters.size();
        return s;
    }

    connection_url url;
    pool_options options;
    std::unique_ptr<driver> drv;
    std::size_t max = 1;

private:
    // Returns an idle connection, preferring one opened on `ex` (its socket is registered with the caller's
    // event loop), and moves idle connections past idle_timeout (beyond min_size) to `expired`.
    std::unique_ptr<driver_connection> take_idle(const asio::any_io_executor& ex,
                                                 std::vector<std::unique_ptr<driver_connection>>& expired);
    // A connection slot became free: give it to the first waiter, or shrink the pool. Needs the mutex.
    void free_slot_locked();
    Task<Connection> ready(std::shared_ptr<pool_state> self, std::unique_ptr<driver_connection> c,
                           clock::time_point started);

    mutable std::mutex mutex;
    std::deque<std::unique_ptr<driver_connection>> idle;
    std::list<std::shared_ptr<pool_waiter>> waiters;
    std::size_t open = 0;  ///< idle + in use + being opened
    std::size_t in_use = 0;
    pool_stats stats;
};

std::unique_ptr<driver_connection> pool_state::take_idle(const asio::any_io_executor& ex,
                                                         std::vector<std::unique_ptr<driver_connection>>& expired) {
    const auto now = clock::now();
    while (idle.size() > options.min_size && now - idle.front()->idle_since > options.idle_timeout) {
        expired.push_back(std::move(idle.front()));
        idle.pop_front();
        --open;
        ++stats.closed;
    }
    if (idle.empty()) return nullptr;
    // Most recently used first: warm caches, and the oldest expire.
    auto it = std::find_if(idle.rbegin(), idle.rend(), [&](const auto& c) { return c->executor == ex; });
    auto pos = it == idle.rend() ? std::prev(idle.end()) : std::prev(it.base());
    auto c = std::move(*pos);
    idle.erase(pos);
    return c;
}

void pool_state::free_slot_locked() {
    if (!waiters.empty()) {
        auto w = std::move(waiters.front());
        waiters.pop_front();
        w->may_open = true;  // the slot stays counted in `open`, reserved for this waiter
        asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
        return;
    }
    --open;
}

void pool_state::release(std::unique_ptr<driver_connection> c) noexcept {
    const auto now = clock::now();
    const bool discard = c->broken() || now - c->opened_at > options.max_lifetime;
    std::unique_ptr<driver_connection> closing;
    {
        std::lock_guard lock{mutex};
        --in_use;
        if (discard) {
            closing = std::move(c);
            ++stats.closed;
            free_slot_locked();
        } else if (!waiters.empty()) {
            auto w = std::move(waiters.front());
            waiters.pop_front();
            w->conn = std::move(c);
            ++in_use;
            asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
        } else {
            c->idle_since = now;
            idle.push_back(std::move(c));
        }
    }
    // `closing` is destroyed here, outside the lock.
}

void pool_state::abandon(const std::shared_ptr<pool_waiter>& w) noexcept {
    std::unique_ptr<driver_connection> given;
    {
        std::lock_guard lock{mutex};
        waiters.remove(w);
        if (w->conn) {
            given = std::move(w->conn);
        } else if (w->may_open) {
            w->may_open = false;
            free_slot_locked();
        }
    }
    if (given) release(std::move(given));
}

namespace {
// Abandons the wait if the waiting coroutine is destroyed before it resumes.
struct waiter_guard {
    pool_state* pool;
    std::shared_ptr<pool_waiter> waiter;
    ~waiter_guard() {
        if (waiter) pool->abandon(waiter);
    }
};
}  // namespace

Task<Connection> pool_state::acquire(std::shared_ptr<pool_state> self) {
    const auto ex = co_await asio::this_coro::executor;
    const auto started = clock::now();
    const auto deadline = started + options.acquire_timeout;
    for (;;) {
        std::unique_ptr<driver_connection> c;
        std::vector<std::unique_ptr<driver_connection>> expired;
        std::shared_ptr<pool_waiter> w;
        bool open_new = false;
        {
            std::lock_guard lock{mutex};
            c = take_idle(ex, expired);
            if (c) {
                ++in_use;
            } else if (open < max) {
                ++open;
                ++in_use;
                open_new = true;
            } else {
                w = std::make_shared<pool_waiter>(ex);
                waiters.push_back(w);
            }
        }
        expired.clear();  // closes them, outside the lock
        if (c) {
            std::optional<Connection> got;
            got.emplace(co_await ready(self, std::move(c), started));
            if (*got) co_return std::move(*got);
            continue;  // the idle connection was dead: try again
        }
        if (w) {
            w->timer.expires_at(deadline);
            waiter_guard guard{this, w};
            boost::system::error_code ec;
            co_await w->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            guard.waiter.reset();
            {
                std::lock_guard lock{mutex};
                if (w->conn) {
                    c = std::move(w->conn);
                } else if (w->may_open) {
                    open_new = true;
                    ++in_use;
                } else {
                    waiters.remove(w);
                    ++stats.timeouts;
                }
            }
            if (c) {
                std::optional<Connection> got;
                got.emplace(co_await ready(self, std::move(c), started));
                if (*got) co_return std::move(*got);
                continue;
            }
            if (!open_new)
                throw timeout{fmt::format("no database connection became free within {} ms (all {} in use); "
                                          "raise pool_options::max_size or acquire_timeout",
                                          options.acquire_timeout.count(), max)};
        }
        // Open a new connection in the reserved slot.
        std::exception_ptr failed;
        try {
            c = co_await drv->connect(ex);
        } catch (...) {
            failed = std::current_exception();
        }
        if (failed) {
            {
                std::lock_guard lock{mutex};
                --in_use;
                free_slot_locked();
            }
            std::rethrow_exception(failed);
        }
        c->opened_at = clock::now();
        c->executor = ex;
        {
            std::lock_guard lock{mutex};
            ++stats.opened;
            ++stats.acquired;
            stats.acquire_time += std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - started);
        }
        co_return Connection{self, std::move(c)};
    }
}

// Checks an idle connection before handing it out. Returns an empty Connection when it turned out dead (it is
// then closed and its slot freed).
Task<Connection> pool_state::ready(std::shared_ptr<pool_state> self, std::unique_ptr<driver_connection> c,
                                   clock::time_point started) {
    bool alive = c->looks_alive();
    if (alive && (c->in_transaction || clock::now() - c->idle_since >= options.health_check_after)) {
        try {
            // A Tx dropped without commit or rollback left its transaction open: end it first.
            if (c->in_transaction)
                co_await c->simple("ROLLBACK");
            else
                co_await c->ping();
            c->in_transaction = false;
        } catch (const std::exception& e) {
            log::warn(fmt::format("db: dropping a pooled connection that failed its check: {}", e.what()));
            alive = false;
        }
    }
    if (!alive) {
        {
            std::lock_guard lock{mutex};
            --in_use;
            ++stats.closed;
            // The dead connection's slot is taken over by the retrying caller only if no one waits.
            free_slot_locked();
        }
        c.reset();
        co_return Connection{};
    }
    {
        std::lock_guard lock{mutex};
        ++stats.acquired;
        stats.acquire_time += std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - started);
    }
    co_return Connection{std::move(self), std::move(c)};
}

}  // namespace detail

// ---- Connection

Connection::Connection(std::shared_ptr<detail::pool_state> pool, std::unique_ptr<detail::driver_connection> conn) noexcept
    : pool_{std::move(pool)}, conn_{std::move(conn)} {}

Connection::Connection() noexcept = default;

Connection::Connection(Connection&& o) noexcept : pool_{std::move(o.pool_)}, conn_{std::move(o.conn_)} {}

Connection& Connection::operator=(Connection&& o) noexcept {
    if (this != &o) {
        release();
        pool_ = std::move(o.pool_);
        conn_ = std::move(o.conn_);
    }
    return *this;
}

Connection::~Connection() { release(); }

void Connection::release() noexcept {
    if (conn_ && pool_) pool_->release(std::move(conn_));
    conn_.reset();
    pool_.reset();
}

Task<exec_result> Connection::run(std::string_view sql, const Params& params, RowSink* sink) {
    if (!conn_) throw Error{errc::misuse, "this db::Connection is empty (moved from, or released)"};
    co_return co_await conn_->run(sql, params, sink);
}

dialect Connection::dialect() const noexcept { return pool_ ? pool_->url.dialect : dialect::sqlite; }

// ---- Tx

Tx::Tx(Tx&& o) noexcept
    : conn_{std::move(o.conn_)},
      deferred_{std::move(o.deferred_)},
      options_{o.options_},
      active_{std::exchange(o.active_, false)},
      depth_{o.depth_} {}

Tx& Tx::operator=(Tx&& o) noexcept {
    if (this != &o) {
        if (active_ && conn_) conn_.conn_->in_transaction = true;
        conn_ = std::move(o.conn_);
        deferred_ = std::move(o.deferred_);
        options_ = o.options_;
        active_ = std::exchange(o.active_, false);
        depth_ = o.depth_;
    }
    return *this;
}

Task<void> Tx::ensure_begun() {
    if (!active_) throw Error{errc::misuse, "the transaction is already committed or rolled back"};
    if (conn_) co_return;
    if (!deferred_) throw Error{errc::misuse, "this db::Tx is empty (moved from)"};
    Connection c = co_await deferred_->acquire(deferred_);
    co_await c.conn_->simple(deferred_->drv->begin_sql(options_));
    conn_ = std::move(c);
    deferred_.reset();
}

Tx::~Tx() {
    // Dropped while open: the pool rolls it back before the connection is used again.
    if (active_ && conn_) conn_.conn_->in_transaction = true;
}

Task<exec_result> Tx::run(std::string_view sql, const Params& params, RowSink* sink) {
    if (!conn_) co_await ensure_begun();
    if (!active_) throw Error{errc::misuse, "the transaction is already committed or rolled back"};
    co_return co_await conn_.conn_->run(sql, params, sink);
}

dialect Tx::dialect() const noexcept { return deferred_ ? deferred_->url.dialect : conn_.dialect(); }

Task<void> Tx::commit() {
    if (!active_) throw Error{errc::misuse, "the transaction is already committed or rolled back"};
    active_ = false;
    if (!conn_) co_return;  // a deferred transaction that never began
    conn_.conn_->in_transaction = true;  // until COMMIT succeeds: a failed COMMIT is cleaned up on reuse
    co_await conn_.conn_->simple("COMMIT");
    conn_.conn_->in_transaction = false;
    conn_.release();
}

Task<void> Tx::rollback() {
    if (!active_) co_return;
    active_ = false;
    if (!conn_) co_return;
    conn_.conn_->in_transaction = true;
    bool lost = false;
    try {
        co_await conn_.conn_->simple("ROLLBACK");
        conn_.conn_->in_transaction = false;
    } catch (const Error& e) {
        // The server rolls back by itself when the connection is gone; anything else is worth a line in the log.
        lost = e.kind() == errc::connection_lost;
        if (!lost) log::warn(fmt::format("db: ROLLBACK failed: {}", e.what()));
    }
    conn_.release();
}

Task<void> Tx::savepoint(std::function<Task<void>(Tx&)> body) {
    co_await ensure_begun();
    const std::string name = fmt::format("zephyr_sp_{}", ++depth_);
    std::exception_ptr failed;
    try {
        co_await conn_.conn_->simple("SAVEPOINT " + name);
        co_await body(*this);
    } catch (...) {
        failed = std::current_exception();
    }
    if (failed) {
        try {
            if (active_ && !conn_.conn_->broken()) co_await conn_.conn_->simple("ROLLBACK TO SAVEPOINT " + name);
        } catch (...) {
            // The outer transaction reports the connection problem on its next statement.
        }
        --depth_;
        std::rethrow_exception(failed);
    }
    --depth_;
    if (active_) co_await conn_.conn_->simple("RELEASE SAVEPOINT " + name);
}

// ---- Pool

Pool::Pool(std::string_view url, pool_options options)
    : state_{std::make_shared<detail::pool_state>(parse_url(url), options)} {}

Pool::~Pool() { state_->close_all(); }

Task<Connection> Pool::acquire() { return state_->acquire(state_); }

Task<exec_result> Pool::run(std::string_view sql, const Params& params, RowSink* sink) {
    // A single statement whose rows are not streamed runs on the driver's shared connection of this event loop
    // when the driver has one (PostgreSQL pipelines them): no connection is taken from the pool for it. Those
    // shared connections are the driver's, one per event loop, beside the max_size pooled ones; pool_stats leaves
    // them and their statements out (acquired, in_use, opened, ... count the exclusive connections of acquire(),
    // transactions, for_each and statements the driver does not share).
    if (state_->options.share_connections && (sink == nullptr || !sink->streaming) &&
        state_->drv->shares(sql, params)) {
        const std::shared_ptr<detail::pool_state> state = state_;  // the driver outlives the statement
        std::optional<exec_result> shared = co_await state->drv->run_shared(sql, params, sink);
        if (shared) co_return *shared;
    }
    Connection c = co_await state_->acquire(state_);
    co_return co_await c.conn_->run(sql, params, sink);
}

dialect Pool::dialect() const noexcept { return state_->url.dialect; }

Task<void> Pool::warm_up() {
    std::vector<Connection> held;
    while (held.size() < state_->options.min_size) held.push_back(co_await acquire());
}

Task<Tx> Pool::begin(tx_options options) {
    Connection c = co_await acquire();
    co_await c.conn_->simple(state_->drv->begin_sql(options));
    co_return Tx{std::move(c)};
}

Task<void> Pool::run_transaction(std::function<Task<void>(Tx&)> body, tx_options options) {
    for (int attempt = 0;; ++attempt) {
        Tx tx = co_await begin(options);
        std::exception_ptr failed;
        try {
            co_await body(tx);
            if (tx.active()) co_await tx.commit();
        } catch (...) {
            failed = std::current_exception();
        }
        if (!failed) co_return;
        co_await tx.rollback();
        bool retry = false;
        try {
            std::rethrow_exception(failed);
        } catch (const Error& e) {
            retry = e.retryable() && attempt < options.retries;
        } catch (...) {
        }
        if (!retry) std::rethrow_exception(failed);
        // Back off a little, with jitter, so the transactions that collided do not collide again.
        thread_local std::minstd_rand rng{std::random_device{}()};
        asio::steady_timer pause{co_await asio::this_coro::executor};
        pause.expires_after(std::chrono::milliseconds{1 + static_cast<int>(rng() % (5u << std::min(attempt, 5)))});
        co_await pause.async_wait(asio::use_awaitable);
    }
}

Tx Pool::deferred(tx_options options) {
    Tx tx;
    tx.deferred_ = state_;
    tx.options_ = options;
    tx.active_ = true;
    return tx;
}

pool_stats Pool::stats() const { return state_->snapshot(); }

const pool_options& Pool::options() const noexcept { return state_->options; }

std::string Pool::url() const { return state_->url.redacted(); }

detail::driver& Pool::backend() const noexcept { return *state_->drv; }

}  // namespace zephyr::db
