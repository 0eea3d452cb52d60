// zephyr/db/session.hpp — running SQL with bound parameters and typed results.
//
// Pool, Connection and Tx are all Sessions: the same query calls work on each. Placeholders are `?` in every
// dialect (translated to `$1, $2, ...` for PostgreSQL; write `??` for a literal question mark). Values are always
// bound, never spliced into the SQL.
//
//     std::vector<user> adults = co_await db.query<user>("SELECT * FROM users WHERE age > ?", 18);
//     std::optional<user> u = co_await db.query_opt<user>("SELECT * FROM users WHERE id = ?", id);
//     auto n = co_await db.scalar<std::int64_t>("SELECT count(*) FROM users");
//     db::exec_result r = co_await db.execute("DELETE FROM users WHERE id = ?", id);
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/db/detail/map.hpp>
#include <zephyr/db/error.hpp>
#include <zephyr/db/url.hpp>
#include <zephyr/db/value.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace zephyr::db {

/// What a statement did.
struct exec_result {
    std::uint64_t affected_rows = 0;               ///< Rows inserted, updated or deleted.
    std::optional<std::int64_t> last_insert_id{};  ///< The generated key (SQLite, MySQL); PostgreSQL: use RETURNING.
};

/// Receives the rows of one statement, one at a time, as the driver reads them.
class RowSink {
public:
    virtual void on_row(const Row& row) = 0;
    /// Told, when the driver knows, how many rows are about to arrive (to reserve room for them).
    virtual void expect(std::size_t rows) { (void)rows; }
    /// Set by sinks that consume rows as they arrive (for_each), so the driver does not buffer the whole
    /// result first (PostgreSQL's single-row mode).
    bool streaming = false;

protected:
    RowSink() = default;
    RowSink(const RowSink&) = default;
    RowSink& operator=(const RowSink&) = default;
    ~RowSink() = default;
};

namespace detail {
template <class T>
class vector_sink final : public RowSink {
public:
    explicit vector_sink(std::vector<T>& out) : out_{out} {}
    void on_row(const Row& row) override { out_.push_back(reader_.read(row)); }
    void expect(std::size_t rows) override { out_.reserve(out_.size() + rows); }

private:
    std::vector<T>& out_;
    row_reader<T> reader_;
};

template <class T>
class first_sink final : public RowSink {
public:
    void on_row(const Row& row) override {
        if (!value) value.emplace(reader_.read(row));
    }
    std::optional<T> value;

private:
    row_reader<T> reader_;
};

template <class T, class F>
class each_sink final : public RowSink {
public:
    explicit each_sink(F& f) : f_{f} { streaming = true; }
    void on_row(const Row& row) override {
        f_(reader_.read(row));
        ++count;
    }
    std::size_t count = 0;

private:
    F& f_;
    row_reader<T> reader_;
};

[[noreturn]] void no_row(std::string_view sql);
}  // namespace detail

/// Something SQL runs on: a Pool (each call borrows a connection), a Connection or a transaction (Tx).
/// The `sql` argument is not copied: pass a literal or a string that outlives the co_await.
class Session {
public:
    /// Every row of the result, read into T: a described struct (columns matched to members by name), a
    /// std::tuple/std::pair (by position) or a single-column scalar.
    template <class T, class... Args>
    Task<std::vector<T>> query(std::string_view sql, const Args&... args) {
        return query_params<T>(sql, make_params(args...));
    }
    template <class T>
    Task<std::vector<T>> query_params(std::string_view sql, Params params) {
        std::vector<T> out;
        detail::vector_sink<T> sink{out};
        co_await run(sql, params, &sink);
        co_return out;
    }

    /// The first row, or nullopt when there is none.
    template <class T, class... Args>
    Task<std::optional<T>> query_opt(std::string_view sql, const Args&... args) {
        return query_opt_params<T>(sql, make_params(args...));
    }
    template <class T>
    Task<std::optional<T>> query_opt_params(std::string_view sql, Params params) {
        detail::first_sink<T> sink;
        co_await run(sql, params, &sink);
        co_return std::move(sink.value);
    }

    /// The first row; throws db::not_found (HTTP 404 when it escapes a handler) when there is none.
    template <class T, class... Args>
    Task<T> query_one(std::string_view sql, const Args&... args) {
        return query_one_params<T>(sql, make_params(args...));
    }
    template <class T>
    Task<T> query_one_params(std::string_view sql, Params params) {
        detail::first_sink<T> sink;
        co_await run(sql, params, &sink);
        if (!sink.value) detail::no_row(sql);
        co_return std::move(*sink.value);
    }

    /// The first column of the first row (`SELECT count(*) ...`); throws db::not_found when there is no row.
    template <class T, class... Args>
    Task<T> scalar(std::string_view sql, const Args&... args) {
        static_assert(readable<T>, "db::scalar<T>: T must be readable from one column (see db::field)");
        return query_one_params<T>(sql, make_params(args...));
    }

    /// Calls `f(T)` for each row as it arrives, without holding the whole result in memory. Returns the number
    /// of rows. `f` runs on the thread that reads the rows and must not block.
    template <class T, class F, class... Args>
    Task<std::size_t> for_each(F f, std::string_view sql, const Args&... args) {
        return for_each_params<T>(std::move(f), sql, make_params(args...));
    }
    template <class T, class F>
    Task<std::size_t> for_each_params(F f, std::string_view sql, Params params) {
        detail::each_sink<T, F> sink{f};
        co_await run(sql, params, &sink);
        co_return sink.count;
    }

    /// Runs a statement that returns no rows (or whose rows are not wanted).
    template <class... Args>
    Task<exec_result> execute(std::string_view sql, const Args&... args) {
        return execute_params(sql, make_params(args...));
    }
    Task<exec_result> execute_params(std::string_view sql, Params params) {
        co_return co_await run(sql, params, nullptr);
    }

    /// Runs one statement, handing each row to `sink` (may be null). The primitive the calls above are built on.
    /// Like `sql`, `params` is not copied: it must outlive the co_await (a temporary in the co_await expression
    /// does).
    virtual Task<exec_result> run(std::string_view sql, const Params& params, RowSink* sink) = 0;
    /// The dialect of the database behind this session.
    virtual db::dialect dialect() const noexcept = 0;

protected:
    Session() = default;
    Session(const Session&) = default;
    Session(Session&&) = default;
    Session& operator=(const Session&) = default;
    Session& operator=(Session&&) = default;
    ~Session() = default;
};

}  // namespace zephyr::db
