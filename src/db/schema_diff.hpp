// Reading the schema of a live database (see schema_diff.cpp).
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/db/model.hpp>
#include <zephyr/db/session.hpp>

#include <string>
#include <vector>

namespace zephyr::db::detail {

// DDL pieces shared by create_table_sql (schema.cpp) and the schema diff.
/// " ON DELETE CASCADE" and the like; empty for no action.
const char* on_delete_sql(on_delete a) noexcept;
/// `"a", "b"`, quoted for the dialect.
std::string column_list(const std::vector<std::string>& columns, dialect d);
std::string create_index_sql(const table_def& t, const index_def& ix, dialect d, bool if_not_exists = false);
/// The constraint's name, or "<table>_<column>_fkey".
std::string foreign_key_name(const table_def& t, const foreign_key_def& fk);

/// The tables of the database behind `db` (its current schema), except `skip_table`.
Task<std::vector<table_def>> read_schema(Session& db, const std::string& skip_table);

}  // namespace zephyr::db::detail
