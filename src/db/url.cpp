#include <zephyr/db/error.hpp>
#include <zephyr/db/url.hpp>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <fmt/format.h>

#include <charconv>

namespace zephyr::db {

const char* to_string(dialect d) noexcept {
    switch (d) {
        case dialect::sqlite: return "sqlite";
        case dialect::postgresql: return "postgresql";
        case dialect::mysql: return "mysql";
    }
    return "?";
}

std::string connection_url::param(std::string_view name, std::string_view fallback) const {
    for (const auto& [k, v] : params)
        if (k == name) return v;
    return std::string{fallback};
}

std::string connection_url::redacted() const {
    // fmt::format rather than "literal" + string: GCC 12 at -O3 warns falsely (-Wrestrict) about the latter.
    if (dialect == dialect::sqlite) return memory ? std::string{"sqlite::memory:"} : fmt::format("sqlite://{}", database);
    const std::string credentials =
        user.empty() && password.empty() ? std::string{} : fmt::format("{}{}@", user, password.empty() ? "" : ":***");
    const std::string at_port = port ? fmt::format(":{}", port) : std::string{};
    return fmt::format("{}://{}{}{}/{}", to_string(dialect), credentials, host, at_port, database);
}

namespace {
int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Percent-decodes `in` ('+' is a space, as in forms); false for a malformed escape.
bool decode(std::string_view in, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '%') {
            if (i + 2 >= in.size()) return false;
            const int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
            if (hi < 0 || lo < 0) return false;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(in[i] == '+' ? ' ' : in[i]);
        }
    }
    return true;
}

// `k=v&k2=v2` into pairs. Written here rather than taken from Boost.URL 1.81, whose query iteration crashed on
// inputs the fuzzer found ("?#...", and an overread in parse_query).
bool parse_params(std::string_view query, std::vector<std::pair<std::string, std::string>>& out) {
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (item.empty()) continue;
        const std::size_t eq = item.find('=');
        std::string key, value;
        if (!decode(item.substr(0, eq), key)) return false;
        if (eq != std::string_view::npos && !decode(item.substr(eq + 1), value)) return false;
        out.emplace_back(std::move(key), std::move(value));
    }
    return true;
}

[[noreturn]] void bad(std::string_view url_for_message, std::string_view why) {
    throw Error{errc::bad_url, fmt::format("database URL '{}': {}", url_for_message, why)};
}
}  // namespace

connection_url parse_url(std::string_view text) {
    connection_url out;
    // The message never shows the text after the scheme: it may hold a password.
    const std::string_view shown = text.substr(0, text.find("://") == std::string_view::npos ? 16 : text.find("://") + 3);
    if (text == "sqlite::memory:" || text == "sqlite://:memory:") {
        out.dialect = dialect::sqlite;
        out.memory = true;
        return out;
    }
    if (text.starts_with("sqlite://")) {
        // sqlite:///abs/path.db (absolute) or sqlite://rel/path.db (relative to the working directory).
        std::string_view rest = text.substr(9);
        const auto q = rest.find('?');
        std::string_view path = rest.substr(0, q);
        if (path.empty()) bad(text, "no file path (use sqlite:///path/to/app.db or sqlite::memory:)");
        out.dialect = dialect::sqlite;
        out.database = std::string{path};
        if (q != std::string_view::npos) {
            const std::string_view query = rest.substr(q + 1);
            // A database URL has no #fragment (and Boost.URL 1.81 crashes iterating "?#...": found by fuzzing).
            if (query.find('#') != std::string_view::npos) bad(text, "a database URL has no #fragment");
            if (!parse_params(query, out.params)) bad(text, "malformed query parameters");
        }
        return out;
    }
    auto parsed = boost::urls::parse_uri(text);
    if (!parsed) bad(shown, "not a URL (expected e.g. postgresql://user:pass@host:5432/db)");
    const boost::urls::url_view& u = *parsed;
    if (u.has_fragment()) bad(shown, "a database URL has no #fragment");
    const std::string scheme = u.scheme();
    if (scheme == "postgresql" || scheme == "postgres") {
        out.dialect = dialect::postgresql;
    } else if (scheme == "mysql" || scheme == "mariadb") {
        out.dialect = dialect::mysql;
    } else {
        bad(shown, fmt::format("unknown scheme '{}' (sqlite, postgresql, mysql or mariadb)", scheme));
    }
    if (!u.has_authority() || u.host().empty()) bad(shown, "no host");
    out.user = u.user();
    out.password = u.password();
    out.host = u.host();
    if (u.has_port()) {
        const std::string port = u.port();
        unsigned v = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
        if (ec != std::errc{} || p != port.data() + port.size() || v == 0 || v > 65535)
            bad(shown, fmt::format("port '{}' is not a number from 1 to 65535", port));
        out.port = static_cast<std::uint16_t>(v);
    }
    std::string path = u.path();
    if (!path.empty() && path.front() == '/') path.erase(0, 1);
    if (path.empty()) bad(shown, "no database name (add /name after the host)");
    if (path.find('/') != std::string::npos) bad(shown, "the database name contains '/'");
    out.database = std::move(path);
    if (!parse_params(u.encoded_query(), out.params)) bad(shown, "malformed query parameters");
    return out;
}

}  // namespace zephyr::db
