#include <zephyr/db/error.hpp>

namespace zephyr::db {

const char* to_string(errc e) noexcept {
    switch (e) {
        case errc::other:
            return "database error";
        case errc::unique_violation:
            return "unique violation";
        case errc::foreign_key_violation:
            return "foreign key violation";
        case errc::not_null_violation:
            return "not null violation";
        case errc::check_violation:
            return "check violation";
        case errc::serialization_failure:
            return "serialization failure";
        case errc::deadlock:
            return "deadlock";
        case errc::connection_lost:
            return "connection lost";
        case errc::timeout:
            return "timeout";
        case errc::not_found:
            return "not found";
        case errc::bad_result:
            return "bad result";
        case errc::bad_url:
            return "bad URL";
        case errc::misuse:
            return "misuse";
        case errc::invalid_argument:
            return "invalid argument";
    }
    return "database error";
}

namespace detail {
const char* client_message(errc kind) noexcept {
    switch (kind) {
        case errc::unique_violation:
            return "a record with this value already exists";
        case errc::foreign_key_violation:
            return "the record refers to, or is referred to by, another record";
        case errc::not_null_violation:
            return "a required value is missing";
        case errc::check_violation:
            return "a value breaks a rule of the data";
        case errc::serialization_failure:
        case errc::deadlock:
            return "the request conflicted with another one; try again";
        case errc::connection_lost:
            return "the database is unavailable";
        case errc::timeout:
            return "the database is busy; try again later";
        case errc::not_found:
            return "not found";
        default:
            return "database error";
    }
}
}  // namespace detail

void raise(errc kind, std::string message, std::string sqlstate) {
    switch (kind) {
        case errc::unique_violation:
            throw unique_violation{std::move(message), std::move(sqlstate)};
        case errc::foreign_key_violation:
            throw foreign_key_violation{std::move(message), std::move(sqlstate)};
        case errc::not_null_violation:
            throw not_null_violation{std::move(message), std::move(sqlstate)};
        case errc::check_violation:
            throw check_violation{std::move(message), std::move(sqlstate)};
        case errc::serialization_failure:
            throw serialization_failure{std::move(message), std::move(sqlstate)};
        case errc::deadlock:
            throw deadlock{std::move(message), std::move(sqlstate)};
        case errc::connection_lost:
            throw connection_lost{std::move(message), std::move(sqlstate)};
        case errc::timeout:
            throw timeout{std::move(message), std::move(sqlstate)};
        case errc::not_found:
            throw not_found{std::move(message), std::move(sqlstate)};
        case errc::invalid_argument:
            throw invalid_argument{std::move(message)};
        default:
            throw Error{kind, std::move(message), std::move(sqlstate)};
    }
}

}  // namespace zephyr::db
