// SQLite: statements run on a bounded pool of worker threads (SQLite calls block), one connection per pooled
// connection, in WAL mode with a busy timeout so readers and one writer proceed together.
#include "db/driver.hpp"
#include "db/sql_text.hpp"

#include <zephyr/db/error.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <sqlite3.h>

#include <charconv>
#include <list>
#include <unordered_map>

namespace zephyr::db::detail {

namespace asio = boost::asio;

namespace {

[[noreturn]] void throw_sqlite(sqlite3* db, int rc, std::string_view sql) {
    const int ext = db ? sqlite3_extended_errcode(db) : rc;
    std::string msg = fmt::format("{} (SQLite error {})", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), ext);
    if (!sql.empty()) msg += " in: " + sql_excerpt(sql);
    errc kind = errc::other;
    switch (ext) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY: kind = errc::unique_violation; break;
        case SQLITE_CONSTRAINT_FOREIGNKEY: kind = errc::foreign_key_violation; break;
        case SQLITE_CONSTRAINT_NOTNULL: kind = errc::not_null_violation; break;
        case SQLITE_CONSTRAINT_CHECK: kind = errc::check_violation; break;
        default:
            if ((ext & 0xff) == SQLITE_BUSY || (ext & 0xff) == SQLITE_LOCKED) kind = errc::timeout;
            break;
    }
    raise(kind, std::move(msg));
}

bool starts_with_word(std::string_view sql, std::string_view word) {
    std::size_t i = 0;
    while (i < sql.size() && (sql[i] == ' ' || sql[i] == '\n' || sql[i] == '\t' || sql[i] == '\r' || sql[i] == '('))
        ++i;
    if (sql.size() - i < word.size()) return false;
    for (std::size_t k = 0; k < word.size(); ++k) {
        char c = sql[i + k];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c != word[k]) return false;
    }
    return true;
}

bool only_space(const char* p) {
    for (; *p; ++p)
        if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != ';') return false;
    return true;
}

class sqlite_row final : public Row {
public:
    explicit sqlite_row(sqlite3_stmt* s) : stmt_{s}, columns_{static_cast<std::size_t>(sqlite3_column_count(s))} {}

    std::size_t size() const noexcept override { return columns_; }
    std::string_view name(std::size_t i) const noexcept override {
        const char* n = sqlite3_column_name(stmt_, static_cast<int>(i));
        return n ? n : "";
    }
    bool is_null(std::size_t i) const noexcept override { return type(i) == SQLITE_NULL; }

    std::int64_t get_int(std::size_t i) const override {
        switch (checked_type(i)) {
            case SQLITE_INTEGER: return sqlite3_column_int64(stmt_, col(i));
            case SQLITE_FLOAT: {
                const double d = sqlite3_column_double(stmt_, col(i));
                if (d != static_cast<double>(static_cast<std::int64_t>(d))) fail(i, fmt::format("{} is not an integer", d));
                return static_cast<std::int64_t>(d);
            }
            default: {
                const std::string_view t = text(i);
                std::int64_t v = 0;
                auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
                if (ec != std::errc{} || p != t.data() + t.size())
                    fail(i, fmt::format("'{}' is not an integer", t.substr(0, 100)));
                return v;
            }
        }
    }
    double get_double(std::size_t i) const override {
        switch (checked_type(i)) {
            case SQLITE_INTEGER:
            case SQLITE_FLOAT: return sqlite3_column_double(stmt_, col(i));
            default: {
                const std::string_view t = text(i);
                double v = 0;
                auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
                if (ec != std::errc{} || p != t.data() + t.size())
                    fail(i, fmt::format("'{}' is not a number", t.substr(0, 100)));
                return v;
            }
        }
    }
    bool get_bool(std::size_t i) const override {
        if (checked_type(i) == SQLITE_INTEGER) return sqlite3_column_int64(stmt_, col(i)) != 0;
        const std::string_view t = text(i);
        if (t == "1" || t == "true" || t == "t" || t == "TRUE") return true;
        if (t == "0" || t == "false" || t == "f" || t == "FALSE") return false;
        fail(i, fmt::format("'{}' is not a boolean", t.substr(0, 100)));
    }
    std::string_view get_text(std::size_t i) const override {
        checked_type(i);
        return text(i);
    }
    std::string get_bytes(std::size_t i) const override {
        checked_type(i);
        const void* p = sqlite3_column_blob(stmt_, col(i));
        const int n = sqlite3_column_bytes(stmt_, col(i));
        return p ? std::string{static_cast<const char*>(p), static_cast<std::size_t>(n)} : std::string{};
    }

private:
    static int col(std::size_t i) noexcept { return static_cast<int>(i); }
    int type(std::size_t i) const noexcept { return i < columns_ ? sqlite3_column_type(stmt_, col(i)) : SQLITE_NULL; }
    int checked_type(std::size_t i) const {
        if (i >= columns_) fail(i, fmt::format("no such column (the result has {})", columns_));
        const int t = type(i);
        if (t == SQLITE_NULL) fail(i, "is NULL; read it into a std::optional");
        return t;
    }
    std::string_view text(std::size_t i) const {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col(i)));
        return p ? std::string_view{p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col(i)))} : std::string_view{};
    }
    sqlite3_stmt* stmt_;
    std::size_t columns_;
};

class sqlite_connection final : public driver_connection {
public:
    sqlite_connection(asio::thread_pool& workers, sqlite3* db) : workers_{workers}, db_{db} {}
    ~sqlite_connection() override {
        for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.stmt);
        sqlite3_close_v2(db_);
    }

    Task<exec_result> run(std::string_view sql, const Params& params, RowSink* sink) override {
        co_return co_await asio::co_spawn(
            workers_, [&]() -> Task<exec_result> { co_return run_blocking(sql, params, sink); }, asio::use_awaitable);
    }

    Task<void> simple(std::string_view sql) override {
        co_await asio::co_spawn(
            workers_,
            [&]() -> Task<void> {
                const std::string text{sql};
                char* err = nullptr;
                const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
                sqlite3_free(err);
                if (rc != SQLITE_OK) throw_sqlite(db_, rc, sql);
                co_return;
            },
            asio::use_awaitable);
    }

    Task<void> ping() override { co_return; }
    bool broken() const noexcept override { return false; }

private:
    struct cached {
        sqlite3_stmt* stmt = nullptr;
        std::list<std::string>::iterator lru{};
    };
    static constexpr std::size_t cache_limit = 128;

    // Prepares (or finds) the statement for `sql`; nullptr when `sql` holds several statements (run as a script).
    sqlite3_stmt* prepare(std::string_view sql, std::size_t given) {
        const std::string key{sql};
        if (auto it = cache_.find(key); it != cache_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second.lru);
            return it->second.stmt;
        }
        std::size_t count = 0;
        const std::string text = plain_placeholders(sql, count);
        check_param_count(sql, count, given);
        sqlite3_stmt* stmt = nullptr;
        const char* tail = nullptr;
        const int rc = sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size() + 1),
                                          SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
        if (rc != SQLITE_OK) throw_sqlite(db_, rc, sql);
        if (tail && !only_space(tail)) {
            sqlite3_finalize(stmt);
            if (given != 0)
                throw Error{errc::misuse, "a statement with parameters must be a single statement: " + sql_excerpt(sql)};
            return nullptr;
        }
        if (!stmt) return nullptr;  // only a comment or whitespace
        if (cache_.size() >= cache_limit) {
            auto victim = cache_.find(lru_.back());
            sqlite3_finalize(victim->second.stmt);
            cache_.erase(victim);
            lru_.pop_back();
        }
        lru_.push_front(key);
        cache_.emplace(key, cached{stmt, lru_.begin()});
        return stmt;
    }

    void bind(sqlite3_stmt* stmt, const Params& params, std::vector<std::string>& scratch) {
        for (std::size_t i = 0; i < params.size(); ++i) {
            const Value& v = params[i];
            const int at = static_cast<int>(i + 1);
            int rc = SQLITE_OK;
            switch (v.type()) {
                case Value::kind::null: rc = sqlite3_bind_null(stmt, at); break;
                case Value::kind::boolean:
                case Value::kind::integer: rc = sqlite3_bind_int64(stmt, at, v.as_int()); break;
                case Value::kind::real: rc = sqlite3_bind_double(stmt, at, v.as_real()); break;
                case Value::kind::text:
                    rc = sqlite3_bind_text64(stmt, at, v.as_text().data(), v.as_text().size(), SQLITE_STATIC,
                                             SQLITE_UTF8);
                    break;
                case Value::kind::blob:
                    rc = sqlite3_bind_blob64(stmt, at, v.as_text().data(), v.as_text().size(), SQLITE_STATIC);
                    break;
                case Value::kind::timestamp:
                    scratch.push_back(format_timestamp(v.as_int()));
                    rc = sqlite3_bind_text64(stmt, at, scratch.back().data(), scratch.back().size(), SQLITE_STATIC,
                                             SQLITE_UTF8);
                    break;
            }
            if (rc != SQLITE_OK) throw_sqlite(db_, rc, {});
        }
    }

    exec_result run_blocking(std::string_view sql, const Params& params, RowSink* sink) {
        sqlite3_stmt* stmt = prepare(sql, params.size());
        if (!stmt) {
            run_script(sql);
            return exec_result{static_cast<std::uint64_t>(sqlite3_changes64(db_)), std::nullopt};
        }
        std::vector<std::string> scratch;
        scratch.reserve(params.size());
        // Reset and unbind on every way out, so the cached statement holds no pointer into `params`.
        struct reset_guard {
            sqlite3_stmt* s;
            ~reset_guard() {
                sqlite3_reset(s);
                sqlite3_clear_bindings(s);
            }
        } guard{stmt};
        bind(stmt, params, scratch);
        sqlite_row row{stmt};
        for (;;) {
            const int rc = sqlite3_step(stmt);
            if (rc == SQLITE_ROW) {
                if (sink) sink->on_row(row);
                continue;
            }
            if (rc == SQLITE_DONE) break;
            throw_sqlite(db_, rc, sql);
        }
        exec_result r;
        if (!sqlite3_stmt_readonly(stmt)) {
            r.affected_rows = static_cast<std::uint64_t>(sqlite3_changes64(db_));
            if (r.affected_rows > 0 && (starts_with_word(sql, "INSERT") || starts_with_word(sql, "REPLACE")))
                r.last_insert_id = sqlite3_last_insert_rowid(db_);
        }
        return r;
    }

    void run_script(std::string_view sql) {
        std::size_t count = 0;
        const std::string text = plain_placeholders(sql, count);
        char* err = nullptr;
        const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
        sqlite3_free(err);
        if (rc != SQLITE_OK) throw_sqlite(db_, rc, sql);
    }

    asio::thread_pool& workers_;
    sqlite3* db_;
    std::unordered_map<std::string, cached> cache_;
    std::list<std::string> lru_;
};

class sqlite_driver final : public driver {
public:
    sqlite_driver(const connection_url& url, const pool_options& o)
        : url_{url}, options_{o}, workers_{std::max<std::size_t>(1, o.sqlite_threads)} {}
    ~sqlite_driver() override { workers_.join(); }

    Task<std::unique_ptr<driver_connection>> connect(asio::any_io_executor) override {
        co_return co_await asio::co_spawn(
            workers_, [this]() -> Task<std::unique_ptr<driver_connection>> { co_return open(); }, asio::use_awaitable);
    }

    std::string begin_sql(const tx_options& o) const override {
        // IMMEDIATE takes the write lock up front: a deferred transaction that writes later can fail with
        // SQLITE_BUSY at that point without waiting for the busy timeout.
        return o.read_only ? "BEGIN DEFERRED" : "BEGIN IMMEDIATE";
    }
    db::dialect dialect() const noexcept override { return dialect::sqlite; }
    // No more connections than worker threads: a connection holding the write lock must always find a thread
    // for its next statement while the others wait for the lock inside BEGIN IMMEDIATE.
    std::size_t max_connections() const noexcept override {
        return url_.memory ? 1 : std::max<std::size_t>(1, options_.sqlite_threads);
    }

private:
    std::unique_ptr<driver_connection> open() {
        sqlite3* db = nullptr;
        const std::string path = url_.memory ? ":memory:" : url_.database;
        const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
        const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
        if (rc != SQLITE_OK) {
            std::string msg = fmt::format("cannot open SQLite database '{}': {}", path,
                                          db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
            sqlite3_close_v2(db);
            throw connection_lost{std::move(msg)};
        }
        auto conn = std::make_unique<sqlite_connection>(workers_, db);
        sqlite3_busy_timeout(db, static_cast<int>(options_.sqlite_busy_timeout.count()));
        sqlite3_extended_result_codes(db, 1);
        const std::string pragmas = std::string{url_.memory ? "" : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"} +
                                    "PRAGMA foreign_keys=ON;";
        char* err = nullptr;
        if (sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
            std::string msg = fmt::format("cannot set up SQLite database '{}': {}", path, err ? err : "?");
            sqlite3_free(err);
            throw connection_lost{std::move(msg)};
        }
        return conn;
    }

    connection_url url_;
    pool_options options_;
    asio::thread_pool workers_;
};

}  // namespace

std::unique_ptr<driver> make_sqlite_driver(const connection_url& url, const pool_options& options) {
    return std::make_unique<sqlite_driver>(url, options);
}

}  // namespace zephyr::db::detail
