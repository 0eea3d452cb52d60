#include <zephyr/core/block_on.hpp>
#include <zephyr/testing/db.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <random>
#include <stdexcept>

namespace zephyr::testing {

namespace {

std::string random_name() {
    std::random_device rd;
    std::mt19937_64 gen{(static_cast<std::uint64_t>(rd()) << 32) ^ rd()};
    return fmt::format("zephyr_test_{:012x}", gen() & 0xffffffffffffULL);
}

std::string with_param(const std::string& url, std::string_view param) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + std::string{param};
}

}  // namespace

TestDatabase::TestDatabase(std::string_view server_url, db::pool_options options) : server_{server_url} {
    name_ = random_name();
    const db::dialect d = server_.starts_with("sqlite") ? db::dialect::sqlite : db::parse_url(server_).dialect;
    if (d == db::dialect::sqlite) {
        std::string tmpl = (std::filesystem::temp_directory_path() / "zephyr-testdb-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error{"TestDatabase: cannot create a temporary directory"};
        sqlite_dir_ = tmpl;
        url_ = "sqlite://" + (sqlite_dir_ / "test.db").string();
    } else if (d == db::dialect::postgresql) {
        admin({"CREATE SCHEMA " + name_});
        url_ = with_param(server_, "options=-csearch_path%3D" + name_);
    } else {
        admin({"CREATE DATABASE " + name_});
        const auto query = server_.find('?');
        const auto slash = server_.rfind('/', query);
        if (slash == std::string::npos || slash < server_.find("://") + 3)
            url_ = server_.substr(0, query) + "/" + name_;
        else
            url_ = server_.substr(0, slash + 1) + name_;
        if (query != std::string::npos) url_ += server_.substr(query);
    }
    pool_ = std::make_shared<db::Pool>(url_, options);
}

TestDatabase::~TestDatabase() {
    pool_.reset();
    std::error_code ec;
    if (!sqlite_dir_.empty()) {
        std::filesystem::remove_all(sqlite_dir_, ec);
        return;
    }
    try {
        admin({dialect() == db::dialect::postgresql ? "DROP SCHEMA IF EXISTS " + name_ + " CASCADE"
                                                    : "DROP DATABASE IF EXISTS " + name_});
    } catch (const std::exception& e) {
        std::fprintf(stderr, "TestDatabase: dropping %s: %s\n", name_.c_str(), e.what());
    }
}

db::dialect TestDatabase::dialect() const noexcept {
    return sqlite_dir_.empty() ? db::parse_url(server_).dialect : db::dialect::sqlite;
}

void TestDatabase::run(Task<void> task) {
    block_on(std::move(task));
}

void TestDatabase::admin(const std::vector<std::string>& statements) const {
    db::Pool pool{server_, db::pool_options{.max_size = 1, .share_connections = false}};
    block_on([&]() -> Task<void> {
        for (const auto& sql : statements) co_await pool.execute(sql);
    }());
}

TestDatabase& TestDatabase::migrate(const std::filesystem::path& directory) {
    db::Migrator m{pool_, db::migrator_options{.directory = directory}};
    block_on(m.migrate());
    return *this;
}

Task<void> in_rollback(db::Pool& pool, std::function<Task<void>(db::Tx&)> body) {
    db::Tx tx = co_await pool.begin();
    std::exception_ptr error;
    try {
        co_await body(tx);
    } catch (...) {
        error = std::current_exception();
    }
    co_await tx.rollback();
    if (error) std::rethrow_exception(error);
}

}  // namespace zephyr::testing
