#include <zephyr/core/log.hpp>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace zephyr::log {
namespace {

spdlog::level::level_enum to_spd(level l) {
    return static_cast<spdlog::level::level_enum>(static_cast<int>(l));
}

level initial_level() {
    const char* env = std::getenv("ZEPHYR_LOG_LEVEL");
    if (env == nullptr || *env == '\0') return level::info;
    std::string_view name{env};
    // spdlog maps unknown names to "off"; a typo must not silence every log, so only exact names count.
    for (auto l : {level::trace, level::debug, level::info, level::warn, level::error, level::critical, level::off}) {
        auto sv = spdlog::level::to_string_view(to_spd(l));
        if (name == std::string_view{sv.data(), sv.size()} || (l == level::warn && name == "warning") ||
            (l == level::error && name == "err"))
            return l;
    }
    std::fprintf(stderr, "ZEPHYR_LOG_LEVEL='%s' is not one of trace, debug, info, warn, error, critical, off; using info\n", env);
    return level::info;
}

std::atomic<level> g_level{initial_level()};

// Loggers are created on first use so that a program that never logs pays nothing at start-up.
spdlog::logger& framework_logger() {
    static std::shared_ptr<spdlog::logger> logger = [] {
        auto l = std::make_shared<spdlog::logger>("zephyr", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        l->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
        l->set_level(spdlog::level::trace);
        return l;
    }();
    return *logger;
}

std::mutex g_access_mutex;
std::shared_ptr<spdlog::logger> g_access;

std::shared_ptr<spdlog::logger> access_logger() {
    std::lock_guard lock{g_access_mutex};
    if (!g_access) {
        g_access = std::make_shared<spdlog::logger>("zephyr.access", std::make_shared<spdlog::sinks::stdout_sink_mt>());
        g_access->set_pattern("%v");
    }
    return g_access;
}

}  // namespace

void set_level(level l) { g_level.store(l, std::memory_order_relaxed); }
level get_level() noexcept { return g_level.load(std::memory_order_relaxed); }
bool enabled(level l) noexcept { return l >= get_level() && l != level::off; }

void write(level l, std::string_view message) {
    if (!enabled(l)) return;
    framework_logger().log(to_spd(l), "{}", message);
}

void access(std::string_view json_line) {
    if (!enabled(level::info)) return;
    access_logger()->info("{}", json_line);
}

void set_access_log_file(std::string_view path) {
    std::shared_ptr<spdlog::logger> next;
    if (path.empty()) {
        next = std::make_shared<spdlog::logger>("zephyr.access", std::make_shared<spdlog::sinks::stdout_sink_mt>());
    } else {
        next = std::make_shared<spdlog::logger>(
            "zephyr.access", std::make_shared<spdlog::sinks::basic_file_sink_mt>(std::string{path}));
    }
    next->set_pattern("%v");
    next->flush_on(spdlog::level::info);
    std::lock_guard lock{g_access_mutex};
    g_access = std::move(next);
}

}  // namespace zephyr::log
