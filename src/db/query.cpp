#include <zephyr/db/query.hpp>
#include <zephyr/db/repository.hpp>

#include <fmt/format.h>

namespace zephyr::db::detail {

fragment& fragment::text(std::string_view s) {
    if (s.empty()) return *this;
    if (!pieces_.empty())
        if (auto* last = std::get_if<std::string>(&pieces_.back())) {
            last->append(s);
            return *this;
        }
    pieces_.emplace_back(std::string{s});
    return *this;
}

fragment& fragment::id(std::string_view table, std::string_view column) {
    pieces_.emplace_back(ident{std::string{table}, std::string{column}});
    return *this;
}

fragment& fragment::param(Value v) {
    pieces_.emplace_back(std::move(v));
    return *this;
}

fragment& fragment::silent_param(Value v) {
    pieces_.emplace_back(bound{std::move(v)});
    return *this;
}

fragment& fragment::add(special s) {
    pieces_.emplace_back(s);
    return *this;
}

fragment& fragment::append(const fragment& f) {
    for (const auto& p : f.pieces_) {
        if (const auto* s = std::get_if<std::string>(&p))
            text(*s);
        else
            pieces_.push_back(p);
    }
    return *this;
}

fragment& fragment::append(fragment&& f) {
    for (auto& p : f.pieces_) {
        if (const auto* s = std::get_if<std::string>(&p))
            text(*s);
        else
            pieces_.push_back(std::move(p));
    }
    f.pieces_.clear();
    return *this;
}

std::string quote(std::string_view name, dialect d) {
    const char q = d == dialect::mysql ? '`' : '"';
    std::string out;
    out.reserve(name.size() + 2);
    out += q;
    for (char c : name) {
        if (c == q) out += q;  // doubled: the only escape inside a quoted identifier
        out += c;
    }
    out += q;
    return out;
}

statement render(const fragment& f, dialect d) {
    statement st;
    for (const auto& p : f.pieces()) {
        if (const auto* s = std::get_if<std::string>(&p)) {
            st.sql += *s;
        } else if (const auto* i = std::get_if<ident>(&p)) {
            if (!i->table.empty()) {
                st.sql += quote(i->table, d);
                st.sql += '.';
            }
            st.sql += quote(i->column, d);
        } else if (const auto* v = std::get_if<Value>(&p)) {
            st.sql += '?';
            st.params.push_back(*v);
        } else if (const auto* b = std::get_if<bound>(&p)) {
            st.params.push_back(b->value);
        } else if (std::get<special>(p) == special::like_escape) {
            // One escape character everywhere (SQLite has none by default); MySQL's literals escape backslashes.
            st.sql += d == dialect::mysql ? "'\\\\'" : "'\\'";
        } else {
            // LIMIT with only an OFFSET: each dialect has its own "no limit".
            st.sql += d == dialect::postgresql ? "ALL" : d == dialect::sqlite ? "-1" : "18446744073709551615";
        }
    }
    return st;
}

void unsupported(std::string_view what, dialect d) {
    throw Error{errc::misuse, fmt::format("{} is not supported on {}", what, to_string(d))};
}

void check_returning(dialect d, std::string_view statement_kind) {
    // MariaDB has INSERT ... RETURNING and DELETE ... RETURNING (10.5+), but no UPDATE ... RETURNING.
    if (d == dialect::mysql && statement_kind == "UPDATE") unsupported("UPDATE ... RETURNING", d);
}

std::string like_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

std::string key_text(const Value& v) {
    switch (v.type()) {
        case Value::kind::integer:
            return std::to_string(v.as_int());
        case Value::kind::text:
        case Value::kind::blob:
            return v.as_text();
        default:
            return v.describe();
    }
}

expr<bool> column_equals(std::string_view table, std::string_view column, Value v) {
    fragment f;
    f.text("(").id(table, column).text(" = ").param(std::move(v)).text(")");
    return expr<bool>{std::move(f)};
}

expr<bool> column_in(std::string_view table, std::string_view column, const std::vector<Value>& keys, std::size_t from,
                     std::size_t to) {
    fragment f;
    if (from >= to) return expr<bool>{std::move(f.text("(1=0)"))};
    f.text("(").id(table, column).text(" IN (");
    for (std::size_t i = from; i < to; ++i)
        f.text(i == from ? "" : ", ").param(keys[i]);
    f.text("))");
    return expr<bool>{std::move(f)};
}

Task<void> advance_generated_key(Session& db, const table_def& t, const column_def& key, std::int64_t value) {
    if (db.dialect() != dialect::postgresql || value <= 0) co_return;
    // setval only when the sequence is behind (never moves it back); pg_sequence_last_value is NULL before the
    // first nextval.
    co_await db.execute(
        "SELECT setval(s.seq, ?) FROM (SELECT pg_get_serial_sequence(?, ?)::regclass AS seq) s "
        "WHERE s.seq IS NOT NULL AND ? > COALESCE(pg_sequence_last_value(s.seq), 0)",
        value, quote(t.name, dialect::postgresql), key.name, value);
}

void missing_row(std::string_view table, const Value& key) {
    throw not_found{fmt::format("no row of {} has the key {}", table, key.describe())};
}

void not_a_relation(std::string_view table, std::string_view member, std::string_view why) {
    throw Error{errc::misuse, fmt::format("db model '{}': member '{}' {}", table, member, why)};
}

}  // namespace zephyr::db::detail
