// zephyr/json/detail/decode.hpp — boost::json::value to C++ value, collecting every error. Not API; use
// zephyr::json::from_value.
#pragma once

#include <zephyr/json/detail/traits.hpp>
#include <zephyr/json/error.hpp>
#include <zephyr/json/options.hpp>

#include <boost/mp11/algorithm.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace zephyr::json::detail {

/// One step of the path to the value being decoded. Nodes live on the stack of the decode calls and link to
/// their parent, so the happy path builds no strings; the path text is assembled only when an error is
/// recorded.
struct path_node {
    const path_node* parent = nullptr;
    std::string_view key{};  ///< The member name or map key; the root name for the root node.
    std::size_t index = 0;   ///< The array index when `is_index`.
    bool is_index = false;
};

/// Where errors go during one decode.
class decoder {
public:
    decoder(std::vector<field_error>& errors, const decode_options& options) noexcept
        : errors_{errors}, options_{options}, start_{errors.size()} {}

    const decode_options& options() const noexcept { return options_; }

    /// Errors recorded by this decoder so far.
    std::size_t count() const noexcept { return errors_.size() - start_; }

    /// True once max_errors errors are recorded; decoding then stops early.
    bool stopped() const noexcept { return count() >= (options_.max_errors == 0 ? 1 : options_.max_errors); }

    /// True when any error was found, recorded or not.
    bool failed() const noexcept { return failed_; }

    /// Records `message` at `at`, unless the error limit is reached.
    void fail(const path_node& at, std::string message);

    /// Records "expected <expected>, got <kind of v>" at `at`.
    void fail_type(const path_node& at, std::string_view expected, const boost::json::value& v);

    /// Records "must be one of: a, b, c" at `at`.
    void fail_enum(const path_node& at, const std::vector<std::string_view>& names);

private:
    std::vector<field_error>& errors_;
    const decode_options& options_;
    std::size_t start_;
    bool failed_ = false;
};

// The scalar readers are not templates, so their logic (and their messages) is compiled once, in
// src/json/decode.cpp. Each returns false after recording an error at `at`.
bool read_bool(const boost::json::value& v, bool& out, decoder& d, const path_node& at);
bool read_signed(const boost::json::value& v, std::int64_t& out, std::int64_t lo, std::int64_t hi, decoder& d,
                 const path_node& at);
bool read_unsigned(const boost::json::value& v, std::uint64_t& out, std::uint64_t hi, decoder& d, const path_node& at);
bool read_double(const boost::json::value& v, double& out, double limit, decoder& d, const path_node& at);
bool read_string(const boost::json::value& v, std::string& out, decoder& d, const path_node& at);
bool read_time(const boost::json::value& v, time_point& out, decoder& d, const path_node& at);

/// True when `v` is "" and text values are accepted: an empty query or form field means "not given".
inline bool is_empty_text(const boost::json::value& v, const decoder& d) {
    return d.options().text_values && v.is_string() && v.get_string().empty();
}

template <class T>
void decode(const boost::json::value& v, T& out, decoder& d, const path_node& at);

/// Checks T's validation rules (zephyr/json/validate.hpp), skipping members whose `failed` entry is true.
template <class T>
void apply_rules(const T& x, decoder& d, const path_node& at, const bool* failed);

template <class T>
void decode_struct(const boost::json::value& v, T& out, decoder& d, const path_node& at) {
    const boost::json::object* obj = v.if_object();
    if (obj == nullptr) {
        d.fail_type(at, "an object", v);
        return;
    }
    // Which members failed to decode, so validation does not report them twice.
    [[maybe_unused]] bool failed[boost::mp11::mp_size<members_of<T>>::value + 1] = {};
    [[maybe_unused]] std::size_t index = 0;
    boost::mp11::mp_for_each<members_of<T>>([&](auto m) {
        if (d.stopped()) {
            return;
        }
        [[maybe_unused]] const std::size_t before = d.count();
        auto& member = out.*m.pointer;
        using member_type = std::remove_cvref_t<decltype(member)>;
        const path_node child{&at, m.name};
        if (const boost::json::value* mv = obj->if_contains(m.name)) {
            decode(*mv, member, d, child);
        } else if (d.options().missing_keeps_default) {
            // The member keeps the value it was constructed with.
        } else if constexpr (is_optional<member_type>::value) {
            member.reset();
        } else if constexpr (is_vector<member_type>::value) {
            // A query string or form cannot spell an empty list; absence is how it says so.
            if (d.options().text_values) {
                member.clear();
            } else {
                d.fail(child, "is required");
            }
        } else {
            d.fail(child, "is required");
        }
        if constexpr (has_rules<T>) {
            failed[index++] = d.count() != before;
        }
    });
    if (d.options().reject_unknown_fields) {
        for (const auto& kv : *obj) {
            const std::string_view key = kv.key();
            bool known = false;
            boost::mp11::mp_for_each<members_of<T>>([&](auto m) { known = known || key == m.name; });
            if (!known) {
                d.fail(path_node{&at, key}, "is not a known field");
            }
        }
    }
    if constexpr (has_rules<T>) {
        if (!d.stopped()) {
            apply_rules(out, d, at, failed);
        }
    }
}

template <class T>
void decode_enum(const boost::json::value& v, T& out, decoder& d, const path_node& at) {
    using enumerators = boost::describe::describe_enumerators<T>;
    if (const boost::json::string* s = v.if_string()) {
        const std::string_view name{s->data(), s->size()};
        bool found = false;
        boost::mp11::mp_for_each<enumerators>([&](auto e) {
            if (!found && name == e.name) {
                out = e.value;
                found = true;
            }
        });
        if (found) {
            return;
        }
    }
    std::vector<std::string_view> names;
    names.reserve(boost::mp11::mp_size<enumerators>::value);
    boost::mp11::mp_for_each<enumerators>([&](auto e) { names.emplace_back(e.name); });
    d.fail_enum(at, names);
}

template <class T, class A>
void decode_vector(const boost::json::value& v, std::vector<T, A>& out, decoder& d, const path_node& at) {
    out.clear();
    const boost::json::array* arr = v.if_array();
    if (arr == nullptr) {
        if (d.options().text_values && !v.is_null() && !v.is_object()) {
            // A query string or form with one `tag=x` means a list of one.
            T e{};
            decode(v, e, d, at);
            out.push_back(std::move(e));
            return;
        }
        d.fail_type(at, "an array", v);
        return;
    }
    out.reserve(arr->size());
    for (std::size_t i = 0; i < arr->size() && !d.stopped(); ++i) {
        const path_node child{&at, {}, i, true};
        if constexpr (std::is_same_v<T, bool>) {  // std::vector<bool> hands out proxies, not bool&
            bool e = false;
            decode((*arr)[i], e, d, child);
            out.push_back(e);
        } else {
            decode((*arr)[i], out.emplace_back(), d, child);
        }
    }
}

template <class T>
void decode_map(const boost::json::value& v, T& out, decoder& d, const path_node& at) {
    out.clear();
    const boost::json::object* obj = v.if_object();
    if (obj == nullptr) {
        d.fail_type(at, "an object", v);
        return;
    }
    for (const auto& kv : *obj) {
        if (d.stopped()) {
            return;
        }
        const std::string_view key = kv.key();
        auto it = out.try_emplace(std::string{key}).first;
        decode(kv.value(), it->second, d, path_node{&at, key});
    }
}

template <class T>
void decode(const boost::json::value& v, T& out, decoder& d, const path_node& at) {
    if constexpr (std::is_same_v<T, boost::json::value>) {
        out = v;
    } else if constexpr (std::is_same_v<T, boost::json::object>) {
        if (const boost::json::object* o = v.if_object()) {
            out = *o;
        } else {
            d.fail_type(at, "an object", v);
        }
    } else if constexpr (std::is_same_v<T, boost::json::array>) {
        if (const boost::json::array* a = v.if_array()) {
            out = *a;
        } else {
            d.fail_type(at, "an array", v);
        }
    } else if constexpr (std::is_same_v<T, boost::json::string>) {
        if (const boost::json::string* s = v.if_string()) {
            out = *s;
        } else {
            d.fail_type(at, "a string", v);
        }
    } else if constexpr (std::is_same_v<T, bool>) {
        read_bool(v, out, d, at);
    } else if constexpr (is_integer<T>) {
        if constexpr (std::is_signed_v<T>) {
            std::int64_t x = 0;
            if (read_signed(v, x, std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), d, at)) {
                out = static_cast<T>(x);
            }
        } else {
            std::uint64_t x = 0;
            if (read_unsigned(v, x, std::numeric_limits<T>::max(), d, at)) {
                out = static_cast<T>(x);
            }
        }
    } else if constexpr (std::is_floating_point_v<T>) {
        double x = 0;
        const double limit = std::numeric_limits<T>::max() < std::numeric_limits<double>::max()
                                 ? static_cast<double>(std::numeric_limits<T>::max())
                                 : std::numeric_limits<double>::max();
        if (read_double(v, x, limit, d, at)) {
            out = static_cast<T>(x);
        }
    } else if constexpr (std::is_same_v<T, std::string>) {
        read_string(v, out, d, at);
    } else if constexpr (std::is_same_v<T, std::string_view>) {
        static_assert(always_false<T>,
                      "zephyr::json: std::string_view can be encoded but not decoded (it would point into the "
                      "parsed document); use std::string");
    } else if constexpr (std::is_same_v<T, time_point>) {
        read_time(v, out, d, at);
    } else if constexpr (is_sys_time<T>::value) {
        time_point t{};
        if (read_time(v, t, d, at)) {
            out = std::chrono::floor<typename T::duration>(t);  // sys_seconds, sys_days: toward the past
        }
    } else if constexpr (is_optional<T>::value) {
        if (v.is_null() || is_empty_text(v, d)) {
            out.reset();
        } else {
            decode(v, out.emplace(), d, at);
        }
    } else if constexpr (is_vector<T>::value) {
        decode_vector(v, out, d, at);
    } else if constexpr (is_string_map<T>::value) {
        decode_map(v, out, d, at);
    } else if constexpr (is_described_enum<T>) {
        decode_enum(v, out, d, at);
    } else if constexpr (is_described_struct<T>) {
        decode_struct(v, out, d, at);
    } else {
        static_assert(always_false<T>,
                      "zephyr::json: type T is not supported; describe it with BOOST_DESCRIBE_STRUCT or "
                      "BOOST_DESCRIBE_ENUM, see docs/json.md");
    }
}

/// Decodes `v` into `out` in place. Returns true when no error was recorded.
template <class T>
bool decode_root(const boost::json::value& v, T& out, std::vector<field_error>& errors, const decode_options& options) {
    decoder d{errors, options};
    const path_node root{nullptr, options.root};
    decode(v, out, d, root);
    return !d.failed();
}

}  // namespace zephyr::json::detail
