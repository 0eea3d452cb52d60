#include <zephyr/json/error.hpp>

#include <utility>

namespace zephyr::json {

std::string format_errors(const std::vector<field_error>& errors) {
    std::string out;
    for (const field_error& e : errors) {
        if (!out.empty()) {
            out += "; ";
        }
        out += e.path;
        out += ": ";
        out += e.message;
    }
    return out;
}

decode_error::decode_error(std::vector<field_error> errs, bool syntax)
    : std::runtime_error{errs.empty() ? std::string{"invalid input"} : format_errors(errs)},
      errors{std::move(errs)},
      syntax_{syntax} {}

}  // namespace zephyr::json
