// Reading the schema of a live database (see schema_diff.cpp).
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/db/model.hpp>
#include <zephyr/db/session.hpp>

#include <string>
#include <vector>

namespace zephyr::db::detail {

/// The tables of the database behind `db` (its current schema), except `skip_table`.
Task<std::vector<table_def>> read_schema(Session& db, const std::string& skip_table);

}  // namespace zephyr::db::detail
