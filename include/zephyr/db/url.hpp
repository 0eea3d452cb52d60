// zephyr/db/url.hpp — database connection URLs.
//
//     sqlite:///var/app.db      sqlite://relative/app.db    sqlite::memory:
//     postgresql://user:pass@host:5432/db?sslmode=require     (also postgres://)
//     mysql://user:pass@host:3306/db   mariadb://...
//
// Percent-escapes in the user, password and database are decoded. Query parameters are kept for the driver
// (PostgreSQL passes them to libpq: sslmode, connect_timeout, application_name, ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zephyr::db {

/// The SQL dialects Zephyr speaks.
enum class dialect { sqlite, postgresql, mysql };

/// "sqlite", "postgresql" or "mysql".
const char* to_string(dialect d) noexcept;

/// A parsed connection URL.
struct connection_url {
    db::dialect dialect = dialect::sqlite;
    std::string user{};
    std::string password{};
    std::string host{};
    std::uint16_t port = 0;  ///< 0 when the URL names none (the driver's default).
    std::string database{};  ///< The database name, or for SQLite the file path ("" with `memory`).
    bool memory = false;     ///< sqlite::memory:
    std::vector<std::pair<std::string, std::string>> params{};

    /// The value of query parameter `name`, or `fallback`.
    std::string param(std::string_view name, std::string_view fallback = {}) const;
    /// The URL with the password replaced by `***`, for logs.
    std::string redacted() const;
};

/// Parses a connection URL. Throws db::Error (errc::bad_url) saying what is wrong with it (the password is never
/// part of the message).
connection_url parse_url(std::string_view url);

}  // namespace zephyr::db
