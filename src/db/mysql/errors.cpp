#include "db/mysql/errors.hpp"

#include "db/sql_text.hpp"

#include <errmsg.h>
#include <mysqld_error.h>

#include <fmt/format.h>

namespace zephyr::db::detail {

namespace {

// Numbers that only MySQL (not MariaDB's headers) defines.
constexpr unsigned mysql_check_constraint_violated = 3819;   // ER_CHECK_CONSTRAINT_VIOLATED
constexpr unsigned mysql_query_timeout = 3024;               // ER_QUERY_TIMEOUT (max_execution_time)
constexpr unsigned mysql_client_interaction_timeout = 4031;  // the server closed an idle session (wait_timeout)

// Client library errors after which the connection cannot be used again: the socket failed, the server
// went away, or the protocol state is lost (commands out of sync means a reply is still unread).
bool client_connection_error(unsigned code) noexcept {
    switch (code) {
        case CR_UNKNOWN_ERROR:
        case CR_SOCKET_CREATE_ERROR:
        case CR_CONNECTION_ERROR:
        case CR_CONN_HOST_ERROR:
        case CR_IPSOCK_ERROR:
        case CR_UNKNOWN_HOST:
        case CR_SERVER_GONE_ERROR:
        case CR_VERSION_ERROR:
        case CR_OUT_OF_MEMORY:
        case CR_WRONG_HOST_INFO:
        case CR_LOCALHOST_CONNECTION:
        case CR_TCP_CONNECTION:
        case CR_SERVER_HANDSHAKE_ERR:
        case CR_SERVER_LOST:
        case CR_COMMANDS_OUT_OF_SYNC:
        case CR_SSL_CONNECTION_ERROR:
        case CR_MALFORMED_PACKET:
        case CR_CONN_UNKNOWN_PROTOCOL:
        case CR_SECURE_AUTH:
        case CR_SERVER_LOST_EXTENDED:
        case CR_AUTH_PLUGIN_CANNOT_LOAD:
        case CR_AUTH_PLUGIN_ERR:
        case CR_ERR_NET_READ:
        case CR_ERR_NET_WRITE:
        case CR_ERR_NET_UNCOMPRESS:
            return true;
        default:
            return false;
    }
}

}  // namespace

errc mysql_error_kind(unsigned code) noexcept {
    switch (code) {
        case ER_DUP_ENTRY:
        case ER_DUP_ENTRY_WITH_KEY_NAME:
            return errc::unique_violation;
        case ER_ROW_IS_REFERENCED:
        case ER_NO_REFERENCED_ROW:
        case ER_ROW_IS_REFERENCED_2:
        case ER_NO_REFERENCED_ROW_2:
            return errc::foreign_key_violation;
        case ER_BAD_NULL_ERROR:
        case ER_NO_DEFAULT_FOR_FIELD:
            return errc::not_null_violation;
        case ER_CONSTRAINT_FAILED:
        case mysql_check_constraint_violated:
            return errc::check_violation;
        case ER_LOCK_DEADLOCK:
            return errc::deadlock;
        case ER_LOCK_WAIT_TIMEOUT:
        case ER_STATEMENT_TIMEOUT:
        case mysql_query_timeout:
            return errc::timeout;
        // The server ends the session after these: the next statement would fail anyway.
        case ER_CONNECTION_KILLED:
        case ER_SERVER_SHUTDOWN:
        case mysql_client_interaction_timeout:
            return errc::connection_lost;
        default:
            break;
    }
    if (client_connection_error(code)) return errc::connection_lost;
    return errc::other;
}

std::string mysql_error_message(unsigned code, std::string_view text, std::string_view sqlstate, std::string_view sql) {
    if (text.empty()) text = "unknown error";
    std::string out = sqlstate.empty() ? fmt::format("{} (MySQL error {})", text, code)
                                       : fmt::format("{} (MySQL error {}, SQLSTATE {})", text, code, sqlstate);
    if (!sql.empty()) {
        out += " in: ";
        out += sql_excerpt(sql);
    }
    return out;
}

}  // namespace zephyr::db::detail
