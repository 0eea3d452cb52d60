// MariaDB/MySQL error numbers → db::errc, and the messages the driver throws.
#pragma once

#include <zephyr/db/error.hpp>

#include <string>
#include <string_view>

namespace zephyr::db::detail {

/// The kind of a server error (ER_*) or client library error (CR_*) number.
errc mysql_error_kind(unsigned code) noexcept;

/// `text (MySQL error N, SQLSTATE xxxxx) in: <sql excerpt>`; without " in: ..." when `sql` is empty.
std::string mysql_error_message(unsigned code, std::string_view text, std::string_view sqlstate, std::string_view sql);

}  // namespace zephyr::db::detail
