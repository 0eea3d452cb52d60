// zephyr/json/validate.hpp — validation rules declared next to a described struct.
//
// Write one function `validation(zephyr::validate::rules_for<T>)` in T's namespace that returns the rules.
// Decoding (Json<T>, Query<T>, Form<T>, json::parse, config files) then checks them after the members decode,
// and reports every failing field in the same list as the decoding errors (`body.items[2].qty: must be at
// least 1`), so a client fixes everything at once. Nested structs, optionals, vectors and maps of structs are
// checked with their own rules.
//
//     struct signup { std::string name; std::string email; int age = 0; std::optional<std::string> plan; };
//     BOOST_DESCRIBE_STRUCT(signup, (), (name, email, age, plan))
//
//     inline auto validation(zephyr::validate::rules_for<signup>) {
//         using namespace zephyr::validate;
//         return rules(field(&signup::name, length(1, 40)),
//                      field(&signup::email, email()),
//                      field(&signup::age, min(13), max(130)),
//                      field(&signup::plan, one_of({"free", "pro"})));
//     }
//
// A field's checks run in the order written and stop at the first that fails, so put a cheap bound first:
// `field(&x::code, max_length(64), pattern("[A-Z0-9-]+"))` never runs the expression over a megabyte of text.
// Checks other than required() skip an empty std::optional.
#pragma once

#include <zephyr/json/detail/decode.hpp>
#include <zephyr/json/detail/traits.hpp>
#include <zephyr/json/error.hpp>

#include <boost/mp11/algorithm.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace zephyr::validate {

namespace detail {

using zephyr::json::detail::is_optional;

std::string format_number(std::int64_t v);
std::string format_number(std::uint64_t v);
std::string format_number(long double v);

template <class N>
std::string number_text(N v) {
    if constexpr (std::is_floating_point_v<N>)
        return format_number(static_cast<long double>(v));
    else if constexpr (std::is_signed_v<N>)
        return format_number(static_cast<std::int64_t>(v));
    else
        return format_number(static_cast<std::uint64_t>(v));
}

/// Characters (Unicode code points) in UTF-8 text.
inline std::size_t utf8_length(std::string_view s) noexcept {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

template <class V>
concept sized_range = requires(const V& v) {
    { v.size() } -> std::convertible_to<std::size_t>;
    v.begin();
};

/// A compiled regular expression (Boost.Regex, ECMAScript syntax, bounded matching).
class pattern_matcher {
public:
    explicit pattern_matcher(std::string_view pattern);
    ~pattern_matcher();
    pattern_matcher(const pattern_matcher&) = delete;
    pattern_matcher& operator=(const pattern_matcher&) = delete;
    /// True when the whole of `text` matches. Input too complex to match in bounded time does not match.
    bool matches(std::string_view text) const noexcept;
    const std::string& source() const noexcept { return source_; }

private:
    struct impl;
    std::string source_;
    std::unique_ptr<impl> impl_;
};

bool is_email(std::string_view s) noexcept;

}  // namespace detail

// ---- checks ------------------------------------------------------------------------------------------------
// Each check has `std::optional<std::string> operator()(const V&) const`: the message when `v` fails.

/// The value must be present: an std::optional must hold a value; a string or list must not be empty.
struct required_check {};
inline required_check required() { return {}; }

/// A number at least (min) or at most (max) `bound`.
template <class N, bool Lower>
struct bound_check {
    N bound;
    template <class V>
    std::optional<std::string> operator()(const V& v) const {
        static_assert(std::is_arithmetic_v<V> && !std::is_same_v<V, bool>,
                      "zephyr::validate: min()/max() apply to numbers; use min_length()/max_length() for strings "
                      "and lists");
        const bool ok = Lower ? !(v < bound) : !(bound < v);
        if (ok) return std::nullopt;
        return std::string{Lower ? "must be at least " : "must be at most "} + detail::number_text(bound);
    }
};
template <class N>
    requires std::is_arithmetic_v<N>
bound_check<N, true> min(N bound) {
    return {bound};
}
template <class N>
    requires std::is_arithmetic_v<N>
bound_check<N, false> max(N bound) {
    return {bound};
}

/// Text with between `lo` and `hi` characters (code points), or a list with between `lo` and `hi` items.
struct length_check {
    std::size_t lo = 0;
    std::size_t hi = static_cast<std::size_t>(-1);
    template <class V>
    std::optional<std::string> operator()(const V& v) const {
        constexpr bool text = std::is_convertible_v<const V&, std::string_view>;
        static_assert(text || detail::sized_range<V>,
                      "zephyr::validate: length(), min_length() and max_length() apply to strings and lists");
        std::size_t n = 0;
        if constexpr (text)
            n = detail::utf8_length(std::string_view{v});
        else
            n = v.size();
        if (n >= lo && n <= hi) return std::nullopt;
        auto count = [&](std::size_t k) {
            return std::to_string(k) + (text ? " character" : " item") + (k == 1 ? "" : "s");
        };
        if (lo == hi) return "must have exactly " + count(lo);
        if (n < lo) return "must have at least " + count(lo);
        return "must have at most " + count(hi);
    }
};
inline length_check length(std::size_t lo, std::size_t hi) { return {lo, hi}; }
inline length_check min_length(std::size_t lo) { return {lo, static_cast<std::size_t>(-1)}; }
inline length_check max_length(std::size_t hi) { return {0, hi}; }

/// Text matching a regular expression in full (ECMAScript syntax). An invalid expression throws
/// std::invalid_argument when the rules are first built, which is at route registration for extractors.
struct pattern_check {
    std::shared_ptr<const detail::pattern_matcher> re;
    std::string message;
    template <class V>
    std::optional<std::string> operator()(const V& v) const {
        static_assert(std::is_convertible_v<const V&, std::string_view>, "zephyr::validate: pattern() applies to strings");
        if (re->matches(std::string_view{v})) return std::nullopt;
        return message.empty() ? "must match the pattern " + re->source() : message;
    }
};
inline pattern_check pattern(std::string_view regex, std::string message = {}) {
    return {std::make_shared<const detail::pattern_matcher>(regex), std::move(message)};
}

/// An email address in the usual `local@domain.tld` form (no display name, no comments).
struct email_check {
    template <class V>
    std::optional<std::string> operator()(const V& v) const {
        static_assert(std::is_convertible_v<const V&, std::string_view>, "zephyr::validate: email() applies to strings");
        if (detail::is_email(std::string_view{v})) return std::nullopt;
        return "must be an email address";
    }
};
inline email_check email() { return {}; }

/// One of the listed values.
template <class E>
struct one_of_check {
    std::vector<E> allowed;
    template <class V>
    std::optional<std::string> operator()(const V& v) const {
        for (const auto& a : allowed)
            if (v == a) return std::nullopt;
        std::string msg = "must be one of: ";
        for (std::size_t i = 0; i < allowed.size(); ++i) {
            if (i > 0) msg += ", ";
            if constexpr (std::is_arithmetic_v<E>)
                msg += detail::number_text(allowed[i]);
            else
                msg += allowed[i];
        }
        return msg;
    }
};
inline one_of_check<std::string> one_of(std::initializer_list<std::string_view> allowed) {
    return {std::vector<std::string>(allowed.begin(), allowed.end())};
}
template <class N>
    requires std::is_arithmetic_v<N>
one_of_check<N> one_of(std::initializer_list<N> allowed) {
    return {std::vector<N>(allowed)};
}

/// Any predicate on the value, with the message to report when it returns false.
template <class F>
struct custom_check {
    F pred;
    std::string message;
    template <class V>
    std::optional<std::string> operator()(const V& v) const {
        if (pred(v)) return std::nullopt;
        return message;
    }
};
template <class F>
custom_check<F> custom(F pred, std::string message) {
    return {std::move(pred), std::move(message)};
}

/// Applies `checks` to every element of a list (path `items[3]`) or every value of a map (path `tags.key`).
template <class... C>
struct each_check {
    std::tuple<C...> checks;
};
template <class... C>
each_check<C...> each(C... checks) {
    return {std::tuple<C...>{std::move(checks)...}};
}

// ---- rules -------------------------------------------------------------------------------------------------

/// The checks of one member of T, found by member pointer.
template <class T, class M, class... C>
struct field_rule {
    M T::*pointer;
    std::string_view name;
    std::size_t index;
    std::tuple<C...> checks;
};

/// Rules for member `p` of a described struct. Throws std::logic_error when `p` is not a described public
/// member.
template <class T, class M, class... C>
field_rule<T, M, C...> field(M T::*p, C... checks) {
    static_assert(zephyr::json::detail::is_described_struct<T>,
                  "zephyr::validate: field() needs a struct described with BOOST_DESCRIBE_STRUCT");
    std::string_view name;
    std::size_t index = 0, i = 0;
    boost::mp11::mp_for_each<zephyr::json::detail::members_of<T>>([&](auto m) {
        if constexpr (std::is_same_v<std::remove_cv_t<decltype(m.pointer)>, M T::*>)
            if (m.pointer == p && name.empty()) {
                name = m.name;
                index = i;
            }
        ++i;
    });
    if (name.empty()) throw std::logic_error{"zephyr::validate::field(): the member is not described"};
    return {p, name, index, std::tuple<C...>{std::move(checks)...}};
}

/// A check over the whole object (for rules that relate several members): `pred(obj)` false reports
/// `message` at member `path` ("" for the object itself).
template <class F>
struct object_rule {
    F pred;
    std::string path;
    std::string message;
};
template <class F>
object_rule<F> check(F pred, std::string path, std::string message) {
    return {std::move(pred), std::move(path), std::move(message)};
}

/// The rules of a type, as a `validation` function returns them.
template <class... R>
std::tuple<R...> rules(R... r) {
    return std::tuple<R...>{std::move(r)...};
}

/// The rules of T, built once (thread-safe) on first use.
template <class T>
    requires zephyr::json::detail::has_rules<T>
const auto& rules_of() {
    static const auto r = validation(rules_for<T>{});
    return r;
}

namespace detail {

using zephyr::json::detail::decoder;
using zephyr::json::detail::path_node;

template <class C>
struct is_each : std::false_type {};
template <class... C>
struct is_each<each_check<C...>> : std::true_type {};

template <class V, class C>
bool run_check(const C& c, const V& v, decoder& d, const path_node& at);

template <class V, class... C>
bool run_each(const each_check<C...>& e, const V& v, decoder& d, const path_node& at) {
    auto one = [&](const auto& x, const path_node& p) {
        std::apply([&](const auto&... cs) { (run_check(cs, x, d, p) && ...); }, e.checks);
    };
    if constexpr (zephyr::json::detail::is_string_map<V>::value) {
        for (const auto& [k, x] : v) one(x, path_node{&at, k});
    } else {
        static_assert(sized_range<V>, "zephyr::validate: each() applies to lists and maps");
        std::size_t i = 0;
        for (const auto& x : v) one(x, path_node{&at, {}, i++, true});
    }
    return true;  // element failures are reported per element; the field's other checks still run
}

// Runs one check; false (after recording the message) when it fails.
template <class V, class C>
bool run_check(const C& c, const V& v, decoder& d, const path_node& at) {
    if constexpr (std::is_same_v<C, required_check>) {
        bool present = true;
        if constexpr (is_optional<V>::value)
            present = v.has_value();
        else if constexpr (requires { v.empty(); })
            present = !v.empty();
        if (present) return true;
        d.fail(at, is_optional<V>::value ? "is required" : "must not be empty");
        return false;
    } else if constexpr (is_optional<V>::value) {
        return !v.has_value() || run_check(c, *v, d, at);
    } else if constexpr (is_each<C>::value) {
        return run_each(c, v, d, at);
    } else {
        if (auto msg = c(v)) {
            d.fail(at, std::move(*msg));
            return false;
        }
        return true;
    }
}

template <class T, class R>
void run_rule(const R& r, const T& x, decoder& d, const path_node& at, const bool* failed) {
    if constexpr (requires { r.pointer; }) {
        if (failed != nullptr && failed[r.index]) return;  // already reported by decoding
        const path_node child{&at, r.name};
        std::apply([&](const auto&... cs) { (run_check(cs, x.*r.pointer, d, child) && ...); }, r.checks);
    } else {
        if (r.pred(x)) return;
        if (r.path.empty())
            d.fail(at, r.message);
        else
            d.fail(path_node{&at, r.path}, r.message);
    }
}

}  // namespace detail

/// Every rule violation in `x` and the structs it contains, with paths starting at `root`, e.g.
/// `{"value.age", "must be at least 13"}`. Empty when `x` is valid.
template <class T>
std::vector<zephyr::json::field_error> errors(const T& x, std::string_view root = "value");

/// Throws zephyr::json::decode_error (HTTP 422 when it escapes a handler) listing every violation in `x`.
template <class T>
void ensure(const T& x, std::string_view root = "value") {
    auto e = errors(x, root);
    if (!e.empty()) throw zephyr::json::decode_error{std::move(e)};
}

}  // namespace zephyr::validate

namespace zephyr::json::detail {

template <class T>
void apply_rules(const T& x, decoder& d, const path_node& at, const bool* failed) {
    const auto& all = zephyr::validate::rules_of<T>();
    std::apply([&](const auto&... r) { (zephyr::validate::detail::run_rule(r, x, d, at, failed), ...); }, all);
}

// Walks `x` and the structs inside it, applying each type's rules.
template <class T>
void validate_tree(const T& x, decoder& d, const path_node& at) {
    if constexpr (is_optional<T>::value) {
        if (x) validate_tree(*x, d, at);
    } else if constexpr (is_vector<T>::value) {
        std::size_t i = 0;
        for (const auto& e : x) validate_tree(e, d, path_node{&at, {}, i++, true});
    } else if constexpr (is_string_map<T>::value) {
        for (const auto& [k, e] : x) validate_tree(e, d, path_node{&at, k});
    } else if constexpr (is_described_struct<T>) {
        boost::mp11::mp_for_each<members_of<T>>([&](auto m) { validate_tree(x.*m.pointer, d, path_node{&at, m.name}); });
        if constexpr (has_rules<T>) apply_rules(x, d, at, nullptr);
    }
}

}  // namespace zephyr::json::detail

namespace zephyr::validate {
template <class T>
std::vector<zephyr::json::field_error> errors(const T& x, std::string_view root) {
    std::vector<zephyr::json::field_error> out;
    const zephyr::json::decode_options options{.root = root};
    zephyr::json::detail::decoder d{out, options};
    zephyr::json::detail::validate_tree(x, d, zephyr::json::detail::path_node{nullptr, root});
    return out;
}
}  // namespace zephyr::validate
