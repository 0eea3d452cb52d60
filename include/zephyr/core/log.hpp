// zephyr/core/log.hpp — Zephyr's logging front door.
//
// Zephyr logs through spdlog without putting spdlog in your includes. Messages are plain text; the access log
// and error boundary write one JSON object per line.
//
//     zephyr::log::info("listening on 127.0.0.1:8080");
//     zephyr::log::set_level(zephyr::log::level::warn);   // silence info in tests
#pragma once

#include <string_view>

namespace zephyr::log {

/// Severity of a log line, lowest first.
enum class level { trace, debug, info, warn, error, critical, off };

/// Sets the minimum level written by Zephyr's loggers (default: info, or ZEPHYR_LOG_LEVEL from the environment).
void set_level(level l);
/// The current minimum level.
level get_level() noexcept;
/// True when a line at `l` would be written; use it to skip building expensive messages.
bool enabled(level l) noexcept;

/// Writes one line to the framework log (stderr).
void write(level l, std::string_view message);
inline void debug(std::string_view m) { write(level::debug, m); }
inline void info(std::string_view m) { write(level::info, m); }
inline void warn(std::string_view m) { write(level::warn, m); }
inline void error(std::string_view m) { write(level::error, m); }

/// Writes one line, verbatim, to the access log (stdout). Used by the access-log layer.
void access(std::string_view json_line);
/// Sends the access log to a file instead of stdout; an empty path restores stdout.
void set_access_log_file(std::string_view path);

}  // namespace zephyr::log
