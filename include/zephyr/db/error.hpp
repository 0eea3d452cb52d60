// zephyr/db/error.hpp — what goes wrong in a database, as types.
//
// Every failure of the db module is a db::Error with a kind, the SQLSTATE the server sent (when it sent one) and
// a message that names the operation. The kinds a caller handles on purpose have their own types; the common
// ones carry an HTTP status, so a handler that lets them escape answers 409, 404 or 503 by default.
//
//     try { co_await db.execute("INSERT INTO users(email) VALUES (?)", email); }
//     catch (const zephyr::db::unique_violation&) { throw HttpError{status::conflict, "email taken"}; }
#pragma once

#include <zephyr/core/error.hpp>

#include <stdexcept>
#include <string>

namespace zephyr::db {

/// The kind of a database failure, independent of the database.
enum class errc {
    other,                  ///< Anything not listed below (syntax errors, permission denied, ...).
    unique_violation,       ///< SQLSTATE 23505 / MySQL 1062 / SQLITE_CONSTRAINT_UNIQUE.
    foreign_key_violation,  ///< SQLSTATE 23503 / MySQL 1451, 1452 / SQLITE_CONSTRAINT_FOREIGNKEY.
    not_null_violation,     ///< SQLSTATE 23502 / MySQL 1048 / SQLITE_CONSTRAINT_NOTNULL.
    check_violation,        ///< SQLSTATE 23514 / MySQL 4025, 3819 / SQLITE_CONSTRAINT_CHECK.
    serialization_failure,  ///< SQLSTATE 40001: retry the transaction.
    deadlock,               ///< SQLSTATE 40P01 / MySQL 1213: retry the transaction.
    connection_lost,        ///< The server went away or could not be reached.
    timeout,                ///< No pooled connection within the acquire timeout, or a statement timed out.
    not_found,              ///< A query that must return a row returned none.
    bad_result,             ///< A result does not fit the requested C++ type (missing column, NULL, range).
    bad_url,                ///< The connection URL cannot be used.
    misuse,                 ///< The API was used wrongly (a finished transaction used again, ...).
    invalid_argument,       ///< A value that typically comes from a request is out of range (page 0).
};

/// A readable name for an errc ("unique violation").
const char* to_string(errc e) noexcept;

/// The base of every db exception.
class Error : public std::runtime_error {
public:
    Error(errc kind, std::string message, std::string sqlstate = {})
        : std::runtime_error{std::move(message)}, kind_{kind}, sqlstate_{std::move(sqlstate)} {}

    errc kind() const noexcept { return kind_; }
    /// The five-character SQLSTATE from the server, or "" (SQLite has none; client-side errors have none).
    const std::string& sqlstate() const noexcept { return sqlstate_; }
    /// True for failures that a retried transaction may not meet again (serialization failure, deadlock).
    bool retryable() const noexcept { return kind_ == errc::serialization_failure || kind_ == errc::deadlock; }

private:
    errc kind_;
    std::string sqlstate_;
};

namespace detail {
/// The text a client sees for an error of this kind ("the value already exists").
const char* client_message(errc kind) noexcept;

template <errc Kind, int Status>
class hinted_error : public Error, public status_hint {
public:
    explicit hinted_error(std::string message, std::string sqlstate = {})
        : Error{Kind, std::move(message), std::move(sqlstate)} {}
    int http_status() const noexcept override { return Status; }
    const char* client_message() const noexcept override { return detail::client_message(Kind); }
};
}  // namespace detail

/// A unique constraint rejected a row (HTTP 409 when it escapes a handler).
using unique_violation = detail::hinted_error<errc::unique_violation, 409>;
/// A foreign key rejected a row or a delete (HTTP 409).
using foreign_key_violation = detail::hinted_error<errc::foreign_key_violation, 409>;
/// A NOT NULL column got NULL.
using not_null_violation = detail::hinted_error<errc::not_null_violation, 422>;
/// A CHECK constraint rejected a row.
using check_violation = detail::hinted_error<errc::check_violation, 422>;
/// The transaction could not be serialized; running it again may succeed (HTTP 409).
using serialization_failure = detail::hinted_error<errc::serialization_failure, 409>;
/// The transaction was chosen as a deadlock victim; running it again may succeed (HTTP 409).
using deadlock = detail::hinted_error<errc::deadlock, 409>;
/// The database could not be reached or dropped the connection (HTTP 503).
using connection_lost = detail::hinted_error<errc::connection_lost, 503>;
/// Waiting for a connection or a statement took too long (HTTP 503).
using timeout = detail::hinted_error<errc::timeout, 503>;
/// A row that must exist does not (HTTP 404).
using not_found = detail::hinted_error<errc::not_found, 404>;

/// A value that typically comes from the request is out of range, such as page 0 of paginate() (HTTP 400; the
/// message, which names the value, is what the client sees).
class invalid_argument : public Error, public status_hint {
public:
    explicit invalid_argument(std::string message) : Error{errc::invalid_argument, std::move(message)} {}
    int http_status() const noexcept override { return 400; }
    const char* client_message() const noexcept override { return what(); }
};

/// Throws the exception type that matches `kind` (unique_violation for errc::unique_violation, Error otherwise).
[[noreturn]] void raise(errc kind, std::string message, std::string sqlstate = {});

}  // namespace zephyr::db
