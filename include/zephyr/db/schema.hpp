// zephyr/db/schema.hpp — the DDL of models, per dialect.
//
//     co_await db::create_tables<user, post, tag, post_tag>(db);   // in dependency order
//
// Migrations (versioned, reviewed) are the way to change a production schema; create_tables() is for tests,
// prototypes and the first start of an embedded database.
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/db/model.hpp>
#include <zephyr/db/session.hpp>

#include <string>
#include <vector>

namespace zephyr::db {

/// The column type as the dialect spells it (`BIGINT`, `TIMESTAMPTZ`, `DATETIME(6)`, ...).
std::string sql_type(const table_def& table, const column_def& column, dialect d);
/// CREATE TABLE (columns, primary key, foreign keys) followed by one CREATE INDEX per index.
std::vector<std::string> create_table_sql(const table_def& table, dialect d, bool if_not_exists = false);
std::string drop_table_sql(const table_def& table, dialect d, bool if_exists = true);

/// Creates the tables of models Ts (and their indexes) if they do not exist, in the order given.
template <model_type... Ts>
Task<void> create_tables(Session& db) {
    for (const table_def* t : {&schema_of<Ts>()...})
        for (const auto& sql : create_table_sql(*t, db.dialect(), true)) co_await db.execute(sql);
}

/// Drops the tables of models Ts if they exist, in the order given (dependents first).
template <model_type... Ts>
Task<void> drop_tables(Session& db) {
    for (const table_def* t : {&schema_of<Ts>()...}) {
        const std::string sql = drop_table_sql(*t, db.dialect(), true);
        co_await db.execute(sql);
    }
}

}  // namespace zephyr::db
