// zephyr/view/detail/data.hpp — render data of any supported type behind one small interface. Not API.
//
// The renderer walks the data through `data_ref`s: a pointer to a value and a table of the operations of its
// type. Described structs, std::vector, std::optional, strings, numbers, booleans, described enums and Boost.JSON
// values are read in place, without building a JSON copy of the data first. Other types zephyr::json::to_value
// encodes (time points, string-keyed maps) have the `other` kind: the renderer converts each such value to JSON
// once, when a tag reaches it, and reads that. Every value prints, tests and iterates exactly as its JSON
// encoding would.
#pragma once

#include <zephyr/json/json.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <boost/mp11/algorithm.hpp>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace zephyr::view::detail {

/// The Mustache view of a value. `other` is converted to JSON before use.
enum class data_kind : std::uint8_t { null, boolean, number, string, list, object, other };

struct data_ops;

/// A value of the render data: what `ptr` points to, read through `ops`. The default (no ops) means "not there",
/// a name that was not found, as opposed to a value that is null.
struct data_ref {
    const void* ptr = nullptr;
    const data_ops* ops = nullptr;
    explicit operator bool() const noexcept { return ops != nullptr; }
};

/// Room for the text of any number (`data_ops::text`).
inline constexpr std::size_t number_buffer_size = 64;

/// The operations of one type. Only those that fit the kind are set.
struct data_ops {
    data_kind kind = data_kind::null;
    /// Falsey: false, null, 0, "" and the empty list; an object is always truthy.
    bool (*truthy)(const void* p) = nullptr;
    /// boolean, number, string: what `{{name}}` prints. Numbers are written into `buf` (number_buffer_size bytes).
    std::string_view (*text)(const void* p, char* buf) = nullptr;
    /// object: the member or key `name`; an empty data_ref when there is none.
    data_ref (*find)(const void* p, std::string_view name) = nullptr;
    /// list: the number of items, and one of them.
    std::size_t (*size)(const void* p) = nullptr;
    data_ref (*at)(const void* p, std::size_t i) = nullptr;
    /// list, object: the compact JSON text that `{{name}}` prints for them.
    std::string (*json_text)(const void* p) = nullptr;
    /// other: the value as JSON.
    boost::json::value (*to_json)(const void* p) = nullptr;
};

template <class T>
data_ref ref_of(const T& x);

namespace data {

namespace bj = boost::json;

template <class T>
const T& as(const void* p) noexcept {
    return *static_cast<const T*>(p);
}

inline std::string_view digits(char* buf, auto v) noexcept {
    auto r = std::to_chars(buf, buf + number_buffer_size, v);
    return {buf, static_cast<std::size_t>(r.ptr - buf)};
}

inline constexpr data_ops null_ops{.kind = data_kind::null, .truthy = [](const void*) { return false; }};

inline constexpr data_ops bool_ops{
    .kind = data_kind::boolean,
    .truthy = [](const void* p) { return as<bool>(p); },
    .text = [](const void* p, char*) { return std::string_view{as<bool>(p) ? "true" : "false"}; }};

// Integers print as their JSON encoding does: signed through std::int64_t, unsigned through std::uint64_t.
template <class T>
inline constexpr data_ops integer_ops{
    .kind = data_kind::number,
    .truthy = [](const void* p) { return as<T>(p) != 0; },
    .text = [](const void* p, char* buf) {
        if constexpr (std::is_signed_v<T>) {
            return digits(buf, static_cast<std::int64_t>(as<T>(p)));
        } else {
            return digits(buf, static_cast<std::uint64_t>(as<T>(p)));
        }
    }};

// Floating point prints as the double it encodes to, in its shortest round-trip form (non-finite values are
// null, as in JSON, and never get here).
template <class T>
inline constexpr data_ops floating_ops{.kind = data_kind::number,
                                       .truthy = [](const void* p) { return as<T>(p) != 0; },
                                       .text = [](const void* p, char* buf) {
                                           return digits(buf, static_cast<double>(as<T>(p)));
                                       }};

template <class S>
inline constexpr data_ops string_ops{.kind = data_kind::string,
                                     .truthy = [](const void* p) { return !as<S>(p).empty(); },
                                     .text = [](const void* p, char*) {
                                         const S& s = as<S>(p);
                                         return std::string_view{s.data(), s.size()};
                                     }};

// A NUL-terminated name that lives as long as the program (a described enumerator's).
inline constexpr data_ops static_name_ops{.kind = data_kind::string,
                                          .truthy = [](const void* p) { return *static_cast<const char*>(p) != 0; },
                                          .text = [](const void* p, char*) {
                                              return std::string_view{static_cast<const char*>(p)};
                                          }};

template <class T>
std::string json_text_of(const void* p) {
    return bj::serialize(json::to_value(as<T>(p)));
}

template <class V>
inline constexpr data_ops vector_ops{.kind = data_kind::list,
                                     .truthy = [](const void* p) { return !as<V>(p).empty(); },
                                     .size = [](const void* p) { return as<V>(p).size(); },
                                     .at = [](const void* p, std::size_t i) { return ref_of(as<V>(p)[i]); },
                                     .json_text = &json_text_of<V>};

template <class T>
data_ref find_member(const void* p, std::string_view name) {
    const T& x = as<T>(p);
    data_ref out;
    bool found = false;
    boost::mp11::mp_for_each<json::detail::members_of<T>>([&](auto d) {
        if (!found && name == d.name) {
            out = ref_of(x.*d.pointer);
            found = true;
        }
    });
    return out;
}

template <class T>
inline constexpr data_ops struct_ops{.kind = data_kind::object,
                                     .truthy = [](const void*) { return true; },
                                     .find = &find_member<T>,
                                     .json_text = &json_text_of<T>};

template <class T>
inline constexpr data_ops other_ops{.kind = data_kind::other,
                                    .to_json = [](const void* p) { return json::to_value(as<T>(p)); }};

// Boost.JSON: scalars are read from the bj::value, containers from the object, array or string inside it.
inline constexpr data_ops json_int64_ops{
    .kind = data_kind::number,
    .truthy = [](const void* p) { return as<bj::value>(p).get_int64() != 0; },
    .text = [](const void* p, char* buf) { return digits(buf, as<bj::value>(p).get_int64()); }};

inline constexpr data_ops json_uint64_ops{
    .kind = data_kind::number,
    .truthy = [](const void* p) { return as<bj::value>(p).get_uint64() != 0; },
    .text = [](const void* p, char* buf) { return digits(buf, as<bj::value>(p).get_uint64()); }};

inline constexpr data_ops json_double_ops{
    .kind = data_kind::number,
    .truthy = [](const void* p) { return as<bj::value>(p).get_double() != 0.0; },
    .text = [](const void* p, char* buf) { return digits(buf, as<bj::value>(p).get_double()); }};

inline constexpr data_ops json_bool_ops{
    .kind = data_kind::boolean,
    .truthy = [](const void* p) { return as<bj::value>(p).get_bool(); },
    .text = [](const void* p, char*) { return std::string_view{as<bj::value>(p).get_bool() ? "true" : "false"}; }};

inline constexpr data_ops json_array_ops{.kind = data_kind::list,
                                         .truthy = [](const void* p) { return !as<bj::array>(p).empty(); },
                                         .size = [](const void* p) { return as<bj::array>(p).size(); },
                                         .at = [](const void* p, std::size_t i) { return ref_of(as<bj::array>(p)[i]); },
                                         .json_text = [](const void* p) { return bj::serialize(as<bj::array>(p)); }};

inline constexpr data_ops json_object_ops{.kind = data_kind::object,
                                          .truthy = [](const void*) { return true; },
                                          .find = [](const void* p, std::string_view name) {
                                              const bj::value* v = as<bj::object>(p).if_contains(name);
                                              return v ? ref_of(*v) : data_ref{};
                                          },
                                          .json_text = [](const void* p) { return bj::serialize(as<bj::object>(p)); }};

/// std::vector, except std::vector<bool>, whose items are not objects to point to.
template <class T>
struct is_item_vector : std::false_type {};
template <class T, class A>
struct is_item_vector<std::vector<T, A>> : std::bool_constant<!std::is_same_v<T, bool>> {};

}  // namespace data

/// The data_ref of `x`, which must outlive it. Empty optionals and non-finite floating point numbers are null.
template <class T>
data_ref ref_of(const T& x) {
    using namespace data;
    if constexpr (std::is_same_v<T, bj::value>) {
        switch (x.kind()) {
            case bj::kind::null:
                return {&x, &null_ops};
            case bj::kind::bool_:
                return {&x, &json_bool_ops};
            case bj::kind::int64:
                return {&x, &json_int64_ops};
            case bj::kind::uint64:
                return {&x, &json_uint64_ops};
            case bj::kind::double_:
                return {&x, &json_double_ops};
            case bj::kind::string:
                return {&x.get_string(), &string_ops<bj::string>};
            case bj::kind::array:
                return {&x.get_array(), &json_array_ops};
            case bj::kind::object:
                return {&x.get_object(), &json_object_ops};
        }
        return {&x, &null_ops};
    } else if constexpr (std::is_same_v<T, bj::object>) {
        return {&x, &json_object_ops};
    } else if constexpr (std::is_same_v<T, bj::array>) {
        return {&x, &json_array_ops};
    } else if constexpr (std::is_same_v<T, bj::string> || std::is_same_v<T, std::string> ||
                         std::is_same_v<T, std::string_view>) {
        return {&x, &string_ops<T>};
    } else if constexpr (std::is_same_v<T, bool>) {
        return {&x, &bool_ops};
    } else if constexpr (json::detail::is_integer<T>) {
        return {&x, &integer_ops<T>};
    } else if constexpr (std::is_floating_point_v<T>) {
        if (!std::isfinite(x)) return {&x, &null_ops};
        return {&x, &floating_ops<T>};
    } else if constexpr (json::detail::is_optional<T>::value) {
        if (!x) return {&x, &null_ops};
        return ref_of(*x);
    } else if constexpr (is_item_vector<T>::value) {
        return {&x, &vector_ops<T>};
    } else if constexpr (json::detail::is_described_enum<T>) {
        const char* name = nullptr;
        boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>([&](auto d) {
            if (name == nullptr && x == d.value) name = d.name;
        });
        if (name == nullptr) {
            json::detail::throw_unnamed_enumerator(
                static_cast<long long>(static_cast<std::underlying_type_t<T>>(x)));
        }
        return {name, &static_name_ops};
    } else if constexpr (json::detail::is_described_struct<T>) {
        return {&x, &struct_ops<T>};
    } else {
        // Time points, string-keyed maps, std::vector<bool> (whose items are not objects to point to) and
        // anything else json::to_value encodes (which reports the types it cannot encode at compile time).
        return {&x, &other_ops<T>};
    }
}

}  // namespace zephyr::view::detail
