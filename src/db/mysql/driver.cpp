// The MariaDB/MySQL driver: URL → connection settings, connections, and MySQL's way of starting transactions.
#include "db/driver.hpp"
#include "db/mysql/connection.hpp"

#include <zephyr/db/error.hpp>

#include <mysql.h>

#include <charconv>
#include <mutex>
#include <string>

namespace zephyr::db::detail {

namespace {

constexpr unsigned default_port = 3306;

// mysql_library_init() is not thread-safe and must run before the first mysql_init(); later calls do nothing.
void init_library() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (mysql_library_init(0, nullptr, nullptr) != 0)
            throw Error{errc::other, "mysql: libmariadb could not be initialised"};
    });
}

mysql_settings settings_from(const connection_url& url, const pool_options& options) {
    mysql_settings s;
    s.host = url.host;
    s.user = url.user;
    s.password = url.password;
    s.database = url.database;
    s.port = url.port != 0 ? url.port : default_port;
    s.connect_timeout = options.connect_timeout;
    s.display = url.redacted();
    for (const auto& [name, value] : url.params) {
        if (name == "socket") {
            s.unix_socket = value;
        } else if (name == "statement_cache") {
            std::size_t n = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (ec != std::errc{} || end != value.data() + value.size())
                throw Error{errc::bad_url,
                            "mysql URL: statement_cache must be a number of statements, not '" + value + "'"};
            s.statement_cache = n;
        } else {
            // A typo must not pass silently (it would only show as a setting that has no effect).
            throw Error{errc::bad_url,
                        "mysql URL: unknown parameter '" + name + "' (supported: socket, statement_cache)"};
        }
    }
    return s;
}

const char* isolation_name(isolation i) noexcept {
    switch (i) {
        case isolation::read_uncommitted:
            return "READ UNCOMMITTED";
        case isolation::read_committed:
            return "READ COMMITTED";
        case isolation::repeatable_read:
            return "REPEATABLE READ";
        case isolation::serializable:
            return "SERIALIZABLE";
        case isolation::database_default:
            break;
    }
    return nullptr;
}

class mysql_driver final : public driver {
public:
    mysql_driver(const connection_url& url, const pool_options& options) : settings_{settings_from(url, options)} {
        init_library();
    }

    Task<std::unique_ptr<driver_connection>> connect(boost::asio::any_io_executor) override {
        return mysql_connection::open(settings_);
    }

    // MySQL has no BEGIN ... ISOLATION LEVEL: SET TRANSACTION applies to the next transaction only, so it goes
    // right before START TRANSACTION in one multi-statement round trip.
    std::string begin_sql(const tx_options& o) const override {
        std::string sql;
        if (const char* level = isolation_name(o.isolation)) {
            sql += "SET TRANSACTION ISOLATION LEVEL ";
            sql += level;
            sql += "; ";
        }
        sql += o.read_only ? "START TRANSACTION READ ONLY" : "START TRANSACTION";
        return sql;
    }

    db::dialect dialect() const noexcept override { return dialect::mysql; }

private:
    mysql_settings settings_;
};

}  // namespace

std::unique_ptr<driver> make_mysql_driver(const connection_url& url, const pool_options& options) {
    return std::make_unique<mysql_driver>(url, options);
}

}  // namespace zephyr::db::detail
