// zephyr/json/error.hpp — what went wrong when JSON did not match the C++ type it was decoded into.
//
// Decoding collects every problem in one pass, each with the path of the offending value, so a client can fix
// all of them at once. `field_error` is itself described, so the list can be sent back as JSON:
//
//     try { auto u = zephyr::json::parse<new_user>(text); }
//     catch (const zephyr::json::decode_error& e) {
//         for (const auto& f : e.errors) std::cerr << f.path << ": " << f.message << '\n';
//     }
#pragma once

#include <boost/describe/class.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace zephyr::json {

/// One problem found while decoding, e.g. `{"body.items[2].qty", "expected an integer, got string"}`.
struct field_error {
    /// Where the problem is: the root name (`body`, `query`, ...) followed by `.member` and `[index]` steps,
    /// e.g. `body`, `body.name`, `body.items[2].qty`. A map key that is not an identifier is written
    /// `["some key"]`.
    std::string path{};

    /// What is wrong, written for people: `is required`, `expected an integer, got string`,
    /// `must be one of: admin, user`.
    std::string message{};

    friend bool operator==(const field_error&, const field_error&) = default;
};
BOOST_DESCRIBE_STRUCT(field_error, (), (path, message))

/// "path: message" for each error, joined with "; ", e.g.
/// `body.age: expected an integer, got string; body.email: is required`.
std::string format_errors(const std::vector<field_error>& errors);

/// Thrown by `parse`, `parse_value` and `from_value` when the input is not valid JSON or does not match the
/// requested type. `what()` is `format_errors(errors)`.
class decode_error : public std::runtime_error {
public:
    /// Wraps `errors`, which should not be empty. `syntax` is true when the text was not valid JSON at all.
    explicit decode_error(std::vector<field_error> errors, bool syntax = false);

    /// True when the text was not valid JSON (HTTP 400); false when it was valid JSON of the wrong shape
    /// (HTTP 422). A syntax error always carries exactly one field_error, whose path is the root.
    bool is_syntax_error() const noexcept { return syntax_; }

    /// Every problem found, in document order for fields of one struct. Never empty.
    std::vector<field_error> errors;

private:
    bool syntax_ = false;
};

}  // namespace zephyr::json
