// zephyr/json/detail/encode.hpp — C++ value to boost::json::value. Not API; use zephyr::json::to_value.
#pragma once

#include <zephyr/json/detail/traits.hpp>
#include <zephyr/json/rfc3339.hpp>

#include <boost/mp11/algorithm.hpp>

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace zephyr::json::detail {

/// Throws std::invalid_argument: an enum value with no described enumerator cannot be written as a name.
[[noreturn]] void throw_unnamed_enumerator(long long value);

inline void assign_string(boost::json::value& out, std::string_view s) {
    out.emplace_string().assign(s.data(), s.size());
}

template <class T>
void encode(const T& x, boost::json::value& out) {
    if constexpr (is_json_type<T>) {
        out = x;
    } else if constexpr (std::is_same_v<T, bool>) {
        out = x;
    } else if constexpr (is_integer<T>) {
        if constexpr (std::is_signed_v<T>) {
            out = static_cast<std::int64_t>(x);
        } else {
            out = static_cast<std::uint64_t>(x);
        }
    } else if constexpr (std::is_floating_point_v<T>) {
        // JSON has no NaN or infinity; null is what JavaScript's JSON.stringify writes for them.
        if (std::isfinite(x)) {
            out = static_cast<double>(x);
        } else {
            out = nullptr;
        }
    } else if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>) {
        assign_string(out, x);
    } else if constexpr (is_sys_time<T>::value) {
        assign_string(out, format_rfc3339(std::chrono::time_point_cast<time_point::duration>(x)));
    } else if constexpr (is_optional<T>::value) {
        if (x) {
            encode(*x, out);
        } else {
            out = nullptr;
        }
    } else if constexpr (is_vector<T>::value) {
        auto& arr = out.emplace_array();
        arr.reserve(x.size());
        for (const typename T::value_type& e : x) {
            encode(e, arr.emplace_back(nullptr));
        }
    } else if constexpr (is_string_map<T>::value) {
        auto& obj = out.emplace_object();
        obj.reserve(x.size());
        for (const auto& [key, e] : x) {
            encode(e, obj[key]);
        }
    } else if constexpr (is_described_enum<T>) {
        bool found = false;
        boost::mp11::mp_for_each<boost::describe::describe_enumerators<T>>([&](auto d) {
            if (!found && x == d.value) {
                assign_string(out, d.name);
                found = true;
            }
        });
        if (!found) {
            throw_unnamed_enumerator(static_cast<long long>(static_cast<std::underlying_type_t<T>>(x)));
        }
    } else if constexpr (is_described_struct<T>) {
        auto& obj = out.emplace_object();
        obj.reserve(boost::mp11::mp_size<members_of<T>>::value);
        boost::mp11::mp_for_each<members_of<T>>([&](auto d) { encode(x.*d.pointer, obj[d.name]); });
    } else {
        static_assert(always_false<T>,
                      "zephyr::json: type T is not supported; describe it with BOOST_DESCRIBE_STRUCT or "
                      "BOOST_DESCRIBE_ENUM, see docs/json.md");
    }
}

}  // namespace zephyr::json::detail
