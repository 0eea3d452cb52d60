#include <zephyr/json/detail/decode.hpp>
#include <zephyr/json/rfc3339.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <system_error>

namespace zephyr::json::detail {

namespace {

std::string_view kind_name(const boost::json::value& v) {
    switch (v.kind()) {
        case boost::json::kind::null:
            return "null";
        case boost::json::kind::bool_:
            return "boolean";
        case boost::json::kind::int64:
        case boost::json::kind::uint64:
        case boost::json::kind::double_:
            return "number";
        case boost::json::kind::string:
            return "string";
        case boost::json::kind::array:
            return "array";
        case boost::json::kind::object:
            return "object";
    }
    return "value";
}

bool is_identifier(std::string_view key) {
    if (key.empty() || (key[0] >= '0' && key[0] <= '9')) {
        return false;
    }
    for (char c : key) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return true;
}

// `["key"]`, with the key escaped as a JSON string so that the path stays unambiguous and printable.
void append_quoted_key(std::string& out, std::string_view key) {
    out += "[\"";
    for (char c : key) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
            out += buf;
        } else {
            out += c;
        }
    }
    out += "\"]";
}

std::string path_text(const path_node& at) {
    std::vector<const path_node*> chain;
    for (const path_node* n = &at; n != nullptr; n = n->parent) {
        chain.push_back(n);
    }
    std::string out;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        const path_node& n = **it;
        if (n.parent == nullptr) {
            out += n.key;
        } else if (n.is_index) {
            out += '[';
            out += std::to_string(n.index);
            out += ']';
        } else if (is_identifier(n.key)) {
            if (!out.empty()) {
                out += '.';
            }
            out += n.key;
        } else {
            append_quoted_key(out, n.key);
        }
    }
    return out;
}

std::string number_text(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", x);
    return buf;
}

// Text (from a query string or form) that must be the whole of a number: from_chars refuses leading spaces
// and '+', which is the strictness we want.
template <class N>
std::errc parse_text(std::string_view s, N& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc{} && end != s.data() + s.size()) {
        return std::errc::invalid_argument;
    }
    return ec;
}

std::string_view text_of(const boost::json::value& v) {
    const boost::json::string& s = v.get_string();
    return {s.data(), s.size()};
}

}  // namespace

void decoder::fail(const path_node& at, std::string message) {
    failed_ = true;
    if (stopped()) {
        return;
    }
    errors_.push_back(field_error{path_text(at), std::move(message)});
}

void decoder::fail_type(const path_node& at, std::string_view expected, const boost::json::value& v) {
    std::string message = "expected ";
    message += expected;
    // Text sources have only strings, so "got string" would say nothing.
    if (!(options_.text_values && v.is_string())) {
        message += ", got ";
        message += kind_name(v);
    }
    fail(at, std::move(message));
}

void decoder::fail_enum(const path_node& at, const std::vector<std::string_view>& names) {
    std::string message = "must be one of: ";
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i != 0) {
            message += ", ";
        }
        message += names[i];
    }
    fail(at, std::move(message));
}

bool read_bool(const boost::json::value& v, bool& out, decoder& d, const path_node& at) {
    if (const bool* b = v.if_bool()) {
        out = *b;
        return true;
    }
    if (d.options().text_values && v.is_string()) {
        const std::string_view s = text_of(v);
        if (s == "true" || s == "1" || s == "on") {
            out = true;
            return true;
        }
        if (s == "false" || s == "0" || s == "off") {
            out = false;
            return true;
        }
        d.fail(at, "expected a boolean (true or false)");
        return false;
    }
    d.fail_type(at, "a boolean", v);
    return false;
}

namespace {

// A double that holds a whole number may stand for an integer (JSON has one number type); 2.0 and 1e3 are
// integers, 1.5 is not.
bool is_whole(double x) {
    return std::isfinite(x) && std::trunc(x) == x;
}

template <class I>
void fail_range(decoder& d, const path_node& at, I lo, I hi) {
    d.fail(at, "must be an integer between " + std::to_string(lo) + " and " + std::to_string(hi));
}

}  // namespace

bool read_signed(const boost::json::value& v, std::int64_t& out, std::int64_t lo, std::int64_t hi, decoder& d,
                 const path_node& at) {
    switch (v.kind()) {
        case boost::json::kind::int64: {
            const std::int64_t x = v.get_int64();
            if (x < lo || x > hi) {
                break;
            }
            out = x;
            return true;
        }
        case boost::json::kind::uint64: {
            const std::uint64_t x = v.get_uint64();
            if (hi < 0 || x > static_cast<std::uint64_t>(hi)) {
                break;
            }
            out = static_cast<std::int64_t>(x);
            return true;
        }
        case boost::json::kind::double_: {
            const double x = v.get_double();
            if (!is_whole(x)) {
                d.fail_type(at, "an integer", v);
                return false;
            }
            // hi + 1 is a power of two (or rounds up to one), so this bound is exact and the cast below is defined.
            if (x < static_cast<double>(lo) || x >= static_cast<double>(hi) + 1.0) {
                break;
            }
            out = static_cast<std::int64_t>(x);
            return true;
        }
        case boost::json::kind::string:
            if (d.options().text_values) {
                std::int64_t x = 0;
                const std::errc ec = parse_text(text_of(v), x);
                if (ec == std::errc::invalid_argument) {
                    d.fail_type(at, "an integer", v);
                    return false;
                }
                if (ec != std::errc{} || x < lo || x > hi) {
                    break;
                }
                out = x;
                return true;
            }
            [[fallthrough]];
        default:
            d.fail_type(at, "an integer", v);
            return false;
    }
    fail_range(d, at, lo, hi);
    return false;
}

bool read_unsigned(const boost::json::value& v, std::uint64_t& out, std::uint64_t hi, decoder& d, const path_node& at) {
    switch (v.kind()) {
        case boost::json::kind::int64: {
            const std::int64_t x = v.get_int64();
            if (x < 0 || static_cast<std::uint64_t>(x) > hi) {
                break;
            }
            out = static_cast<std::uint64_t>(x);
            return true;
        }
        case boost::json::kind::uint64: {
            const std::uint64_t x = v.get_uint64();
            if (x > hi) {
                break;
            }
            out = x;
            return true;
        }
        case boost::json::kind::double_: {
            const double x = v.get_double();
            if (!is_whole(x)) {
                d.fail_type(at, "an integer", v);
                return false;
            }
            if (x < 0 || x >= static_cast<double>(hi) + 1.0) {
                break;
            }
            out = static_cast<std::uint64_t>(x);
            return true;
        }
        case boost::json::kind::string:
            if (d.options().text_values) {
                const std::string_view s = text_of(v);
                std::uint64_t x = 0;
                // from_chars would refuse "-1" as malformed; it is a number, just out of range.
                const bool negative = !s.empty() && s[0] == '-';
                const std::errc ec = parse_text(negative ? s.substr(1) : s, x);
                if (ec == std::errc::invalid_argument) {
                    d.fail_type(at, "an integer", v);
                    return false;
                }
                if (ec != std::errc{} || x > hi || (negative && x != 0)) {
                    break;
                }
                out = x;
                return true;
            }
            [[fallthrough]];
        default:
            d.fail_type(at, "an integer", v);
            return false;
    }
    fail_range(d, at, std::uint64_t{0}, hi);
    return false;
}

bool read_double(const boost::json::value& v, double& out, double limit, decoder& d, const path_node& at) {
    double x = 0;
    switch (v.kind()) {
        case boost::json::kind::int64:
            x = static_cast<double>(v.get_int64());
            break;
        case boost::json::kind::uint64:
            x = static_cast<double>(v.get_uint64());
            break;
        case boost::json::kind::double_:
            x = v.get_double();
            break;
        case boost::json::kind::string:
            if (d.options().text_values) {
                const std::errc ec = parse_text(text_of(v), x);
                if (ec == std::errc::result_out_of_range) {
                    x = HUGE_VAL;  // reported as out of range below
                } else if (ec != std::errc{} || std::isnan(x)) {
                    d.fail_type(at, "a number", v);
                    return false;
                }
                break;
            }
            [[fallthrough]];
        default:
            d.fail_type(at, "a number", v);
            return false;
    }
    // Boost.JSON reads 1e400 as infinity; JSON cannot carry it back out, so it is out of range like 1e39 for float.
    if (!(x >= -limit && x <= limit)) {
        d.fail(at, "must be a number between " + number_text(-limit) + " and " + number_text(limit));
        return false;
    }
    out = x;
    return true;
}

bool read_string(const boost::json::value& v, std::string& out, decoder& d, const path_node& at) {
    if (const boost::json::string* s = v.if_string()) {
        out.assign(s->data(), s->size());
        return true;
    }
    d.fail_type(at, "a string", v);
    return false;
}

bool read_time(const boost::json::value& v, time_point& out, decoder& d, const path_node& at) {
    if (!v.is_string()) {
        d.fail_type(at, "an RFC 3339 date-time string", v);
        return false;
    }
    if (auto t = parse_rfc3339(text_of(v))) {
        out = *t;
        return true;
    }
    d.fail(at, "must be an RFC 3339 date-time such as 2024-05-01T12:34:56Z");
    return false;
}

}  // namespace zephyr::json::detail
