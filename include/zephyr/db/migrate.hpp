// zephyr/db/migrate.hpp — versioned schema migrations, and writing them from the models.
//
// Migrations are files `migrations/<version>_<name>.sql` (version: digits, applied in numeric order):
//
//     -- migrate:up
//     CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
//     -- migrate:down
//     DROP TABLE notes;
//
// A section may name a dialect (`-- migrate:up postgresql`); a dialect without its own section uses the plain
// one. Migrations written in C++ are added with add(). A table (zephyr_migrations) records what was applied,
// with each file's SHA-256: a file changed after it was applied stops `migrate` until it is restored.
// Two processes migrating at once are serialized by a database lock (PostgreSQL advisory lock, MySQL GET_LOCK,
// SQLite's write lock). Each migration runs in its own transaction (SQLite: the whole run is one transaction;
// MySQL and MariaDB commit DDL statements implicitly, so a failed migration there may leave part of it applied).
//
//     auto migrator = std::make_shared<db::Migrator>(pool);
//     migrator->models<user, post>();          // what makemigrations compares the live schema with
//     db::add_commands(app, migrator);         // ./app db migrate | rollback [N] | status | reset | seed |
//                                              //         makemigrations [NAME] | sql
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/db/model.hpp>
#include <zephyr/db/pool.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace zephyr::db {

struct migrator_options {
    std::filesystem::path directory = "migrations";  ///< Where the .sql files are and makemigrations writes.
    std::string table = "zephyr_migrations";         ///< The applied versions.
    std::chrono::seconds lock_timeout{60};            ///< Waiting for another process's migration run.
};

/// One migration as `db status` shows it.
struct migration_info {
    std::int64_t version = 0;
    std::string name;
    bool applied = false;
    std::optional<std::chrono::system_clock::time_point> applied_at{};
    bool changed = false;  ///< Applied, but its file differs from what was applied.
    bool missing = false;  ///< Applied, but neither a file nor add() provides it any more.
};

using migration_fn = std::function<Task<void>(Session&)>;

class Migrator {
public:
    explicit Migrator(std::shared_ptr<Pool> pool, migrator_options options = {});
    ~Migrator();
    Migrator(const Migrator&) = delete;
    Migrator& operator=(const Migrator&) = delete;

    /// A migration written in C++ (versions share one sequence with the files). `down` may be empty.
    Migrator& add(std::int64_t version, std::string name, migration_fn up, migration_fn down = {});
    /// What `db seed` runs (after migrations/seed.sql when that file exists), in one transaction.
    Migrator& seed(migration_fn f);
    /// The models `makemigrations` compares with the live schema, in dependency order (referenced first).
    template <model_type... Ts>
    Migrator& models() {
        (add_model(schema_of<Ts>()), ...);
        return *this;
    }
    Migrator& add_model(const table_def& table);

    /// Every known or applied migration, by version.
    Task<std::vector<migration_info>> status();
    /// Applies the pending migrations in order; returns them. Throws db::Error (misuse) naming the migration
    /// when an applied one changed or disappeared, or when the lock cannot be had in time.
    Task<std::vector<migration_info>> migrate();
    /// Reverts the last `n` applied migrations, newest first; returns them.
    Task<std::vector<migration_info>> rollback(std::size_t n = 1);
    /// Reverts every applied migration, then applies all (development).
    Task<void> reset();
    /// Runs migrations/seed.sql (if any) and the seed() functions, in one transaction.
    Task<void> run_seed();

    /// The SQL that brings the live schema to the models, as the text of a migration file with up and down
    /// sections for every dialect; empty when they agree. Needs every migration applied.
    Task<std::string> pending_changes();
    /// Writes pending_changes() as the next migration file and returns its path; nullopt when there is nothing
    /// to write.
    Task<std::optional<std::filesystem::path>> make_migrations(std::string name);

    /// Runs a `db` command line: migrate | rollback [N] | status | reset | seed | makemigrations [NAME] |
    /// sql (print pending changes). Returns the exit status (2 for a bad command line).
    int run_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

    /// The tables the live database has, read as table definitions (for makemigrations and tests).
    Task<std::vector<table_def>> live_schema();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// The up and down SQL (in that order) for one dialect that turn schema `from` into schema `to`.
std::pair<std::vector<std::string>, std::vector<std::string>> schema_changes(const std::vector<table_def>& from,
                                                                             const std::vector<table_def>& to,
                                                                             dialect d);

}  // namespace zephyr::db
