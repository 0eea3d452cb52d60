#include "db/mysql/connection.hpp"

#include "db/mysql/errors.hpp"
#include "db/sql_text.hpp"

#include <zephyr/db/error.hpp>

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

#include <errmsg.h>
#include <mysqld_error.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <utility>
#include <variant>

namespace zephyr::db::detail {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace {

// libmariadb runs each blocking call on a stack of its own and switches back to us whenever it would block.
// Its default (60 KiB) is tight once name resolution (NSS) or an authentication plugin runs on it, and
// sanitizer interceptors add to every frame; 256 KiB is malloc'ed once per connection and mostly untouched.
constexpr std::size_t context_stack_size = 256 * 1024;

// A result column's buffer starts this large. It must not be small: libmariadb prints a DOUBLE into a string
// buffer with the buffer's length as the width, silently dropping digits when the buffer is short.
constexpr std::size_t initial_column_buffer = 64;
// Buffers that grew beyond this for one huge value are given back after the statement.
constexpr std::size_t kept_column_buffer = 64 * 1024;

// Frees a result without I/O: statement metadata (never any), or a streamed result left by an exception, which
// only happens once the connection failed (its socket closed or shut down). A streamed result that is read to
// its end is freed asynchronously instead.
struct result_guard {
    MYSQL_RES* res = nullptr;
    ~result_guard() {
        if (res) mysql_free_result(res);
    }
};

// Closes a statement whose prepare was abandoned: the connection is broken then and closing does no I/O.
struct statement_guard {
    MYSQL_STMT* stmt = nullptr;
    ~statement_guard() {
        if (stmt) mysql_stmt_close(stmt);
    }
};

// The sink is user code: its exception is kept until the result is read to the end (the connection cannot
// run anything else before that), then rethrown.
void deliver(RowSink& sink, const Row& row, std::exception_ptr& error) noexcept {
    try {
        sink.on_row(row);
    } catch (...) {
        error = std::current_exception();
    }
}

// Microseconds since 1970 UTC → the broken-down DATETIME MariaDB takes (the session time zone is UTC).
MYSQL_TIME to_mysql_time(std::int64_t micros) {
    using namespace std::chrono;
    const microseconds t{micros};
    const auto day = floor<days>(t);
    const year_month_day ymd{sys_days{day}};
    const hh_mm_ss<microseconds> tod{t - day};
    MYSQL_TIME out{};
    out.year = static_cast<unsigned>(static_cast<int>(ymd.year()));
    out.month = static_cast<unsigned>(ymd.month());
    out.day = static_cast<unsigned>(ymd.day());
    out.hour = static_cast<unsigned>(tod.hours().count());
    out.minute = static_cast<unsigned>(tod.minutes().count());
    out.second = static_cast<unsigned>(tod.seconds().count());
    out.second_part = static_cast<unsigned long>(tod.subseconds().count());
    out.neg = 0;
    out.time_type = MYSQL_TIMESTAMP_DATETIME;
    return out;
}

void bind_param(const Value& v, MYSQL_BIND& b, auto& slot) {
    b = MYSQL_BIND{};
    switch (v.type()) {
        case Value::kind::null:
            b.buffer_type = MYSQL_TYPE_NULL;
            break;
        case Value::kind::boolean:
            slot.flag = v.as_bool() ? 1 : 0;
            b.buffer_type = MYSQL_TYPE_TINY;
            b.buffer = &slot.flag;
            break;
        case Value::kind::integer:
            slot.integer = v.as_int();
            b.buffer_type = MYSQL_TYPE_LONGLONG;
            b.buffer = &slot.integer;
            break;
        case Value::kind::real:
            slot.real = v.as_real();
            b.buffer_type = MYSQL_TYPE_DOUBLE;
            b.buffer = &slot.real;
            break;
        case Value::kind::text:
        case Value::kind::blob:
            // The library only reads the buffer; MYSQL_BIND just is not const-correct.
            slot.length = static_cast<unsigned long>(v.as_text().size());
            b.buffer_type = v.type() == Value::kind::text ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
            b.buffer = const_cast<char*>(v.as_text().data());
            b.buffer_length = slot.length;
            b.length = &slot.length;
            break;
        case Value::kind::timestamp:
            slot.time = to_mysql_time(v.as_int());
            b.buffer_type = MYSQL_TYPE_DATETIME;
            b.buffer = &slot.time;
            break;
    }
}

}  // namespace

// ---- lifetime ------------------------------------------------------------------------------------------------

mysql_connection::mysql_connection(const mysql_settings& settings)
    : connect_timeout_{settings.connect_timeout}, display_{settings.display}, cache_{settings.statement_cache} {}

Task<std::unique_ptr<driver_connection>> mysql_connection::open(const mysql_settings& settings) {
    // The socket is watched from the event loop of whichever coroutine waits on it (see ensure_waiter()).
    std::unique_ptr<mysql_connection> c{new mysql_connection{settings}};
    co_await c->connect(settings);
    co_return c;
}

mysql_connection::~mysql_connection() {
    // Deregister from the event loop while the socket is still open; the library closes it below.
    waiter_.reset();
    std::vector<MYSQL_STMT*> statements = cache_.take_all();
    if (mysql_) {
        // Idle and healthy, the socket's send buffer is empty and mysql_close()'s COM_QUIT goes out at once.
        // A broken connection may have unread or unsent data: shut it down so nothing can block.
        if (broken_) {
            const auto fd = mysql_get_socket(mysql_);
            if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
        }
        mysql_close(mysql_);
    }
    // mysql_close() detached the statements from the connection: closing them now only frees memory.
    for (MYSQL_STMT* stmt : statements)
        mysql_stmt_close(stmt);
}

Task<void> mysql_connection::connect(const mysql_settings& s) {
    if (s.connect_timeout.count() > 0) deadline_ = clock::now() + s.connect_timeout;
    connecting_ = true;
    // libmariadb resolves host names with a blocking getaddrinfo() inside mysql_real_connect_start(), which
    // would stall every connection of the event loop: names are resolved here, off the loop, and the library
    // gets addresses. "localhost" stays as it is: to libmariadb it means the Unix socket.
    std::vector<std::string> hosts;
    if (needs_resolving(s))
        hosts = co_await resolve(s.host);
    else
        hosts.push_back(s.host);
    for (std::size_t i = 0; i < hosts.size(); ++i)
        if (co_await connect_to(s, hosts[i], i + 1 == hosts.size())) break;
    connecting_ = false;
    waiter_.reset();  // the one created for the last wait may watch a socket the library has since replaced
    ensure_waiter(co_await asio::this_coro::executor);
    // TIMESTAMP columns convert to and from the session time zone; Zephyr's timestamps are UTC.
    co_await run_text("SET time_zone = '+00:00'", "SET time_zone = '+00:00'", nullptr);
    deadline_.reset();
}

bool mysql_connection::needs_resolving(const mysql_settings& s) {
    if (s.host.empty() || s.host == "localhost" || !s.unix_socket.empty()) return false;
    boost::system::error_code ec;
    (void)asio::ip::make_address(s.host, ec);
    return static_cast<bool>(ec);  // not an IPv4 or IPv6 address
}

Task<std::vector<std::string>> mysql_connection::resolve(const std::string& host) {
    const asio::any_io_executor ex = co_await asio::this_coro::executor;
    // Asio runs getaddrinfo() on a thread of its own. At the deadline the lookup is cancelled (a lookup already
    // inside getaddrinfo() still ends by the resolver's own timeouts).
    auto resolver = std::make_shared<asio::ip::tcp::resolver>(ex);
    asio::steady_timer timer{ex};
    if (deadline_) {
        timer.expires_at(*deadline_);
        timer.async_wait([weak = std::weak_ptr{resolver}](boost::system::error_code ec) {
            if (auto r = weak.lock(); r && !ec) r->cancel();
        });
    }
    boost::system::error_code ec;
    auto results = co_await resolver->async_resolve(host, "", asio::redirect_error(asio::use_awaitable, ec));
    timer.cancel();
    if (deadline_ && clock::now() >= *deadline_) connect_timed_out();
    std::vector<std::string> out;
    if (!ec)
        for (const auto& entry : results) {
            std::string address = entry.endpoint().address().to_string();
            if (std::find(out.begin(), out.end(), address) == out.end()) out.push_back(std::move(address));
        }
    if (out.empty()) {
        broken_ = true;
        throw connection_lost{fmt::format("cannot connect to {}: cannot resolve '{}': {}", display_, host,
                                          ec ? ec.message() : "no addresses")};
    }
    co_return out;
}

// Sets up a fresh handle (a failed connect leaves the old one unfit for another attempt).
void mysql_connection::init_handle(const mysql_settings& s) {
    if (mysql_) {
        waiter_.reset();  // deregister before the library closes the socket
        mysql_close(mysql_);
    }
    mysql_ = mysql_init(nullptr);
    if (!mysql_) throw connection_lost{"cannot connect to " + display_ + ": out of memory"};
    std::size_t stack = context_stack_size;
    const auto timeout_ms = std::max<std::int64_t>(s.connect_timeout.count(), 1);
    const auto timeout_s = static_cast<unsigned>((timeout_ms + 999) / 1000);
    const unsigned no_local_infile = 0;  // LOAD DATA LOCAL lets a server read client files: never needed here
    const my_bool report_truncation = 1;
    if (mysql_options(mysql_, MYSQL_OPT_NONBLOCK, &stack) != 0 ||
        mysql_options(mysql_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout_s) != 0 ||
        mysql_options(mysql_, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0 ||
        mysql_options(mysql_, MYSQL_OPT_LOCAL_INFILE, &no_local_infile) != 0 ||
        mysql_options(mysql_, MYSQL_REPORT_DATA_TRUNCATION, &report_truncation) != 0)
        throw connection_lost{"cannot connect to " + display_ + ": libmariadb rejected the connection options"};
}

// One connection attempt to `host`. False when it failed and another address is left to try.
Task<bool> mysql_connection::connect_to(const mysql_settings& s, const std::string& host, bool last) {
    init_handle(s);
    auto opt = [](const std::string& v) { return v.empty() ? nullptr : v.c_str(); };
    // CLIENT_MULTI_STATEMENTS: migration scripts and begin_sql() send several statements at once.
    // CLIENT_FOUND_ROWS: an UPDATE reports the rows it matched, as PostgreSQL and SQLite do, not only those it
    // changed (the ORM tells "no such row" from "nothing to change" by it).
    MYSQL* ret = nullptr;
    const int status = mysql_real_connect_start(&ret, mysql_, opt(host), opt(s.user), opt(s.password), opt(s.database),
                                                s.port, opt(s.unix_socket), CLIENT_MULTI_STATEMENTS | CLIENT_FOUND_ROWS);
    if (status != 0)
        co_await complete(status, [this, &ret](int events) { return mysql_real_connect_cont(&ret, mysql_, events); });
    if (ret) co_return true;
    const unsigned code = mysql_errno(mysql_);
    // Only "nothing there" moves on to the next address; a server that answered (and refused the login, say)
    // has spoken for all of them.
    if (!last && (code == CR_CONNECTION_ERROR || code == CR_CONN_HOST_ERROR)) co_return false;
    broken_ = true;
    // Every failure to log in counts as "cannot reach the database" (bad password, unknown database, ...).
    // The server's message names the user, never the password.
    throw connection_lost{"cannot connect to " + display_ + ": " +
                              mysql_error_message(code, mysql_error(mysql_), mysql_sqlstate(mysql_), {}),
                          mysql_sqlstate(mysql_)};
}

bool mysql_connection::broken() const noexcept {
    return broken_ || !mysql_ || (waiter_ && waiter_->orphaned());
}

bool mysql_connection::looks_alive() noexcept {
    if (broken()) return false;
    const auto fd = mysql_get_socket(mysql_);
    if (fd < 0) return false;
    // Between statements the server sends nothing. Anything readable now is EOF or the error packet it sends
    // before closing (wait_timeout, KILL, shutdown): the connection is gone.
    pollfd p{};
    p.fd = fd;
    p.events = POLLIN;
    const int n = ::poll(&p, 1, 0);
    if (n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0) {
        broken_ = true;
        return false;
    }
    return true;
}

// ---- driving the non-blocking API ---------------------------------------------------------------------------

void mysql_connection::ensure_waiter(const asio::any_io_executor& ex) {
    if (waiter_ && waiter_->orphaned()) {
        broken_ = true;
        throw connection_lost{"the event loop of the connection to " + display_ + " has stopped"};
    }
    const auto fd = static_cast<int>(mysql_get_socket(mysql_));
    if (fd < 0) {
        broken_ = true;
        throw connection_lost{"the connection to " + display_ + " has no socket"};
    }
    // While connecting, the library may close a socket and open another (trying each address of a host),
    // possibly with the same number: watch afresh for every wait until the connection stands. Later, the pool
    // may hand the connection to a coroutine on another thread's event loop: waiting through the first loop's
    // reactor from there would race with that loop, so the socket is watched from the loop that waits.
    asio::execution_context* loop = &asio::query(ex, asio::execution::context);
    if (connecting_ || !waiter_ || fd != waiter_fd_ || loop != waiter_loop_) {
        waiter_.reset();  // first: the library may have reopened a socket under the same number
        waiter_ = std::make_unique<socket_waiter>(ex, fd);
        waiter_fd_ = fd;
        waiter_loop_ = loop;
    }
}

Task<int> mysql_connection::socket_ready(int want) {
    using namespace asio::experimental::awaitable_operators;
    if ((want & MYSQL_WAIT_READ) && (want & MYSQL_WAIT_WRITE)) {
        auto which = co_await (settled(waiter_->readable()) || settled(waiter_->writable()));
        if (auto failure = which.index() == 0 ? std::get<0>(which) : std::get<1>(which))
            std::rethrow_exception(failure);
        co_return which.index() == 0 ? MYSQL_WAIT_READ : MYSQL_WAIT_WRITE;
    }
    if (want & MYSQL_WAIT_WRITE) {
        co_await waiter_->writable();
        co_return MYSQL_WAIT_WRITE;
    }
    co_await waiter_->readable();
    co_return MYSQL_WAIT_READ;
}

// socket_ready() for a branch of an awaitable operator: its failure as a value (see settled()).
Task<std::pair<int, std::exception_ptr>> mysql_connection::socket_ready_settled(int want) {
    std::pair<int, std::exception_ptr> out{0, nullptr};
    try {
        out.first = co_await socket_ready(want);
    } catch (...) {
        out.second = std::current_exception();
    }
    co_return out;
}

Task<int> mysql_connection::wait_for(int status) {
    using namespace asio::experimental::awaitable_operators;
    const asio::any_io_executor ex = co_await asio::this_coro::executor;
    ensure_waiter(ex);
    const int want = status & (MYSQL_WAIT_READ | MYSQL_WAIT_WRITE);
    std::optional<std::chrono::milliseconds> limit;
    if (status & MYSQL_WAIT_TIMEOUT) limit = std::chrono::milliseconds{mysql_get_timeout_value_ms(mysql_)};
    // While connecting, our own deadline bounds everything, including a server that accepts the TCP connection
    // and then never answers (the library's connect timeout covers only the TCP handshake).
    bool deadline_first = false;
    if (deadline_) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline_ - clock::now());
        if (left.count() <= 0) connect_timed_out();
        if (!limit || left < *limit) {
            limit = left;
            deadline_first = true;
        }
    }
    if (!limit) co_return co_await socket_ready(want);

    asio::steady_timer timer{ex, *limit};
    if (want == 0) {
        co_await timer.async_wait(asio::use_awaitable);
    } else {
        auto which = co_await (socket_ready_settled(want) || timer.async_wait(asio::use_awaitable));
        if (which.index() == 0) {
            auto [events, failure] = std::get<0>(which);
            if (failure) std::rethrow_exception(failure);
            co_return events;
        }
    }
    if (deadline_first) connect_timed_out();
    co_return MYSQL_WAIT_TIMEOUT;
}

// Runs a suspended libmariadb call to its end: waits for what it asks for and continues it with what happened.
// `cont` is `[&](int events) { return mysql_xxx_cont(&ret, ..., events); }`.
template <class Cont>
Task<void> mysql_connection::complete(int status, Cont cont) {
    // If the wait fails (connection lost, the coroutine cancelled or destroyed with its event loop), the call
    // must still be ended: a handle left suspended inside the library cannot be used or closed cleanly.
    struct abandon_guard {
        mysql_connection* self;
        Cont* cont;
        int* status;
        ~abandon_guard() {
            if (*status != 0) self->abandon(*status, *cont);
        }
    } guard{this, &cont, &status};
    while (status != 0) {
        const int events = co_await wait_for(status);
        status = cont(events);
    }
}

// Ends a suspended call without waiting: with the socket shut down every read and write fails at once, and
// answering each wait with MYSQL_WAIT_TIMEOUT makes the library give up. The connection is unusable after.
template <class Cont>
void mysql_connection::abandon(int& status, Cont& cont) noexcept {
    broken_ = true;
    const auto fd = mysql_get_socket(mysql_);
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
    for (int i = 0; status != 0 && i < 100; ++i)
        status = cont(status | MYSQL_WAIT_TIMEOUT);
}

// ---- errors --------------------------------------------------------------------------------------------------

void mysql_connection::check_usable(std::string_view sql) {
    if (broken())
        throw connection_lost{"the connection to " + display_ + " was lost earlier; cannot run: " + sql_excerpt(sql)};
}

void mysql_connection::fail(std::string_view sql, const std::exception_ptr& pending) {
    fail_with(mysql_errno(mysql_), mysql_error(mysql_), mysql_sqlstate(mysql_), sql, pending);
}

void mysql_connection::fail_stmt(MYSQL_STMT* stmt, std::string_view sql, const std::exception_ptr& pending) {
    fail_with(mysql_stmt_errno(stmt), mysql_stmt_error(stmt), mysql_stmt_sqlstate(stmt), sql, pending);
}

void mysql_connection::fail_with(unsigned code, const char* text, const char* sqlstate, std::string_view sql,
                                 const std::exception_ptr& pending) {
    const errc kind = mysql_error_kind(code);
    if (kind == errc::connection_lost) broken_ = true;
    // The sink failed first: that is what the caller sees (a lost connection is recorded all the same).
    if (pending) std::rethrow_exception(pending);
    std::string state = sqlstate ? sqlstate : "";
    std::string message = mysql_error_message(code, text ? text : "", state, sql);
    raise(kind, std::move(message), std::move(state));
}

void mysql_connection::connect_timed_out() {
    broken_ = true;
    throw connection_lost{fmt::format("cannot connect to {}: no answer within the connect timeout of {} ms", display_,
                                      connect_timeout_.count())};
}

// ---- statements ----------------------------------------------------------------------------------------------

Task<exec_result> mysql_connection::run(std::string_view sql, const Params& params, RowSink* sink) {
    std::size_t count = 0;
    const std::string text = plain_placeholders(sql, count, sql_syntax::mysql);
    check_param_count(sql, count, params.size());
    check_usable(sql);
    // Without parameters the text protocol does it in one round trip (and allows several statements).
    if (params.empty()) co_return co_await run_text(text, sql, sink);
    co_return co_await run_prepared(text, sql, params, sink);
}

Task<void> mysql_connection::simple(std::string_view sql) {
    check_usable(sql);
    co_await run_text(sql, sql, nullptr);
}

Task<void> mysql_connection::ping() {
    check_usable("ping");
    int ret = 0;
    const int status = mysql_ping_start(&ret, mysql_);
    if (status != 0) co_await complete(status, [&](int events) { return mysql_ping_cont(&ret, mysql_, events); });
    if (ret != 0) fail("ping");
}

// The text protocol: every statement of `text`, each result read to the end. Rows of the first result that has
// columns go to the sink; affected rows add up over the statements.
Task<exec_result> mysql_connection::run_text(std::string_view text, std::string_view sql, RowSink* sink) {
    int ret = 0;
    int status = mysql_real_query_start(&ret, mysql_, text.data(), static_cast<unsigned long>(text.size()));
    if (status != 0) co_await complete(status, [&](int events) { return mysql_real_query_cont(&ret, mysql_, events); });
    if (ret != 0) fail(sql);

    exec_result out;
    std::exception_ptr sink_error;
    bool delivered = false;
    for (;;) {
        if (MYSQL_RES* res = mysql_use_result(mysql_)) {
            co_await fetch_text(res, delivered ? nullptr : sink, sink_error, sql);
            delivered = true;
        } else if (mysql_field_count(mysql_) != 0) {
            fail(sql, sink_error);
        } else {
            out.affected_rows += mysql_affected_rows(mysql_);
            if (const auto id = mysql_insert_id(mysql_); id != 0) out.last_insert_id = static_cast<std::int64_t>(id);
        }
        if (!mysql_more_results(mysql_)) break;
        int next = 0;
        status = mysql_next_result_start(&next, mysql_);
        if (status != 0)
            co_await complete(status, [&](int events) { return mysql_next_result_cont(&next, mysql_, events); });
        // The server stops at a failing statement, so the connection is idle again either way.
        if (next > 0) fail(sql, sink_error);
        if (next < 0) break;
    }
    if (sink_error) std::rethrow_exception(sink_error);
    co_return out;
}

// Reads an unbuffered (streamed) text result to its end and frees it.
Task<void> mysql_connection::fetch_text(MYSQL_RES* res, RowSink* sink, std::exception_ptr& sink_error,
                                        std::string_view sql) {
    result_guard owned{res};
    const unsigned n = mysql_num_fields(res);
    const MYSQL_FIELD* fields = mysql_fetch_fields(res);
    cells_.resize(n);
    for (;;) {
        MYSQL_ROW row = nullptr;
        const int status = mysql_fetch_row_start(&row, res);
        if (status != 0) co_await complete(status, [&](int events) { return mysql_fetch_row_cont(&row, res, events); });
        if (!row) break;  // the end, or an error (mysql_errno tells)
        if (!sink || sink_error) continue;
        const unsigned long* lengths = mysql_fetch_lengths(res);
        for (unsigned i = 0; i < n; ++i)
            cells_[i] = mysql_cell{row[i], row[i] ? lengths[i] : 0, row[i] == nullptr};
        deliver(*sink, mysql_row{fields, cells_.data(), n}, sink_error);
    }
    // Keep the error before freeing the result resets it.
    const unsigned code = mysql_errno(mysql_);
    const std::string text = code ? mysql_error(mysql_) : "";
    const std::string state = code ? mysql_sqlstate(mysql_) : "";
    owned.res = nullptr;
    const int status = mysql_free_result_start(res);
    if (status != 0) co_await complete(status, [&](int events) { return mysql_free_result_cont(res, events); });
    if (code != 0) fail_with(code, text.c_str(), state.c_str(), sql, sink_error);
}

Task<exec_result> mysql_connection::run_prepared(std::string_view text, std::string_view sql, const Params& params,
                                                 RowSink* sink) {
    for (int attempt = 0;; ++attempt) {
        MYSQL_STMT* stmt = cache_.find(sql);
        bool cached = stmt != nullptr;
        if (!stmt) {
            stmt = co_await prepare(text, sql);
            if (mysql_stmt_param_count(stmt) != params.size()) {
                // The server counts differently than the placeholder scanner (backslash escapes, # comments).
                const auto server_count = mysql_stmt_param_count(stmt);
                co_await close_statement(stmt);
                raise(errc::misuse, fmt::format("the server sees {} placeholders where {} parameters were given in: {}",
                                                server_count, params.size(), sql_excerpt(sql)));
            }
            if (cache_.capacity() > 0) {
                cached = true;
                if (MYSQL_STMT* evicted = cache_.add(sql, stmt)) co_await close_statement(evicted);
            }
        }

        std::exception_ptr error;
        exec_result out;
        try {
            out = co_await execute(stmt, sql, params, sink);
        } catch (...) {
            error = std::current_exception();
        }
        // A table changed under a cached statement: the server re-prepares it itself, but when the number of
        // result columns changed libmariadb refuses the reply (and leaves its rows unread). Closing the
        // statement reads them away; preparing it again is all it takes. No row has reached the sink yet.
        const unsigned code = error && !broken_ ? mysql_stmt_errno(stmt) : 0;
        const bool stale = code == CR_NEW_STMT_METADATA || code == ER_NEED_REPREPARE || code == ER_UNKNOWN_STMT_HANDLER;
        if (stale && cached) cache_.remove(sql);
        if (!cached || stale) co_await close_statement(stmt);
        if (stale && attempt == 0) continue;
        if (error) std::rethrow_exception(error);
        co_return out;
    }
}

Task<MYSQL_STMT*> mysql_connection::prepare(std::string_view text, std::string_view sql) {
    statement_guard owned{mysql_stmt_init(mysql_)};
    if (!owned.stmt) fail(sql);
    MYSQL_STMT* stmt = owned.stmt;
    int ret = 0;
    const int status = mysql_stmt_prepare_start(&ret, stmt, text.data(), static_cast<unsigned long>(text.size()));
    if (status != 0) co_await complete(status, [&](int events) { return mysql_stmt_prepare_cont(&ret, stmt, events); });
    owned.stmt = nullptr;
    if (ret != 0) {
        const unsigned code = mysql_stmt_errno(stmt);
        const std::string message = mysql_stmt_error(stmt);
        const std::string state = mysql_stmt_sqlstate(stmt);
        co_await close_statement(stmt);
        fail_with(code, message.c_str(), state.c_str(), sql);
    }
    co_return stmt;
}

Task<void> mysql_connection::close_statement(MYSQL_STMT* stmt) noexcept {
    // COM_STMT_CLOSE has no reply; on a lost connection the call only frees memory. Nothing here is worth an
    // exception: a failure leaves at worst a prepared statement on a server session that is gone or broken.
    try {
        my_bool ret = 0;
        const int status = mysql_stmt_close_start(&ret, stmt);
        if (status != 0)
            co_await complete(status, [&](int events) { return mysql_stmt_close_cont(&ret, stmt, events); });
    } catch (...) {
        broken_ = true;
    }
}

Task<exec_result> mysql_connection::execute(MYSQL_STMT* stmt, std::string_view sql, const Params& params,
                                            RowSink* sink) {
    // The binds point into param_slots_ and into the Values; both stay put until execute returns.
    param_binds_.resize(params.size());
    param_slots_.resize(params.size());
    for (std::size_t i = 0; i < params.size(); ++i)
        bind_param(params[i], param_binds_[i], param_slots_[i]);
    if (mysql_stmt_bind_param(stmt, param_binds_.data()) != 0) fail_stmt(stmt, sql);

    int ret = 0;
    int status = mysql_stmt_execute_start(&ret, stmt);
    if (status != 0) co_await complete(status, [&](int events) { return mysql_stmt_execute_cont(&ret, stmt, events); });
    if (ret != 0) fail_stmt(stmt, sql);

    exec_result out;
    std::exception_ptr sink_error;
    bool delivered = false;
    for (;;) {
        if (mysql_stmt_field_count(stmt) > 0) {
            co_await fetch_binary(stmt, delivered ? nullptr : sink, sink_error, sql);
            delivered = true;
        } else {
            out.affected_rows += mysql_stmt_affected_rows(stmt);
            if (const auto id = mysql_stmt_insert_id(stmt); id != 0) out.last_insert_id = static_cast<std::int64_t>(id);
        }
        // More results only come from CALL (the procedure's result sets, then its status).
        if (!mysql_stmt_more_results(stmt)) break;
        int next = 0;
        status = mysql_stmt_next_result_start(&next, stmt);
        if (status != 0)
            co_await complete(status, [&](int events) { return mysql_stmt_next_result_cont(&next, stmt, events); });
        if (next > 0) fail_stmt(stmt, sql, sink_error);
        if (next < 0) break;
    }
    if (sink_error) std::rethrow_exception(sink_error);
    co_return out;
}

void mysql_connection::bind_result_columns(unsigned count) {
    columns_.resize(count);
    result_binds_.assign(count, MYSQL_BIND{});
    cells_.resize(count);
    for (unsigned i = 0; i < count; ++i) {
        column_buffer& c = columns_[i];
        if (c.data.size() < initial_column_buffer) c.data.resize(initial_column_buffer);
        MYSQL_BIND& b = result_binds_[i];
        b.buffer_type = MYSQL_TYPE_STRING;
        b.buffer = c.data.data();
        b.buffer_length = static_cast<unsigned long>(c.data.size());
        b.length = &c.length;
        b.is_null = &c.is_null;
        b.error = &c.error;
    }
}

// Reads an unbuffered binary result to its end. Every column arrives as text in a growable buffer; a value
// longer than its buffer is fetched again, whole, into a bigger one.
Task<void> mysql_connection::fetch_binary(MYSQL_STMT* stmt, RowSink* sink, std::exception_ptr& sink_error,
                                          std::string_view sql) {
    const unsigned n = mysql_stmt_field_count(stmt);
    // The column definitions as the server sent them with this execute are the connection's current result
    // metadata. The statement's own copy keeps the names from when it was prepared: when a table changed
    // without changing its number of columns, libmariadb refreshes only the types there.
    const MYSQL_FIELD* fields = nullptr;
    result_guard meta_owned{};
    if (mysql_->fields && mysql_->field_count == n) {
        fields = mysql_->fields;
    } else {
        meta_owned.res = mysql_stmt_result_metadata(stmt);  // no I/O, and freeing it does none either
        fields = meta_owned.res ? mysql_fetch_fields(meta_owned.res) : nullptr;
    }
    bind_result_columns(n);
    if (!fields || mysql_stmt_bind_result(stmt, result_binds_.data()) != 0) {
        // Unread rows are pending and cannot be skipped reliably: give the connection up.
        broken_ = true;
        fail_stmt(stmt, sql, sink_error);
    }

    unsigned code = 0;
    for (;;) {
        int ret = 0;
        const int status = mysql_stmt_fetch_start(&ret, stmt);
        if (status != 0)
            co_await complete(status, [&](int events) { return mysql_stmt_fetch_cont(&ret, stmt, events); });
        if (ret == MYSQL_NO_DATA) break;
        if (ret == 1) {
            code = mysql_stmt_errno(stmt);
            break;
        }
        // 0 or MYSQL_DATA_TRUNCATED: the lengths tell which values did not fit.
        if (!sink || sink_error) continue;
        bool rebind = false;
        for (unsigned i = 0; i < n; ++i) {
            column_buffer& c = columns_[i];
            if (!c.is_null && c.length > c.data.size()) {
                c.data.resize(c.length);
                MYSQL_BIND& b = result_binds_[i];
                b.buffer = c.data.data();
                b.buffer_length = static_cast<unsigned long>(c.data.size());
                if (mysql_stmt_fetch_column(stmt, &b, i, 0) != 0 && !sink_error)
                    sink_error = std::make_exception_ptr(
                        Error{errc::other, "cannot read a long column value: " +
                                               mysql_error_message(mysql_stmt_errno(stmt), mysql_stmt_error(stmt),
                                                                   mysql_stmt_sqlstate(stmt), sql)});
                rebind = true;
            }
            cells_[i] = mysql_cell{c.data.data(), c.is_null ? 0 : std::min<std::size_t>(c.length, c.data.size()),
                                   c.is_null != 0};
        }
        if (rebind) mysql_stmt_bind_result(stmt, result_binds_.data());
        if (!sink_error) deliver(*sink, mysql_row{fields, cells_.data(), n}, sink_error);
    }
    for (column_buffer& c : columns_) {
        if (c.data.size() > kept_column_buffer) {
            c.data.resize(initial_column_buffer);
            c.data.shrink_to_fit();
        }
    }
    if (code != 0) fail_stmt(stmt, sql, sink_error);
}

}  // namespace zephyr::db::detail
