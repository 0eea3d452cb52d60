// One MariaDB/MySQL connection, driven through libmariadb's non-blocking API on an Asio event loop.
#pragma once

#include "db/driver.hpp"
#include "db/mysql/row.hpp"
#include "db/mysql/statement_cache.hpp"
#include "db/socket_waiter.hpp"

#include <mysql.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zephyr::db::detail {

/// What a connection needs from the URL and the pool options.
struct mysql_settings {
    std::string host{};  ///< "" or "localhost" make libmariadb use the Unix socket.
    std::string user{};
    std::string password{};
    std::string database{};
    std::string unix_socket{};  ///< URL parameter `socket`.
    unsigned port = 3306;
    std::chrono::milliseconds connect_timeout{5000};
    std::size_t statement_cache = 256;  ///< Prepared statements kept per connection (URL `statement_cache`).
    std::string display{};              ///< The URL without the password, for messages.
};

class mysql_connection final : public driver_connection {
public:
    /// Connects, sets the session up (UTC time zone) and returns the connection. Throws db::connection_lost
    /// when the server cannot be reached, refuses the login or does not answer within the connect timeout.
    static Task<std::unique_ptr<driver_connection>> open(const mysql_settings& settings);
    ~mysql_connection() override;

    Task<exec_result> run(std::string_view sql, const Params& params, RowSink* sink) override;
    Task<void> simple(std::string_view sql) override;
    Task<void> ping() override;
    bool broken() const noexcept override;
    bool looks_alive() noexcept override;

private:
    explicit mysql_connection(const mysql_settings& settings);

    // One bound result column: the library writes the value (as text) into `data`.
    struct column_buffer {
        std::string data{};
        unsigned long length = 0;
        my_bool is_null = 0;
        my_bool error = 0;
    };
    // Storage a bound parameter points into while the statement executes.
    struct param_slot {
        long long integer = 0;
        double real = 0;
        signed char flag = 0;
        MYSQL_TIME time{};
        unsigned long length = 0;
    };

    // Driving libmariadb's _start/_cont calls.
    void ensure_waiter(const boost::asio::any_io_executor& ex);
    Task<int> wait_for(int status);
    Task<int> socket_ready(int want);
    Task<std::pair<int, std::exception_ptr>> socket_ready_settled(int want);
    template <class Cont>
    Task<void> complete(int status, Cont cont);
    template <class Cont>
    void abandon(int& status, Cont& cont) noexcept;

    Task<void> connect(const mysql_settings& s);
    static bool needs_resolving(const mysql_settings& s);
    Task<std::vector<std::string>> resolve(const std::string& host);
    void init_handle(const mysql_settings& s);
    Task<bool> connect_to(const mysql_settings& s, const std::string& host, bool last);
    Task<exec_result> run_text(std::string_view text, std::string_view sql, RowSink* sink);
    Task<void> fetch_text(MYSQL_RES* res, RowSink* sink, std::exception_ptr& sink_error, std::string_view sql);
    Task<exec_result> run_prepared(std::string_view text, std::string_view sql, const Params& params, RowSink* sink);
    Task<MYSQL_STMT*> prepare(std::string_view text, std::string_view sql);
    Task<exec_result> execute(MYSQL_STMT* stmt, std::string_view sql, const Params& params, RowSink* sink);
    Task<void> fetch_binary(MYSQL_STMT* stmt, RowSink* sink, std::exception_ptr& sink_error, std::string_view sql);
    Task<void> close_statement(MYSQL_STMT* stmt) noexcept;
    void bind_result_columns(unsigned count);

    void check_usable(std::string_view sql);
    // Throw the error of the connection / statement, or `pending` (a sink's exception) when there is one.
    [[noreturn]] void fail(std::string_view sql, const std::exception_ptr& pending = nullptr);
    [[noreturn]] void fail_stmt(MYSQL_STMT* stmt, std::string_view sql, const std::exception_ptr& pending = nullptr);
    [[noreturn]] void fail_with(unsigned code, const char* text, const char* sqlstate, std::string_view sql,
                                const std::exception_ptr& pending = nullptr);
    [[noreturn]] void connect_timed_out();

    MYSQL* mysql_ = nullptr;
    std::unique_ptr<socket_waiter> waiter_;
    int waiter_fd_ = -1;                                     ///< The socket waiter_ watches.
    boost::asio::execution_context* waiter_loop_ = nullptr;  ///< The event loop waiter_ is registered with.
    bool connecting_ = false;
    bool broken_ = false;
    std::optional<std::chrono::steady_clock::time_point> deadline_;  ///< While connecting.
    std::chrono::milliseconds connect_timeout_;
    std::string display_;
    mysql_statement_cache cache_;
    // Reused from statement to statement.
    std::vector<column_buffer> columns_;
    std::vector<MYSQL_BIND> result_binds_;
    std::vector<mysql_cell> cells_;
    std::vector<MYSQL_BIND> param_binds_;
    std::vector<param_slot> param_slots_;
};

}  // namespace zephyr::db::detail
