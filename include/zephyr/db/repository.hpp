// zephyr/db/repository.hpp — the everyday operations on models, and eager loading of relations.
//
//     user u{.name = "ada", .age = 36};
//     co_await db::insert(db, u);                       // u.id and the timestamps are set
//     u.age = 37;
//     co_await db::update(db, u);                       // by primary key; db::not_found (404) if it is gone
//     std::optional<user> a = co_await db::find<user>(db, u.id);
//     user b = co_await db::get<user>(db, u.id);        // db::not_found (404) when missing
//     auto page = co_await db::paginate(db, db::select<user>().order_by(&user::name), 2, 20);
//     auto authors = co_await db::select<user>().with(&user::posts).all(db);   // 2 queries in all
#pragma once

// clang-format 14 joins requires-clauses onto the declarations they constrain: this file keeps its layout.
// clang-format off

#include <zephyr/db/query.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace zephyr::db {

/// One page of a query's rows and what a client needs to page through them.
template <class T>
struct page {
    std::vector<T> items;
    std::int64_t total = 0;     ///< Rows over all pages.
    std::int64_t number = 1;    ///< This page, from 1.
    std::int64_t per_page = 0;
    std::int64_t pages() const noexcept { return per_page > 0 ? (total + per_page - 1) / per_page : 0; }
};

namespace detail {

/// `"table"."column" = ?`
expr<bool> column_equals(std::string_view table, std::string_view column, Value v);
/// `"table"."column" IN (?, ...)` over keys[from, to).
expr<bool> column_in(std::string_view table, std::string_view column, const std::vector<Value>& keys, std::size_t from,
                     std::size_t to);
/// How many keys one eager-loading query binds at most (the databases' parameter limits are far above).
inline constexpr std::size_t keys_per_query = 1000;

/// Now, at the precision the databases keep (microseconds), so what is written reads back equal.
inline std::chrono::system_clock::time_point stamp_now() {
    return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

template <class T>
void set_time(T& obj, std::string_view column, std::chrono::system_clock::time_point t) {
    if (column.empty()) return;
    visit_column<T>(column, [&](auto d) {
        using M = std::remove_cvref_t<decltype(obj.*d.pointer)>;
        if constexpr (std::is_same_v<M, std::chrono::system_clock::time_point>) obj.*d.pointer = t;
    });
}

template <class T>
void set_key(T& obj, std::string_view column, std::int64_t id) {
    visit_column<T>(column, [&](auto d) {
        using M = std::remove_cvref_t<decltype(obj.*d.pointer)>;
        if constexpr (std::is_integral_v<M> && !std::is_same_v<M, bool>) obj.*d.pointer = static_cast<M>(id);
    });
}

/// The generated key column of T when obj leaves it to the database (0), else null.
template <class T>
const column_def* pending_key(const T& obj) {
    const column_def* c = generated_key(schema_of<T>());
    if (!c) return nullptr;
    const Value v = column_value(obj, c->name);
    return v.type() == Value::kind::integer && v.as_int() == 0 ? c : nullptr;
}

template <class T>
Task<void> insert_returning_key(Session& db, T& obj, const column_def& key) {
    if (db.dialect() == dialect::mysql) {
        detail::statement st = db::insert(obj).to_sql(dialect::mysql);
        const exec_result r = co_await db.run(st.sql, st.params, nullptr);
        if (r.last_insert_id) set_key(obj, key.name, *r.last_insert_id);
    } else {
        detail::statement st = db::insert(obj).to_sql(db.dialect());
        st.sql += " RETURNING " + quote(key.name, db.dialect());
        set_key(obj, key.name, co_await db.query_one_params<std::int64_t>(st.sql, std::move(st.params)));
    }
}

template <class T>
detail::statement update_statement(const T& obj, dialect d) {
    const table_def& t = schema_of<T>();
    const std::string& key = t.key();
    fragment f;
    f.text("UPDATE ").id("", t.name).text(" SET ");
    bool first = true;
    for (const auto& c : t.columns) {
        if (c.name == key || c.name == t.created_at) continue;
        f.text(first ? "" : ", ").id("", c.name).text(" = ").param(column_value(obj, c.name));
        first = false;
    }
    if (first) bad_model(t.name, "update() of a table whose only column is its key");
    f.text(" WHERE ").append(column_equals(t.name, key, column_value(obj, key)).sql());
    return render(f, d);
}

template <class T>
Task<bool> run_update(Session& db, T& obj) {
    set_time(obj, schema_of<T>().updated_at, stamp_now());
    detail::statement st = update_statement(obj, db.dialect());
    const exec_result r = co_await db.run(st.sql, st.params, nullptr);
    co_return r.affected_rows > 0;
}

[[noreturn]] void missing_row(std::string_view table, const Value& key);

// Eager loading: one query per relation (per keys_per_query keys), rows matched to owners by key text.
template <class T>
struct owners {
    std::vector<Value> keys;
    std::unordered_map<std::string, std::vector<std::size_t>> rows;

    void add(const Value& key, std::size_t row) {
        if (key.is_null()) return;
        auto& r = rows[key_text(key)];
        if (r.empty()) keys.push_back(key);
        r.push_back(row);
    }
    const std::vector<std::size_t>* find(const Value& key) const {
        auto it = rows.find(key_text(key));
        return it == rows.end() ? nullptr : &it->second;
    }
};

/// Empties relation `m` of every row and collects the rows by the value of `key_column`.
template <class T, class M>
owners<T> owners_by(std::vector<T>& rows, M T::*m, const std::string& key_column) {
    owners<T> own;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        rows[i].*m = M{};
        own.add(column_value(rows[i], key_column), i);
    }
    return own;
}

template <class T, class C>
Task<void> load_has_many(Session& db, std::vector<T>& rows, std::vector<C> T::*m, relation_def r) {
    const table_def& t = schema_of<T>();
    const table_def& c = schema_of<C>();
    owners<T> own = owners_by(rows, m, t.key());
    for (std::size_t from = 0; from < own.keys.size(); from += keys_per_query) {
        const std::size_t to = std::min(own.keys.size(), from + keys_per_query);
        auto q = select<C>().where(column_in(c.name, r.foreign_key, own.keys, from, to));
        if (c.primary_key.size() == 1) q.order_by(expr<int>{fragment{}.id(c.name, c.primary_key.front())});
        std::vector<C> children = co_await q.all(db);
        for (auto& child : children) {
            if (const auto* idx = own.find(column_value(child, r.foreign_key)))
                for (std::size_t i : *idx) (rows[i].*m).push_back(child);
        }
    }
}

template <class T, class P>
Task<void> load_belongs_to(Session& db, std::vector<T>& rows, std::optional<P> T::*m, relation_def r) {
    const table_def& p = schema_of<P>();
    owners<T> own = owners_by(rows, m, r.foreign_key);
    for (std::size_t from = 0; from < own.keys.size(); from += keys_per_query) {
        const std::size_t to = std::min(own.keys.size(), from + keys_per_query);
        std::vector<P> parents = co_await select<P>().where(column_in(p.name, p.key(), own.keys, from, to)).all(db);
        for (auto& parent : parents) {
            if (const auto* idx = own.find(column_value(parent, p.key())))
                for (std::size_t i : *idx) rows[i].*m = parent;
        }
    }
}

/// Rows of C with the key of the row they belong to (a many-to-many join table's column).
template <class C>
class owned_sink final : public RowSink {
public:
    void on_row(const Row& row) override {
        if (owner_ == static_cast<std::size_t>(-1)) owner_ = row.index_of("zephyr_owner_key");
        rows.emplace_back(std::string{row.get_text(owner_)}, reader_.read(row));
    }
    std::vector<std::pair<std::string, C>> rows;

private:
    row_reader<C> reader_;
    std::size_t owner_ = static_cast<std::size_t>(-1);
};

template <class T, class C>
Task<void> load_many_to_many(Session& db, std::vector<T>& rows, std::vector<C> T::*m, relation_def r) {
    const table_def& t = schema_of<T>();
    const table_def& c = schema_of<C>();
    owners<T> own = owners_by(rows, m, t.key());
    for (std::size_t from = 0; from < own.keys.size(); from += keys_per_query) {
        const std::size_t to = std::min(own.keys.size(), from + keys_per_query);
        fragment f;
        f.text("SELECT ").append(model_columns<C>()).text(", ").id(r.through, r.foreign_key);
        f.text(" AS ").id("", "zephyr_owner_key").text(" FROM ").id("", c.name).text(" JOIN ").id("", r.through);
        f.text(" ON ").id(r.through, r.other_key).text(" = ").id(c.name, c.key()).text(" WHERE ");
        f.append(column_in(r.through, r.foreign_key, own.keys, from, to).sql());
        f.text(" ORDER BY ").id(c.name, c.key());
        statement st = render(f, db.dialect());
        owned_sink<C> sink;
        co_await db.run(st.sql, st.params, &sink);
        for (auto& [owner, child] : sink.rows) {
            auto it = own.rows.find(owner);
            if (it == own.rows.end()) continue;
            for (std::size_t i : it->second) (rows[i].*m).push_back(child);
        }
    }
}

[[noreturn]] void not_a_relation(std::string_view table, std::string_view member, std::string_view why);

template <class T, class Member>
loader<T> make_loader(Member T::*m) {
    const table_def& t = schema_of<T>();
    const std::string_view name = member_name(m);
    const relation_def* found = t.relation(name);
    if (!found) not_a_relation(t.name, name, "is not declared as a relation in its model");
    relation_def r = *found;
    if constexpr (is_relation_shape<Member>::value) {
        using Other = typename Member::value_type;
        if constexpr (std::is_same_v<Member, std::vector<Other>>) {
            if (r.kind == relation_kind::has_many)
                return [m, r](Session& db, std::vector<T>& rows) { return load_has_many<T, Other>(db, rows, m, r); };
            if (r.kind == relation_kind::many_to_many)
                return [m, r](Session& db, std::vector<T>& rows) { return load_many_to_many<T, Other>(db, rows, m, r); };
        } else {
            if (r.kind == relation_kind::belongs_to)
                return [m, r](Session& db, std::vector<T>& rows) { return load_belongs_to<T, Other>(db, rows, m, r); };
        }
        not_a_relation(t.name, name, "has a type that does not fit its relation kind");
    } else {
        static_assert(is_relation_shape<Member>::value,
                      "with()/load(): the member must be a relation (std::vector<Model> or std::optional<Model>)");
    }
}

/// Loads `first` into the rows, then `then` into all the related rows it brought, which are moved out of their
/// owners for it and back after.
template <class T, class Member, class Child>
Task<void> load_nested(Session& db, std::vector<T>& rows, Member T::*m, loader<T> first, std::vector<loader<Child>> then) {
    co_await first(db, rows);
    std::vector<Child> flat;
    for (T& row : rows) {
        Member& related = row.*m;
        if constexpr (std::is_same_v<Member, std::optional<Child>>) {
            if (related) flat.push_back(std::move(*related));
        } else {
            for (Child& c : related) flat.push_back(std::move(c));
        }
    }
    for (auto& load : then) co_await load(db, flat);
    std::size_t next = 0;
    for (T& row : rows) {
        Member& related = row.*m;
        if constexpr (std::is_same_v<Member, std::optional<Child>>) {
            if (related) *related = std::move(flat[next++]);
        } else {
            for (Child& c : related) c = std::move(flat[next++]);
        }
    }
}

template <class T, class Member, class... Next>
loader<T> make_loader(const nested_relation<T, Member, Next...>& n) {
    static_assert(is_relation_shape<Member>::value,
                  "nested(): the first member must be a relation (std::vector<Model> or std::optional<Model>)");
    using Child = typename Member::value_type;
    loader<T> first = make_loader<T>(n.member);
    std::vector<loader<Child>> then;
    std::apply([&](const auto&... next) { (then.push_back(make_loader<Child>(next)), ...); }, n.next);
    Member T::*m = n.member;
    return [m, first = std::move(first), then = std::move(then)](Session& db, std::vector<T>& rows) {
        return load_nested<T, Member, Child>(db, rows, m, first, then);
    };
}

}  // namespace detail

/// The row with this primary key, or nullopt.
template <model_type T, class K>
Task<std::optional<T>> find(Session& db, const K& key) {
    const table_def& t = schema_of<T>();
    return select<T>().where(detail::column_equals(t.name, t.key(), field<std::decay_t<K>>::to_value(key))).first(db);
}

/// The row with this primary key; throws db::not_found (HTTP 404) when there is none.
template <model_type T, class K>
Task<T> get(Session& db, const K& key) {
    const table_def& t = schema_of<T>();
    return select<T>().where(detail::column_equals(t.name, t.key(), field<std::decay_t<K>>::to_value(key))).one(db);
}

/// The first row whose column `m` equals `v`, or nullopt.
template <model_type T, class M, class V>
    requires comparable_with<M, V>
Task<std::optional<T>> find_by(Session& db, M T::*m, const V& v) {
    return select<T>().where(col(m) == v).first(db);
}

/// Every row, by primary key.
template <model_type T>
Task<std::vector<T>> all(Session& db) {
    const table_def& t = schema_of<T>();
    auto q = select<T>();
    for (const auto& k : t.primary_key) q.order_by(expr<int>{detail::fragment{}.id(t.name, k)});
    return q.all(db);
}

/// The rows matching a condition.
template <model_type T>
Task<std::vector<T>> where(Session& db, const expr<bool>& condition) {
    return select<T>().where(condition).all(db);
}

template <model_type T>
Task<std::int64_t> count(Session& db) {
    return select<T>().count(db);
}
template <model_type T>
Task<std::int64_t> count(Session& db, const expr<bool>& condition) {
    return select<T>().where(condition).count(db);
}
template <model_type T>
Task<bool> exists(Session& db, const expr<bool>& condition) {
    return select<T>().where(condition).exists(db);
}

/// Inserts `obj`; sets its generated key (when it was 0) and its timestamps (the creation time only when it
/// was not set: imports keep theirs). A generated key given a value of its own keeps it, and later generated
/// keys come after it, on every dialect.
template <model_type T>
Task<void> insert(Session& db, T& obj) {
    const table_def& t = schema_of<T>();
    const auto now = detail::stamp_now();
    if (!t.created_at.empty() && detail::column_value(obj, t.created_at).as_int() == 0)
        detail::set_time(obj, t.created_at, now);
    detail::set_time(obj, t.updated_at, now);
    if (const column_def* key = detail::pending_key(obj)) {
        co_await detail::insert_returning_key(db, obj, *key);
    } else {
        co_await db::insert(obj).execute(db);  // moves the key's sequence past a key of its own
    }
}

/// Writes every column of `obj` (but its key and creation time) to its row; sets the update timestamp. Throws
/// db::not_found (HTTP 404) when no row has its key.
template <model_type T>
Task<void> update(Session& db, T& obj) {
    const bool found = co_await detail::run_update(db, obj);
    if (!found) {
        const table_def& t = schema_of<T>();
        detail::missing_row(t.name, detail::column_value(obj, t.key()));
    }
}

/// Inserts `obj` when its generated key is 0, else updates its row (inserting it when there is none).
template <model_type T>
Task<void> save(Session& db, T& obj) {
    // Statement by statement: GCC 12 miscompiles co_await inside conditions here.
    bool updated = false;
    if (detail::pending_key(obj) == nullptr) updated = co_await detail::run_update(db, obj);
    if (!updated) co_await db::insert(db, obj);
}

/// Deletes the row of `obj`; false when there was none.
template <model_type T>
Task<bool> remove(Session& db, const T& obj) {
    const table_def& t = schema_of<T>();
    const exec_result r = co_await delete_from<T>()
                              .where(detail::column_equals(t.name, t.key(), detail::column_value(obj, t.key())))
                              .execute(db);
    co_return r.affected_rows > 0;
}

/// Deletes the row with this primary key; false when there was none.
template <model_type T, class K>
    requires(!std::is_same_v<std::decay_t<K>, T>)
Task<bool> remove(Session& db, const K& key) {
    const table_def& t = schema_of<T>();
    const exec_result r =
        co_await delete_from<T>().where(detail::column_equals(t.name, t.key(), field<std::decay_t<K>>::to_value(key))).execute(db);
    co_return r.affected_rows > 0;
}

/// Page `number` (from 1) of `per_page` rows of a query, with the total count. Give the query an order_by():
/// pages of an unordered query may overlap. A page past the last has no items; a number or per_page below 1
/// throws db::invalid_argument (HTTP 400 when it escapes a handler). Cap per_page yourself when it comes from
/// the request.
template <class T, class R>
Task<page<R>> paginate(Session& db, select_query<T, R> q, std::int64_t number, std::int64_t per_page) {
    if (number < 1) throw invalid_argument{"page numbers start at 1 (got " + std::to_string(number) + ")"};
    if (per_page < 1) throw invalid_argument{"per_page must be at least 1 (got " + std::to_string(per_page) + ")"};
    page<R> out;
    out.number = number;
    out.per_page = per_page;
    out.total = co_await q.count(db);
    if ((number - 1) * per_page < out.total) out.items = co_await q.limit(per_page).offset((number - 1) * per_page).all(db);
    co_return out;
}

/// Loads a relation of rows already read (one query for all of them). `relation` is a member
/// (`&author::posts`) or a db::nested() path.
template <class T, class Relation>
Task<void> load(Session& db, std::vector<T>& rows, Relation relation) {
    co_await detail::make_loader<T>(relation)(db, rows);
}

/// Loads a relation of one row.
template <model_type T, class Relation>
Task<void> load(Session& db, T& row, Relation relation) {
    std::vector<T> rows;
    rows.push_back(std::move(row));
    co_await detail::make_loader<T>(relation)(db, rows);
    row = std::move(rows.front());
}

}  // namespace zephyr::db
// clang-format on
