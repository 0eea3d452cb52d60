// A temporary directory for SQLite files of one test binary, removed when the binary exits.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>
#include <unistd.h>

namespace db_test {

/// /tmp/<prefix>-<pid>, created on first use and removed at exit.
inline std::filesystem::path temp_dir(const std::string& prefix) {
    struct owned {
        std::filesystem::path path;
        ~owned() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    };
    static const owned dir{[&] {
        auto p = std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(::getpid()));
        std::filesystem::create_directories(p);
        return p;
    }()};
    return dir.path;
}

}  // namespace db_test
