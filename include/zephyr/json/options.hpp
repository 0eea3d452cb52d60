// zephyr/json/options.hpp — how JSON input is decoded into C++ values.
//
// The defaults suit JSON request bodies: types must match exactly, unknown fields are ignored and every error
// path starts with `body`. Query strings and forms carry only text, so their extractors turn on `text_values`:
//
//     auto q = zephyr::json::from_value<search>(v, {.root = "query", .text_values = true});
//     auto u = zephyr::json::parse<new_user>(text, {.reject_unknown_fields = true});
#pragma once

#include <cstddef>
#include <string_view>

namespace zephyr::json {

/// The deepest nesting of arrays and objects that `parse` and `parse_value` accept. Deeper input is rejected
/// with "nesting too deep" before any value is built, so hostile input cannot exhaust the stack.
inline constexpr std::size_t max_depth = 64;

/// Options for `from_value`, `try_from_value` and `parse`. Every member has a default, so write only the ones
/// you change: `{.root = "query", .text_values = true}`.
struct decode_options {
    /// The first segment of every error path, e.g. `body` in `body.items[2].qty`. The text must outlive the
    /// call; a string literal is typical.
    std::string_view root = "body";

    /// Accept text where a scalar is expected, for sources that carry only strings (query strings, forms):
    /// "42" decodes into an integer, "1.5" into a floating-point number, "true"/"false", "1"/"0" and "on"/"off"
    /// into bool, "" into an empty std::optional, a single value into a one-element std::vector, and a
    /// missing std::vector member into an empty one.
    bool text_values = false;

    /// Report object keys that match no member of a described struct as "is not a known field". By default
    /// they are ignored.
    bool reject_unknown_fields = false;

    /// A member absent from the input keeps the value it had when the struct was default-constructed (its
    /// default member initializer) instead of being reported as "is required". For configuration files.
    bool missing_keeps_default = false;

    /// Stop decoding after this many errors, so that a huge array of bad elements cannot produce a huge
    /// error list. The errors reported are always the first ones found.
    std::size_t max_errors = 100;
};

}  // namespace zephyr::json
