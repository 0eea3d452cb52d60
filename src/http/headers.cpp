#include <zephyr/http/headers.hpp>

#include <stdexcept>
#include <string>

namespace zephyr::http {
namespace {

bool is_tchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
        case '^': case '_': case '`': case '|': case '~': return true;
        default: return false;
    }
}

}  // namespace

bool has_token(std::string_view list, std::string_view token) noexcept {
    while (!list.empty()) {
        auto comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (iequals(item, token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

void validate_field(std::string_view name, std::string_view value) {
    if (name.empty()) throw std::invalid_argument{"header name is empty"};
    for (unsigned char c : name)
        if (!is_tchar(c)) throw std::invalid_argument{"header name '" + std::string{name} + "' is not a token"};
    for (unsigned char c : value)
        if (c == '\r' || c == '\n' || c == '\0')
            throw std::invalid_argument{"value of header '" + std::string{name} + "' contains CR, LF or NUL"};
}

void headers::set(std::string_view name, std::string_view value) {
    validate_field(name, value);
    for (auto it = fields_.begin(); it != fields_.end(); ++it) {
        if (iequals(it->first, name)) {
            it->second.assign(value);
            // Drop any later duplicates so exactly one field remains.
            for (auto j = fields_.end(); j != it + 1;) {
                --j;
                if (iequals(j->first, name)) j = fields_.erase(j);
            }
            return;
        }
    }
    fields_.emplace_back(std::string{name}, std::string{value});
}

void headers::append(std::string_view name, std::string_view value) {
    validate_field(name, value);
    fields_.emplace_back(std::string{name}, std::string{value});
}

std::size_t headers::remove(std::string_view name) {
    std::size_t before = fields_.size();
    std::erase_if(fields_, [&](const field& f) { return iequals(f.first, name); });
    return before - fields_.size();
}

}  // namespace zephyr::http
