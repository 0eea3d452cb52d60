// PostgreSQL's shared, pipelined connections (see pg_pipeline.hpp).
//
// Threads: a shared connection belongs to one event loop and is only used from the thread that runs it (Zephyr
// runs one thread per event loop), so it needs no lock. Only three things cross threads: the driver's map of
// connections (a mutex), the event loop's destruction, which tears down the connections of that loop
// (pg_loop_service), and the driver's destruction, which closes them all; the last two take the connection's
// teardown mutex, in case they race.
//
// Waiting: a caller whose statement is in flight either reads the answers itself (the leader: one per
// connection at a time, so one coroutine waits on the socket) or is suspended on its own completion handler,
// kept in its entry; the leader posts that handler to the caller's executor when the caller's answer is
// complete, or when it hands the reading on. No timer, channel or extra coroutine is needed for either.
#include "db/postgres/pg_pipeline.hpp"

#include "db/postgres/pg_result.hpp"
#include "db/sql_text.hpp"

#include <zephyr/core/log.hpp>
#include <zephyr/db/error.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/detail/concurrency_hint.hpp>
#include <boost/asio/detail/scheduler.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <deque>
#include <exception>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace zephyr::db::detail {

namespace {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

/// Prepared statements kept per shared connection; the least recently used one is dropped beyond this.
constexpr std::size_t statement_cache_size = 256;
/// Dropped statements are deallocated on the server in batches of this many (one Sync group per batch).
constexpr std::size_t deallocate_batch = 16;
/// Whether single plain statements without parameters are shared too (they then go with the extended protocol,
/// prepared once per connection, rather than the simple one). False keeps every parameterless statement on a
/// pooled connection of its own.
constexpr bool share_without_parameters = true;
/// The most parameters the protocol carries (a 16-bit count).
constexpr int max_params = 65535;

/// The completion handler of a coroutine suspended by suspend(): resuming it is posting it.
using wake_handler = asio::async_result<asio::use_awaitable_t<>, void()>::handler_type;

/// Suspends the calling coroutine, keeping its handler in `slot` until wake(slot).
auto suspend(std::optional<wake_handler>& slot) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
        [&slot](auto handler) {
            static_assert(std::is_same_v<decltype(handler), wake_handler>);
            slot.emplace(std::move(handler));
        },
        asio::use_awaitable);
}

/// Resumes the coroutine suspended on `slot`, if any, on its own executor (never inline: the caller goes on).
void wake(std::optional<wake_handler>& slot) {
    if (!slot) return;
    wake_handler handler = std::move(*slot);
    slot.reset();
    asio::post(std::move(handler));
}

struct pg_entry;

/// A place in the connection's queue of Sync groups, in the order their answers come. An empty one is a group
/// whose answers nobody wants (statement deallocation, or a caller that is gone): they are read and dropped.
struct pg_slot {
    pg_entry* entry = nullptr;
};

/// One statement in flight, in its caller's coroutine frame. Also a caller waiting for the connection to open.
struct pg_entry {
    pg_entry() = default;
    pg_entry(const pg_entry&) = delete;
    pg_entry& operator=(const pg_entry&) = delete;
    ~pg_entry() {
        // Only when its coroutine is destroyed, or gives up (cancelled), while waiting: its answers are then read
        // and dropped.
        if (slot) slot->entry = nullptr;
        if (open_list) std::erase(*open_list, this);
    }

    RowSink* sink = nullptr;
    std::string_view sql{};       ///< With `signature`, the statement's key in the cache.
    std::string signature{};      ///< Copied when it prepares (its parameters are gone once it is sent).
    std::uint64_t statement = 0;  ///< The prepared statement's number.
    std::uint64_t shape = 0;      ///< Its Row::shape when it runs by name (0 when it is parsed unnamed).
    bool prepares = false;        ///< Its group begins with the statement's Parse (whose result comes first).
    int results = 0;              ///< Results read so far (counted for those that prepare).
    std::uint64_t affected_rows = 0;
    std::size_t rows = 0;             ///< Handed to the sink.
    pg_result_ptr error{};            ///< The first error result.
    std::exception_ptr sink_error{};  ///< What the sink threw first (no rows are handed over after it).
    std::exception_ptr failure{};     ///< The connection failed first, or the statement was skipped.
    bool done = false;
    pg_slot* slot = nullptr;                      ///< Its place in the queue while it is there.
    std::vector<pg_entry*>* open_list = nullptr;  ///< The callers waiting for the connection to open, with it.
    std::optional<wake_handler> handler{};
};

struct statement_key {
    std::string sql;
    std::string signature;
};

struct statement_key_view {
    std::string_view sql;
    std::string_view signature;
};

/// Hashes and compares keys and views alike, so a lookup copies nothing.
struct statement_hash {
    using is_transparent = void;
    std::size_t operator()(const statement_key_view& k) const noexcept {
        const std::size_t a = std::hash<std::string_view>{}(k.sql);
        const std::size_t b = std::hash<std::string_view>{}(k.signature);
        return a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    }
    std::size_t operator()(const statement_key& k) const noexcept {
        return (*this)(statement_key_view{k.sql, k.signature});
    }
};

struct statement_equal {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
        return std::string_view{a.sql} == std::string_view{b.sql} &&
               std::string_view{a.signature} == std::string_view{b.signature};
    }
};

struct cached_statement {
    std::uint64_t number = 0;
    std::uint64_t last_used = 0;
    /// Its Parse succeeded. Until then, other callers of the same statement do not execute it by name (a failed
    /// Parse would fail them with "does not exist"): each sends its own unnamed Parse with its Bind.
    bool ready = false;
    std::string text{};  ///< With $n placeholders; kept until ready.
    std::uint64_t shape = pg_new_shape();
};

/// "s<number>", the server-side name of a prepared statement, without allocating.
class statement_name {
public:
    explicit statement_name(std::uint64_t number) noexcept {
        buf_[0] = 's';
        *std::to_chars(buf_ + 1, buf_ + sizeof buf_ - 1, number).ptr = '\0';
    }
    const char* c_str() const noexcept { return buf_; }

private:
    char buf_[24] = {};
};

bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

// ---- one shared connection ---------------------------------------------------------------------------------------

class pg_pipeline : public std::enable_shared_from_this<pg_pipeline> {
public:
    /// unsuitable: its event loop may be run by several threads (never opened; the loop's statements are not shared).
    enum class state { opening, open, broken, unsuitable };
    using statement_map = std::unordered_map<statement_key, cached_statement, statement_hash, statement_equal>;

    pg_pipeline(std::weak_ptr<pg_shared_connections> owner, asio::execution_context* loop) noexcept
        : owner_{std::move(owner)}, loop_{loop} {}
    pg_pipeline(const pg_pipeline&) = delete;
    pg_pipeline& operator=(const pg_pipeline&) = delete;

    state st = state::opening;
    bool leading = false;  ///< A caller is reading the answers.
    pg_link link{};
    std::exception_ptr open_error{};
    std::vector<pg_entry*> open_waiters{};

    /// Opens the connection, then wakes those waiting for it. A failure is kept in open_error, not thrown.
    Task<void> open(const pg_shared_connections::opener& open_fn, asio::any_io_executor ex) {
        std::exception_ptr failure;
        pg_link opened;
        executor_ = ex;
        if (const auto* io = executor_.target<asio::io_context::executor_type>()) io_ = &io->context();
        try {
            opened = co_await open_fn(std::move(ex));
            if (PQenterPipelineMode(opened.conn) != 1)
                throw connection_lost{fmt::format("cannot put the PostgreSQL connection in pipeline mode: {}",
                                                  pg_clean_message(PQerrorMessage(opened.conn)))};
        } catch (...) {
            failure = std::current_exception();
        }
        if (st != state::opening) co_return;  // closed meanwhile: `opened` closes itself
        if (failure) {
            // Cancelled (an awaitable operator gave up on the caller that opens): not the others' failure.
            const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
            if (cancellation.cancelled() != asio::cancellation_type::none) {
                give_up_opening();
                co_return;
            }
            st = state::broken;
            open_error = failure;
            forget_me();
        } else {
            link = std::move(opened);
            st = state::open;
        }
        wake_open_waiters();
    }

    /// The caller that was to open the connection gave up: those waiting for it try again (one of them opens a
    /// new one).
    void give_up_opening() {
        if (st != state::opening) return;
        st = state::broken;
        forget_me();
        wake_open_waiters();
    }

    void wait_open(pg_entry& w) {
        open_waiters.push_back(&w);
        w.open_list = &open_waiters;
    }

    void wake_open_waiters() {
        std::vector<pg_entry*> waiting;
        waiting.swap(open_waiters);
        for (pg_entry* w : waiting) {
            w->open_list = nullptr;
            wake(w->handler);
        }
    }

    /// Checks a connection that sat idle before a statement is sent on it: false (and broken) when the server
    /// closed it meanwhile (a restart, pg_terminate_backend). One poll(), only when nothing is in flight and the
    /// event loop has gone back to waiting since the last answer was read: a caller that sends statement after
    /// statement without waiting for anything else in between (20 queries in a handler) pays it once, not 20
    /// times. A server that goes away in those microseconds fails the statement with connection_lost, as one
    /// that goes away while it runs does.
    bool usable_after_idle() {
        if (!slots_.empty() || leading || just_answered_) return true;  // a failure will show in the answers
        const int fd = PQsocket(link.conn);
        if (fd >= 0) {
            pollfd p{};
            p.fd = fd;
            p.events = POLLIN | POLLRDHUP;
            if (::poll(&p, 1, 0) <= 0) return true;  // nothing arrived (or poll failed: cannot tell)
            // Something arrived while idle: a notice, or the server's goodbye followed by EOF.
            if (PQconsumeInput(link.conn) && PQstatus(link.conn) == CONNECTION_OK &&
                (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) == 0) {
                (void)PQisBusy(link.conn);  // parses what came (notices go to the notice processor)
                return true;
            }
        }
        fail("it sat idle");
        return false;
    }

    /// Appends the statement with a Sync of its own (after a Parse when it is not prepared on this connection
    /// yet); `e` is completed when its answers have been read. Returns whether it executes a statement prepared
    /// earlier (which can turn out stale). Throws, with nothing sent, what is wrong with the statement (misuse,
    /// refused by libpq), or connection_lost.
    bool submit(std::string_view sql, const pg_params& bound, pg_entry& e) {
        cached_statement* known = lookup(sql, bound.signature());
        const bool fresh = known == nullptr;
        std::string text;
        if (fresh) {
            std::size_t count = 0;
            text = numbered_placeholders(sql, count);
            check_param_count(sql, count, static_cast<std::size_t>(bound.size()));
        }
        if (bound.size() > max_params)
            throw Error{errc::other, fmt::format("PostgreSQL client refused the statement: {} parameters, more than "
                                                 "the protocol's {}, in: {}",
                                                 bound.size(), max_params, sql_excerpt(sql))};
        // Hold the packets back while statements may have company this loop turn: others are in flight, or the
        // last corked turn carried several. A caller running statements one by one on an otherwise idle
        // connection sends each at once (no setsockopt pair, no extra wake-up).
        if (!slots_.empty() || last_batch_ != 1) cork();
        if (corked_) ++batch_;
        if (pending_deallocate_.size() >= deallocate_batch) deallocate_pending();
        auto it = statements_.end();
        if (fresh) {
            if (statements_.size() >= statement_cache_size) evict_oldest();
            it = statements_
                     .emplace(statement_key{std::string{sql}, std::string{bound.signature()}},
                              cached_statement{++statement_counter_, 0, false, std::move(text)})
                     .first;
            known = &it->second;
            last_ = &*it;
        }
        cached_statement& cached = *known;
        cached.last_used = ++use_clock_;
        const statement_name name{cached.number};
        PGconn* c = link.conn;
        bool sent = false;
        if (fresh) {
            if (!PQsendPrepare(c, name.c_str(), cached.text.c_str(), bound.size(), bound.types())) {
                erase_statement(it);
                send_failed(sql);
            }
            sent = PQsendQueryPrepared(c, name.c_str(), bound.size(), bound.values(), bound.lengths(), bound.formats(),
                                       0) == 1;
            if (!sent) {
                // The Parse went out alone: close its group with a Sync whose answers nobody waits for, and
                // forget the statement (deallocated later, in case it was prepared).
                if (PQstatus(c) == CONNECTION_OK && PQpipelineSync(c) == 1) slots_.push_back(pg_slot{});
                pending_deallocate_.push_back(cached.number);
                erase_statement(it);
            }
        } else if (!cached.ready) {
            sent = PQsendQueryParams(c, cached.text.c_str(), bound.size(), bound.types(), bound.values(),
                                     bound.lengths(), bound.formats(), 0) == 1;
        } else {
            sent = PQsendQueryPrepared(c, name.c_str(), bound.size(), bound.values(), bound.lengths(), bound.formats(),
                                       0) == 1;
        }
        if (!sent) send_failed(sql);
        if (PQpipelineSync(c) != 1) lost_while("sending a statement");
        slots_.push_back(pg_slot{&e});
        e.slot = &slots_.back();
        e.sql = sql;
        if (fresh) e.signature = bound.signature();  // confirm_statement() looks it up when its Parse is answered
        e.statement = cached.number;
        e.shape = fresh || cached.ready ? cached.shape : 0;
        e.prepares = fresh;
        return !fresh && cached.ready;
    }

    /// Reads every answer that has arrived, completing the statements whose Sync came. Never throws and never
    /// suspends: sinks run here, for whichever caller's rows these are.
    void dispatch() {
        int nulls = 0;
        while (!slots_.empty() && st == state::open) {
            if (PQisBusy(link.conn)) return;  // more must arrive first
            pg_result_ptr res{PQgetResult(link.conn)};
            if (!res) {
                // In pipeline mode a null ends each command's results; two in a row mean libpq has no command
                // queued while statements wait for answers: the two are out of step.
                if (++nulls > 1) {
                    fail("reading answers (libpq expects none)");
                    return;
                }
                continue;
            }
            nulls = 0;
            const ExecStatusType status = PQresultStatus(res.get());
            if (status == PGRES_PIPELINE_SYNC) {
                complete_front();
                continue;
            }
            if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH) {
                fail("a COPY began, which a shared connection cannot carry");
                return;
            }
            pg_entry* e = slots_.front().entry;
            if (!e) continue;  // nobody wants these answers
            if (e->prepares && ++e->results == 1) {
                // The Parse's answer: the statement is ready for everyone, or does not exist on the server.
                if (status == PGRES_COMMAND_OK) {
                    confirm_statement(*e);
                } else {
                    forget_statement(e->sql, e->signature, e->statement, false);
                    if (!e->error) e->error = std::move(res);
                }
                continue;
            }
            switch (status) {
                case PGRES_TUPLES_OK:
                case PGRES_SINGLE_TUPLE:
                    pg_deliver(res.get(), e->sink, e->shape, e->rows, e->sink_error);
                    // A statement that returns rows affected as many (SELECT, or RETURNING): counted, not parsed
                    // from the command tag (shared statements never use single-row mode).
                    if (status == PGRES_TUPLES_OK) e->affected_rows = static_cast<std::uint64_t>(PQntuples(res.get()));
                    break;
                case PGRES_COMMAND_OK:
                    e->affected_rows = pg_command_rows(res.get());
                    break;
                case PGRES_EMPTY_QUERY:
                    break;
                case PGRES_PIPELINE_ABORTED:
                    // Skipped because an earlier command of its group failed: that error is the one to report.
                    if (!e->error && !e->failure)
                        e->failure =
                            std::make_exception_ptr(Error{errc::other,
                                                          "PostgreSQL skipped the statement: an earlier command of its "
                                                          "pipeline group failed"});
                    break;
                default:  // PGRES_FATAL_ERROR, PGRES_BAD_RESPONSE, PGRES_NONFATAL_ERROR
                    if (!e->error) e->error = std::move(res);
                    break;
            }
        }
    }

    /// The reading caller is done: wake the next caller that waits, to read on.
    void hand_off() {
        if (st != state::open) return;
        for (pg_slot& s : slots_)
            if (s.entry && s.entry->handler) {
                wake(s.entry->handler);
                return;
            }
    }

    /// True when `e` failed because its prepared statement is gone from the server (DEALLOCATE ALL, DISCARD) or
    /// its plan no longer fits (a table it reads changed shape); the statement is then forgotten, so preparing it
    /// again fixes it. Outside a transaction nothing was done: it can run again. `params`: the statement's.
    bool stale(const pg_entry& e, const Params& params) {
        if (!e.error || e.failure || e.rows != 0 || e.sink_error) return false;
        const char* state = PQresultErrorField(e.error.get(), PG_DIAG_SQLSTATE);
        if (!state) return false;
        const std::string_view s{state};
        if (s != "0A000" && s != "26000") return false;
        forget_statement(e.sql, pg_params{params}.signature(), e.statement, s != "26000");
        return true;
    }

    /// The connection is unusable: every statement waiting on it fails with connection_lost, and the next
    /// statement opens another. Returns the message.
    // Completes every statement in flight with `error` and forgets them.
    void fail_in_flight(const std::exception_ptr& error) {
        for (pg_slot& s : slots_)
            if (pg_entry* e = s.entry) {
                e->slot = nullptr;
                e->failure = error;
                e->done = true;
                wake(e->handler);
            }
        slots_.clear();
    }

    std::string fail(std::string_view doing) {
        if (st == state::broken) return "the shared PostgreSQL connection was lost";
        std::string message = fmt::format("PostgreSQL connection {} while {}: {}",
                                          PQstatus(link.conn) == CONNECTION_OK ? "given up" : "lost", doing,
                                          pg_clean_message(PQerrorMessage(link.conn)));
        st = state::broken;
        forget_me();
        const auto error = std::make_exception_ptr(connection_lost{message});
        fail_in_flight(error);
        // The leader's wait, if any, ends (aborted) and it finds the connection broken.
        link.close();
        return message;
    }

    /// The event loop is being destroyed and runs no more: drop everything without waking anyone. Asio destroys
    /// the suspended coroutines (their handlers are destroyed here) along with the loop.
    void loop_gone() noexcept {
        std::lock_guard lock{teardown_mutex_};
        forget_me();
        st = state::broken;
        for (pg_slot& s : slots_)
            if (pg_entry* e = s.entry) e->slot = nullptr;
        // Destroying a handler schedules its coroutine's destruction on the dying loop (never inline), so the
        // entries stay valid while this goes through them.
        for (pg_slot& s : slots_)
            if (s.entry) s.entry->handler.reset();
        for (pg_entry* w : open_waiters) {
            w->open_list = nullptr;
            w->handler.reset();
        }
        slots_.clear();
        open_waiters.clear();
        link.close();
    }

    /// The driver is going away. Nothing should be in flight (every statement holds the pool); anything that is
    /// fails with connection_lost.
    void close() noexcept {
        std::lock_guard lock{teardown_mutex_};
        st = state::broken;
        std::exception_ptr error;
        try {
            error = std::make_exception_ptr(connection_lost{"the database pool was destroyed"});
        } catch (...) {
        }
        fail_in_flight(error);
        wake_open_waiters();
        link.close();
    }

private:
    [[noreturn]] void lost_while(std::string_view doing) { throw connection_lost{fail(doing)}; }

    /// A PQsend* call failed: the connection broke, or libpq refused the statement before sending anything.
    [[noreturn]] void send_failed(std::string_view sql) {
        if (PQstatus(link.conn) != CONNECTION_OK) lost_while("sending a statement");
        throw Error{errc::other, fmt::format("PostgreSQL client refused the statement: {} in: {}",
                                             pg_clean_message(PQerrorMessage(link.conn)), sql_excerpt(sql))};
    }

    void complete_front() {
        pg_entry* e = slots_.front().entry;
        slots_.pop_front();
        if (e) {
            e->slot = nullptr;
            e->done = true;
            wake(e->handler);
        }
        // Each statement is its own implicit transaction; one that left a transaction open (it cannot come
        // from a shared statement, but if it did, the statements after it would run inside it) retires the
        // connection. libpq knows the status only when nothing is queued.
        if (slots_.empty()) {
            const PGTransactionStatusType t = PQtransactionStatus(link.conn);
            if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR) {
                log::warn("db: a statement left a transaction open on a shared PostgreSQL connection; closing it");
                fail("a statement left a transaction open");
                return;
            }
            mark_answered();
        }
    }

    /// Everything sent has been answered, just now: until the event loop runs the handlers queued meanwhile
    /// (and, after them, waits on its sockets again), the next statement needs no idle check.
    void mark_answered() noexcept {
        if (just_answered_) return;
        try {
            post_to_loop([self = weak_from_this()] {
                if (auto p = self.lock()) p->just_answered_ = false;
            });
            just_answered_ = true;
        } catch (...) {
            // Without the reset the flag must not be set: the check then simply runs.
        }
    }

    void confirm_statement(const pg_entry& e) {
        auto it = statements_.find(statement_key_view{e.sql, e.signature});
        if (it == statements_.end() || it->second.number != e.statement) return;  // evicted meanwhile
        it->second.ready = true;
        std::string{}.swap(it->second.text);
    }

    void forget_statement(std::string_view sql, std::string_view signature, std::uint64_t number, bool exists) {
        auto it = statements_.find(statement_key_view{sql, signature});
        if (it == statements_.end() || it->second.number != number) return;  // already forgotten, or prepared anew
        erase_statement(it);
        if (exists) pending_deallocate_.push_back(number);
    }

    /// The cached statement for this text and signature, or null. The last one found is checked first: a
    /// caller that runs the same statement again and again skips hashing its text.
    cached_statement* lookup(std::string_view sql, std::string_view signature) {
        if (last_ && last_->first.sql == sql && last_->first.signature == signature) return &last_->second;
        auto it = statements_.find(statement_key_view{sql, signature});
        if (it == statements_.end()) return nullptr;
        last_ = &*it;
        return &it->second;
    }

    void erase_statement(statement_map::iterator it) {
        if (last_ == &*it) last_ = nullptr;
        statements_.erase(it);
    }

    void evict_oldest() {
        auto oldest = statements_.begin();
        for (auto i = statements_.begin(); i != statements_.end(); ++i)
            if (i->second.last_used < oldest->second.last_used) oldest = i;
        pending_deallocate_.push_back(oldest->second.number);
        erase_statement(oldest);
    }

    /// Deallocates dropped statements on the server, in a Sync group of their own whose answers are dropped (a
    /// statement still queued before it runs first: the server answers in order).
    void deallocate_pending() {
        PGconn* c = link.conn;
        for (const std::uint64_t number : pending_deallocate_) {
            const std::string sql = fmt::format("DEALLOCATE s{}", number);
            if (!PQsendQueryParams(c, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0))
                lost_while("deallocating statements");
        }
        if (PQpipelineSync(c) != 1) lost_while("deallocating statements");
        pending_deallocate_.clear();
        slots_.push_back(pg_slot{});
    }

    /// Holds back what is sent (TCP_CORK) until the event loop has run the handlers that are ready now, so the
    /// statements their callers send meanwhile leave in as few packets as possible: libpq writes each one to the
    /// socket at its Sync, and a packet on its own costs much more (to send and for the server to receive)
    /// than the write. Not for Unix sockets, which have no such option.
    void cork() noexcept {
        if (corked_ || !can_cork_) return;
        const int fd = PQsocket(link.conn);
        const int on = 1;
        if (fd < 0 || ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on) != 0) {
            can_cork_ = false;
            return;
        }
        corked_ = true;
        batch_ = 0;
        try {
            post_to_loop([self = shared_from_this()] { self->uncork(); });
        } catch (...) {
            uncork();
        }
    }

    void uncork() noexcept {
        if (!corked_) return;
        corked_ = false;
        last_batch_ = batch_;
        const int fd = link.conn ? PQsocket(link.conn) : -1;
        const int off = 0;
        if (fd >= 0) ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
    }

    /// Runs `f` on the connection's event loop after what is ready now. Straight to the io_context when the loop
    /// is one (Zephyr's are): cheaper than through the type-erased executor.
    template <class F>
    void post_to_loop(F f) {
        if (io_) {
            asio::post(*io_, std::move(f));
        } else {
            asio::post(executor_, std::move(f));
        }
    }

    void forget_me() noexcept {
        if (auto owner = owner_.lock()) owner->forget(loop_, this);
    }

    std::weak_ptr<pg_shared_connections> owner_;
    asio::execution_context* loop_;
    asio::any_io_executor executor_{};
    asio::io_context* io_ = nullptr;  ///< The loop, when it is an io_context.
    bool corked_ = false;
    bool can_cork_ = true;
    std::size_t batch_ = 0;       ///< Statements sent in the current corked turn.
    std::size_t last_batch_ = 0;  ///< ... and in the last one (0 before the first).
    bool just_answered_ = false;  ///< See mark_answered().
    std::mutex teardown_mutex_;
    std::deque<pg_slot> slots_{};
    statement_map statements_{};
    statement_map::value_type* last_ = nullptr;  ///< The statement found last (nodes do not move on rehash).

    std::vector<std::uint64_t> pending_deallocate_{};
    std::uint64_t statement_counter_ = 0;
    std::uint64_t use_clock_ = 0;
};

namespace {

/// Lives in each event loop that has shared connections and tears them down when the loop is destroyed: the
/// loop's destruction shuts its services down before freeing them, while the scheduler still exists.
class pg_loop_service final : public asio::execution_context::service {
public:
    static inline asio::execution_context::id id;
    explicit pg_loop_service(asio::execution_context& ctx) : asio::execution_context::service{ctx} {}

    void add(const std::shared_ptr<pg_pipeline>& p) {
        std::lock_guard lock{mutex_};
        std::erase_if(pipelines_, [](const std::weak_ptr<pg_pipeline>& w) { return w.expired(); });
        pipelines_.push_back(p);
    }

    void shutdown() override {
        std::vector<std::weak_ptr<pg_pipeline>> all;
        {
            std::lock_guard lock{mutex_};
            all.swap(pipelines_);
        }
        for (const auto& w : all)
            if (auto p = w.lock()) p->loop_gone();
    }

private:
    std::mutex mutex_;
    std::vector<std::weak_ptr<pg_pipeline>> pipelines_;
};

/// Whether the event loop says it is run by one thread (io_context{1}, or without scheduler or I/O locking), as
/// Zephyr's server, block_on and testing::run_task loops are: Asio's own criterion for skipping locks.
bool single_threaded(asio::execution_context& loop) {
    if (!asio::has_service<asio::detail::scheduler>(loop)) return false;
    const int hint = asio::use_service<asio::detail::scheduler>(loop).concurrency_hint();
    return hint == 1 || !BOOST_ASIO_CONCURRENCY_HINT_IS_LOCKING(SCHEDULER, hint) ||
           !BOOST_ASIO_CONCURRENCY_HINT_IS_LOCKING(REACTOR_IO, hint);
}

exec_result finish(const pg_entry& e, std::string_view sql) {
    if (e.failure) std::rethrow_exception(e.failure);
    if (e.error) {
        const char* state = PQresultErrorField(e.error.get(), PG_DIAG_SQLSTATE);
        raise(state ? pg_error_kind(state) : errc::other, pg_error_message(e.error.get(), sql), state ? state : "");
    }
    if (e.sink_error) std::rethrow_exception(e.sink_error);
    return exec_result{e.affected_rows, std::nullopt};
}

}  // namespace

// ---- the driver's set ----------------------------------------------------------------------------------------------

bool pg_shared_connections::shareable(std::string_view sql, const Params& params) noexcept {
    if (!params.empty()) return true;
    if (!share_without_parameters) return false;
    // Without parameters, only plain statements: a script, SET, BEGIN, LISTEN, CREATE TEMP TABLE, COPY, ... keep
    // the simple protocol on a connection of their own. The first word, after blanks and comments:
    std::size_t i = 0;
    for (;;) {
        while (i < sql.size() && is_blank(sql[i]))
            ++i;
        if (sql.substr(i, 2) == "--") {
            i = sql.find('\n', i);
            if (i == std::string_view::npos) return false;
        } else if (sql.substr(i, 2) == "/*") {
            i = sql.find("*/", i + 2);  // a nested comment ends the word search early: then not shared
            if (i == std::string_view::npos) return false;
            i += 2;
        } else {
            break;
        }
    }
    std::size_t end = i;
    char word[8] = {};
    for (; end < sql.size() && std::isalpha(static_cast<unsigned char>(sql[end])); ++end) {
        if (end - i >= sizeof word - 1) return false;  // longer than any of these
        word[end - i] = static_cast<char>(std::tolower(static_cast<unsigned char>(sql[end])));
    }
    static constexpr std::string_view plain[] = {"select", "with", "values", "table", "insert", "update", "delete"};
    if (std::find(std::begin(plain), std::end(plain), std::string_view{word}) == std::end(plain)) return false;
    // One statement: no semicolon but at the end (one inside a literal makes it unshared too, which is safe).
    const std::size_t semicolon = sql.find(';', end);
    return semicolon == std::string_view::npos ||
           sql.find_first_not_of(" \t\r\n\f\v;", semicolon) == std::string_view::npos;
}

std::pair<std::shared_ptr<pg_pipeline>, bool> pg_shared_connections::find_or_create(asio::execution_context* loop) {
    std::shared_ptr<pg_pipeline> created;
    std::shared_ptr<pg_pipeline> replaced;  // released after the lock
    {
        std::lock_guard lock{mutex_};
        auto it = by_loop_.find(loop);
        if (it != by_loop_.end()) {
            if (it->second->st != pg_pipeline::state::broken) return {it->second, false};
            replaced = std::move(it->second);
        }
        if (closed_) throw connection_lost{"the database pool is being destroyed"};
        created = std::make_shared<pg_pipeline>(weak_from_this(), loop);
        if (!single_threaded(*loop)) created->st = pg_pipeline::state::unsuitable;
        by_loop_[loop] = created;
        changed_locked();
    }
    asio::use_service<pg_loop_service>(*loop).add(created);  // forgets it when the loop is destroyed
    const bool open_it = created->st == pg_pipeline::state::opening;
    return {std::move(created), open_it};
}

void pg_shared_connections::forget(asio::execution_context* loop, const pg_pipeline* p) noexcept {
    std::shared_ptr<pg_pipeline> dropped;  // released after the lock
    std::lock_guard lock{mutex_};
    auto it = by_loop_.find(loop);
    if (it != by_loop_.end() && it->second.get() == p) {
        dropped = std::move(it->second);
        by_loop_.erase(it);
        changed_locked();
    }
}

void pg_shared_connections::close_all() noexcept {
    std::unordered_map<asio::execution_context*, std::shared_ptr<pg_pipeline>> all;
    {
        std::lock_guard lock{mutex_};
        closed_ = true;
        all.swap(by_loop_);
        changed_locked();
    }
    for (auto& [loop, p] : all)
        p->close();
}

namespace {

/// Versions of the sets of shared connections, unique in the process (see pg_shared_connections::version_).
std::atomic<std::uint64_t> last_version{0};

/// The shared connection this thread found last, and in which version of which set: while that set has not
/// changed, it is still the connection of that loop (only the loop's own thread removes it, or the set's
/// destruction), so a statement finds it without taking the set's lock.
struct found_connection {
    const pg_shared_connections* set = nullptr;
    const asio::execution_context* loop = nullptr;
    std::uint64_t version = 0;
    pg_pipeline* connection = nullptr;
};
thread_local found_connection last_found;

}  // namespace

std::uint64_t pg_shared_connections::next_version() noexcept {
    return last_version.fetch_add(1, std::memory_order_relaxed) + 1;
}

void pg_shared_connections::changed_locked() noexcept {
    version_.store(next_version(), std::memory_order_release);
}

std::shared_ptr<pg_pipeline> pg_shared_connections::ready(asio::execution_context* loop) {
    pg_pipeline* found = nullptr;
    found_connection& last = last_found;
    if (last.set == this && last.loop == loop && last.version == version_.load(std::memory_order_acquire)) {
        found = last.connection;
    } else {
        std::lock_guard lock{mutex_};
        auto it = by_loop_.find(loop);
        if (it == by_loop_.end()) return nullptr;
        found = it->second.get();
        last = found_connection{this, loop, version_.load(std::memory_order_relaxed), found};
    }
    if (found->st != pg_pipeline::state::open) return nullptr;
    std::shared_ptr<pg_pipeline> p = found->shared_from_this();
    if (!p->usable_after_idle()) return nullptr;  // broken now: connect() replaces it
    return p;
}

Task<std::shared_ptr<pg_pipeline>> pg_shared_connections::connect(asio::execution_context* loop) {
    const asio::any_io_executor ex = co_await asio::this_coro::executor;
    for (int replaced = 0;;) {
        std::shared_ptr<pg_pipeline> p;
        bool open_it = false;
        std::tie(p, open_it) = find_or_create(loop);
        if (p->st == pg_pipeline::state::unsuitable) co_return nullptr;
        if (open_it) {
            std::exception_ptr cancelled;  // before it could start (the caller's coroutine was cancelled)
            try {
                co_await p->open(open_, ex);
            } catch (...) {
                cancelled = std::current_exception();
            }
            if (cancelled) {
                p->give_up_opening();
                std::rethrow_exception(cancelled);
            }
        }
        while (p->st == pg_pipeline::state::opening) {  // another caller is opening it
            pg_entry w;
            p->wait_open(w);
            co_await suspend(w.handler);
        }
        if (p->st == pg_pipeline::state::broken) {
            if (p->open_error) std::rethrow_exception(p->open_error);
            if (++replaced > 3) throw connection_lost{"the shared PostgreSQL connection keeps breaking"};
            continue;  // it broke since it opened: another one
        }
        if (!p->usable_after_idle()) {
            if (++replaced > 3) throw connection_lost{"the shared PostgreSQL connection keeps breaking"};
            continue;
        }
        co_return p;
    }
}

namespace {

/// Sends the statement. Its parameters in libpq's form live on this function's stack, not in the caller's
/// coroutine frame (which Asio then recycles instead of allocating: it keeps frames up to 1 KiB).
bool submit_statement(pg_pipeline& p, std::string_view sql, const Params& params, pg_entry& e) {
    const pg_params bound{params};
    return p.submit(sql, bound, e);
}

/// Waits until the socket is readable or writable; returns how the wait failed (null: it did not).
Task<std::exception_ptr> readable_or_writable(socket_waiter& socket) {
    auto r = co_await (settled(socket.readable()) || settled(socket.writable()));
    co_return r.index() == 0 ? std::get<0>(r) : std::get<1>(r);
}

}  // namespace

Task<std::optional<exec_result>> pg_shared_connections::run(std::string_view sql, const Params& params, RowSink* sink) {
    const asio::any_io_executor ex = co_await asio::this_coro::executor;
    asio::execution_context* const loop = &asio::query(ex, asio::execution::context);
    bool prepared_again = false;
    for (;;) {
        // The loop's connection, open and checked; the rest (opening it, waiting for another caller to open
        // it, replacing a broken one) in a coroutine of its own, so its frame is only paid for then.
        std::shared_ptr<pg_pipeline> p = ready(loop);
        if (!p) {
            p = co_await connect(loop);
            if (!p) co_return std::nullopt;  // the loop may be run by several threads
        }

        pg_entry e;
        e.sink = sink;
        const bool named = submit_statement(*p, sql, params, e);
        while (!e.done) {
            if (p->leading) {
                co_await suspend(e.handler);  // woken when done, or to take over the reading
                continue;
            }
            // Lead: read answers, for every caller, until this one's are complete.
            p->leading = true;
            std::exception_ptr abandoned;
            for (;;) {
                p->dispatch();
                if (e.done || p->st != pg_pipeline::state::open) break;
                const int unsent = PQflush(p->link.conn);
                if (unsent < 0) {
                    p->fail("sending");
                    break;
                }
                socket_waiter& socket = *p->link.waiter;
                std::exception_ptr failure;
                try {
                    if (unsent == 0) {
                        co_await socket.readable_unmapped();  // any failure is handled alike below
                    } else {
                        // The socket is full: wait to send the rest, and read meanwhile (the server may itself be
                        // waiting for us to read before it reads on).
                        failure = co_await readable_or_writable(socket);
                    }
                } catch (...) {
                    failure = std::current_exception();
                }
                if (p->st != pg_pipeline::state::open) break;  // failed by someone else meanwhile
                if (!PQconsumeInput(p->link.conn)) {
                    p->fail("reading answers");
                    break;
                }
                if (failure) {
                    // The connection reads fine. Either this caller's coroutine was cancelled (an awaitable
                    // operator gave up on it): it stops leading and gives its statement up (the statement still
                    // runs; its answers are dropped); or waiting on the socket failed: the connection is unusable.
                    const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
                    if (cancellation.cancelled() != asio::cancellation_type::none) {
                        abandoned = failure;
                    } else {
                        p->fail("waiting for answers");
                    }
                    break;
                }
            }
            p->leading = false;
            p->hand_off();
            if (abandoned) std::rethrow_exception(abandoned);
        }
        if (!prepared_again && named && p->stale(e, params)) {
            prepared_again = true;
            continue;
        }
        co_return finish(e, sql);
    }
}

}  // namespace zephyr::db::detail
