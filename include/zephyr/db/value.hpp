// zephyr/db/value.hpp — how C++ values travel to and from the database.
//
// A bound parameter becomes a db::Value (never text spliced into SQL); a column becomes a C++ value through
// db::field<T>. Built in: bool, integers (range-checked), floating point, std::string, std::string_view and
// const char* (parameters), db::blob, std::chrono::system_clock::time_point (UTC), described enums (stored by
// name) and std::optional<T> (NULL). Specialise db::field<T> to add a type:
//
//     template <> struct zephyr::db::field<money> {
//         static Value to_value(const money& m) { return Value{m.cents}; }
//         static money from_row(const Row& row, std::size_t i) { return money{row.get_int(i)}; }
//     };
#pragma once

#include <boost/container/small_vector.hpp>
#include <boost/describe/enum.hpp>
#include <boost/describe/enum_from_string.hpp>
#include <boost/describe/enum_to_string.hpp>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace zephyr::db {

/// Binary data (a BLOB, bytea or VARBINARY column).
using blob = std::vector<std::byte>;

/// One bound parameter: NULL, a boolean, an integer, a floating point number, text, bytes or a UTC timestamp.
class Value {
public:
    enum class kind : std::uint8_t { null, boolean, integer, real, text, blob, timestamp };

    /// NULL.
    Value() noexcept = default;
    explicit Value(bool b) noexcept : kind_{kind::boolean}, int_{b ? 1 : 0} {}
    explicit Value(std::int64_t i) noexcept : kind_{kind::integer}, int_{i} {}
    explicit Value(double d) noexcept : kind_{kind::real}, real_{d} {}
    explicit Value(std::string s) noexcept : kind_{kind::text}, text_{std::move(s)} {}
    /// Bytes; `kind::blob`.
    static Value bytes(std::string_view data) {
        Value v{std::string{data}};
        v.kind_ = kind::blob;
        return v;
    }
    /// A point in time, stored in UTC with microsecond precision.
    static Value timestamp(std::chrono::system_clock::time_point t) noexcept {
        Value v;
        v.kind_ = kind::timestamp;
        v.int_ = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
        return v;
    }

    kind type() const noexcept { return kind_; }
    bool is_null() const noexcept { return kind_ == kind::null; }
    bool as_bool() const noexcept { return int_ != 0; }
    /// The integer, the boolean as 0/1 or the timestamp in microseconds since 1970-01-01 UTC.
    std::int64_t as_int() const noexcept { return int_; }
    double as_real() const noexcept { return real_; }
    /// The text or the bytes.
    const std::string& as_text() const noexcept { return text_; }

    /// The value as SQL text for logs and error messages (strings quoted, bytes as a length).
    std::string describe() const;

private:
    kind kind_ = kind::null;
    union {
        std::int64_t int_ = 0;
        double real_;
    };
    std::string text_;
};

/// The parameters of one statement, in placeholder order.
using Params = boost::container::small_vector<Value, 4>;

/// `2024-05-06 07:08:09.123456` (UTC) for a timestamp in microseconds since 1970-01-01 UTC.
std::string format_timestamp(std::int64_t micros);
/// Parses `YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z|±HH[:MM]]` (or a bare date) into microseconds since 1970-01-01
/// UTC; nullopt when it is not such a text.
std::optional<std::int64_t> parse_timestamp(std::string_view text) noexcept;

/// One row of a result, valid only inside the call that receives it. Columns are numbered from 0.
/// The getters convert the database's representation and throw db::Error (errc::bad_result) naming the column
/// when they cannot (NULL, text where a number is expected, a number out of range).
class Row {
public:
    virtual std::size_t size() const noexcept = 0;
    virtual std::string_view name(std::size_t column) const noexcept = 0;
    virtual bool is_null(std::size_t column) const noexcept = 0;
    virtual std::int64_t get_int(std::size_t column) const = 0;
    virtual double get_double(std::size_t column) const = 0;
    virtual bool get_bool(std::size_t column) const = 0;
    /// The text of a column (numbers as the database prints them).
    virtual std::string_view get_text(std::size_t column) const = 0;
    /// The bytes of a binary column.
    virtual std::string get_bytes(std::size_t column) const = 0;
    /// Identifies the result's columns (their names and order): the same for every result of one prepared
    /// statement, never reused for other columns, 0 when the driver cannot tell. Reading rows into a struct
    /// looks the members' columns up once per shape instead of once per result.
    virtual std::uint64_t shape() const noexcept { return 0; }

    /// The column's value as T (see db::field).
    template <class T>
    T get(std::size_t column) const;
    /// The value of the column called `name`; throws db::Error (bad_result) when there is none.
    template <class T>
    T get(std::string_view name) const {
        return get<T>(index_of(name));
    }
    /// The index of the column called `name`; throws db::Error (bad_result) when there is none.
    std::size_t index_of(std::string_view name) const;

    /// Throws db::Error (bad_result) for `column` with `problem` ("column 'age': NULL where ... expected").
    [[noreturn]] void fail(std::size_t column, std::string_view problem) const;

protected:
    Row() = default;
    Row(const Row&) = default;
    Row& operator=(const Row&) = default;
    ~Row() = default;
};

/// How T is bound as a parameter and read from a column. Specialise it for your own types.
template <class T, class = void>
struct field;

namespace detail {
[[noreturn]] void out_of_range(const Row& row, std::size_t column, std::int64_t v, std::string_view type);
[[noreturn]] void bad_enum(const Row& row, std::size_t column, std::string_view text);
[[noreturn]] void bad_timestamp(const Row& row, std::size_t column, std::string_view text);
[[noreturn]] void unsigned_too_large(std::uint64_t v);
}  // namespace detail

template <>
struct field<bool> {
    static Value to_value(bool b) noexcept { return Value{b}; }
    static bool from_row(const Row& row, std::size_t i) { return row.get_bool(i); }
};

template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
struct field<T> {
    static Value to_value(T v) {
        if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
            if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) detail::unsigned_too_large(v);
        }
        return Value{static_cast<std::int64_t>(v)};
    }
    static T from_row(const Row& row, std::size_t i) {
        const std::int64_t v = row.get_int(i);
        if constexpr (std::is_signed_v<T>) {
            if constexpr (sizeof(T) < sizeof(std::int64_t))
                if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
                    detail::out_of_range(row, i, v, "a smaller integer");
        } else {
            if (v < 0) detail::out_of_range(row, i, v, "an unsigned integer");
            if constexpr (sizeof(T) < sizeof(std::int64_t))
                if (static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max())
                    detail::out_of_range(row, i, v, "a smaller unsigned integer");
        }
        return static_cast<T>(v);
    }
};

template <std::floating_point T>
struct field<T> {
    static Value to_value(T v) noexcept { return Value{static_cast<double>(v)}; }
    static T from_row(const Row& row, std::size_t i) { return static_cast<T>(row.get_double(i)); }
};

template <>
struct field<std::string> {
    static Value to_value(const std::string& s) { return Value{s}; }
    static std::string from_row(const Row& row, std::size_t i) { return std::string{row.get_text(i)}; }
};

template <>
struct field<std::string_view> {
    static Value to_value(std::string_view s) { return Value{std::string{s}}; }
};

template <>
struct field<const char*> {
    static Value to_value(const char* s) { return s ? Value{std::string{s}} : Value{}; }
};

template <>
struct field<char*> : field<const char*> {};

template <>
struct field<blob> {
    static Value to_value(const blob& b) {
        return Value::bytes(std::string_view{reinterpret_cast<const char*>(b.data()), b.size()});
    }
    static blob from_row(const Row& row, std::size_t i) {
        std::string bytes = row.get_bytes(i);
        const auto* p = reinterpret_cast<const std::byte*>(bytes.data());
        return blob(p, p + bytes.size());
    }
};

template <>
struct field<std::chrono::system_clock::time_point> {
    using time_point = std::chrono::system_clock::time_point;
    static Value to_value(time_point t) noexcept { return Value::timestamp(t); }
    static time_point from_row(const Row& row, std::size_t i) {
        std::string_view text = row.get_text(i);
        auto micros = parse_timestamp(text);
        if (!micros) detail::bad_timestamp(row, i, text);
        return time_point{std::chrono::duration_cast<time_point::duration>(std::chrono::microseconds{*micros})};
    }
};

template <class E>
    requires(std::is_enum_v<E> && boost::describe::has_describe_enumerators<E>::value)
struct field<E> {
    static Value to_value(E e) {
        const char* name = boost::describe::enum_to_string(e, nullptr);
        return name ? Value{std::string{name}} : Value{static_cast<std::int64_t>(e)};
    }
    static E from_row(const Row& row, std::size_t i) {
        std::string_view text = row.get_text(i);
        E e{};
        if (!boost::describe::enum_from_string(std::string{text}.c_str(), e)) detail::bad_enum(row, i, text);
        return e;
    }
};

template <class T>
struct field<std::optional<T>> {
    static Value to_value(const std::optional<T>& v) { return v ? field<T>::to_value(*v) : Value{}; }
    static std::optional<T> from_row(const Row& row, std::size_t i) {
        if (row.is_null(i)) return std::nullopt;
        return field<T>::from_row(row, i);
    }
};

template <>
struct field<std::nullopt_t> {
    static Value to_value(std::nullopt_t) noexcept { return Value{}; }
};

/// A type that can be bound as a parameter.
template <class T>
concept bindable = requires(const T& v) {
    { field<std::remove_cvref_t<T>>::to_value(v) } -> std::same_as<Value>;
};

/// A type that can be read from one column.
template <class T>
concept readable = requires(const Row& r) {
    { field<T>::from_row(r, std::size_t{0}) } -> std::same_as<T>;
};

template <class T>
T Row::get(std::size_t column) const {
    static_assert(readable<T>, "db::Row::get<T>: T cannot be read from a column; specialise zephyr::db::field<T>");
    return field<T>::from_row(*this, column);
}

/// Converts the arguments of a query to bound parameters.
template <class... Args>
Params make_params(const Args&... args) {
    static_assert((bindable<std::decay_t<Args>> && ...),
                  "db: a query argument's type cannot be bound; specialise zephyr::db::field<T> with to_value()");
    Params p;
    p.reserve(sizeof...(Args));
    (p.push_back(field<std::decay_t<Args>>::to_value(args)), ...);
    return p;
}

}  // namespace zephyr::db
