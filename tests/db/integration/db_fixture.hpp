// Connection URLs of the test databases: SQLite in a temporary file, and the PostgreSQL and MariaDB servers the
// ctest fixture `db_services` (tests/support/services.sh) started.
#pragma once

#include "db/temp_dir.hpp"
#include <zephyr/db.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace db_test {

inline std::string service_url(const std::string& name) {
    const std::string path = std::string{ZEPHYR_SERVICES_DIR} + "/" + name + ".url";
    std::ifstream in{path};
    std::string url;
    std::getline(in, url);
    if (url.empty())
        throw std::runtime_error{"no " + name + " server: " + path + " is missing. Run the tests through ctest (its " +
                                 "db_services fixture starts the servers) or run tests/support/services.sh start " +
                                 ZEPHYR_SERVICES_DIR};
    return url;
}

inline std::string sqlite_url(const std::string& tag) {
    const auto dir = temp_dir("zephyr-db-it");
    auto file = dir / (tag + ".db");
    std::filesystem::remove(file);
    return "sqlite://" + file.string();
}

/// The URL for a dialect name used as a test parameter: "sqlite", "postgres" or "mariadb".
inline std::string url_for(const std::string& which, const std::string& tag) {
    if (which == "sqlite") return sqlite_url(tag);
    return service_url(which);
}

/// A column type per dialect.
enum class col { bigint, text, blob, timestamp, boolean, real, serial_pk };
inline std::string type_of(zephyr::db::dialect d, col c) {
    using zephyr::db::dialect;
    switch (c) {
        case col::bigint: return d == dialect::sqlite ? "INTEGER" : "BIGINT";
        case col::text: return d == dialect::mysql ? "VARCHAR(255)" : "TEXT";
        case col::blob: return d == dialect::postgresql ? "BYTEA" : d == dialect::mysql ? "LONGBLOB" : "BLOB";
        case col::timestamp: return d == dialect::postgresql ? "TIMESTAMPTZ" : d == dialect::mysql ? "DATETIME(6)" : "TEXT";
        case col::boolean: return "BOOLEAN";
        case col::real: return d == dialect::postgresql ? "DOUBLE PRECISION" : d == dialect::mysql ? "DOUBLE" : "REAL";
        case col::serial_pk:
            return d == dialect::postgresql ? "BIGSERIAL PRIMARY KEY"
                   : d == dialect::mysql    ? "BIGINT AUTO_INCREMENT PRIMARY KEY"
                                            : "INTEGER PRIMARY KEY";
    }
    return "";
}

/// A table name unique to this test and dialect (tests run in parallel against one server).
inline std::string table_name(const std::string& which) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string{"t_"} + info->name() + "_" + which;
    for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    return name;
}

/// The server URL to give zephyr::testing::TestDatabase for a test parameter ("sqlite", "postgres", "mariadb").
inline std::string server_for(const std::string& which) {
    return which == "sqlite" ? std::string{"sqlite:"} : service_url(which);
}

}  // namespace db_test
