// PostgreSQL results, rows, parameters and errors on top of libpq. Internal to the PostgreSQL driver.
#pragma once

#include <zephyr/db/error.hpp>
#include <zephyr/db/value.hpp>

#include <boost/container/small_vector.hpp>

#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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
    pg_row(const PGresult* res, int row) noexcept : res_{res}, row_{row}, columns_{PQnfields(res)} {}
    void at(int row) noexcept { row_ = row; }

    std::size_t size() const noexcept override;
    std::string_view name(std::size_t column) const noexcept override;
    bool is_null(std::size_t column) const noexcept override;
    std::int64_t get_int(std::size_t column) const override;
    double get_double(std::size_t column) const override;
    bool get_bool(std::size_t column) const override;
    std::string_view get_text(std::size_t column) const override;
    std::string get_bytes(std::size_t column) const override;

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
};

/// The parameters of one statement as libpq's parallel arrays. Values point into `params` (or into strings
/// kept here), so `params` must outlive this object.
class pg_params {
public:
    /// Throws db::Error (misuse) for text that PostgreSQL cannot hold (a NUL byte).
    explicit pg_params(const Params& params);

    int size() const noexcept { return static_cast<int>(values_.size()); }
    const char* const* values() const noexcept { return values_.data(); }
    const int* lengths() const noexcept { return lengths_.data(); }
    const int* formats() const noexcept { return formats_.data(); }
    const Oid* types() const noexcept { return types_.data(); }
    /// Which parameters are bytes ('b') or anything else ('.'): part of a prepared statement's identity,
    /// since the declared parameter types are fixed when the statement is prepared.
    const std::string& signature() const noexcept { return signature_; }

private:
    // Inline room for the usual few parameters: a statement's parameters cost no allocation.
    template <class T>
    using array = boost::container::small_vector<T, 8>;
    struct number_text {
        char text[32];  // the longest: a double's shortest form, 24 characters
    };
    array<number_text> numbers_;    // text forms of numbers and booleans; reserved, never reallocated
    array<std::string> converted_;  // text forms of timestamps; reserved, never reallocated
    array<const char*> values_;
    array<int> lengths_;
    array<int> formats_;
    array<Oid> types_;
    std::string signature_;
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
