// Scanning SQL text: placeholders outside literals, identifiers and comments.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace zephyr::db::detail {

/// How a dialect writes literals: MySQL also takes backslash escapes in '...' and "..." and `#` comments.
enum class sql_syntax { standard, mysql };

/// The number of `?` placeholders in `sql` (not counting `??`, quoted text or comments).
std::size_t count_placeholders(std::string_view sql, sql_syntax syntax = sql_syntax::standard);

/// `sql` with each `?` placeholder replaced by `$1`, `$2`, ... (PostgreSQL) and `??` by `?`. Sets `count`.
std::string numbered_placeholders(std::string_view sql, std::size_t& count);

/// `sql` with `??` replaced by `?` (SQLite, MySQL: they take `?` themselves). Sets `count`.
std::string plain_placeholders(std::string_view sql, std::size_t& count, sql_syntax syntax = sql_syntax::standard);

/// Throws db::Error (misuse) unless `expected == given`, naming both numbers and the statement.
void check_param_count(std::string_view sql, std::size_t expected, std::size_t given);

/// A statement shortened for error messages (first 200 characters).
std::string sql_excerpt(std::string_view sql);

}  // namespace zephyr::db::detail
