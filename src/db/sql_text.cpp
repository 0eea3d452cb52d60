#include "db/sql_text.hpp"

#include <zephyr/db/error.hpp>

#include <fmt/format.h>

namespace zephyr::db::detail {

namespace {

bool ident_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
}

// Walks `sql`, copying everything but placeholders to `out` and calling `on_placeholder` for each `?`
// outside quoted text and comments. `??` stands for a literal `?` (PostgreSQL's jsonb operators).
template <class F>
void scan(std::string_view sql, std::string* out, sql_syntax syntax, F on_placeholder) {
    const bool mysql = syntax == sql_syntax::mysql;
    const std::size_t n = sql.size();
    std::size_t i = 0;
    auto copy = [&](std::size_t from, std::size_t to) {
        if (out) out->append(sql.substr(from, to - from));
    };
    while (i < n) {
        const char c = sql[i];
        if (c == '\'' || c == '"' || c == '`') {
            // E'...' strings take backslash escapes (PostgreSQL).
            // MySQL: backslash escapes in both kinds of string.
            const bool backslashes = (mysql && c != '`') ||
                                     (c == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                                      (i == 1 || !ident_char(sql[i - 2])));
            std::size_t j = i + 1;
            while (j < n) {
                if (backslashes && sql[j] == '\\') {
                    j += 2;
                    continue;
                }
                if (sql[j] == c) {
                    if (j + 1 < n && sql[j + 1] == c) {  // doubled quote: still inside
                        j += 2;
                        continue;
                    }
                    break;
                }
                ++j;
            }
            j = j < n ? j + 1 : n;
            copy(i, j);
            i = j;
        } else if ((c == '-' && i + 1 < n && sql[i + 1] == '-') || (mysql && c == '#')) {
            std::size_t j = sql.find('\n', i);
            j = j == std::string_view::npos ? n : j + 1;
            copy(i, j);
            i = j;
        } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
            std::size_t j = sql.find("*/", i + 2);
            j = j == std::string_view::npos ? n : j + 2;
            copy(i, j);
            i = j;
        } else if (!mysql && c == '$' && (i == 0 || !ident_char(sql[i - 1]))) {
            // A dollar-quoted string: $tag$ ... $tag$ (PostgreSQL). `$1` is a numbered parameter, not a tag.
            std::size_t j = i + 1;
            while (j < n && ident_char(sql[j]) && !(j == i + 1 && sql[j] >= '0' && sql[j] <= '9')) ++j;
            if (j < n && sql[j] == '$') {
                const std::string_view tag = sql.substr(i, j - i + 1);
                std::size_t end = sql.find(tag, j + 1);
                end = end == std::string_view::npos ? n : end + tag.size();
                copy(i, end);
                i = end;
            } else {
                copy(i, i + 1);
                ++i;
            }
        } else if (c == '?') {
            if (i + 1 < n && sql[i + 1] == '?') {
                if (out) out->push_back('?');
                i += 2;
            } else {
                on_placeholder();
                ++i;
            }
        } else {
            std::size_t j = i + 1;
            while (j < n && sql[j] != '\'' && sql[j] != '"' && sql[j] != '`' && sql[j] != '-' && sql[j] != '/' &&
                   sql[j] != '$' && sql[j] != '?' && sql[j] != '#')
                ++j;
            copy(i, j);
            i = j;
        }
    }
}

}  // namespace

std::size_t count_placeholders(std::string_view sql, sql_syntax syntax) {
    std::size_t count = 0;
    scan(sql, nullptr, syntax, [&] { ++count; });
    return count;
}

std::string numbered_placeholders(std::string_view sql, std::size_t& count) {
    std::string out;
    out.reserve(sql.size() + 8);
    count = 0;
    scan(sql, &out, sql_syntax::standard, [&] { out += fmt::format("${}", ++count); });
    return out;
}

std::string plain_placeholders(std::string_view sql, std::size_t& count, sql_syntax syntax) {
    std::string out;
    out.reserve(sql.size());
    count = 0;
    scan(sql, &out, syntax, [&] {
        out.push_back('?');
        ++count;
    });
    return out;
}

std::string sql_excerpt(std::string_view sql) {
    if (sql.size() <= 200) return std::string{sql};
    return std::string{sql.substr(0, 200)} + "...";
}

void check_param_count(std::string_view sql, std::size_t expected, std::size_t given) {
    if (expected != given)
        throw Error{errc::misuse, fmt::format("the statement has {} placeholder{} but {} value{} were given: {}",
                                              expected, expected == 1 ? "" : "s", given, given == 1 ? "" : "s",
                                              sql_excerpt(sql))};
}

}  // namespace zephyr::db::detail
