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
            const std::string query = fmt::format("sqlite://x/?{}", rest.substr(q + 1));  // the view points into it
            auto parsed = boost::urls::parse_uri(query);
            if (!parsed) bad(text, "malformed query parameters");
            for (auto p : parsed->params()) out.params.emplace_back(p.key, p.value);
        }
        return out;
    }
    auto parsed = boost::urls::parse_uri(text);
    if (!parsed) bad(shown, "not a URL (expected e.g. postgresql://user:pass@host:5432/db)");
    const boost::urls::url_view& u = *parsed;
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
    for (auto p : u.params()) out.params.emplace_back(p.key, p.value);
    return out;
}

}  // namespace zephyr::db
