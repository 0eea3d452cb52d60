#include <zephyr/json/json.hpp>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_stack.hpp>

#include <charconv>
#include <stdexcept>

namespace zephyr::json {

namespace {

// Boost.JSON 1.81 converts decimal text to double quickly but not exactly: about a third of all doubles do not
// survive its own serialize → parse round trip, and long mantissas land an ulp or more away. This handler builds
// the same value tree as boost::json::parser but reads every non-integer number from its text with
// std::from_chars, which rounds correctly.
struct precise_handler {
    static constexpr std::size_t max_object_size = boost::json::object::max_size();
    static constexpr std::size_t max_array_size = boost::json::array::max_size();
    static constexpr std::size_t max_key_size = boost::json::string::max_size();
    static constexpr std::size_t max_string_size = boost::json::string::max_size();

    boost::json::value_stack st;
    std::string number;  // the parts of a number split across input buffers (rare: we parse whole texts)

    using ec_t = boost::json::error_code;
    using sv = boost::json::string_view;

    bool on_document_begin(ec_t&) { return true; }
    bool on_document_end(ec_t&) { return true; }
    bool on_object_begin(ec_t&) { return true; }
    bool on_object_end(std::size_t n, ec_t&) {
        st.push_object(n);
        return true;
    }
    bool on_array_begin(ec_t&) { return true; }
    bool on_array_end(std::size_t n, ec_t&) {
        st.push_array(n);
        return true;
    }
    bool on_key_part(sv s, std::size_t, ec_t&) {
        st.push_chars(s);
        return true;
    }
    bool on_key(sv s, std::size_t, ec_t&) {
        st.push_key(s);
        return true;
    }
    bool on_string_part(sv s, std::size_t, ec_t&) {
        st.push_chars(s);
        return true;
    }
    bool on_string(sv s, std::size_t, ec_t&) {
        st.push_string(s);
        return true;
    }
    bool on_number_part(sv s, ec_t&) {
        number.append(s.data(), s.size());
        return true;
    }
    bool on_int64(std::int64_t i, sv, ec_t&) {
        number.clear();
        st.push_int64(i);
        return true;
    }
    bool on_uint64(std::uint64_t u, sv, ec_t&) {
        number.clear();
        st.push_uint64(u);
        return true;
    }
    bool on_double(double d, sv s, ec_t&) {
        std::string_view text{s.data(), s.size()};
        if (!number.empty()) {
            number.append(s.data(), s.size());
            text = number;
        }
        double exact = 0;
        const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), exact);
        number.clear();
        // The grammar is already checked. Out of range keeps the parser's value: 0 on underflow, ±infinity on
        // overflow, which decoding into a number member then refuses with the member's name.
        if (err == std::errc{} && end == text.data() + text.size()) {
            d = exact;
        }
        st.push_double(d);
        return true;
    }
    bool on_bool(bool b, ec_t&) {
        st.push_bool(b);
        return true;
    }
    bool on_null(ec_t&) {
        st.push_null();
        return true;
    }
    bool on_comment_part(sv, ec_t&) { return true; }
    bool on_comment(sv, ec_t&) { return true; }
};

}  // namespace

std::string to_string(const boost::json::value& v) {
    return boost::json::serialize(v);
}

boost::json::value parse_value(std::string_view text, std::string_view root) {
    boost::json::parse_options options;
    options.max_depth = max_depth;
    boost::json::basic_parser<precise_handler> parser{options};
    parser.handler().st.reset();
    boost::system::error_code ec;
    const std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
    if (!ec && consumed < text.size()) {
        ec = boost::json::error::extra_data;
    }
    if (!ec) {
        return parser.handler().st.release();
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
