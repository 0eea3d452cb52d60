// PostgreSQL results, rows, parameters and errors on top of libpq. Internal to the PostgreSQL driver.
#pragma once

#include <zephyr/db/error.hpp>
#include <zephyr/db/value.hpp>

#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace zephyr::db {
class RowSink;
}

namespace zephyr::db::detail {

struct pg_result_deleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
/// A result owned until it goes out of scope (PQclear).
using pg_result_ptr = std::unique_ptr<PGresult, pg_result_deleter>;

/// The type OID of bytea, the one type whose parameters are sent in binary (no escaping, no hex doubling).
inline constexpr Oid pg_bytea_oid = 17;
inline constexpr Oid pg_bool_oid = 16;
inline constexpr Oid pg_int4_oid = 23;
inline constexpr Oid pg_int8_oid = 20;
inline constexpr Oid pg_float8_oid = 701;
inline constexpr Oid pg_timestamptz_oid = 1184;

/// One row of a text-format result. Repointed at the next row with at() so one object serves a whole result.
class pg_row final : public Row {
public:
    /// `shape`: see Row::shape (pg_new_shape() per prepared statement, or 0).
    pg_row(const PGresult* res, int row, std::uint64_t shape = 0) noexcept
        : res_{res}, row_{row}, columns_{PQnfields(res)}, shape_{shape} {}
    void at(int row) noexcept { row_ = row; }

    std::size_t size() const noexcept override;
    std::string_view name(std::size_t column) const noexcept override;
    bool is_null(std::size_t column) const noexcept override;
    std::int64_t get_int(std::size_t column) const override;
    double get_double(std::size_t column) const override;
    bool get_bool(std::size_t column) const override;
    std::string_view get_text(std::size_t column) const override;
    std::string get_bytes(std::size_t column) const override;
    std::uint64_t shape() const noexcept override { return shape_; }

private:
    /// The text of a column that exists and is not NULL (fails otherwise). Inline: every getter starts here.
    std::string_view text(std::size_t column) const {
        if (column >= static_cast<std::size_t>(columns_)) no_column(column);
        const int c = static_cast<int>(column);
        const char* value = PQgetvalue(res_, row_, c);
        const int length = PQgetlength(res_, row_, c);
        // libpq gives NULL as an empty value: only an empty one can be NULL.
        if (length == 0 && PQgetisnull(res_, row_, c)) null_column(column);
        return {value, static_cast<std::size_t>(length)};
    }
    [[noreturn]] void no_column(std::size_t column) const;
    [[noreturn]] void null_column(std::size_t column) const;

    const PGresult* res_;
    int row_;
    int columns_;  // PQnfields, asked once per result
    std::uint64_t shape_;
};

/// A new value for Row::shape, unique in the process: one per prepared statement. A prepared statement's
/// columns cannot change: when a table it reads changes them, PostgreSQL refuses to run it ("cached plan must
/// not change result type") and it is prepared again, with a new shape.
std::uint64_t pg_new_shape() noexcept;

/// Hands each row of `res` to `sink` (when there is one and it has not failed before), counting them in `rows`;
/// what the sink throws is kept in `sink_error` and ends the delivery.
void pg_deliver(const PGresult* res, RowSink* sink, std::uint64_t shape, std::size_t& rows,
                std::exception_ptr& sink_error) noexcept;

/// The parameters of one statement as libpq's parallel arrays. Values point into `params` (or into strings
/// kept here), so `params` must outlive this object.
class pg_params {
public:
    /// Throws db::Error (misuse) for text that PostgreSQL cannot hold (a NUL byte).
    explicit pg_params(const Params& params);
    pg_params(const pg_params&) = delete;  // points into itself
    pg_params& operator=(const pg_params&) = delete;

    int size() const noexcept { return static_cast<int>(n_); }
    const char* const* values() const noexcept { return values_; }
    /// Null unless a parameter is binary (a blob): libpq reads lengths and formats only for those.
    const int* lengths() const noexcept { return binary_ ? lengths_ : nullptr; }
    const int* formats() const noexcept { return binary_ ? formats_ : nullptr; }
    const Oid* types() const noexcept { return types_; }
    /// One letter per parameter for its kind (and 'I' for an integer that needs int8): part of a prepared
    /// statement's identity, since the declared parameter types are fixed when the statement is prepared.
    std::string_view signature() const noexcept { return {signature_, n_}; }

private:
    struct number_text {
        char text[32];  // the longest: a double's shortest form, 24 characters
    };
    /// Room for this many parameters inside the object: a statement's parameters cost no allocation.
    static constexpr std::size_t inline_count = 8;
    struct arrays {
        const char* values[inline_count];
        number_text numbers[inline_count];  // the text of parameter i when it is a number or a boolean
        Oid types[inline_count];            // 0 (the server infers it) for text and null
        int lengths[inline_count];
        int formats[inline_count];
        char signature[inline_count];
    };

    std::size_t n_;
    bool binary_ = false;
    // Arrays of n_ entries: those of inline_ for up to inline_count parameters, else in one heap block.
    const char** values_;
    number_text* numbers_;
    Oid* types_;
    int* lengths_;
    int* formats_;
    char* signature_;
    std::unique_ptr<std::byte[]> heap_;
    std::vector<std::string> converted_;  // text forms of timestamps; reserved, never reallocated
    arrays inline_;
};

/// The rows a command affected (PQcmdTuples), 0 when it does not say.
std::uint64_t pg_command_rows(const PGresult* res) noexcept;

/// The error kind of a SQLSTATE.
errc pg_error_kind(std::string_view sqlstate) noexcept;

/// "primary message; detail (SQLSTATE xxxxx) in: <sql>" for an error result.
std::string pg_error_message(const PGresult* res, std::string_view sql);

/// libpq's message without the trailing newline and with the password (when known) replaced by "***".
std::string pg_clean_message(const char* message, std::string_view password = {});

}  // namespace zephyr::db::detail
