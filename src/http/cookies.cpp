#include <zephyr/http/cookies.hpp>
#include <zephyr/http/date.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>
#include <stdexcept>

namespace zephyr::http {
namespace {

bool is_token_char(unsigned char c) {
    if (c <= 32 || c >= 127) return false;
    switch (c) {
        case '(': case ')': case '<': case '>': case '@': case ',': case ';': case ':': case '\\': case '"':
        case '/': case '[': case ']': case '?': case '=': case '{': case '}': return false;
        default: return true;
    }
}

// cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
bool is_cookie_octet(unsigned char c) {
    return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) || (c >= 0x3C && c <= 0x5B) ||
           (c >= 0x5D && c <= 0x7E);
}

// Attribute values (Domain, Path) may hold any CHAR except CTLs and ';'.
bool is_av_char(unsigned char c) { return c >= 0x20 && c < 0x7F && c != ';'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

}  // namespace

std::string to_set_cookie(const cookie& c) {
    auto bad = [&](std::string_view what) {
        // The name itself may be what is wrong: show it with control characters escaped.
        std::string shown;
        for (unsigned char ch : c.name) {
            if (ch < 0x20 || ch >= 0x7F) shown += fmt::format("\\x{:02x}", ch);
            else shown += static_cast<char>(ch);
        }
        throw std::invalid_argument{fmt::format("cookie '{}': {}", shown, what)};
    };
    if (c.name.empty()) bad("the name is empty");
    for (unsigned char ch : c.name)
        if (!is_token_char(ch)) bad("the name may only contain token characters (no spaces, separators or controls)");
    for (unsigned char ch : c.value)
        if (!is_cookie_octet(ch))
            bad("the value may only contain printable ASCII without space, '\"', ',', ';' or '\\'; "
                "encode it (for example base64url) first");
    for (unsigned char ch : c.domain)
        if (!is_av_char(ch)) bad("the domain contains a control character or ';'");
    for (unsigned char ch : c.path)
        if (!is_av_char(ch)) bad("the path contains a control character or ';'");
    if (c.same_site == same_site::none && !c.secure) bad("SameSite=None requires Secure");
    if (c.partitioned && !c.secure) bad("Partitioned requires Secure");

    std::string out = c.name;
    out += '=';
    out += c.value;
    if (c.expires) {
        // Not fmt's chrono formatting: fmt 9 writes a system_clock time point in *local* time.
        out += "; Expires=";
        out += to_http_date(std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(*c.expires)));
    }
    if (c.max_age) out += fmt::format("; Max-Age={}", c.max_age->count() < 0 ? 0 : c.max_age->count());
    if (!c.domain.empty()) out += "; Domain=" + c.domain;
    if (!c.path.empty()) out += "; Path=" + c.path;
    if (c.secure) out += "; Secure";
    if (c.http_only) out += "; HttpOnly";
    switch (c.same_site) {
        case same_site::lax: out += "; SameSite=Lax"; break;
        case same_site::strict: out += "; SameSite=Strict"; break;
        case same_site::none: out += "; SameSite=None"; break;
        case same_site::unset: break;
    }
    if (c.partitioned) out += "; Partitioned";
    return out;
}

std::vector<std::pair<std::string_view, std::string_view>> parse_cookie_header(std::string_view header) {
    std::vector<std::pair<std::string_view, std::string_view>> out;
    while (!header.empty()) {
        auto semi = header.find(';');
        std::string_view item = trim(header.substr(0, semi));
        header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
        auto eq = item.find('=');
        if (eq == std::string_view::npos) continue;
        std::string_view name = trim(item.substr(0, eq));
        std::string_view value = trim(item.substr(eq + 1));
        if (name.empty()) continue;
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        out.emplace_back(name, value);
    }
    return out;
}

}  // namespace zephyr::http
