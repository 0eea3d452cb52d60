// zephyr/json/json.hpp — plain structs to and from JSON, through Boost.Describe.
//
// Describe a struct once; encoding writes every public member, decoding requires every member that is not a
// std::optional and reports all problems at once with paths such as `body.items[2].qty`:
//
//     struct item { std::string sku; int qty = 0; };
//     BOOST_DESCRIBE_STRUCT(item, (), (sku, qty))
//     std::string text = zephyr::json::to_string(item{.sku = "A-1", .qty = 2});   // {"sku":"A-1","qty":2}
//     item back = zephyr::json::parse<item>(text);              // throws zephyr::json::decode_error
//
// Supported types: bool, integers (range-checked), float, double, std::string, std::string_view (encode only),
// std::optional, std::vector, std::map and std::unordered_map keyed by std::string, described structs (with
// their described bases) and enums, std::chrono::system_clock::time_point (RFC 3339) and boost::json::value.
// See docs/json.md.
#pragma once

#include <zephyr/json/detail/decode.hpp>
#include <zephyr/json/detail/encode.hpp>
#include <zephyr/json/error.hpp>
#include <zephyr/json/options.hpp>
#include <zephyr/json/validate.hpp>

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace zephyr::json {

/// Serializes `v` compactly (no whitespace), as Boost.JSON's serialize does.
std::string to_string(const boost::json::value& v);

/// Parses `text` as one JSON document, nested at most `max_depth` deep. Throws decode_error with one
/// field_error at `root` and is_syntax_error() true when the text is not valid JSON; its message names the
/// offset, line and column and the Boost.JSON error, e.g. `invalid JSON at offset 17 (line 1, column 18):
/// syntax error`, or `... nesting too deep (more than 64 levels)`.
boost::json::value parse_value(std::string_view text, std::string_view root = "body");

/// Encodes `x` as a JSON value. Described structs become objects with one key per public member (members of
/// described bases first), std::nullopt and non-finite numbers become null, enums their enumerator name and
/// time points RFC 3339 UTC strings. Throws std::invalid_argument for an enum value that has no described
/// enumerator, and whatever allocation throws.
template <class T>
boost::json::value to_value(const T& x) {
    boost::json::value v;
    detail::encode(x, v);
    return v;
}

/// `to_value(x)` serialized compactly.
template <class T>
std::string to_string(const T& x) {
    return to_string(to_value(x));
}

/// Decodes `v` into `out`. Returns true on success. On failure appends every problem found (up to
/// options.max_errors) to `errors`, returns false and leaves `out` unchanged. Never throws decode_error.
template <class T>
bool try_from_value(const boost::json::value& v, T& out, std::vector<field_error>& errors,
                    const decode_options& options) {
    static_assert(std::is_default_constructible_v<T>,
                  "zephyr::json: the decoded type must be default-constructible; give members default "
                  "initializers or a default constructor");
    T tmp{};
    if (!detail::decode_root(v, tmp, errors, options)) {
        return false;
    }
    out = std::move(tmp);
    return true;
}

/// `try_from_value` with default options and error paths starting at `root`.
template <class T>
bool try_from_value(const boost::json::value& v, T& out, std::vector<field_error>& errors,
                    std::string_view root = "body") {
    return try_from_value(v, out, errors, decode_options{.root = root});
}

/// Decodes `v` as a `T`. Throws decode_error carrying every problem found, e.g. `body.email: is required`
/// and `body.items[2].qty: expected an integer, got string` together.
template <class T>
T from_value(const boost::json::value& v, const decode_options& options) {
    static_assert(std::is_default_constructible_v<T>,
                  "zephyr::json: the decoded type must be default-constructible; give members default "
                  "initializers or a default constructor");
    std::vector<field_error> errors;
    T out{};
    if (!detail::decode_root(v, out, errors, options)) {
        throw decode_error(std::move(errors));
    }
    return out;
}

/// `from_value` with default options and error paths starting at `root`.
template <class T>
T from_value(const boost::json::value& v, std::string_view root = "body") {
    return from_value<T>(v, decode_options{.root = root});
}

/// Parses `text` (see parse_value) and decodes it as a `T` (see from_value). Throws decode_error; its
/// is_syntax_error() tells malformed JSON (HTTP 400) from JSON of the wrong shape (HTTP 422).
template <class T>
T parse(std::string_view text, const decode_options& options) {
    return from_value<T>(parse_value(text, options.root), options);
}

/// `parse` with default options and error paths starting at `root`.
template <class T>
T parse(std::string_view text, std::string_view root = "body") {
    return parse<T>(text, decode_options{.root = root});
}

}  // namespace zephyr::json
