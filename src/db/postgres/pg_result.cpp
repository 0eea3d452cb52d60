#include "db/postgres/pg_result.hpp"

#include "db/sql_text.hpp"

#include <zephyr/db/session.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <limits>

namespace zephyr::db::detail {

namespace {

std::string_view excerpt(std::string_view text) {
    return text.substr(0, 100);
}

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

// ---- pg_row -------------------------------------------------------------------------------------------------

std::size_t pg_row::size() const noexcept {
    return static_cast<std::size_t>(columns_);
}

std::string_view pg_row::name(std::size_t column) const noexcept {
    if (column >= size()) return {};
    const char* n = PQfname(res_, static_cast<int>(column));
    return n ? std::string_view{n} : std::string_view{};
}

bool pg_row::is_null(std::size_t column) const noexcept {
    // A missing column is not NULL: reading it into an optional must still fail with "no such column".
    return column < size() && PQgetisnull(res_, row_, static_cast<int>(column)) == 1;
}

void pg_row::no_column(std::size_t column) const {
    fail(column, fmt::format("no such column (the result has {})", size()));
}

void pg_row::null_column(std::size_t column) const {
    fail(column, "is NULL; read it into a std::optional");
}

std::int64_t pg_row::get_int(std::size_t column) const {
    if (column >= static_cast<std::size_t>(columns_)) no_column(column);
    // The common case first: an optional minus and 1 to 18 digits (which cannot overflow) up to the NUL libpq
    // ends every value with, so the length is not asked for. Anything else (NULL, empty, longer, a plus sign,
    // not a number) goes through from_chars and its errors.
    const char* const s = PQgetvalue(res_, row_, static_cast<int>(column));
    const bool negative = *s == '-';
    const char* const first = s + (negative ? 1 : 0);
    const char* p = first;
    std::int64_t v = 0;
    for (const char* const last = first + 18; p < last; ++p) {  // stops at the NUL at the latest
        const unsigned digit = static_cast<unsigned>(*p) - '0';
        if (digit > 9) break;
        v = v * 10 + static_cast<std::int64_t>(digit);
    }
    if (*p == '\0' && p != first) return negative ? -v : v;

    const std::string_view t = text(column);
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec == std::errc::result_out_of_range)
        fail(column, fmt::format("'{}' does not fit a 64-bit integer", excerpt(t)));
    if (ec != std::errc{} || end != t.data() + t.size() || t.empty())
        fail(column, fmt::format("'{}' is not an integer", excerpt(t)));
    return v;
}

double pg_row::get_double(std::size_t column) const {
    const std::string_view t = text(column);
    double v = 0;
    // from_chars also takes PostgreSQL's "NaN", "Infinity" and "-Infinity" (case-insensitive inf/nan).
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec == std::errc::result_out_of_range) fail(column, fmt::format("'{}' does not fit a double", excerpt(t)));
    if (ec != std::errc{} || end != t.data() + t.size() || t.empty())
        fail(column, fmt::format("'{}' is not a number", excerpt(t)));
    return v;
}

bool pg_row::get_bool(std::size_t column) const {
    const std::string_view t = text(column);
    if (t == "t" || t == "true" || t == "1") return true;
    if (t == "f" || t == "false" || t == "0") return false;
    fail(column, fmt::format("'{}' is not a boolean", excerpt(t)));
}

std::string_view pg_row::get_text(std::size_t column) const {
    return text(column);
}

std::string pg_row::get_bytes(std::size_t column) const {
    const std::string_view t = text(column);
    if (PQftype(res_, static_cast<int>(column)) != pg_bytea_oid) return std::string{t};  // text's own bytes
    if (t.size() >= 2 && t[0] == '\\' && t[1] == 'x') {
        // The hex format (bytea_output = hex, the default since 9.0): two digits a byte.
        const std::string_view hex = t.substr(2);
        if (hex.size() % 2 != 0) fail(column, "bytea text has an odd number of hex digits");
        std::string out(hex.size() / 2, '\0');
        for (std::size_t i = 0; i < out.size(); ++i) {
            const int hi = hex_digit(hex[2 * i]);
            const int lo = hex_digit(hex[2 * i + 1]);
            if (hi < 0 || lo < 0) fail(column, "bytea text is not valid hex");
            out[i] = static_cast<char>((hi << 4) | lo);
        }
        return out;
    }
    // The escape format (bytea_output = escape): libpq knows it.
    std::size_t n = 0;
    unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(t.data()), &n);
    if (!bytes) fail(column, "bytea text cannot be decoded");
    std::string out(reinterpret_cast<const char*>(bytes), n);
    PQfreemem(bytes);
    return out;
}

std::uint64_t pg_new_shape() noexcept {
    static std::atomic<std::uint64_t> last{0};
    return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

void pg_deliver(const PGresult* res, RowSink* sink, std::uint64_t shape, std::size_t& rows,
                std::exception_ptr& sink_error) noexcept {
    if (!sink || sink_error) return;
    const int n = PQntuples(res);
    pg_row row{res, 0, shape};
    try {
        sink->expect(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
            row.at(i);
            sink->on_row(row);
            ++rows;
        }
    } catch (...) {
        sink_error = std::current_exception();
    }
}

// ---- pg_params ----------------------------------------------------------------------------------------------

pg_params::pg_params(const Params& params) : n_{params.size()} {
    if (n_ <= inline_count) {
        values_ = inline_.values;
        numbers_ = inline_.numbers;
        types_ = inline_.types;
        lengths_ = inline_.lengths;
        formats_ = inline_.formats;
        signature_ = inline_.signature;
    } else {
        // One block, the arrays in order of alignment.
        constexpr std::size_t entry = sizeof(const char*) + sizeof(number_text) + sizeof(Oid) + 2 * sizeof(int) + 1;
        heap_.reset(new std::byte[n_ * entry]);  // not cleared: every entry is written below
        std::byte* at = heap_.get();
        values_ = reinterpret_cast<const char**>(at);
        numbers_ = reinterpret_cast<number_text*>(at += n_ * sizeof(const char*));
        types_ = reinterpret_cast<Oid*>(at += n_ * sizeof(number_text));
        lengths_ = reinterpret_cast<int*>(at += n_ * sizeof(Oid));
        formats_ = reinterpret_cast<int*>(at += n_ * sizeof(int));
        signature_ = reinterpret_cast<char*>(at + n_ * sizeof(int));
    }
    // Numbers, booleans and timestamps are sent with their type, so the server does not have to guess from
    // context (it guesses text inside CASE, VALUES lists and function arguments). Text stays untyped, so it
    // fits text, varchar, json or enum columns alike.
    for (std::size_t i = 0; i < n_; ++i) {
        const Value& v = params[i];
        // Parameter types are fixed when a statement is prepared: the cache key includes them.
        static constexpr char kind_letters[] = {'n', 'b', 'i', 'r', 't', 'B', 'T'};
        signature_[i] = kind_letters[static_cast<int>(v.type())];
        values_[i] = nullptr;
        types_[i] = 0;
        // The text of a number or a boolean, written in place by `write(first, last)` (which returns its end).
        auto number = [&](auto write, Oid type) {
            char* text = numbers_[i].text;
            *write(text, text + sizeof(number_text::text) - 1) = '\0';
            values_[i] = text;
            types_[i] = type;
        };
        switch (v.type()) {
            case Value::kind::null:
                break;  // a null value of unknown type
            case Value::kind::boolean:
                number(
                    [&](char* first, char*) {
                        *first = v.as_bool() ? 't' : 'f';
                        return first + 1;
                    },
                    pg_bool_oid);
                break;
            case Value::kind::integer: {
                // int4 when it fits: it converts implicitly to int8 and numeric, and functions taking an
                // integer (substr, pg_terminate_backend) accept it; int8 only for values that need it.
                const std::int64_t x = v.as_int();
                const bool big =
                    x < std::numeric_limits<std::int32_t>::min() || x > std::numeric_limits<std::int32_t>::max();
                if (big) signature_[i] = 'I';
                number([&](char* first, char* last) { return std::to_chars(first, last, x).ptr; },
                       big ? pg_int8_oid : pg_int4_oid);
                break;
            }
            case Value::kind::real:
                // Shortest text that reads back as the same double; "inf", "-inf" and "nan" are accepted too.
                number([&](char* first, char* last) { return std::to_chars(first, last, v.as_real()).ptr; },
                       pg_float8_oid);
                break;
            case Value::kind::text: {
                const std::string& s = v.as_text();
                // Text parameters travel as C strings: a NUL would silently cut the value short.
                if (s.find('\0') != std::string::npos)
                    throw Error{errc::misuse,
                                fmt::format("parameter {} is text containing a NUL byte, which PostgreSQL text cannot "
                                            "hold; bind it as db::blob",
                                            i + 1)};
                values_[i] = s.c_str();
                break;
            }
            case Value::kind::blob: {
                const std::string& s = v.as_text();
                if (s.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
                    throw Error{errc::misuse, fmt::format("parameter {} is larger than 2 GiB", i + 1)};
                if (!binary_) {
                    // libpq reads lengths and formats only when a parameter is binary: filled from the first.
                    std::fill_n(lengths_, n_, 0);
                    std::fill_n(formats_, n_, 0);
                    binary_ = true;
                }
                values_[i] = s.data();
                lengths_[i] = static_cast<int>(s.size());
                formats_[i] = 1;  // binary: the raw bytes, no hex encoding on either side
                types_[i] = pg_bytea_oid;
                break;
            }
            case Value::kind::timestamp:
                // Explicitly UTC, so a timestamptz column stores the right instant whatever the session's zone.
                if (converted_.empty()) converted_.reserve(n_);
                converted_.push_back(format_timestamp(v.as_int()) + "+00");
                values_[i] = converted_.back().c_str();
                types_[i] = pg_timestamptz_oid;
                break;
        }
    }
}

std::uint64_t pg_command_rows(const PGresult* res) noexcept {
    const char* tuples = PQcmdTuples(const_cast<PGresult*>(res));
    std::uint64_t n = 0;
    if (tuples && *tuples) std::from_chars(tuples, tuples + std::char_traits<char>::length(tuples), n);
    return n;
}

// ---- errors -------------------------------------------------------------------------------------------------

errc pg_error_kind(std::string_view s) noexcept {
    if (s == "23505") return errc::unique_violation;
    if (s == "23503") return errc::foreign_key_violation;
    if (s == "23502") return errc::not_null_violation;
    if (s == "23514") return errc::check_violation;
    if (s == "40001") return errc::serialization_failure;
    if (s == "40P01") return errc::deadlock;
    // Class 08 (connection exception) and the server shutting down or terminating this backend.
    if (s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03") return errc::connection_lost;
    if (s == "57014") return errc::timeout;  // query_canceled: statement_timeout (or a cancel request)
    return errc::other;
}

std::string pg_clean_message(const char* message, std::string_view password) {
    std::string m = message ? message : "";
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ' || m.back() == '\r'))
        m.pop_back();
    // libpq does not print passwords, but a message must never be the way one leaks into a log.
    if (!password.empty())
        for (std::size_t at = m.find(password); at != std::string::npos; at = m.find(password, at + 3))
            m.replace(at, password.size(), "***");
    if (m.empty()) m = "unknown error";
    return m;
}

std::string pg_error_message(const PGresult* res, std::string_view sql) {
    const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char* detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    // Errors libpq makes itself (a lost connection) have no fields, only the whole message.
    std::string out = primary ? std::string{primary} : pg_clean_message(PQresultErrorMessage(res));
    if (detail && *detail) {
        out += "; ";
        out += detail;
    }
    if (state && *state) fmt::format_to(std::back_inserter(out), " (SQLSTATE {})", state);
    out += " in: ";
    out += sql_excerpt(sql);
    return out;
}

}  // namespace zephyr::db::detail
