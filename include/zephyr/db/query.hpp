// zephyr/db/query.hpp — a query builder over models, with columns named by member pointers.
//
// Conditions are typed: `col(&user::age) > 18` compiles, `col(&user::age) > "x"` does not. Every value is bound
// as a parameter; identifiers come from the model declarations and are quoted for the dialect. The SQL is built
// when the query runs, for the dialect of the session it runs on.
//
//     using namespace zephyr::db;
//     auto adults = co_await select<user>()
//                        .where(col(&user::age) > 18 && col(&user::name).like("a%"))
//                        .order_by(&user::created_at, desc)
//                        .limit(20)
//                        .all(db);
//     auto per_team = co_await select<user>(col(&user::team_id), count())   // rows are tuple<int64_t, int64_t>
//                          .group_by(col(&user::team_id))
//                          .having(count() > 1)
//                          .all(db);
//     co_await update<user>().set(&user::visits, col(&user::visits) + 1).where(col(&user::id) == id).execute(db);
//     co_await delete_from<user>().where(col(&user::last_seen) < cutoff).execute(db);
#pragma once

// clang-format 14 joins requires-clauses onto the declarations they constrain: this file keeps its layout.
// clang-format off

#include <zephyr/core/task.hpp>
#include <zephyr/db/error.hpp>
#include <zephyr/db/model.hpp>
#include <zephyr/db/session.hpp>
#include <zephyr/db/value.hpp>

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace zephyr::db {

enum class order { asc, desc };
inline constexpr order asc = order::asc;
inline constexpr order desc = order::desc;

namespace detail {

/// A quoted identifier: "table"."column", or "column" when table is empty.
struct ident {
    std::string table;
    std::string column;
};
/// A value bound by a raw fragment's own `?` (rendered as nothing).
struct bound {
    Value value;
};
/// Text that differs by dialect.
enum class special : std::uint8_t { no_limit, like_escape };

using piece = std::variant<std::string, ident, Value, bound, special>;

/// SQL under construction, dialect-neutral: text, identifiers and bound values.
class fragment {
public:
    fragment& text(std::string_view s);
    fragment& id(std::string_view table, std::string_view column);
    fragment& param(Value v);
    fragment& silent_param(Value v);
    fragment& add(special s);
    fragment& append(const fragment& f);
    fragment& append(fragment&& f);
    bool empty() const noexcept { return pieces_.empty(); }
    const std::vector<piece>& pieces() const noexcept { return pieces_; }

private:
    std::vector<piece> pieces_;
};

/// SQL text with `?` placeholders and the values they stand for.
struct statement {
    std::string sql;
    Params params;
};

statement render(const fragment& f, dialect d);
/// `"name"` or `` `name` ``, for the dialect.
std::string quote(std::string_view name, dialect d);
[[noreturn]] void unsupported(std::string_view what, dialect d);
/// `text` with LIKE's wildcards and the escape character escaped.
std::string like_escape(std::string_view text);
/// A key as text for matching rows in eager loading (integers and text compare by their text).
std::string key_text(const Value& v);

template <class T>
struct unoptional {
    using type = T;
};
template <class T>
struct unoptional<std::optional<T>> {
    using type = T;
};
template <class T>
using unopt_t = typename unoptional<std::remove_cvref_t<T>>::type;

// What kind of SQL value a C++ type is, for checking comparisons at compile time.
struct text_family {};
struct number_family {};
template <class T>
struct family {
    using type = T;
};
template <std::integral T>
struct family<T> {
    using type = std::conditional_t<std::is_same_v<T, bool>, bool, number_family>;
};
template <std::floating_point T>
struct family<T> {
    using type = number_family;
};
template <>
struct family<std::string> {
    using type = text_family;
};
template <>
struct family<std::string_view> {
    using type = text_family;
};
template <>
struct family<const char*> {
    using type = text_family;
};
template <>
struct family<char*> {
    using type = text_family;
};
template <class T>
using family_t = typename family<unopt_t<std::decay_t<T>>>::type;

}  // namespace detail

template <class A, class B>
concept comparable_with = std::is_same_v<detail::family_t<A>, detail::family_t<B>>;

template <class T>
class expr;

template <class T>
struct is_expr : std::false_type {};
template <class T>
struct is_expr<expr<T>> : std::true_type {};

/// A select-list item with a name: `count().as("n")`.
struct aliased {
    detail::fragment sql;
};

/// An ORDER BY item.
struct ordering {
    detail::fragment sql;
};

template <class T, class R>
class select_query;

/// An SQL expression whose value has C++ type T (a column, an aggregate, arithmetic, a condition when T is bool).
template <class T>
class expr {
public:
    using value_type = T;

    explicit expr(detail::fragment f) : sql_{std::move(f)} {}

    const detail::fragment& sql() const& noexcept { return sql_; }
    detail::fragment&& sql() && noexcept { return std::move(sql_); }

    expr<bool> is_null() const { return suffix(" IS NULL"); }
    expr<bool> is_not_null() const { return suffix(" IS NOT NULL"); }

    /// SQL LIKE: `%` is any text, `_` one character, a backslash makes the next character literal (in every
    /// dialect). Case sensitivity is the column's (PostgreSQL: sensitive; MySQL, SQLite for ASCII: not).
    template <class V>
        requires comparable_with<T, V>
    expr<bool> like(const V& pattern) const {
        return like_value(field<std::decay_t<V>>::to_value(pattern));
    }
    /// The column contains `text` literally (`%` and `_` in it are not wildcards): for search boxes.
    expr<bool> contains(std::string_view text) const {
        return like_value(Value{"%" + detail::like_escape(text) + "%"});
    }
    expr<bool> starts_with(std::string_view text) const {
        return like_value(Value{detail::like_escape(text) + "%"});
    }
    expr<bool> ends_with(std::string_view text) const {
        return like_value(Value{"%" + detail::like_escape(text)});
    }

    /// `col IN (?, ?, ...)` for the values of a range; an empty range matches nothing.
    template <std::ranges::input_range Range>
        requires comparable_with<T, std::ranges::range_value_t<Range>>
    expr<bool> in_(const Range& values) const {
        return in_list(values, false);
    }
    template <class V>
        requires comparable_with<T, V>
    expr<bool> in_(std::initializer_list<V> values) const {
        return in_list(values, false);
    }
    template <std::ranges::input_range Range>
        requires comparable_with<T, std::ranges::range_value_t<Range>>
    expr<bool> not_in(const Range& values) const {
        return in_list(values, true);
    }
    template <class V>
        requires comparable_with<T, V>
    expr<bool> not_in(std::initializer_list<V> values) const {
        return in_list(values, true);
    }
    /// `col IN (SELECT ...)`: a query selecting one column.
    template <class M, class V>
        requires comparable_with<T, V>
    expr<bool> in_(const select_query<M, std::tuple<V>>& q) const {
        return in_query(q.to_fragment(), false);
    }
    /// `col NOT IN (SELECT ...)`. As in SQL, a NULL among the subquery's values makes it match nothing: select
    /// a NOT NULL column, or filter the NULLs out in the subquery.
    template <class M, class V>
        requires comparable_with<T, V>
    expr<bool> not_in(const select_query<M, std::tuple<V>>& q) const {
        return in_query(q.to_fragment(), true);
    }

    template <class A, class B>
        requires comparable_with<T, A> && comparable_with<T, B>
    expr<bool> between(const A& lo, const B& hi) const {
        detail::fragment f;
        f.text("(").append(sql_).text(" BETWEEN ").param(field<std::decay_t<A>>::to_value(lo)).text(" AND ");
        f.param(field<std::decay_t<B>>::to_value(hi)).text(")");
        return expr<bool>{std::move(f)};
    }

    /// Names the expression in a select list (the name a described result struct's member matches).
    aliased as(std::string_view name) const {
        aliased a{sql_};
        a.sql.text(" AS ").id("", name);
        return a;
    }
    ordering asc() const { return ordering{sql_}; }
    ordering desc() const {
        ordering o{sql_};
        o.sql.text(" DESC");
        return o;
    }

private:
    expr<bool> like_value(Value pattern) const {
        static_assert(std::is_same_v<detail::family_t<T>, detail::text_family>, "like() is for text columns");
        detail::fragment f;
        f.text("(").append(sql_).text(" LIKE ").param(std::move(pattern)).text(" ESCAPE ").add(detail::special::like_escape);
        f.text(")");
        return expr<bool>{std::move(f)};
    }
    expr<bool> suffix(std::string_view s) const {
        detail::fragment f;
        f.text("(").append(sql_).text(s).text(")");
        return expr<bool>{std::move(f)};
    }
    expr<bool> in_query(detail::fragment query, bool negate) const {
        detail::fragment f;
        f.text("(").append(sql_).text(negate ? " NOT IN (" : " IN (").append(std::move(query)).text("))");
        return expr<bool>{std::move(f)};
    }
    template <class Range>
    expr<bool> in_list(const Range& values, bool negate) const {
        detail::fragment list;
        bool any = false;
        for (const auto& v : values) {
            list.text(any ? ", " : "").param(field<std::decay_t<decltype(v)>>::to_value(v));
            any = true;
        }
        detail::fragment f;
        if (!any) {
            f.text(negate ? "(1=1)" : "(1=0)");  // IN () is not SQL; an empty list matches nothing
        } else {
            f.text("(").append(sql_).text(negate ? " NOT IN (" : " IN (").append(std::move(list)).text("))");
        }
        return expr<bool>{std::move(f)};
    }

    detail::fragment sql_;
};

/// The column of model T that `m` points to: `col(&user::age)` is `"users"."age"`.
template <class T, class M>
expr<M> col(M T::*m) {
    detail::fragment f;
    f.id(schema_of<T>().name, detail::member_name(m));
    return expr<M>{std::move(f)};
}

/// Model T under another name in a query: a self-join, or the same table joined twice. Its columns are
/// `a(&T::member)`; join it with `join(a, on)` / `left_join(a, on)`:
///
///     const db::alias<employee> boss{"boss"};
///     auto rows = co_await db::select<employee>(col(&employee::name), boss(&employee::name))
///                     .left_join(boss, boss(&employee::id) == col(&employee::manager_id))
///                     .all(db);
///
/// The name is an identifier (letters, digits, underscores; db::Error misuse otherwise), quoted like a table's.
template <class T>
class alias {
public:
    explicit alias(std::string name) : name_{std::move(name)} { detail::check_identifier(name_, "alias"); }

    /// The column of `m` in this alias: `"boss"."name"`.
    template <class M>
    expr<M> operator()(M T::*m) const {
        detail::fragment f;
        f.id(name_, detail::member_name(m));
        return expr<M>{std::move(f)};
    }
    const std::string& name() const noexcept { return name_; }

private:
    std::string name_;
};

/// A value as an expression (to compare two values, or to select a constant).
template <class V>
expr<std::decay_t<V>> val(const V& v) {
    detail::fragment f;
    f.param(field<std::decay_t<V>>::to_value(v));
    return expr<std::decay_t<V>>{std::move(f)};
}

/// SQL written by hand, with `?` placeholders bound to `args` in order: `raw<bool>("lower(email) = ?", e)`.
/// The text is trusted: never build it from user input (pass input as args).
template <class T = bool, class... Args>
expr<T> raw(std::string_view sql, const Args&... args) {
    detail::fragment f;
    f.text(sql);
    (f.silent_param(field<std::decay_t<Args>>::to_value(args)), ...);
    return expr<T>{std::move(f)};
}

namespace detail {
template <class V>
fragment operand(const V& v) {
    if constexpr (is_expr<V>::value) {
        return v.sql();
    } else {
        static_assert(bindable<std::decay_t<V>>, "db: this value cannot be bound as a parameter");
        fragment f;
        f.param(field<std::decay_t<V>>::to_value(v));
        return f;
    }
}
template <class R, class A, class B>
expr<R> binary(const A& a, std::string_view op, const B& b) {
    fragment f;
    f.text("(").append(operand(a)).text(op).append(operand(b)).text(")");
    return expr<R>{std::move(f)};
}
template <class V>
struct operand_type {
    using type = V;
};
template <class V>
struct operand_type<expr<V>> {
    using type = V;
};
template <class V>
using operand_t = typename operand_type<std::decay_t<V>>::type;
}  // namespace detail

template <class A, class B>
concept expr_operands = (is_expr<std::decay_t<A>>::value || is_expr<std::decay_t<B>>::value) &&
                        comparable_with<detail::operand_t<A>, detail::operand_t<B>>;

#define ZEPHYR_DB_COMPARISON(OP, SQL)                                   \
    template <class A, class B>                                         \
        requires expr_operands<A, B>                                    \
    expr<bool> operator OP(const A& a, const B& b) {                    \
        return detail::binary<bool>(a, SQL, b);                         \
    }
ZEPHYR_DB_COMPARISON(==, " = ")
ZEPHYR_DB_COMPARISON(!=, " <> ")
ZEPHYR_DB_COMPARISON(<, " < ")
ZEPHYR_DB_COMPARISON(<=, " <= ")
ZEPHYR_DB_COMPARISON(>, " > ")
ZEPHYR_DB_COMPARISON(>=, " >= ")
#undef ZEPHYR_DB_COMPARISON

#define ZEPHYR_DB_ARITHMETIC(OP, SQL)                                                                            \
    template <class A, class B>                                                                                  \
        requires expr_operands<A, B> && std::is_same_v<detail::family_t<detail::operand_t<A>>, detail::number_family> \
    auto operator OP(const A& a, const B& b) {                                                                   \
        using R = std::conditional_t<is_expr<std::decay_t<A>>::value, detail::operand_t<A>, detail::operand_t<B>>; \
        return detail::binary<R>(a, SQL, b);                                                                     \
    }
ZEPHYR_DB_ARITHMETIC(+, " + ")
ZEPHYR_DB_ARITHMETIC(-, " - ")
ZEPHYR_DB_ARITHMETIC(*, " * ")
ZEPHYR_DB_ARITHMETIC(/, " / ")
#undef ZEPHYR_DB_ARITHMETIC

inline expr<bool> operator&&(const expr<bool>& a, const expr<bool>& b) {
    return detail::binary<bool>(a, " AND ", b);
}
inline expr<bool> operator||(const expr<bool>& a, const expr<bool>& b) {
    return detail::binary<bool>(a, " OR ", b);
}
inline expr<bool> operator!(const expr<bool>& a) {
    detail::fragment f;
    f.text("(NOT ").append(a.sql()).text(")");
    return expr<bool>{std::move(f)};
}

// Aggregates.
inline expr<std::int64_t> count() {
    return expr<std::int64_t>{detail::fragment{}.text("COUNT(*)")};
}
namespace detail {
template <class R, class T>
expr<R> call(std::string_view fn, const expr<T>& e) {
    fragment f;
    f.text(fn).text("(").append(e.sql()).text(")");
    return expr<R>{std::move(f)};
}
}  // namespace detail
template <class T>
expr<std::int64_t> count(const expr<T>& e) {
    return detail::call<std::int64_t>("COUNT", e);
}
template <class T>
expr<std::int64_t> count_distinct(const expr<T>& e) {
    detail::fragment f;
    f.text("COUNT(DISTINCT ").append(e.sql()).text(")");
    return expr<std::int64_t>{std::move(f)};
}
/// SUM of a numeric expression; NULL (nullopt) over no rows.
template <class T>
expr<std::optional<detail::unopt_t<T>>> sum(const expr<T>& e) {
    return detail::call<std::optional<detail::unopt_t<T>>>("SUM", e);
}
template <class T>
expr<std::optional<double>> avg(const expr<T>& e) {
    return detail::call<std::optional<double>>("AVG", e);
}
template <class T>
expr<std::optional<detail::unopt_t<T>>> min(const expr<T>& e) {
    return detail::call<std::optional<detail::unopt_t<T>>>("MIN", e);
}
template <class T>
expr<std::optional<detail::unopt_t<T>>> max(const expr<T>& e) {
    return detail::call<std::optional<detail::unopt_t<T>>>("MAX", e);
}
/// The first of the expressions that is not NULL.
template <class T, class V>
    requires comparable_with<T, V>
expr<detail::unopt_t<T>> coalesce(const expr<T>& e, const V& fallback) {
    detail::fragment f;
    f.text("COALESCE(").append(e.sql()).text(", ").append(detail::operand(fallback)).text(")");
    return expr<detail::unopt_t<T>>{std::move(f)};
}

/// `EXISTS (SELECT ...)`.
template <class T, class R>
expr<bool> exists(const select_query<T, R>& q) {
    detail::fragment f;
    f.text("EXISTS (").append(q.to_fragment()).text(")");
    return expr<bool>{std::move(f)};
}

namespace detail {

template <class T>
fragment model_columns() {
    const table_def& t = schema_of<T>();
    fragment f;
    bool first = true;
    for (const auto& c : t.columns) {
        if (!first) f.text(", ");
        first = false;
        f.id(t.name, c.name);
    }
    return f;
}

template <class X>
fragment select_item(const X& x) {
    if constexpr (std::is_same_v<X, aliased>)
        return x.sql;
    else
        return x.sql();
}
template <class X>
struct item_type;
template <class V>
struct item_type<expr<V>> {
    using type = V;
};

template <class R>
Task<std::vector<R>> fetch_all(Session& db, statement st) {
    co_return co_await db.query_params<R>(st.sql, std::move(st.params));
}

/// Loads one relation for a batch of rows (see repository.hpp's with()).
template <class T>
using loader = std::function<Task<void>(Session&, std::vector<T>&)>;

template <class T, class Member>
loader<T> make_loader(Member T::*m);

}  // namespace detail

/// A relation of T and relations to load for the rows it brings (see db::nested()).
template <class T, class Member, class... Next>
struct nested_relation {
    Member T::*member;
    std::tuple<Next...> next;
};

/// Eager loading more than one level deep: `nested(&author::posts, &post::tags, &post::writer)` loads each
/// author's posts, then the tags and the writer of all those posts (one query per relation, as ever). The
/// following relations may be nested() themselves. Use it in with() and db::load().
template <class T, class Member, class... Next>
nested_relation<T, Member, Next...> nested(Member T::*member, Next... next) {
    static_assert(sizeof...(Next) > 0, "nested(): name the relations to load for the related rows");
    return nested_relation<T, Member, Next...>{member, std::tuple<Next...>{std::move(next)...}};
}

namespace detail {
template <class T, class Member, class... Next>
loader<T> make_loader(const nested_relation<T, Member, Next...>& n);
}  // namespace detail

/// A SELECT over model T whose rows are read as R (T itself, or a tuple of the selected expressions' types).
template <class T, class R = T>
class select_query {
public:
    using row_type = R;

    select_query() : columns_{detail::model_columns<T>()} {}
    explicit select_query(detail::fragment columns) : columns_{std::move(columns)} {}

    /// Adds a condition (several where() calls are joined with AND).
    select_query& where(const expr<bool>& c) & {
        if (!where_.empty()) where_.text(" AND ");
        where_.append(c.sql());
        return *this;
    }
    select_query where(const expr<bool>& c) && {
        where(c);
        return std::move(*this);
    }

    /// INNER JOIN of model U on a condition.
    template <class U>
    select_query& join(const expr<bool>& on) & {
        add_join<U>(" JOIN ", on);
        return *this;
    }
    template <class U>
    select_query join(const expr<bool>& on) && {
        join<U>(on);
        return std::move(*this);
    }
    template <class U>
    select_query& left_join(const expr<bool>& on) & {
        add_join<U>(" LEFT JOIN ", on);
        return *this;
    }
    template <class U>
    select_query left_join(const expr<bool>& on) && {
        left_join<U>(on);
        return std::move(*this);
    }
    /// JOIN / LEFT JOIN of a model under another name (db::alias).
    template <class U>
    select_query& join(const alias<U>& a, const expr<bool>& on) & {
        add_join_as(" JOIN ", schema_of<U>().name, a.name(), on);
        return *this;
    }
    template <class U>
    select_query join(const alias<U>& a, const expr<bool>& on) && {
        join(a, on);
        return std::move(*this);
    }
    template <class U>
    select_query& left_join(const alias<U>& a, const expr<bool>& on) & {
        add_join_as(" LEFT JOIN ", schema_of<U>().name, a.name(), on);
        return *this;
    }
    template <class U>
    select_query left_join(const alias<U>& a, const expr<bool>& on) && {
        left_join(a, on);
        return std::move(*this);
    }

    template <class V>
    select_query& order_by(const expr<V>& e, order o = order::asc) & {
        return order_by(o == order::asc ? e.asc() : e.desc());
    }
    template <class V>
    select_query order_by(const expr<V>& e, order o = order::asc) && {
        order_by(e, o);
        return std::move(*this);
    }
    template <class U, class M>
    select_query& order_by(M U::*m, order o = order::asc) & {
        return order_by(col(m), o);
    }
    template <class U, class M>
    select_query order_by(M U::*m, order o = order::asc) && {
        order_by(col(m), o);
        return std::move(*this);
    }
    select_query& order_by(const ordering& o) & {
        if (!order_.empty()) order_.text(", ");
        order_.append(o.sql);
        return *this;
    }
    select_query order_by(const ordering& o) && {
        order_by(o);
        return std::move(*this);
    }

    template <class... V>
    select_query& group_by(const expr<V>&... es) & {
        ((group_.empty() ? group_ : group_.text(", ")).append(es.sql()), ...);
        return *this;
    }
    template <class... V>
    select_query group_by(const expr<V>&... es) && {
        group_by(es...);
        return std::move(*this);
    }
    select_query& having(const expr<bool>& c) & {
        if (!having_.empty()) having_.text(" AND ");
        having_.append(c.sql());
        return *this;
    }
    select_query having(const expr<bool>& c) && {
        having(c);
        return std::move(*this);
    }

    select_query& limit(std::int64_t n) & {
        limit_ = n;
        return *this;
    }
    select_query limit(std::int64_t n) && {
        limit(n);
        return std::move(*this);
    }
    select_query& offset(std::int64_t n) & {
        offset_ = n;
        return *this;
    }
    select_query offset(std::int64_t n) && {
        offset(n);
        return std::move(*this);
    }
    select_query& distinct() & {
        distinct_ = true;
        return *this;
    }
    select_query distinct() && {
        distinct();
        return std::move(*this);
    }

    /// Loads relations of the rows (declared in the model: belongs_to, has_many, many_to_many) with one more
    /// query per relation, after the rows themselves.
    /// Each is a relation member of T (`&author::posts`) or a db::nested() path from one.
    template <class... Relations>
    select_query& with(const Relations&... relations) & {
        static_assert(std::is_same_v<R, T>, "with(): eager loading needs rows read as the model itself");
        (loaders_.push_back(detail::make_loader<T>(relations)), ...);
        return *this;
    }
    template <class... Relations>
    select_query with(const Relations&... relations) && {
        with(relations...);
        return std::move(*this);
    }

    /// The SELECT without dialect-specific parts resolved (for subqueries).
    detail::fragment to_fragment() const {
        detail::fragment f;
        f.text(distinct_ ? "SELECT DISTINCT " : "SELECT ").append(columns_).text(" FROM ");
        f.id("", schema_of<T>().name).append(joins_);
        if (!where_.empty()) f.text(" WHERE ").append(where_);
        if (!group_.empty()) f.text(" GROUP BY ").append(group_);
        if (!having_.empty()) f.text(" HAVING ").append(having_);
        if (!order_.empty()) f.text(" ORDER BY ").append(order_);
        if (limit_) {
            f.text(" LIMIT ").param(Value{*limit_});
        } else if (offset_) {
            f.text(" LIMIT ").add(detail::special::no_limit);
        }
        if (offset_) f.text(" OFFSET ").param(Value{*offset_});
        return f;
    }
    /// The SQL and parameters for a dialect (what all() runs).
    detail::statement to_sql(dialect d) const { return detail::render(to_fragment(), d); }

    /// Every row.
    Task<std::vector<R>> all(Session& db) const {
        if constexpr (std::is_same_v<R, T>) {
            if (!loaders_.empty()) return fetch_with_relations(db, to_sql(db.dialect()), loaders_);
        }
        return detail::fetch_all<R>(db, to_sql(db.dialect()));
    }
    /// The first row, or nullopt.
    Task<std::optional<R>> first(Session& db) const {
        select_query q = *this;
        q.limit_ = 1;
        return first_of(db, q.all(db));
    }
    /// The first row; throws db::not_found (HTTP 404) when there is none.
    Task<R> one(Session& db) const { return one_of(first(db)); }
    /// The number of rows the query would return (ignoring order, and counting after limit/offset/group by).
    Task<std::int64_t> count(Session& db) const {
        select_query q = *this;
        q.order_ = {};
        detail::fragment f;
        if (group_.empty() && !distinct_ && !limit_ && !offset_) {
            q.columns_ = detail::fragment{}.text("COUNT(*)");
            f = q.to_fragment();
        } else {
            f.text("SELECT COUNT(*) FROM (").append(q.to_fragment()).text(") AS counted");
        }
        return scalar_of(db, detail::render(f, db.dialect()));
    }
    /// Whether the query returns any row.
    Task<bool> exists(Session& db) const {
        detail::fragment f;
        select_query q = *this;
        q.order_ = {};
        f.text("SELECT CASE WHEN EXISTS (").append(q.to_fragment()).text(") THEN 1 ELSE 0 END");
        return exists_of(db, detail::render(f, db.dialect()));
    }

private:
    template <class U>
    void add_join(std::string_view kind, const expr<bool>& on) {
        joins_.text(kind).id("", schema_of<U>().name).text(" ON ").append(on.sql());
    }
    void add_join_as(std::string_view kind, std::string_view table, std::string_view name, const expr<bool>& on) {
        joins_.text(kind).id("", table).text(" AS ").id("", name).text(" ON ").append(on.sql());
    }
    static Task<std::optional<R>> first_of(Session&, Task<std::vector<R>> rows) {
        auto v = co_await std::move(rows);
        if (v.empty()) co_return std::nullopt;
        co_return std::move(v.front());
    }
    static Task<R> one_of(Task<std::optional<R>> row) {
        auto r = co_await std::move(row);
        if (!r) throw not_found{"no row of " + schema_of<T>().name + " matches the query"};
        co_return std::move(*r);
    }
    static Task<std::int64_t> scalar_of(Session& db, detail::statement st) {
        co_return co_await db.query_one_params<std::int64_t>(st.sql, std::move(st.params));
    }
    static Task<bool> exists_of(Session& db, detail::statement st) {
        co_return co_await db.query_one_params<std::int64_t>(st.sql, std::move(st.params)) != 0;
    }
    static Task<std::vector<R>> fetch_with_relations(Session& db, detail::statement st,
                                                     std::vector<detail::loader<T>> loaders) {
        std::vector<R> rows = co_await db.query_params<R>(st.sql, std::move(st.params));
        for (auto& load : loaders) co_await load(db, rows);
        co_return rows;
    }

    detail::fragment columns_;
    bool distinct_ = false;
    detail::fragment joins_, where_, group_, having_, order_;
    std::optional<std::int64_t> limit_, offset_;
    std::vector<detail::loader<T>> loaders_;
};

/// `SELECT <all columns of T> FROM T`; rows are T.
template <model_type T>
select_query<T, T> select() {
    return {};
}
/// `SELECT <items> FROM T`; rows are std::tuple of the items' types, by position. To read rows into a struct by
/// column name, use select_as<T, R>() with `expr.as("name")` items.
template <model_type T, class... Items>
    requires(sizeof...(Items) > 0 && (is_expr<Items>::value && ...))
select_query<T, std::tuple<typename detail::item_type<Items>::type...>> select(const Items&... items) {
    detail::fragment f;
    bool first = true;
    ((f.text(first ? "" : ", ").append(detail::select_item(items)), first = false), ...);
    return select_query<T, std::tuple<typename detail::item_type<Items>::type...>>{std::move(f)};
}
/// `SELECT <items> FROM T` read into R (a described struct matched by column names, or a tuple).
template <model_type T, class R, class... Items>
    requires(sizeof...(Items) > 0)
select_query<T, R> select_as(const Items&... items) {
    detail::fragment f;
    bool first = true;
    ((f.text(first ? "" : ", ").append(detail::select_item(items)), first = false), ...);
    return select_query<T, R>{std::move(f)};
}

namespace detail {

/// What insert, update and delete share: RETURNING, a WHERE clause (update, delete) and running.
template <class T, class Derived>
class write_query {
public:
    /// Reads the written rows back (PostgreSQL and SQLite; MariaDB for insert and delete, not update; not MySQL).
    Derived& returning() & {
        returning_ = model_columns<T>();
        return self();
    }
    Derived returning() && {
        returning();
        return std::move(self());
    }

    /// Runs the statement.
    Task<exec_result> execute(Session& db) const { return run(db, self().to_sql(db.dialect())); }
    /// With returning(): the written rows, as stored.
    Task<std::vector<T>> all(Session& db) const { return fetch_all<T>(db, self().to_sql(db.dialect())); }

protected:
    Derived& self() { return static_cast<Derived&>(*this); }
    const Derived& self() const { return static_cast<const Derived&>(*this); }
    void add_where(const expr<bool>& c) {
        if (!where_.empty()) where_.text(" AND ");
        where_.append(c.sql());
    }
    /// " WHERE ..." and " RETURNING ..." when there are such parts.
    void finish(fragment& f, dialect d, std::string_view statement_kind) const;

    fragment where_, returning_;

private:
    static Task<exec_result> run(Session& db, statement st) {
        co_return co_await db.run(st.sql, st.params, nullptr);
    }
};

template <class T, class M>
Value member_value(const T& obj, M T::*m) {
    return field<std::remove_cvref_t<M>>::to_value(obj.*m);
}

/// Calls f(descriptor) for the column member of T called `name`.
template <class T, class F>
bool visit_column(std::string_view name, F&& f) {
    bool found = false;
    boost::mp11::mp_for_each<column_members_of<T>>([&](auto d) {
        if (!found && name == d.name) {
            found = true;
            f(d);
        }
    });
    return found;
}

/// The value of the column called `name` of obj.
template <class T>
Value column_value(const T& obj, std::string_view name) {
    Value out;
    if (!visit_column<T>(name, [&](auto d) { out = member_value(obj, d.pointer); }))
        bad_model(schema_of<T>().name, "no column '" + std::string{name} + "'");
    return out;
}

void check_returning(dialect d, std::string_view statement_kind);

/// The table's generated key column (a single integer primary key the database assigns), or null.
inline const column_def* generated_key(const table_def& t) {
    if (t.primary_key.size() != 1) return nullptr;
    const column_def* c = t.find(t.primary_key.front());
    return c && c->auto_increment ? c : nullptr;
}

/// PostgreSQL: a row inserted with its own value for a generated key leaves the identity's sequence behind (the
/// next generated key could collide with it), as MySQL's AUTO_INCREMENT and SQLite's rowid are not. Moves the
/// sequence up to `value` when it is behind. Nothing on the other dialects.
Task<void> advance_generated_key(Session& db, const table_def& t, const column_def& key, std::int64_t value);

}  // namespace detail

/// INSERT of one or more rows of model T.
template <class T>
class insert_query : public detail::write_query<T, insert_query<T>> {
public:
    explicit insert_query(std::vector<T> rows) : rows_{std::move(rows)} {}

    /// Upsert: when a row conflicts on these columns (a unique constraint), do_update() / do_update_all() /
    /// do_nothing() says what happens instead. MySQL and MariaDB react to any unique key (ON DUPLICATE KEY).
    template <class... Ms>
    insert_query& on_conflict(Ms T::*... target) & {
        conflict_ = {std::string{detail::member_name(target)}...};
        conflict_set_ = true;
        return *this;
    }
    template <class... Ms>
    insert_query on_conflict(Ms T::*... target) && {
        on_conflict(target...);
        return std::move(*this);
    }
    template <class... Ms>
    insert_query& do_update(Ms T::*... columns) & {
        update_ = {std::string{detail::member_name(columns)}...};
        action_ = conflict_action::update;
        return *this;
    }
    template <class... Ms>
    insert_query do_update(Ms T::*... columns) && {
        do_update(columns...);
        return std::move(*this);
    }
    /// Updates every inserted column except the conflict target, the key and the creation time.
    insert_query& do_update_all() & {
        action_ = conflict_action::update_all;
        return *this;
    }
    insert_query do_update_all() && {
        do_update_all();
        return std::move(*this);
    }
    insert_query& do_nothing() & {
        action_ = conflict_action::nothing;
        return *this;
    }
    insert_query do_nothing() && {
        do_nothing();
        return std::move(*this);
    }

    detail::statement to_sql(dialect d) const;

    /// Runs the statement. Rows inserted into PostgreSQL with keys of their own (an import, fixtures) move the
    /// generated key's sequence past them, so later generated keys do not collide (one more statement, only
    /// then; MySQL and SQLite do this themselves).
    Task<exec_result> execute(Session& db) const {
        exec_result r = co_await base::execute(db);
        if (const std::int64_t top = own_key_max(db.dialect()); top > 0) co_await advance_key(db, top);
        co_return r;
    }
    /// With returning(): the inserted rows, as stored. Moves the key's sequence as execute() does.
    Task<std::vector<T>> all(Session& db) const {
        std::vector<T> rows = co_await base::all(db);
        if (const std::int64_t top = own_key_max(db.dialect()); top > 0) co_await advance_key(db, top);
        co_return rows;
    }

private:
    using base = detail::write_query<T, insert_query<T>>;
    enum class conflict_action { none, update, update_all, nothing };

    /// On PostgreSQL, the largest generated key the rows give themselves (0: none do, or another dialect).
    std::int64_t own_key_max(dialect d) const {
        const column_def* key = detail::generated_key(schema_of<T>());
        if (d != dialect::postgresql || key == nullptr) return 0;
        std::int64_t top = 0;
        for (const T& r : rows_) {
            const Value v = detail::column_value(r, key->name);
            if (v.type() == Value::kind::integer) top = std::max(top, v.as_int());
        }
        return top;
    }
    /// After own_key_max() found `top`: the generated key's sequence moved up to it.
    static Task<void> advance_key(Session& db, std::int64_t top) {
        return detail::advance_generated_key(db, schema_of<T>(), *detail::generated_key(schema_of<T>()), top);
    }

    std::vector<T> rows_;
    std::vector<std::string> conflict_, update_;
    bool conflict_set_ = false;
    conflict_action action_ = conflict_action::none;
};

template <model_type T>
insert_query<T> insert(const T& row) {
    return insert_query<T>{std::vector<T>{row}};
}
/// Several rows in one statement.
template <model_type T>
insert_query<T> insert(std::vector<T> rows) {
    return insert_query<T>{std::move(rows)};
}

/// UPDATE of model T's table.
template <class T>
class update_query : public detail::write_query<T, update_query<T>> {
public:
    template <class M, class V>
        requires comparable_with<M, detail::operand_t<V>> || std::is_same_v<std::decay_t<V>, std::nullopt_t>
    update_query& set(M T::*m, const V& v) & {
        if (!set_.empty()) set_.text(", ");
        set_.id("", detail::member_name(m)).text(" = ");
        if constexpr (std::is_same_v<std::decay_t<V>, std::nullopt_t>)
            set_.param(Value{});
        else
            set_.append(detail::operand(v));
        return *this;
    }
    template <class M, class V>
        requires comparable_with<M, detail::operand_t<V>> || std::is_same_v<std::decay_t<V>, std::nullopt_t>
    update_query set(M T::*m, const V& v) && {
        set(m, v);
        return std::move(*this);
    }
    /// Adds a condition (joined with AND). Without one, every row is updated.
    update_query& where(const expr<bool>& c) & {
        this->add_where(c);
        return *this;
    }
    update_query where(const expr<bool>& c) && {
        where(c);
        return std::move(*this);
    }

    detail::statement to_sql(dialect d) const {
        if (set_.empty()) detail::bad_model(schema_of<T>().name, "update() without set()");
        detail::fragment f;
        f.text("UPDATE ").id("", schema_of<T>().name).text(" SET ").append(set_);
        this->finish(f, d, "UPDATE");
        return detail::render(f, d);
    }

private:
    detail::fragment set_;
};

template <model_type T>
update_query<T> update() {
    return {};
}

/// DELETE from model T's table.
template <class T>
class delete_query : public detail::write_query<T, delete_query<T>> {
public:
    /// Adds a condition (joined with AND). Without one, every row is deleted.
    delete_query& where(const expr<bool>& c) & {
        this->add_where(c);
        return *this;
    }
    delete_query where(const expr<bool>& c) && {
        where(c);
        return std::move(*this);
    }

    detail::statement to_sql(dialect d) const {
        detail::fragment f;
        f.text("DELETE FROM ").id("", schema_of<T>().name);
        this->finish(f, d, "DELETE");
        return detail::render(f, d);
    }
};

template <model_type T>
delete_query<T> delete_from() {
    return {};
}

template <class T>
detail::statement insert_query<T>::to_sql(dialect d) const {
    const table_def& t = schema_of<T>();
    if (rows_.empty()) detail::bad_model(t.name, "insert() of no rows");
    // A generated key is left out when every row leaves it at its default (0), so the database assigns it.
    std::vector<const column_def*> cols;
    for (const auto& c : t.columns) {
        if (c.auto_increment) {
            std::size_t defaults = 0;
            for (const auto& r : rows_) {
                const Value v = detail::column_value(r, c.name);
                defaults += v.is_null() || (v.type() == Value::kind::integer && v.as_int() == 0);
            }
            if (defaults == rows_.size()) continue;
            if (defaults != 0)
                detail::bad_model(t.name, "insert() of rows where some leave the generated key '" + c.name +
                                              "' at 0 and others set it; insert them separately");
        }
        cols.push_back(&c);
    }
    detail::fragment f;
    f.text("INSERT INTO ").id("", t.name).text(" (");
    for (std::size_t i = 0; i < cols.size(); ++i) f.text(i ? ", " : "").id("", cols[i]->name);
    f.text(") VALUES ");
    for (std::size_t r = 0; r < rows_.size(); ++r) {
        f.text(r ? ", (" : "(");
        for (std::size_t i = 0; i < cols.size(); ++i) f.text(i ? ", " : "").param(detail::column_value(rows_[r], cols[i]->name));
        f.text(")");
    }
    if (conflict_set_ && action_ == conflict_action::none)
        detail::bad_model(t.name, "on_conflict() needs do_update(), do_update_all() or do_nothing() after it");
    if (action_ != conflict_action::none) {
        std::vector<std::string> set = update_;
        if (action_ == conflict_action::update_all) {
            set.clear();
            for (const auto* c : cols) {
                bool keep = c->name == t.created_at || c->auto_increment;
                for (const auto& k : conflict_) keep = keep || k == c->name;
                for (const auto& k : t.primary_key) keep = keep || k == c->name;
                if (!keep) set.push_back(c->name);
            }
        }
        if (d == dialect::mysql) {
            f.text(" ON DUPLICATE KEY UPDATE ");
            if (action_ == conflict_action::nothing || set.empty()) {
                const std::string& k = conflict_.empty() ? t.primary_key.at(0) : conflict_.front();
                f.id("", k).text(" = ").id("", k);
            } else {
                for (std::size_t i = 0; i < set.size(); ++i)
                    f.text(i ? ", " : "").id("", set[i]).text(" = VALUES(").id("", set[i]).text(")");
            }
        } else {
            if (conflict_.empty() && action_ != conflict_action::nothing)
                detail::bad_model(t.name, "an upsert needs on_conflict(columns) before do_update()");
            f.text(" ON CONFLICT");
            if (!conflict_.empty()) {
                f.text(" (");
                for (std::size_t i = 0; i < conflict_.size(); ++i) f.text(i ? ", " : "").id("", conflict_[i]);
                f.text(")");
            }
            if (action_ == conflict_action::nothing || set.empty()) {
                f.text(" DO NOTHING");
            } else {
                f.text(" DO UPDATE SET ");
                for (std::size_t i = 0; i < set.size(); ++i)
                    f.text(i ? ", " : "").id("", set[i]).text(" = ").id("excluded", set[i]);
            }
        }
    }
    this->finish(f, d, "INSERT");
    return detail::render(f, d);
}

template <class T, class Derived>
void detail::write_query<T, Derived>::finish(fragment& f, dialect d, std::string_view statement_kind) const {
    if (!where_.empty()) f.text(" WHERE ").append(where_);
    if (!returning_.empty()) {
        check_returning(d, statement_kind);
        f.text(" RETURNING ").append(returning_);
    }
}

}  // namespace zephyr::db
// clang-format on
