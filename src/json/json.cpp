#include <zephyr/json/json.hpp>

#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

namespace zephyr::json {

std::string to_string(const boost::json::value& v) {
    return boost::json::serialize(v);
}

boost::json::value parse_value(std::string_view text, std::string_view root) {
    boost::json::parse_options options;
    options.max_depth = max_depth;
    boost::json::parser parser{boost::json::storage_ptr{}, options};
    boost::system::error_code ec;
    const std::size_t consumed = parser.write_some(text.data(), text.size(), ec);
    if (!ec && consumed < text.size()) {
        ec = boost::json::error::extra_data;
    }
    if (!ec) {
        return parser.release();
    }

    // The parser stops at the offending character (or at the end, for truncated input); people count lines
    // and columns from 1.
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < consumed && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    std::string what = ec == boost::json::error::too_deep
                           ? "nesting too deep (more than " + std::to_string(max_depth) + " levels)"
                           : ec.message();
    std::string message = "invalid JSON at offset " + std::to_string(consumed) + " (line " + std::to_string(line) +
                          ", column " + std::to_string(column) + "): " + what;
    throw decode_error({field_error{std::string{root}, std::move(message)}}, true);
}

}  // namespace zephyr::json

namespace zephyr::json::detail {

void throw_unnamed_enumerator(long long value) {
    throw std::invalid_argument("zephyr::json: enum value " + std::to_string(value) +
                                " has no described enumerator, so it has no name to write");
}

}  // namespace zephyr::json::detail
