#include <zephyr/db/detail/map.hpp>
#include <zephyr/db/error.hpp>
#include <zephyr/db/session.hpp>

#include "db/sql_text.hpp"

#include <boost/container/small_vector.hpp>
#include <boost/core/demangle.hpp>

#include <fmt/format.h>

namespace zephyr::db::detail {

namespace {
bool iequal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}
}  // namespace

void find_columns(const Row& row, const std::string_view* names, std::size_t* out, std::size_t n,
                  std::string_view type_name) {
    // Each column's name is asked once (a virtual call into the driver, and a strlen for PostgreSQL).
    const std::size_t columns = row.size();
    boost::container::small_vector<std::string_view, 16> have(columns);
    for (std::size_t c = 0; c < columns; ++c)
        have[c] = row.name(c);
    for (std::size_t m = 0; m < n; ++m) {
        std::size_t found = columns;
        // Usually the select list names the members in order: the column at the member's own position first.
        if (m < columns && have[m] == names[m]) found = m;
        for (std::size_t c = 0; c < columns && found == columns; ++c)
            if (have[c] == names[m]) found = c;
        for (std::size_t c = 0; c < columns && found == columns; ++c)
            if (iequal(have[c], names[m])) found = c;
        if (found == columns) {
            std::string list;
            for (std::size_t c = 0; c < columns; ++c)
                list += (c ? ", " : "") + std::string{have[c]};
            throw Error{errc::bad_result,
                        fmt::format("the result has no column '{}' for member {}::{} (columns: {})", names[m],
                                    boost::core::demangle(std::string{type_name}.c_str()), names[m], list)};
        }
        out[m] = found;
    }
}

void too_few_columns(const Row& row, std::size_t wanted) {
    throw Error{errc::bad_result,
                fmt::format("the result has {} column{}, {} expected", row.size(), row.size() == 1 ? "" : "s", wanted)};
}

void no_row(std::string_view sql) {
    throw not_found{fmt::format("the query returned no row: {}", sql_excerpt(sql))};
}

}  // namespace zephyr::db::detail
