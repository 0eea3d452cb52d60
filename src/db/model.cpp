#include <zephyr/db/model.hpp>
#include <zephyr/db/error.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace zephyr::db {

const column_def* table_def::find(std::string_view column) const noexcept {
    for (const auto& c : columns)
        if (c.name == column) return &c;
    return nullptr;
}

const relation_def* table_def::relation(std::string_view member) const noexcept {
    for (const auto& r : relations)
        if (r.member == member) return &r;
    return nullptr;
}

std::string foreign_key_def::referenced_table() const {
    return references ? references().name : ref_table;
}

const std::string& table_def::key() const {
    if (primary_key.size() != 1)
        throw Error{errc::misuse, primary_key.empty()
                                      ? fmt::format("model '{}' has no primary key; declare one with primary_key()", name)
                                      : fmt::format("model '{}' has a composite primary key; this operation needs a "
                                                    "single-column key",
                                                    name)};
    return primary_key.front();
}

namespace detail {

void not_a_member(std::string_view type, std::string_view what) {
    throw Error{errc::misuse, fmt::format("db model of type {}: {}", type, what)};
}

void bad_model(std::string_view table, std::string message) {
    throw Error{errc::misuse, fmt::format("db model '{}': {}", table, message)};
}

// Names end up quoted in SQL, but models are code: plain identifiers keep them portable (PostgreSQL folds and
// truncates at 63 bytes; MySQL limits 64) and keep every quoting question out of the way.
void check_identifier(std::string_view name, std::string_view what) {
    const bool ok = !name.empty() && name.size() <= 63 && !(name[0] >= '0' && name[0] <= '9') &&
                    std::all_of(name.begin(), name.end(), [](char c) {
                        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
                    });
    if (!ok)
        throw Error{errc::misuse, fmt::format("db model: {} '{}' must be 1 to 63 letters, digits or underscores, not "
                                              "starting with a digit",
                                              what, name)};
}

void finish_model(table_def& t) {
    check_identifier(t.name, "table name");
    for (const auto& c : t.columns) {
        check_identifier(c.name, "column name");
        if (c.type == column_type::unknown)
            bad_model(t.name, fmt::format("column '{}' has a C++ type without a column type; specialise "
                                          "zephyr::db::column_type_of or declare it with .type()",
                                          c.name));
    }
    for (const auto& k : t.primary_key)
        if (t.find(k)->nullable) bad_model(t.name, fmt::format("primary key column '{}' cannot be optional", k));
    for (auto& ix : t.indexes) {
        if (ix.columns.empty()) bad_model(t.name, "an index needs at least one column");
        if (ix.name.empty()) {
            ix.name = t.name;
            for (const auto& c : ix.columns) ix.name += "_" + c;
            ix.name += ix.unique ? "_key" : "_idx";
        }
        check_identifier(ix.name, "index name (generated from table and columns; shorten them)");
    }
    for (const auto& fk : t.foreign_keys)
        check_identifier(fk.name.empty() ? t.name + "_" + fk.column + "_fkey" : fk.name,
                         "foreign key name (generated from table and column; shorten them)");
    for (const auto& r : t.relations) {
        if (r.kind == relation_kind::belongs_to && !t.find(r.foreign_key))
            bad_model(t.name, fmt::format("relation '{}': '{}' is not a column", r.member, r.foreign_key));
    }
}

}  // namespace detail
}  // namespace zephyr::db
