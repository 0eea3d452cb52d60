// zephyr/json/detail/traits.hpp — the type classification behind encode and decode. Not API.
#pragma once

#include <boost/describe/enum.hpp>
#include <boost/describe/enumerators.hpp>
#include <boost/describe/members.hpp>
#include <boost/describe/modifiers.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace zephyr::validate {
/// The tag a `validation` function takes: `auto validation(zephyr::validate::rules_for<my_type>)`. See
/// zephyr/json/validate.hpp.
template <class T>
struct rules_for {};
}  // namespace zephyr::validate

namespace zephyr::json::detail {

template <class>
inline constexpr bool always_false = false;

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

/// std::map and std::unordered_map keyed by std::string: JSON objects with arbitrary keys.
template <class T>
struct is_string_map : std::false_type {};
template <class V, class C, class A>
struct is_string_map<std::map<std::string, V, C, A>> : std::true_type {};
template <class V, class H, class E, class A>
struct is_string_map<std::unordered_map<std::string, V, H, E, A>> : std::true_type {};

/// boost::json::value, object, array and string: passed through unchanged (after a kind check when decoding).
template <class T>
inline constexpr bool is_json_type = std::is_same_v<T, boost::json::value> || std::is_same_v<T, boost::json::object> ||
                                     std::is_same_v<T, boost::json::array> || std::is_same_v<T, boost::json::string>;

template <class T>
inline constexpr bool is_integer = std::is_integral_v<T> && !std::is_same_v<T, bool>;

template <class T>
inline constexpr bool is_described_enum = std::is_enum_v<T>&& boost::describe::has_describe_enumerators<T>::value;

template <class T>
inline constexpr bool is_described_struct = std::is_class_v<T>&& boost::describe::has_describe_members<T>::value;

/// Public members, those of described bases first, in declaration order.
template <class T>
using members_of = boost::describe::describe_members<T, boost::describe::mod_public | boost::describe::mod_inherited>;

using time_point = std::chrono::system_clock::time_point;

/// Any std::chrono::time_point of system_clock: time_point itself, sys_seconds, sys_days, ...
template <class T>
struct is_sys_time : std::false_type {};
template <class D>
struct is_sys_time<std::chrono::time_point<std::chrono::system_clock, D>> : std::true_type {};

/// True when T has validation rules: a `validation(zephyr::validate::rules_for<T>)` found by ADL.
template <class T>
concept has_rules = requires { validation(zephyr::validate::rules_for<T>{}); };

}  // namespace zephyr::json::detail
