#include "db/mysql/row.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <system_error>

namespace zephyr::db::detail {

namespace {

// Shortened, so a huge text column does not end up whole in an error message.
std::string quoted_excerpt(std::string_view text) {
    constexpr std::size_t max = 40;
    if (text.size() <= max) return fmt::format("'{}'", text);
    return fmt::format("'{}...'", text.substr(0, max));
}

}  // namespace

std::string_view mysql_row::name(std::size_t column) const noexcept {
    if (column >= count_) return {};
    return {fields_[column].name, fields_[column].name_length};
}

bool mysql_row::is_null(std::size_t column) const noexcept {
    return column >= count_ || cells_[column].null;
}

std::string_view mysql_row::value(std::size_t column) const {
    if (column >= count_) fail(column, fmt::format("does not exist (the result has {} columns)", count_));
    const mysql_cell& c = cells_[column];
    if (c.null) fail(column, "is NULL; read it into a std::optional");
    return {c.data, c.size};
}

std::int64_t mysql_row::get_int(std::size_t column) const {
    std::string_view text = value(column);
    if (is_bit(column)) {
        if (text.size() > 8) fail(column, "is a BIT value wider than 64 bits");
        std::uint64_t v = 0;
        for (char ch : text)
            v = (v << 8) | static_cast<unsigned char>(ch);
        if (v > static_cast<std::uint64_t>(INT64_MAX)) fail(column, "is out of range for a 64-bit integer");
        return static_cast<std::int64_t>(v);
    }
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc::result_out_of_range)
        fail(column, fmt::format("{} is out of range for a 64-bit integer", text));
    if (ec != std::errc{} || end != text.data() + text.size())
        fail(column, fmt::format("is not an integer: {}", quoted_excerpt(text)));
    return v;
}

double mysql_row::get_double(std::size_t column) const {
    if (is_bit(column)) return static_cast<double>(get_int(column));
    std::string_view text = value(column);
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc::result_out_of_range) fail(column, fmt::format("{} is out of range for a double", text));
    if (ec != std::errc{} || end != text.data() + text.size())
        fail(column, fmt::format("is not a number: {}", quoted_excerpt(text)));
    return v;
}

bool mysql_row::get_bool(std::size_t column) const {
    // BOOLEAN is TINYINT(1) in MySQL: "0" or "1". BIT(1) arrives as one raw byte.
    std::string_view text = value(column);
    if (text == "0" || (is_bit(column) && text.size() == 1 && text[0] == '\0')) return false;
    if (text == "1" || (is_bit(column) && text.size() == 1 && text[0] == '\1')) return true;
    fail(column, fmt::format("is not a boolean (0 or 1): {}", quoted_excerpt(text)));
}

std::string_view mysql_row::get_text(std::size_t column) const {
    return value(column);
}

std::string mysql_row::get_bytes(std::size_t column) const {
    return std::string{value(column)};
}

}  // namespace zephyr::db::detail
