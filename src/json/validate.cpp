#include <zephyr/json/validate.hpp>

#include <boost/regex.hpp>

#include <array>
#include <charconv>
#include <cmath>

namespace zephyr::validate::detail {

std::string format_number(std::int64_t v) { return std::to_string(v); }
std::string format_number(std::uint64_t v) { return std::to_string(v); }

std::string format_number(long double v) {
    // The shortest text that reads back as the same double: 0.5, 1e+20, not 0.500000.
    std::array<char, 64> buf{};
    auto r = std::to_chars(buf.data(), buf.data() + buf.size(), static_cast<double>(v));
    return std::string(buf.data(), r.ptr);
}

struct pattern_matcher::impl {
    boost::regex re;
};

pattern_matcher::pattern_matcher(std::string_view pattern) : source_{pattern} {
    try {
        impl_ = std::make_unique<impl>(impl{boost::regex{source_, boost::regex::ECMAScript}});
    } catch (const boost::regex_error& e) {
        throw std::invalid_argument{"zephyr::validate::pattern(): invalid regular expression '" + source_ +
                                    "': " + e.what()};
    }
}

pattern_matcher::~pattern_matcher() = default;

bool pattern_matcher::matches(std::string_view text) const noexcept {
    try {
        // Boost.Regex matches without recursion and gives up (throws) on pathological backtracking, so
        // hostile input costs bounded time and stack.
        return boost::regex_match(text.begin(), text.end(), impl_->re);
    } catch (...) {
        return false;
    }
}

namespace {

bool is_atext(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '/':
        case '=': case '?': case '^': case '_': case '`': case '{': case '|': case '}': case '~':
            return true;
        default:
            return static_cast<unsigned char>(c) >= 0x80;  // internationalised addresses (RFC 6531)
    }
}

bool is_label_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           static_cast<unsigned char>(c) >= 0x80;
}

}  // namespace

// The dot-atom form of RFC 5322 for the local part and a host name with at least one dot for the domain: what
// people type into a sign-up form. Quoted local parts and address literals are refused.
bool is_email(std::string_view s) noexcept {
    if (s.size() > 254) return false;
    const auto at = s.rfind('@');
    if (at == std::string_view::npos || at == 0 || at > 64) return false;
    const std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
    if (local.front() == '.' || local.back() == '.') return false;
    for (std::size_t i = 0; i < local.size(); ++i) {
        if (local[i] == '.') {
            if (local[i + 1] == '.') return false;
        } else if (!is_atext(local[i])) {
            return false;
        }
    }
    if (domain.empty() || domain.size() > 253 || domain.find('.') == std::string_view::npos) return false;
    std::size_t label = 0;
    for (std::size_t i = 0; i <= domain.size(); ++i) {
        if (i == domain.size() || domain[i] == '.') {
            if (label == 0 || label > 63 || domain[i - 1] == '-' || domain[i - label] == '-') return false;
            label = 0;
        } else if (!is_label_char(domain[i])) {
            return false;
        } else {
            ++label;
        }
    }
    return true;
}

}  // namespace zephyr::validate::detail
