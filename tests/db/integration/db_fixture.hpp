// Connection URLs of the test databases: SQLite in a temporary file, and the PostgreSQL and MariaDB servers the
// ctest fixture `db_services` (tests/support/services.sh) started.
#pragma once

#include "db/temp_dir.hpp"
#include <zephyr/core/block_on.hpp>
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

/// A database of its own for one test, for tests that use fixed table names (models) while other tests run in
/// parallel against the same server: a fresh SQLite file, a PostgreSQL schema the connections reach through
/// search_path, or a MariaDB database. Dropped when the object goes.
class own_database {
public:
    own_database(const std::string& which, const std::string& tag) : which_{which} {
        name_ = "zephyr_" + tag;
        for (char& c : name_) c = std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '_';
        name_ = name_.substr(0, 60);
        if (which == "sqlite") {
            url_ = sqlite_url(name_);
            return;
        }
        base_ = service_url(which);
        if (which == "postgres") {
            admin(std::vector<std::string>{"DROP SCHEMA IF EXISTS " + name_ + " CASCADE", "CREATE SCHEMA " + name_});
            url_ = base_ + (base_.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + name_;
        } else {
            admin(std::vector<std::string>{"DROP DATABASE IF EXISTS " + name_, "CREATE DATABASE " + name_});
            const auto slash = base_.rfind('/');
            const auto query = base_.find('?', slash);
            url_ = base_.substr(0, slash + 1) + name_ + (query == std::string::npos ? "" : base_.substr(query));
        }
    }
    own_database(const own_database&) = delete;
    own_database& operator=(const own_database&) = delete;
    ~own_database() {
        if (which_ == "sqlite") return;
        try {
            admin(std::vector<std::string>{which_ == "postgres" ? "DROP SCHEMA IF EXISTS " + name_ + " CASCADE"
                                                                : "DROP DATABASE IF EXISTS " + name_});
        } catch (const std::exception& e) {
            ADD_FAILURE() << "dropping the test database " << name_ << ": " << e.what();
        }
    }
    const std::string& url() const noexcept { return url_; }

private:
    void admin(std::vector<std::string> statements) const {
        zephyr::db::Pool pool{base_, zephyr::db::pool_options{.max_size = 1}};
        zephyr::block_on([&]() -> zephyr::Task<void> {
            for (const auto& sql : statements) co_await pool.execute(sql);
        }());
    }

    std::string which_, name_, base_, url_;
};

}  // namespace db_test
