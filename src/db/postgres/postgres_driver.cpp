// The PostgreSQL driver: libpq in non-blocking mode, its socket watched by the connection's event loop.
//
// Nothing here blocks the event loop: connecting is PQconnectStartParams + PQconnectPoll, statements are sent
// with PQsend* and their results read as the socket becomes readable. Statements with parameters are prepared
// once per connection and cached by their text; statements without parameters use the simple protocol, so a
// migration script with several statements runs as one.
//
// Those are the pooled connections (acquire(), transactions, for_each). The single statements the pool runs
// for its callers go over one shared, pipelined connection per event loop instead: see pg_pipeline.hpp.
#include "db/driver.hpp"
#include "db/postgres/pg_pipeline.hpp"
#include "db/postgres/pg_result.hpp"
#include "db/socket_waiter.hpp"
#include "db/sql_text.hpp"

#include <zephyr/core/log.hpp>
#include <zephyr/db/error.hpp>
#include <zephyr/db/listen.hpp>

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace zephyr::db::detail {

namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;

constexpr clock::time_point no_deadline = clock::time_point::max();
/// Prepared statements kept per connection; the least recently used one is dropped beyond this.
constexpr std::size_t statement_cache_size = 256;
/// Dropped statements are deallocated on the server in batches of this many (one round trip per batch).
constexpr std::size_t deallocate_batch = 16;

enum class io { read, write, either };

/// True when the socket is ready for `what` right now.
///
/// Why ask before waiting: Asio's epoll reactor is edge-triggered, and a wait started after the edge was
/// already reported (data arrived while nobody waited, and libpq has not read all of it) would sleep until
/// the next packet. The event loop cannot report an edge between this check and the wait being queued, since
/// both happen in this coroutine without suspending.
bool ready_now(int fd, io what) noexcept {
    pollfd p{};
    p.fd = fd;
    p.events = what == io::read ? POLLIN : what == io::write ? POLLOUT : static_cast<short>(POLLIN | POLLOUT);
    // Errors and hang-ups count as ready: libpq finds out what happened when it next reads or writes.
    return ::poll(&p, 1, 0) > 0 && p.revents != 0;
}

// Server notices (NOTICE: table "x" does not exist, skipping) would go to stderr by default.
void log_notice(void*, const char* message) {
    if (log::enabled(log::level::debug)) log::debug(fmt::format("postgres: {}", pg_clean_message(message)));
}

/// What the results of one command amounted to.
struct outcome {
    std::uint64_t affected_rows = 0;
    std::size_t rows = 0;             ///< Rows handed to the sink.
    pg_result_ptr error{};            ///< The first error result.
    std::exception_ptr sink_error{};  ///< What the sink threw first (no rows are handed over after it).
    std::string unsupported{};        ///< A COPY, which this driver does not speak.
    std::uint64_t shape = 0;          ///< Row::shape of the rows (a prepared statement's), or 0.
};

class pg_connection final : public driver_connection {
public:
    explicit pg_connection(PGconn* conn) noexcept : conn_{conn} {}
    pg_connection(const pg_connection&) = delete;
    pg_connection& operator=(const pg_connection&) = delete;
    ~pg_connection() override {
        // Unregister the socket before libpq closes it.
        waiter_.reset();
        PQfinish(conn_);
    }

    /// Drives PQconnectPoll to the end, then prepares the session (non-blocking, UTC).
    Task<void> open(asio::any_io_executor ex, clock::time_point deadline, std::string_view where,
                    std::string_view password, std::chrono::milliseconds timeout);

    Task<exec_result> run(std::string_view sql, const Params& params, RowSink* sink) override {
        check_usable();
        try {
            co_return co_await run_statement(sql, params, sink);
        } catch (const Error& e) {
            if (e.kind() == errc::connection_lost) broken_ = true;
            throw;
        }
    }

    Task<void> simple(std::string_view sql) override {
        check_usable();
        try {
            co_await simple_statement(sql);
        } catch (const Error& e) {
            if (e.kind() == errc::connection_lost) broken_ = true;
            throw;
        }
    }

    Task<void> ping() override {
        // An empty query: the cheapest round trip there is (the server answers EmptyQueryResponse).
        co_await simple("");
    }

    bool broken() const noexcept override {
        // PQTRANS_ACTIVE outside a call means a statement was abandoned half way (its coroutine cancelled):
        // unread results are still on the wire, so the connection is out of step.
        return broken_ || (waiter_ && waiter_->orphaned()) || PQstatus(conn_) != CONNECTION_OK ||
               PQtransactionStatus(conn_) == PQTRANS_ACTIVE;
    }

    /// Hands the open connection over (to be a shared connection); this object is left closed.
    pg_link detach() noexcept {
        broken_ = true;
        return pg_link{std::exchange(conn_, nullptr), std::move(waiter_)};
    }

    bool looks_alive() noexcept override {
        if (broken()) return false;
        const int fd = PQsocket(conn_);
        if (fd < 0) {
            broken_ = true;
            return false;
        }
        pollfd p{};
        p.fd = fd;
        p.events = POLLIN | POLLRDHUP;
        if (::poll(&p, 1, 0) <= 0) return true;  // nothing arrived while idle (or poll failed: cannot tell)
        // Something arrived while idle: a notice, or the server's goodbye (FATAL 57P01 after a restart or
        // pg_terminate_backend) followed by EOF. Let libpq read it and say whether the connection survived.
        if (!PQconsumeInput(conn_) || PQstatus(conn_) != CONNECTION_OK ||
            (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) {
            broken_ = true;
            return false;
        }
        discard_notifications();
        return true;
    }

private:
    friend class pg_listener;

    struct cached_statement {
        std::string name{};
        std::uint64_t last_used = 0;
        std::uint64_t shape = pg_new_shape();
    };

    void check_usable() {
        if (broken()) {
            broken_ = true;
            throw connection_lost{
                "the PostgreSQL connection was lost, or left in the middle of a statement, and cannot be used again"};
        }
    }

    [[noreturn]] void lost(std::string_view doing) {
        broken_ = true;
        throw connection_lost{
            fmt::format("PostgreSQL connection lost while {}: {}", doing, pg_clean_message(PQerrorMessage(conn_)))};
    }

    /// Watches the socket from the event loop this coroutine runs on. A connection may be used from another
    /// thread's loop than the one that opened it; waiting there through the first loop's reactor would race.
    Task<void> attach() {
        const asio::any_io_executor ex = co_await asio::this_coro::executor;
        // An orphaned registration (its event loop is gone) is replaced too: a pooled connection never gets here
        // then (broken() says so first), a listener's connection carries on with the next event loop.
        if (waiter_ && !waiter_->orphaned() && waiter_loop_ == &asio::query(ex, asio::execution::context)) co_return;
        watch(ex, PQsocket(conn_));
    }

    void watch(const asio::any_io_executor& ex, int fd) {
        if (fd < 0) lost("watching its socket");
        // The old registration goes first: libpq may have reopened a socket under the same number.
        waiter_.reset();
        waiter_ = std::make_unique<socket_waiter>(ex, fd);
        waiter_loop_ = &asio::query(ex, asio::execution::context);
    }

    /// Waits until the socket is ready for `what`; false when `deadline` passed first.
    Task<bool> wait(io what, clock::time_point deadline = no_deadline) {
        if (ready_now(PQsocket(conn_), what)) co_return true;
        co_return co_await wait_drained(what, deadline);
    }

    /// wait() without the poll(), for waits in the statement path (see collect()).
    Task<bool> wait_drained(io what, clock::time_point deadline = no_deadline) {
        if (deadline == no_deadline && what != io::either) {
            if (what == io::read)
                co_await waiter_->readable();
            else
                co_await waiter_->writable();
            co_return true;
        }
        // Awaitable operators wait for the first operation that *succeeds*, so every branch succeeds and
        // reports its failure: otherwise a failed socket wait would go on waiting for its partner.
        asio::steady_timer timer{co_await asio::this_coro::executor, deadline};
        boost::system::error_code timer_ec;
        std::exception_ptr failure;
        bool ready = true;
        if (what == io::either) {
            auto r = co_await (settled(waiter_->readable()) || settled(waiter_->writable()) ||
                               timer.async_wait(asio::redirect_error(asio::use_awaitable, timer_ec)));
            if (r.index() == 0) failure = std::get<0>(r);
            if (r.index() == 1) failure = std::get<1>(r);
            ready = r.index() != 2;
        } else {
            Task<void> socket = what == io::read ? waiter_->readable() : waiter_->writable();
            auto r = co_await (settled(std::move(socket)) ||
                               timer.async_wait(asio::redirect_error(asio::use_awaitable, timer_ec)));
            if (r.index() == 0) failure = std::get<0>(r);
            ready = r.index() == 0;
        }
        if (failure) std::rethrow_exception(failure);
        co_return ready;
    }

    /// Sends what libpq has queued. While the socket is full, reads too (libpq's advice), so a server that is
    /// itself blocked writing to us cannot deadlock the two.
    Task<void> flush() {
        for (;;) {
            const int r = PQflush(conn_);
            if (r == 0) co_return;
            if (r < 0) lost("sending");
            if (!co_await wait(io::either, deadline_)) timed_out();
            if (!PQconsumeInput(conn_)) lost("sending");
        }
    }

    /// A PQsend* call failed: the connection broke, or libpq refused the statement before sending anything
    /// (more than 65535 parameters, ...), which leaves the connection as it was.
    [[noreturn]] void send_failed(std::string_view sql) {
        if (PQstatus(conn_) != CONNECTION_OK) lost("sending a statement");
        throw Error{errc::other, fmt::format("PostgreSQL client refused the statement: {} in: {}",
                                             pg_clean_message(PQerrorMessage(conn_)), sql_excerpt(sql))};
    }

    [[noreturn]] void timed_out() {
        broken_ = true;
        throw connection_lost{fmt::format("cannot connect to PostgreSQL: no answer within {} ms", timeout_.count())};
    }

    /// Reads every result of the command in progress until PQgetResult says there are no more, whatever
    /// happens on the way (an error, a throwing sink), so the connection is ready for the next command.
    Task<void> collect(RowSink* sink, outcome& out) {
        for (;;) {
            // Asio re-arms the descriptor when a wait starts (EPOLL_CTL_MOD reports a socket that is already
            // readable), so waiting first needs no poll() and saves a read that would find nothing yet.
            while (PQisBusy(conn_)) {
                if (!co_await wait_drained(io::read, deadline_)) timed_out();
                if (!PQconsumeInput(conn_)) lost("reading a result");
            }
            pg_result_ptr res{PQgetResult(conn_)};
            if (!res) break;
            switch (PQresultStatus(res.get())) {
                case PGRES_SINGLE_TUPLE:
                    pg_deliver(res.get(), sink, out.shape, out.rows, out.sink_error);
                    break;
                case PGRES_TUPLES_OK:
                    pg_deliver(res.get(), sink, out.shape, out.rows, out.sink_error);
                    out.affected_rows = pg_command_rows(res.get());
                    break;
                case PGRES_COMMAND_OK:
                    out.affected_rows = pg_command_rows(res.get());
                    break;
                case PGRES_EMPTY_QUERY:
                    break;
                case PGRES_COPY_IN:
                    // Ended at once with an error message: the server aborts the COPY and reports it.
                    out.unsupported = "COPY FROM STDIN";
                    for (;;) {
                        const int ended = PQputCopyEnd(conn_, "COPY FROM STDIN is not supported by zephyr::db");
                        if (ended < 0) lost("ending a COPY");
                        if (ended == 1) break;
                        co_await flush();  // 0: libpq's buffer is full
                    }
                    co_await flush();
                    break;
                case PGRES_COPY_OUT:
                    out.unsupported = "COPY TO STDOUT";
                    co_await discard_copy();
                    break;
                case PGRES_COPY_BOTH:
                    lost("a replication COPY began");
                default:  // PGRES_FATAL_ERROR, PGRES_BAD_RESPONSE, PGRES_NONFATAL_ERROR
                    if (!out.error) out.error = std::move(res);
                    break;
            }
        }
        discard_notifications();
    }

    Task<void> discard_copy() {
        for (;;) {
            char* buf = nullptr;
            const int n = PQgetCopyData(conn_, &buf, 1);
            if (buf) PQfreemem(buf);
            if (n == -1 || n == -2) co_return;  // done (or failed: the final result says why)
            if (n == 0) {
                if (!co_await wait(io::read, deadline_)) timed_out();
                if (!PQconsumeInput(conn_)) lost("reading a COPY");
            }
        }
    }

    /// A notification a pooled session received (it has no listener) must not pile up in libpq; a listener's
    /// connection keeps them for pg_listener.
    void discard_notifications() noexcept {
        if (keep_notifications_) return;
        while (PGnotify* n = PQnotifies(conn_))
            PQfreemem(n);
    }

    [[noreturn]] void raise_result(const PGresult* res, std::string_view sql) {
        const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        errc kind = state ? pg_error_kind(state) : errc::other;
        if (PQstatus(conn_) != CONNECTION_OK) kind = errc::connection_lost;
        if (kind == errc::connection_lost) broken_ = true;
        raise(kind, pg_error_message(res, sql), state ? state : "");
    }

    /// Throws what went wrong, in order of importance; otherwise the result.
    exec_result finish(outcome& out, std::string_view sql) {
        if (!out.unsupported.empty())
            throw Error{errc::misuse,
                        fmt::format("{} is not supported by zephyr::db in: {}", out.unsupported, sql_excerpt(sql))};
        if (out.error) raise_result(out.error.get(), sql);
        if (out.sink_error) std::rethrow_exception(out.sink_error);
        return exec_result{out.affected_rows, std::nullopt};
    }

    Task<exec_result> run_statement(std::string_view sql, const Params& params, RowSink* sink) {
        co_await attach();
        if (params.empty()) {
            std::size_t count = 0;
            const std::string text = numbered_placeholders(sql, count);
            check_param_count(sql, count, 0);
            // The simple protocol: several statements separated by semicolons run as one script.
            if (!PQsendQuery(conn_, text.c_str())) send_failed(sql);
            if (sink && sink->streaming) PQsetSingleRowMode(conn_);
            co_await flush();
            outcome out;
            co_await collect(sink, out);
            co_return finish(out, sql);
        }

        // Cached by the statement as written (placeholders are translated once, when it is prepared).
        const pg_params bound{params};
        std::string key{sql};
        key += '\0';
        key += bound.signature();
        for (int attempt = 0;; ++attempt) {
            bool fresh = false;
            auto it = statements_.find(key);
            if (it == statements_.end()) {
                std::size_t count = 0;
                const std::string text = numbered_placeholders(sql, count);
                check_param_count(sql, count, params.size());
                it = co_await prepare(std::move(key), text, bound, sql);
                fresh = true;
            }
            it->second.last_used = ++use_clock_;
            const std::string name = it->second.name;
            if (!PQsendQueryPrepared(conn_, name.c_str(), bound.size(), bound.values(), bound.lengths(),
                                     bound.formats(), 0))
                send_failed(sql);
            if (sink && sink->streaming) PQsetSingleRowMode(conn_);
            co_await flush();
            outcome out;
            out.shape = it->second.shape;
            co_await collect(sink, out);
            if (attempt == 0 && !fresh && out.rows == 0 && !out.sink_error && stale_statement(out)) {
                // The server no longer has the statement (DISCARD ALL, DEALLOCATE ALL) or its plan no longer
                // fits (a table it reads changed shape). Outside a transaction nothing was done yet and
                // preparing it again fixes it; inside one the transaction is aborted, so the error stands.
                key = it->first;
                forget(it, PQresultErrorField(out.error.get(), PG_DIAG_SQLSTATE) != std::string_view{"26000"});
                if (PQtransactionStatus(conn_) == PQTRANS_IDLE) continue;
            }
            co_return finish(out, sql);
        }
    }

    static bool stale_statement(const outcome& out) {
        if (!out.error) return false;
        const char* state = PQresultErrorField(out.error.get(), PG_DIAG_SQLSTATE);
        if (!state) return false;
        const std::string_view s{state};
        // 0A000 is how "cached plan must not change result type" comes; 26000: no such prepared statement.
        return s == "0A000" || s == "26000";
    }

    using statement_map = std::unordered_map<std::string, cached_statement>;

    /// Prepares `text` under a new name and caches it under `key`.
    Task<statement_map::iterator> prepare(std::string key, const std::string& text, const pg_params& bound,
                                          std::string_view sql) {
        if (pending_deallocate_.size() >= deallocate_batch) co_await deallocate_pending();
        std::string name = fmt::format("z{}", ++statement_counter_);
        if (!PQsendPrepare(conn_, name.c_str(), text.c_str(), bound.size(), bound.types())) send_failed(sql);
        co_await flush();
        outcome out;
        co_await collect(nullptr, out);
        finish(out, sql);
        if (statements_.size() >= statement_cache_size) {
            auto oldest = statements_.begin();
            for (auto i = statements_.begin(); i != statements_.end(); ++i)
                if (i->second.last_used < oldest->second.last_used) oldest = i;
            forget(oldest, true);
        }
        co_return statements_.emplace(std::move(key), cached_statement{std::move(name), 0}).first;
    }

    /// Drops a statement from the cache; `exists`: it is still on the server and must be deallocated there.
    void forget(statement_map::iterator it, bool exists) {
        if (exists) pending_deallocate_.push_back(std::move(it->second.name));
        statements_.erase(it);
    }

    /// Deallocates dropped statements, only outside a transaction: a failure there harms nothing, while inside
    /// one it would abort the caller's transaction.
    Task<void> deallocate_pending() {
        if (PQtransactionStatus(conn_) != PQTRANS_IDLE) co_return;
        std::string script;
        for (const std::string& name : pending_deallocate_)
            script += fmt::format("DEALLOCATE {};", name);
        pending_deallocate_.clear();
        if (!PQsendQuery(conn_, script.c_str())) lost("deallocating statements");
        co_await flush();
        outcome out;
        co_await collect(nullptr, out);
        if (out.error && PQstatus(conn_) != CONNECTION_OK) raise_result(out.error.get(), script);
    }

    Task<void> simple_statement(std::string_view sql) {
        co_await attach();
        const std::string text{sql};
        if (!PQsendQuery(conn_, text.c_str())) send_failed(sql);
        co_await flush();
        outcome out;
        co_await collect(nullptr, out);
        finish(out, sql);
    }

    PGconn* conn_;
    std::unique_ptr<socket_waiter> waiter_{};
    asio::execution_context* waiter_loop_ = nullptr;  // the event loop waiter_ is registered with
    bool broken_ = false;
    clock::time_point deadline_ = no_deadline;  // set while connecting only: statements have no client timeout
    std::chrono::milliseconds timeout_{0};
    statement_map statements_{};
    std::uint64_t use_clock_ = 0;
    std::uint64_t statement_counter_ = 0;
    std::vector<std::string> pending_deallocate_{};
    bool keep_notifications_ = false;  // a listener's connection
};

Task<void> pg_connection::open(asio::any_io_executor ex, clock::time_point deadline, std::string_view where,
                               std::string_view password, std::chrono::milliseconds timeout) {
    auto failed = [&](std::string_view why) {
        broken_ = true;
        throw connection_lost{fmt::format("cannot connect to PostgreSQL at {}: {}", where, why)};
    };
    if (PQstatus(conn_) == CONNECTION_BAD) failed(pg_clean_message(PQerrorMessage(conn_), password));
    deadline_ = deadline;
    timeout_ = timeout;
    PostgresPollingStatusType state = PGRES_POLLING_WRITING;
    while (state != PGRES_POLLING_OK) {
        if (state == PGRES_POLLING_FAILED) failed(pg_clean_message(PQerrorMessage(conn_), password));
        // A new registration each round: libpq opens a new socket for each address it tries (and to retry
        // without SSL), quite possibly under the number of the one it just closed.
        watch(ex, PQsocket(conn_));
        if (!co_await wait(state == PGRES_POLLING_READING ? io::read : io::write, deadline))
            failed(fmt::format("no answer within {} ms", timeout.count()));
        state = PQconnectPoll(conn_);
    }
    if (PQsetnonblocking(conn_, 1) != 0) failed(pg_clean_message(PQerrorMessage(conn_), password));
    PQsetNoticeProcessor(conn_, &log_notice, nullptr);
    // Timestamps come back as UTC ("+00"), which is what db::field<time_point> expects of timestamptz text.
    const char* zone = PQparameterStatus(conn_, "TimeZone");
    if (!zone || (std::string_view{zone} != "UTC" && std::string_view{zone} != "Etc/UTC"))
        co_await simple_statement("SET TIME ZONE 'UTC'");
    deadline_ = no_deadline;
}

/// What opening a connection takes: libpq's keywords from the URL, the connect timeout, the host name to resolve.
/// Shared by the driver and its listeners (a listener reconnects with it, and may outlive the driver).
class pg_connector {
public:
    pg_connector(const connection_url& url, const pool_options& options) : timeout_{options.connect_timeout} {
        auto set = [&](std::string key, std::string value) {
            for (std::size_t i = 0; i < keys_.size(); ++i)
                if (keys_[i] == key) {
                    values_[i] = std::move(value);
                    return;
                }
            keys_.push_back(std::move(key));
            values_.push_back(std::move(value));
        };
        if (!url.host.empty()) set("host", url.host);
        if (url.port != 0) set("port", std::to_string(url.port));
        if (!url.user.empty()) set("user", url.user);
        if (!url.password.empty()) set("password", url.password);
        if (!url.database.empty()) set("dbname", url.database);
        set("client_encoding", "UTF8");  // text in and out is UTF-8 whatever the database's encoding
        set("fallback_application_name", "zephyr");
        set("connect_timeout", std::to_string(std::max<long long>(1, (timeout_.count() + 999) / 1000)));

        // Every query parameter is a libpq keyword (sslmode, application_name, ...). Unknown ones are a
        // mistake in the URL, better reported now than as a failed connection later.
        PQconninfoOption* known = PQconndefaults();
        for (const auto& [key, value] : url.params) {
            bool found = false;
            for (PQconninfoOption* o = known; o && o->keyword; ++o)
                if (key == o->keyword) found = true;
            if (known && !found) {
                PQconninfoFree(known);
                throw Error{errc::bad_url, fmt::format("'{}' is not a PostgreSQL connection parameter", key)};
            }
            if (key == "connect_timeout") {
                long long seconds = 0;
                const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
                if (ec != std::errc{} || end != value.data() + value.size() || seconds < 0) {
                    PQconninfoFree(known);
                    throw Error{errc::bad_url, fmt::format("connect_timeout '{}' is not a number of seconds", value)};
                }
                if (seconds > 0) timeout_ = std::chrono::seconds{seconds};
            }
            set(key, value);
        }
        if (known) PQconninfoFree(known);

        std::string host;
        bool hostaddr = false;
        for (std::size_t i = 0; i < keys_.size(); ++i) {
            if (keys_[i] == "password") password_ = values_[i];
            if (keys_[i] == "host") host = values_[i];
            if (keys_[i] == "hostaddr") hostaddr = true;
        }
        // A single host name is resolved here (see connect()); addresses, socket directories ("/run/pg") and
        // lists of hosts are left to libpq.
        boost::system::error_code not_ip;
        asio::ip::make_address(host, not_ip);
        if (!hostaddr && !host.empty() && not_ip && host.find_first_of(",/@") == std::string::npos) resolve_ = host;
        where_ = fmt::format("{}:{}/{}", url.host.empty() ? "localhost" : url.host,
                             url.port ? std::to_string(url.port) : std::string{"5432"}, url.database);
    }

    /// Opens a connection whose socket is watched by the event loop of `ex`.
    Task<std::unique_ptr<pg_connection>> connect(asio::any_io_executor ex) const {
        const clock::time_point deadline = clock::now() + timeout_;
        std::vector<std::string> keys = keys_;
        std::vector<std::string> values = values_;
        if (!resolve_.empty()) {
            // libpq resolves host names with a blocking getaddrinfo() inside PQconnectPoll, which would stall
            // every connection on this event loop; Asio's resolver does it on a background thread instead.
            // libpq takes parallel lists: each address, with the name for TLS checks, .pgpass and messages.
            const std::vector<std::string> addresses = co_await resolve(ex, deadline);
            std::string hosts;
            std::string hostaddrs;
            for (const std::string& a : addresses) {
                hosts += (hosts.empty() ? "" : ",") + resolve_;
                hostaddrs += (hostaddrs.empty() ? "" : ",") + a;
            }
            for (std::size_t i = 0; i < keys.size(); ++i)
                if (keys[i] == "host") values[i] = hosts;
            keys.emplace_back("hostaddr");
            values.push_back(std::move(hostaddrs));
        }
        std::vector<const char*> key_ptrs;
        std::vector<const char*> value_ptrs;
        for (std::size_t i = 0; i < keys.size(); ++i) {
            key_ptrs.push_back(keys[i].c_str());
            value_ptrs.push_back(values[i].c_str());
        }
        key_ptrs.push_back(nullptr);
        value_ptrs.push_back(nullptr);
        PGconn* raw = PQconnectStartParams(key_ptrs.data(), value_ptrs.data(), 0);
        if (!raw) throw connection_lost{fmt::format("cannot connect to PostgreSQL at {}: out of memory", where_)};
        auto conn = std::make_unique<pg_connection>(raw);
        co_await conn->open(std::move(ex), deadline, where_, password_, timeout_);
        co_return conn;
    }

private:
    /// The addresses of host name resolve_, without blocking the event loop.
    Task<std::vector<std::string>> resolve(const asio::any_io_executor& ex, clock::time_point deadline) const {
        asio::ip::tcp::resolver resolver{ex};
        asio::steady_timer timer{ex, deadline};
        std::vector<std::string> out;
        std::string error;
        // Errors as codes, not exceptions: awaitable operators would wait for the timer after a failure.
        boost::system::error_code resolve_ec;
        boost::system::error_code timer_ec;
        auto r =
            co_await (resolver.async_resolve(resolve_, "0", asio::redirect_error(asio::use_awaitable, resolve_ec)) ||
                      timer.async_wait(asio::redirect_error(asio::use_awaitable, timer_ec)));
        if (r.index() == 1) {
            error = fmt::format("no answer from DNS within {} ms", timeout_.count());
        } else if (resolve_ec) {
            error = resolve_ec.message();
        } else {
            for (const auto& entry : std::get<0>(r)) {
                std::string a = entry.endpoint().address().to_string();
                if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(std::move(a));
            }
            if (out.empty()) error = "the name has no addresses";
        }
        if (!error.empty())
            throw connection_lost{
                fmt::format("cannot connect to PostgreSQL at {}: cannot resolve '{}': {}", where_, resolve_, error)};
        co_return out;
    }

    std::vector<std::string> keys_{};
    std::vector<std::string> values_{};
    std::string password_{};
    std::string where_{};
    std::string resolve_{};  // the host name to resolve before connecting, or ""
    std::chrono::milliseconds timeout_;
};

/// Turns at using a listener's connection: a next() while it reads or waits on the socket, listen() and
/// unlisten() while their statement runs, one at a time and in order of arrival. A listener is used from one
/// event-loop thread, so there is no lock.
class pg_turns {
public:
    bool held() const noexcept { return held_; }

    /// Waits for the turn. Throws operation_aborted when the waiting coroutine is cancelled.
    Task<void> acquire() {
        if (!held_) {
            held_ = true;
            co_return;
        }
        waiting w{asio::steady_timer{co_await asio::this_coro::executor, clock::time_point::max()}};
        queue_.push_back(&w);
        queued guard{*this, w};
        boost::system::error_code ec;
        co_await w.timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (!w.granted) throw boost::system::system_error{asio::error::operation_aborted};
        guard.active = false;
    }

    /// Hands the turn to the first in line, or frees it.
    void release() noexcept {
        if (queue_.empty()) {
            held_ = false;
            return;
        }
        waiting* next = queue_.front();
        queue_.pop_front();
        next->granted = true;
        try {
            next->timer.cancel();
        } catch (...) {
        }
    }

private:
    struct waiting {
        asio::steady_timer timer;
        bool granted = false;
    };
    // Leaves the line when the waiting coroutine is cancelled or destroyed; passes the turn on when it was
    // handed over to a coroutine that is gone before it could use it.
    struct queued {
        pg_turns& turns;
        waiting& w;
        bool active = true;
        queued(pg_turns& t, waiting& wt) noexcept : turns{t}, w{wt} {}
        queued(const queued&) = delete;
        queued& operator=(const queued&) = delete;
        ~queued() {
            if (!active) return;
            if (w.granted)
                turns.release();
            else
                std::erase(turns.queue_, &w);
        }
    };

    std::deque<waiting*> queue_;
    bool held_ = false;
};

/// The connection of a db::Listener. It reads from the socket only inside next(), so what nobody asked for yet
/// waits in the socket and in the server's notification queue rather than in memory here; what libpq has read
/// is moved to `pending_` (filtered by the channels listened on) and handed out in order.
///
/// On a lost connection, what had been read is still handed out, then (listen_options::reconnect) a new
/// connection LISTENs on every channel again; notifications sent in between are missed, reconnects() counts it.
class pg_listener final : public driver_listener {
public:
    pg_listener(std::shared_ptr<const pg_connector> connector, const listen_options& options)
        : connector_{std::move(connector)}, options_{options} {}
    pg_listener(const pg_listener&) = delete;
    pg_listener& operator=(const pg_listener&) = delete;

    /// Connects and LISTENs on `channels`. A failure here is thrown, not retried.
    Task<void> start(asio::any_io_executor ex, std::vector<std::string> channels) {
        for (const std::string& c : channels) {
            check_channel(c);
            if (!listening(c)) channels_.push_back(c);
        }
        hold turn = co_await acquire();
        conn_ = co_await connect(std::move(ex));
    }

    Task<std::optional<notification>> next(clock::time_point deadline) override {
        if (reading_) throw Error{errc::misuse, "another next() is already waiting on this db::Listener"};
        flag reading{reading_};
        // Reads at least once, even past the deadline: next(0ms) returns what has already arrived.
        for (bool read = false;; read = true) {
            if (closed_) co_return std::nullopt;
            if (std::optional<notification> n = take()) co_return n;
            if (read && clock::now() >= deadline) co_return std::nullopt;
            hold turn = co_await acquire();
            if (closed_) co_return std::nullopt;
            if (!conn_)
                co_await reconnect(deadline);
            else
                co_await read_input(deadline);
        }
    }

    Task<void> listen(std::string channel) override {
        check_channel(channel);
        hold turn = co_await acquire_now();
        for (;;) {
            if (closed_) throw_closed();
            if (!conn_) {
                co_await reconnect(no_deadline);
                continue;
            }
            if (listening(channel)) co_return;
            const std::string sql = "LISTEN " + quote(channel);
            if (!co_await statement(sql)) continue;
            channels_.push_back(std::move(channel));
            co_return;
        }
    }

    Task<void> unlisten(std::optional<std::string> channel) override {
        if (channel) check_channel(*channel);
        hold turn = co_await acquire_now();
        if (closed_) throw_closed();
        // Forgotten first: whatever happens to the statement, next() hands out nothing more from the channel.
        if (channel)
            std::erase(channels_, *channel);
        else
            channels_.clear();
        std::erase_if(pending_, [&](const notification& n) { return !listening(n.channel); });
        if (!conn_) co_return;  // the next connection does not LISTEN on it
        const std::string sql = channel ? "UNLISTEN " + quote(*channel) : std::string{"UNLISTEN *"};
        co_await statement(sql);  // a lost connection is reported by next()
    }

    std::vector<std::string> channels() const override { return channels_; }

    std::uint64_t reconnects() const noexcept override { return reconnects_; }

    void close() noexcept override {
        closed_ = true;
        pending_.clear();
        wake();
        if (!turns_.held()) conn_.reset();
    }

private:
    /// The turn, released when destroyed; closes the connection then if the listener was closed meanwhile.
    class hold {
    public:
        explicit hold(pg_listener* l) noexcept : l_{l} {}
        hold(hold&& o) noexcept : l_{std::exchange(o.l_, nullptr)} {}
        hold& operator=(hold&&) = delete;
        ~hold() {
            if (!l_) return;
            l_->turns_.release();
            if (l_->closed_ && !l_->turns_.held()) l_->conn_.reset();
        }

    private:
        pg_listener* l_;
    };

    /// Sets a flag for as long as it lives.
    struct flag {
        bool& f;
        explicit flag(bool& b) noexcept : f{b} { f = true; }
        flag(const flag&) = delete;
        flag& operator=(const flag&) = delete;
        ~flag() { f = false; }
    };

    /// Points wake_ at a timer for as long as it lives.
    struct alarm_registration {
        pg_listener& l;
        alarm_registration(pg_listener& li, asio::steady_timer& t) noexcept : l{li} { l.wake_ = &t; }
        alarm_registration(const alarm_registration&) = delete;
        alarm_registration& operator=(const alarm_registration&) = delete;
        ~alarm_registration() { l.wake_ = nullptr; }
    };

    enum class woke { input, timeout, yielded };

    Task<hold> acquire() {
        co_await turns_.acquire();
        co_return hold{this};
    }

    /// For listen() and unlisten(): a next() waiting on the socket (or between reconnection attempts) lets
    /// the statement go first.
    Task<hold> acquire_now() {
        if (closed_) throw_closed();
        wake();
        co_return co_await acquire();
    }

    [[noreturn]] static void throw_closed() { throw Error{errc::misuse, "this db::Listener is closed"}; }

    void wake() noexcept {
        if (!wake_) return;
        try {
            wake_->cancel();
        } catch (...) {
        }
    }

    static void check_channel(const std::string& c) {
        if (c.empty()) throw Error{errc::misuse, "a LISTEN channel name cannot be empty"};
        // Longer names would be cut short by the server (NAMEDATALEN), and pg_notify() refuses them.
        if (c.size() > 63)
            throw Error{errc::misuse, fmt::format("the channel name '{}...' is {} bytes long; PostgreSQL allows 63",
                                                  c.substr(0, 20), c.size())};
        if (c.find('\0') != std::string::npos) throw Error{errc::misuse, "a channel name cannot contain a NUL byte"};
    }

    bool listening(const std::string& c) const noexcept {
        return std::find(channels_.begin(), channels_.end(), c) != channels_.end();
    }

    /// The channel as a quoted identifier: whatever it holds stays a name.
    std::string quote(const std::string& channel) const { return quote(*conn_, channel); }
    static std::string quote(const pg_connection& c, const std::string& channel) {
        char* q = PQescapeIdentifier(c.conn_, channel.data(), channel.size());
        if (!q)
            throw Error{errc::misuse,
                        fmt::format("the channel name cannot be used: {}", pg_clean_message(PQerrorMessage(c.conn_)))};
        std::string out{q};
        PQfreemem(q);
        return out;
    }

    /// A new connection that LISTENs on every channel.
    Task<std::unique_ptr<pg_connection>> connect(asio::any_io_executor ex) {
        const std::shared_ptr<const pg_connector> connector = connector_;
        std::unique_ptr<pg_connection> c = co_await connector->connect(std::move(ex));
        c->keep_notifications_ = true;
        if (!channels_.empty()) {
            std::string sql;
            for (const std::string& ch : channels_)
                sql += "LISTEN " + quote(*c, ch) + ";";
            co_await c->simple(sql);
        }
        co_return c;
    }

    /// Runs LISTEN or UNLISTEN; false when the connection was lost (it is dropped then).
    Task<bool> statement(const std::string& sql) {
        bool lost = false;
        try {
            co_await conn_->attach();
            co_await conn_->simple(sql);
        } catch (const Error& e) {
            if (e.kind() != errc::connection_lost) throw;
            lost = true;
        }
        if (lost) lose();
        co_return !lost;
    }

    /// Moves what libpq has received to pending_.
    void pull() {
        if (!conn_) return;
        while (PGnotify* n = PQnotifies(conn_->conn_)) {
            notification out{n->relname ? n->relname : "", n->extra ? n->extra : "", n->be_pid};
            PQfreemem(n);
            if (listening(out.channel)) pending_.push_back(std::move(out));
        }
    }

    std::optional<notification> take() {
        pull();
        if (pending_.empty()) return std::nullopt;
        std::optional<notification> n{std::move(pending_.front())};
        pending_.pop_front();
        return n;
    }

    /// The connection is gone: keep what it had received, and drop it.
    void lose() {
        if (!conn_) return;
        pull();
        lost_reason_ = pg_clean_message(PQerrorMessage(conn_->conn_));
        if (lost_reason_.empty()) lost_reason_ = "the connection was closed";
        conn_.reset();
        lost_at_ = clock::now();
        log::warn(fmt::format("db: a PostgreSQL listener lost its connection: {}", lost_reason_));
    }

    /// Reads what has arrived, waiting on the socket until a notification came, `deadline` passed or a
    /// statement wants the connection. A lost connection is dropped (lose()).
    Task<void> read_input(clock::time_point deadline) {
        bool lost = false;
        try {
            co_await conn_->attach();
            for (;;) {
                PGconn* c = conn_->conn_;
                if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK) {
                    lost = true;
                    break;
                }
                pull();
                if (!pending_.empty()) break;
                if (ready_now(PQsocket(c), io::read)) continue;
                if (co_await wait_readable(deadline) != woke::input) break;
            }
        } catch (const Error& e) {
            if (e.kind() != errc::connection_lost) throw;
            lost = true;
        }
        if (lost) lose();
    }

    /// Waits until the socket is readable, `until` passed, or wake() was called.
    Task<woke> wait_readable(clock::time_point until) {
        asio::steady_timer timer{co_await asio::this_coro::executor, until};
        alarm_registration registered{*this, timer};
        boost::system::error_code timer_ec;
        // Every branch succeeds and reports its failure (see wait_drained()).
        Task<std::exception_ptr> socket = settled(conn_->waiter_->readable());
        Task<void> alarm = timer.async_wait(asio::redirect_error(asio::use_awaitable, timer_ec));
        auto either = std::move(socket) || std::move(alarm);
        auto r = co_await std::move(either);
        const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
        throw_if_cancelled(cs);
        if (r.index() == 0) {
            if (std::exception_ptr failure = std::get<0>(r)) std::rethrow_exception(failure);
            co_return woke::input;
        }
        co_return timer_ec == asio::error::operation_aborted ? woke::yielded : woke::timeout;
    }

    /// The caller's coroutine was cancelled (an awaitable operator, a cancellation slot): stop as Asio does.
    static void throw_if_cancelled(const asio::cancellation_state& cs) {
        if (cs.cancelled() != asio::cancellation_type::none)
            throw boost::system::system_error{asio::error::operation_aborted};
    }

    /// Opens a new connection; returns when one is open or `deadline` passed, the listener was closed or a
    /// statement wants the turn. Throws connection_lost without listen_options::reconnect, or when attempts
    /// failed for reconnect_timeout (the next call tries again).
    Task<void> reconnect(clock::time_point deadline) {
        if (!options_.reconnect)
            throw connection_lost{fmt::format("the PostgreSQL listener's connection was lost: {}", lost_reason_)};
        std::chrono::milliseconds pause{50};
        for (;;) {
            if (closed_) co_return;
            const asio::any_io_executor ex = co_await asio::this_coro::executor;
            std::unique_ptr<pg_connection> fresh;
            std::string failure;
            try {
                fresh = co_await connect(ex);
            } catch (const std::exception& e) {
                failure = e.what();
            }
            const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
            throw_if_cancelled(cs);
            if (fresh) {
                if (closed_) co_return;  // closed meanwhile: the new connection closes here
                conn_ = std::move(fresh);
                ++reconnects_;
                log::info("db: a PostgreSQL listener reconnected; notifications sent meanwhile were missed");
                co_return;
            }
            const auto now = clock::now();
            const auto give_up = lost_at_ + options_.reconnect_timeout;
            if (now >= give_up) {
                lost_at_ = now;  // the next call gets a new period
                throw connection_lost{fmt::format(
                    "the PostgreSQL listener's connection was lost ({}) and could not be opened again within {} ms: "
                    "{}",
                    lost_reason_, options_.reconnect_timeout.count(), failure)};
            }
            const auto until = std::min({now + pause, give_up, deadline});
            if (co_await wait_until(until) == woke::yielded) co_return;
            if (clock::now() >= deadline) co_return;
            pause = std::min<std::chrono::milliseconds>(pause * 2, std::chrono::seconds{2});
        }
    }

    /// A pause that wake() cuts short.
    Task<woke> wait_until(clock::time_point until) {
        asio::steady_timer timer{co_await asio::this_coro::executor, until};
        alarm_registration registered{*this, timer};
        boost::system::error_code ec;
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
        throw_if_cancelled(cs);
        co_return ec == asio::error::operation_aborted ? woke::yielded : woke::timeout;
    }

    std::shared_ptr<const pg_connector> connector_;
    listen_options options_;
    std::unique_ptr<pg_connection> conn_{};  // null while disconnected
    std::vector<std::string> channels_{};
    std::deque<notification> pending_{};
    pg_turns turns_{};
    asio::steady_timer* wake_ = nullptr;  // what the holder of the turn waits on, if it waits
    bool reading_ = false;                // a next() is running
    bool closed_ = false;
    std::uint64_t reconnects_ = 0;
    clock::time_point lost_at_{};
    std::string lost_reason_{};
};

Task<std::shared_ptr<driver_listener>> open_listener(std::shared_ptr<const pg_connector> connector,
                                                     asio::any_io_executor ex, std::vector<std::string> channels,
                                                     listen_options options) {
    auto l = std::make_shared<pg_listener>(std::move(connector), options);
    co_await l->start(std::move(ex), std::move(channels));
    co_return l;
}

class pg_driver final : public driver {
public:
    pg_driver(const connection_url& url, const pool_options& options)
        : connector_{std::make_shared<const pg_connector>(url, options)} {}

    Task<std::unique_ptr<driver_connection>> connect(asio::any_io_executor ex) override {
        const std::shared_ptr<const pg_connector> connector = connector_;
        co_return co_await connector->connect(std::move(ex));
    }

    db::dialect dialect() const noexcept override { return dialect::postgresql; }

    bool shares(std::string_view sql, const Params& params) const noexcept override {
        return pg_shared_connections::shareable(sql, params);
    }

    Task<std::optional<exec_result>> run_shared(std::string_view sql, const Params& params, RowSink* sink) override {
        return shared_->run(sql, params, sink);
    }

    Task<std::shared_ptr<driver_listener>> listen(asio::any_io_executor ex, std::vector<std::string> channels,
                                                  const listen_options& options) override {
        return open_listener(connector_, std::move(ex), std::move(channels), options);
    }

    ~pg_driver() override { shared_->close_all(); }

private:
    /// A connection for the shared connections of the event loop of `ex`.
    Task<pg_link> open_shared(asio::any_io_executor ex) {
        std::unique_ptr<pg_connection> c = co_await connector_->connect(std::move(ex));
        co_return c->detach();
    }

    std::shared_ptr<const pg_connector> connector_;
    std::shared_ptr<pg_shared_connections> shared_ = std::make_shared<pg_shared_connections>(
        [this](asio::any_io_executor ex) { return open_shared(std::move(ex)); });
};

}  // namespace

std::unique_ptr<driver> make_postgres_driver(const connection_url& url, const pool_options& options) {
    return std::make_unique<pg_driver>(url, options);
}

}  // namespace zephyr::db::detail
