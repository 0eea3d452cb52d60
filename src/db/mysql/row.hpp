// db::Row over one row of a MariaDB/MySQL result. Both protocols end up as text here: the text protocol sends
// every value as text, and the prepared-statement path binds every result column as MYSQL_TYPE_STRING, so the
// library renders numbers and dates the same way the server would. One conversion routine serves both.
#pragma once

#include <zephyr/db/value.hpp>

#include <mysql.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace zephyr::db::detail {

/// One column value of the current row: its bytes (valid until the next fetch) or NULL.
struct mysql_cell {
    const char* data = nullptr;
    std::size_t size = 0;
    bool null = true;
};

class mysql_row final : public Row {
public:
    mysql_row(const MYSQL_FIELD* fields, const mysql_cell* cells, std::size_t count) noexcept
        : fields_{fields}, cells_{cells}, count_{count} {}

    std::size_t size() const noexcept override { return count_; }
    std::string_view name(std::size_t column) const noexcept override;
    bool is_null(std::size_t column) const noexcept override;
    std::int64_t get_int(std::size_t column) const override;
    double get_double(std::size_t column) const override;
    bool get_bool(std::size_t column) const override;
    std::string_view get_text(std::size_t column) const override;
    std::string get_bytes(std::size_t column) const override;

private:
    // The value of `column`; throws bad_result when it does not exist or is NULL.
    std::string_view value(std::size_t column) const;
    // A BIT(n) column arrives as n/8 raw big-endian bytes, not as digits.
    bool is_bit(std::size_t column) const noexcept { return fields_[column].type == MYSQL_TYPE_BIT; }

    const MYSQL_FIELD* fields_;
    const mysql_cell* cells_;
    std::size_t count_;
};

}  // namespace zephyr::db::detail
