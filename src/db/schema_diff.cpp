// Reading a live schema into table definitions, and the DDL that turns one schema into another (makemigrations).
#include "db/schema_diff.hpp"

#include <zephyr/db/query.hpp>
#include <zephyr/db/schema.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace zephyr::db {

namespace {

using detail::quote;

std::string upper(std::string_view s) {
    std::string out{s};
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string{s};
}

/// The portable type a declared type stands for (to write a live column in another dialect).
void classify(column_def& c) {
    const std::string t = upper(c.declared_type);
    auto has = [&](std::string_view part) { return t.find(part) != std::string::npos; };
    if (has("BOOL") || t == "TINYINT(1)") c.type = column_type::boolean;
    else if (has("SMALLINT") || has("TINYINT")) c.type = column_type::smallint;
    else if (has("BIGINT")) c.type = column_type::bigint;
    else if (has("INT")) c.type = t == "INTEGER" ? column_type::bigint : column_type::integer;
    else if (has("CHAR") || has("TEXT") || has("CLOB")) c.type = column_type::text;
    else if (has("BLOB") || has("BYTEA") || has("BINARY")) c.type = column_type::blob;
    else if (has("REAL") || has("DOUB") || has("FLOA") || has("NUMERIC") || has("DECIMAL")) c.type = column_type::real;
    else if (has("TIME") || has("DATE")) c.type = column_type::timestamp;
    else c.type = column_type::text;
    if (has("VARCHAR(")) c.max_length = std::stoul(t.substr(t.find('(') + 1));
}

/// A default as SQL, without the casts, case and spellings the databases change when they report it
/// (PostgreSQL: 'x'::text, false; MySQL: 0 for FALSE; current_timestamp()).
std::string normal_default(const std::optional<std::string>& d, column_type type) {
    if (!d) return {};
    std::string s = trim(*d);
    if (upper(s) == "NULL") return {};
    while (s.size() >= 2 && s.front() == '(' && s.back() == ')') s = trim(s.substr(1, s.size() - 2));
    if (auto cast = s.rfind("::"); cast != std::string::npos && s.find('\'', cast) == std::string::npos)
        s = s.substr(0, cast);
    if (!s.empty() && s.front() != '\'') s = upper(s);  // keywords and numbers; quoted text keeps its case
    if (s == "CURRENT_TIMESTAMP()" || s == "NOW()") s = "CURRENT_TIMESTAMP";
    if (type == column_type::boolean) {
        if (s == "TRUE" || s == "'1'" || s == "'T'") s = "1";
        if (s == "FALSE" || s == "'0'" || s == "'F'") s = "0";
    }
    return s;
}

bool same_column(const table_def& ft, const column_def& f, const table_def& tt, const column_def& t, dialect d) {
    if (upper(sql_type(ft, f, d)) != upper(sql_type(tt, t, d))) return false;
    if (f.auto_increment || t.auto_increment) return f.auto_increment == t.auto_increment;
    return f.nullable == t.nullable && normal_default(f.default_sql, t.type) == normal_default(t.default_sql, t.type);
}

std::string column_sql(const table_def& t, const column_def& c, dialect d) {
    std::string s = quote(c.name, d) + " " + sql_type(t, c, d);
    if (!c.nullable) s += " NOT NULL";
    if (c.default_sql) s += " DEFAULT " + *c.default_sql;
    return s;
}

bool same_fk(const foreign_key_def& a, const foreign_key_def& b) {
    return a.column == b.column && a.referenced_table() == b.referenced_table() && a.ref_column == b.ref_column &&
           a.on_delete == b.on_delete;
}

const foreign_key_def* find_fk(const table_def& t, const std::string& column) {
    for (const auto& fk : t.foreign_keys)
        if (fk.column == column) return &fk;
    return nullptr;
}

const index_def* find_index(const table_def& t, const std::string& name) {
    for (const auto& ix : t.indexes)
        if (ix.name == name) return &ix;
    return nullptr;
}

std::string drop_index_sql(const table_def& t, const index_def& ix, dialect d) {
    if (d == dialect::mysql) return fmt::format("DROP INDEX {} ON {}", quote(ix.name, d), quote(t.name, d));
    return fmt::format("DROP INDEX {}", quote(ix.name, d));
}

/// Tables in an order where every referenced table (among them) comes before the tables referring to it.
std::vector<const table_def*> dependency_order(std::vector<const table_def*> tables) {
    std::vector<const table_def*> out;
    while (!tables.empty()) {
        bool progress = false;
        for (auto it = tables.begin(); it != tables.end();) {
            bool ready = true;
            for (const auto& fk : (*it)->foreign_keys) {
                const std::string ref = fk.referenced_table();
                const bool pending = ref != (*it)->name && std::any_of(tables.begin(), tables.end(), [&](const table_def* t) {
                    return t->name == ref;
                });
                ready = ready && !pending;
            }
            if (ready) {
                out.push_back(*it);
                it = tables.erase(it);
                progress = true;
            } else {
                ++it;
            }
        }
        if (!progress) {  // a cycle: keep the declared order for the rest
            out.insert(out.end(), tables.begin(), tables.end());
            break;
        }
    }
    return out;
}

/// SQLite cannot alter a column or a foreign key in place: the table is rebuilt (foreign key enforcement is off
/// while migrations run, so dropping the old table takes nothing else with it).
void rebuild_sqlite(const table_def& from, const table_def& to, std::vector<std::string>& out) {
    table_def tmp = to;
    tmp.name = "zephyr_rebuild_" + to.name;
    tmp.indexes.clear();
    for (auto& fk : tmp.foreign_keys)
        if (fk.name.empty()) fk.name = detail::foreign_key_name(to, fk);
    auto create = create_table_sql(tmp, dialect::sqlite);
    out.push_back(create.front());
    std::string cols;
    for (const auto& c : to.columns)
        if (from.find(c.name)) cols += (cols.empty() ? "" : ", ") + quote(c.name, dialect::sqlite);
    out.push_back(fmt::format("INSERT INTO {} ({}) SELECT {} FROM {}", quote(tmp.name, dialect::sqlite), cols, cols,
                              quote(from.name, dialect::sqlite)));
    out.push_back(fmt::format("DROP TABLE {}", quote(from.name, dialect::sqlite)));
    out.push_back(fmt::format("ALTER TABLE {} RENAME TO {}", quote(tmp.name, dialect::sqlite), quote(to.name, dialect::sqlite)));
    for (const auto& ix : to.indexes) out.push_back(detail::create_index_sql(to, ix, dialect::sqlite));
}

void alter_table(const table_def& from, const table_def& to, dialect d, std::vector<std::string>& out) {
    const std::string table = quote(to.name, d);
    bool columns_change = false, fks_change = false;
    for (const auto& c : to.columns) {
        const column_def* old = from.find(c.name);
        if (old && !same_column(from, *old, to, c, d)) columns_change = true;
        // SQLite adds a column only when it can fill existing rows and has no reference to check.
        if (!old && d == dialect::sqlite && ((!c.nullable && !c.default_sql) || find_fk(to, c.name))) columns_change = true;
    }
    for (const auto& fk : to.foreign_keys) {
        const auto* old = find_fk(from, fk.column);
        if (!old || !same_fk(*old, fk)) fks_change = true;
    }
    for (const auto& fk : from.foreign_keys)
        if (!find_fk(to, fk.column)) fks_change = true;
    if (d == dialect::sqlite && (columns_change || fks_change)) {
        rebuild_sqlite(from, to, out);
        return;
    }

    // Foreign keys and indexes that go or change are dropped first, columns added, changed and dropped, then
    // the new indexes and foreign keys created.
    for (const auto& fk : from.foreign_keys) {
        const auto* now = find_fk(to, fk.column);
        if (now && same_fk(fk, *now)) continue;
        out.push_back(fmt::format("ALTER TABLE {} DROP {} {}", table, d == dialect::mysql ? "FOREIGN KEY" : "CONSTRAINT",
                                  quote(detail::foreign_key_name(from, fk), d)));
    }
    for (const auto& ix : from.indexes) {
        const auto* now = find_index(to, ix.name);
        if (now && now->unique == ix.unique && now->columns == ix.columns) continue;
        out.push_back(drop_index_sql(from, ix, d));
    }
    for (const auto& c : to.columns) {
        if (from.find(c.name)) continue;
        out.push_back(fmt::format("ALTER TABLE {} ADD COLUMN {}", table, column_sql(to, c, d)));
    }
    for (const auto& c : to.columns) {
        const column_def* old = from.find(c.name);
        if (!old || same_column(from, *old, to, c, d)) continue;
        if (d == dialect::mysql) {
            out.push_back(fmt::format("ALTER TABLE {} MODIFY COLUMN {}", table, column_sql(to, c, d)));
            continue;
        }
        const std::string col = quote(c.name, d);
        const std::string type = sql_type(to, c, d);
        if (upper(sql_type(from, *old, d)) != upper(type))
            out.push_back(fmt::format("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::{}", table, col, type, col, type));
        if (old->nullable != c.nullable)
            out.push_back(fmt::format("ALTER TABLE {} ALTER COLUMN {} {} NOT NULL", table, col, c.nullable ? "DROP" : "SET"));
        if (normal_default(old->default_sql, c.type) != normal_default(c.default_sql, c.type))
            out.push_back(c.default_sql ? fmt::format("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}", table, col, *c.default_sql)
                                        : fmt::format("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT", table, col));
    }
    for (const auto& c : from.columns) {
        if (to.find(c.name)) continue;
        out.push_back(fmt::format("ALTER TABLE {} DROP COLUMN {}", table, quote(c.name, d)));
    }
    for (const auto& ix : to.indexes) {
        const auto* old = find_index(from, ix.name);
        if (old && old->unique == ix.unique && old->columns == ix.columns) continue;
        out.push_back(detail::create_index_sql(to, ix, d));
    }
    for (const auto& fk : to.foreign_keys) {
        const auto* old = find_fk(from, fk.column);
        if (old && same_fk(*old, fk)) continue;
        out.push_back(fmt::format("ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){}", table,
                                  quote(detail::foreign_key_name(to, fk), d), quote(fk.column, d), quote(fk.referenced_table(), d),
                                  quote(fk.ref_column, d), detail::on_delete_sql(fk.on_delete)));
    }
}

std::vector<std::string> changes(const std::vector<table_def>& from, const std::vector<table_def>& to, dialect d) {
    auto find = [](const std::vector<table_def>& in, const std::string& name) -> const table_def* {
        for (const auto& t : in)
            if (t.name == name) return &t;
        return nullptr;
    };
    std::vector<std::string> out;
    std::vector<const table_def*> created, dropped;
    for (const auto& t : to)
        if (!find(from, t.name)) created.push_back(&t);
    for (const auto& t : from)
        if (!find(to, t.name)) dropped.push_back(&t);
    for (const table_def* t : dependency_order(created))
        for (auto& sql : create_table_sql(*t, d)) out.push_back(std::move(sql));
    for (const auto& t : to)
        if (const table_def* old = find(from, t.name)) alter_table(*old, t, d, out);
    auto drop_order = dependency_order(dropped);
    std::reverse(drop_order.begin(), drop_order.end());
    for (const table_def* t : drop_order) out.push_back(drop_table_sql(*t, d, false));
    return out;
}

}  // namespace

std::pair<std::vector<std::string>, std::vector<std::string>> schema_changes(const std::vector<table_def>& from,
                                                                             const std::vector<table_def>& to,
                                                                             dialect d) {
    return {changes(from, to, d), changes(to, from, d)};
}

namespace detail {

namespace {

on_delete action_from(std::string_view s) {
    const std::string u = upper(s);
    if (u == "CASCADE" || u == "C") return on_delete::cascade;
    if (u == "RESTRICT" || u == "R") return on_delete::restrict;
    if (u == "SET NULL" || u == "N") return on_delete::set_null;
    return on_delete::no_action;
}

using text = std::string;
using opt_text = std::optional<std::string>;

/// Rows of (constraint, column, referenced table, referenced column, delete rule).
void add_foreign_keys(table_def& t, std::vector<std::tuple<text, text, text, text, text>> rows) {
    for (auto& [name, column, ref, ref_column, del] : rows) {
        foreign_key_def fk;
        fk.name = std::move(name);
        fk.column = std::move(column);
        fk.ref_table = std::move(ref);
        fk.ref_column = std::move(ref_column);
        fk.on_delete = action_from(del);  // PostgreSQL's one-letter codes or MySQL's words
        t.foreign_keys.push_back(std::move(fk));
    }
}

Task<void> read_sqlite(Session& db, table_def& t) {
    auto cols = co_await db.query<std::tuple<text, text, std::int64_t, opt_text, std::int64_t>>(
        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid", t.name);
    std::vector<std::pair<std::int64_t, std::string>> pk;
    for (auto& [name, type, notnull, dflt, key] : cols) {
        column_def c;
        c.name = name;
        c.declared_type = upper(type);
        c.nullable = notnull == 0 && key == 0;
        c.default_sql = dflt;
        classify(c);
        if (key > 0) pk.emplace_back(key, name);
        t.columns.push_back(std::move(c));
    }
    std::sort(pk.begin(), pk.end());
    for (auto& [n, name] : pk) t.primary_key.push_back(name);
    for (auto& c : t.columns)  // INTEGER PRIMARY KEY: the rowid alias, generated
        if (t.primary_key.size() == 1 && c.name == t.primary_key[0] && c.declared_type == "INTEGER") c.auto_increment = true;
    auto indexes = co_await db.query<std::tuple<text, std::int64_t, text>>(
        "SELECT name, \"unique\", origin FROM pragma_index_list(?)", t.name);
    for (auto& [name, unique, origin] : indexes) {
        if (origin != "c") continue;  // the automatic indexes of PRIMARY KEY / UNIQUE constraints
        index_def ix{name, {}, unique != 0};
        ix.columns = co_await db.query<text>("SELECT name FROM pragma_index_info(?) ORDER BY seqno", name);
        t.indexes.push_back(std::move(ix));
    }
    // SQLite keeps no constraint names: the conventional one is assumed.
    add_foreign_keys(t, co_await db.query<std::tuple<text, text, text, text, text>>(
                            "SELECT '', \"from\", \"table\", \"to\", on_delete FROM pragma_foreign_key_list(?) ORDER BY id",
                            t.name));
}

std::string pg_type(const std::string& data_type, const std::optional<std::int64_t>& length) {
    if (data_type == "character varying") return length ? fmt::format("VARCHAR({})", *length) : "VARCHAR";
    if (data_type == "timestamp with time zone") return "TIMESTAMPTZ";
    return upper(data_type);
}

Task<void> read_postgres(Session& db, table_def& t) {
    auto cols = co_await db.query<std::tuple<text, text, std::optional<std::int64_t>, text, opt_text, text>>(
        "SELECT column_name::text, data_type::text, character_maximum_length::bigint, is_nullable::text, "
        "column_default::text, is_identity::text FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
        t.name);
    for (auto& [name, type, length, nullable, dflt, identity] : cols) {
        column_def c;
        c.name = name;
        c.declared_type = pg_type(type, length);
        c.nullable = nullable == "YES";
        c.auto_increment = identity == "YES" || (dflt && dflt->starts_with("nextval("));
        if (!c.auto_increment) c.default_sql = dflt;
        classify(c);
        t.columns.push_back(std::move(c));
    }
    t.primary_key = co_await db.query<text>(
        "SELECT a.attname::text FROM pg_index ix JOIN pg_class c ON c.oid = ix.indrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) ON true "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
        "WHERE n.nspname = current_schema() AND c.relname = ? AND ix.indisprimary ORDER BY k.ord",
        t.name);
    auto indexes = co_await db.query<std::tuple<text, bool, text>>(
        "SELECT i.relname::text, ix.indisunique, a.attname::text FROM pg_index ix "
        "JOIN pg_class c ON c.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) ON true "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
        "WHERE n.nspname = current_schema() AND c.relname = ? AND NOT ix.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid) "
        "ORDER BY i.relname, k.ord",
        t.name);
    for (auto& [name, unique, column] : indexes) {
        if (t.indexes.empty() || t.indexes.back().name != name) t.indexes.push_back(index_def{name, {}, unique});
        t.indexes.back().columns.push_back(column);
    }
    auto fks = co_await db.query<std::tuple<text, text, text, text, text>>(
        "SELECT con.conname::text, a.attname::text, rt.relname::text, ra.attname::text, con.confdeltype::text "
        "FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_class rt ON rt.oid = con.confrelid "
        "JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1] "
        "JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[1] "
        "WHERE con.contype = 'f' AND n.nspname = current_schema() AND c.relname = ? ORDER BY con.conname",
        t.name);
    add_foreign_keys(t, std::move(fks));
}

std::string mysql_type(std::string type) {
    type = upper(type);
    if (type == "TINYINT(1)") return "BOOLEAN";
    for (const char* integer : {"BIGINT", "SMALLINT", "TINYINT", "MEDIUMINT", "INT"}) {
        if (type.starts_with(integer) && type.find('(') == std::string_view{integer}.size()) {
            const auto close = type.find(')');
            return std::string{integer} + type.substr(close + 1);  // drop the display width, keep UNSIGNED
        }
    }
    return type;
}

Task<void> read_mysql(Session& db, table_def& t) {
    auto cols = co_await db.query<std::tuple<text, text, text, opt_text, text>>(
        "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
        t.name);
    for (auto& [name, type, nullable, dflt, extra] : cols) {
        column_def c;
        c.name = name;
        c.declared_type = mysql_type(type);
        c.nullable = nullable == "YES";
        c.auto_increment = upper(extra).find("AUTO_INCREMENT") != std::string::npos;
        if (!c.auto_increment) c.default_sql = dflt;
        classify(c);
        t.columns.push_back(std::move(c));
    }
    auto fks = co_await db.query<std::tuple<text, text, text, text, text>>(
        "SELECT k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE "
        "FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
        "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
        "WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL "
        "ORDER BY k.CONSTRAINT_NAME",
        t.name);
    add_foreign_keys(t, std::move(fks));
    auto indexes = co_await db.query<std::tuple<text, std::int64_t, text>>(
        "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX",
        t.name);
    for (auto& [name, non_unique, column] : indexes) {
        if (name == "PRIMARY") {
            t.primary_key.push_back(column);
            continue;
        }
        // MySQL gives a foreign key without a usable index one of its own, named after the constraint.
        const std::string& index = name;  // (clang 14 cannot capture a structured binding)
        if (std::any_of(t.foreign_keys.begin(), t.foreign_keys.end(), [&](const auto& fk) { return fk.name == index; }))
            continue;
        if (t.indexes.empty() || t.indexes.back().name != name) t.indexes.push_back(index_def{name, {}, non_unique == 0});
        t.indexes.back().columns.push_back(column);
    }
}

}  // namespace

Task<std::vector<table_def>> read_schema(Session& db, const std::string& skip_table) {
    const dialect d = db.dialect();
    std::vector<std::string> names;
    if (d == dialect::sqlite)
        names = co_await db.query<std::string>(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name");
    else if (d == dialect::postgresql)
        names = co_await db.query<std::string>(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' ORDER BY table_name");
    else
        names = co_await db.query<std::string>(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME");
    std::vector<table_def> out;
    for (const auto& name : names) {
        if (name == skip_table) continue;
        table_def t;
        t.name = name;
        t.read_from = d;
        if (d == dialect::sqlite) co_await read_sqlite(db, t);
        else if (d == dialect::postgresql) co_await read_postgres(db, t);
        else co_await read_mysql(db, t);
        out.push_back(std::move(t));
    }
    co_return out;
}

}  // namespace detail
}  // namespace zephyr::db
