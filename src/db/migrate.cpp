#include <zephyr/core/log.hpp>
#include <zephyr/db/migrate.hpp>
#include <zephyr/db/schema.hpp>

#include "db/schema_diff.hpp"

#include <zephyr/db/repository.hpp>

#include <zephyr/core/block_on.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace zephyr::db {

namespace {

std::string sha256_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error{"SHA-256 is not available"};
    std::string out;
    for (unsigned i = 0; i < size; ++i)
        out += fmt::format("{:02x}", digest[i]);
    return out;
}

[[noreturn]] void fail(std::string message) {
    throw Error{errc::misuse, std::move(message)};
}

std::string label(std::int64_t version, const std::string& name) {
    return fmt::format("{:04}_{}", version, name);
}

/// The SQL of section `kind` ("up", "down") for dialect `d`: its own `-- migrate:<kind> <dialect>` section, else
/// the plain `-- migrate:<kind>` one; nullopt when there is neither.
std::optional<std::string> section(const std::string& text, std::string_view kind, dialect d) {
    std::optional<std::string> plain, own;
    std::optional<std::string>* current = nullptr;
    std::istringstream in{text};
    std::string line;
    while (std::getline(in, line)) {
        std::string_view l{line};
        while (!l.empty() && (l.back() == '\r' || l.back() == ' '))
            l.remove_suffix(1);
        if (l.starts_with("-- migrate:")) {
            l.remove_prefix(11);
            const auto space = l.find(' ');
            const std::string_view k = l.substr(0, space);
            const std::string_view dial = space == std::string_view::npos ? std::string_view{} : l.substr(space + 1);
            current = nullptr;
            if (k == kind) {
                if (dial.empty())
                    current = &plain;
                else if (dial == to_string(d))
                    current = &own;
            }
            if (current) current->emplace();
            continue;
        }
        if (current) {
            **current += line;
            **current += '\n';
        }
    }
    if (own) return own;
    return plain;
}

bool blank(const std::string& sql) {
    std::istringstream in{sql};
    std::string line;
    while (std::getline(in, line)) {
        const auto first = line.find_first_not_of(" \t\r");
        if (first != std::string::npos && line.compare(first, 2, "--") != 0) return false;
    }
    return true;
}

}  // namespace

struct Migrator::impl {
    std::shared_ptr<Pool> pool;
    migrator_options o;
    struct code_migration {
        std::int64_t version;
        std::string name;
        migration_fn up, down;
    };
    std::vector<code_migration> code;
    std::vector<migration_fn> seeds;
    std::vector<table_def> models;

    /// A migration this program knows: a file or code.
    struct source {
        std::int64_t version = 0;
        std::string name;
        std::string checksum;
        std::string text;  // file contents
        bool is_file = false;
        migration_fn up, down;
    };
    struct applied_row {
        std::int64_t version;
        std::string name;
        std::string checksum;
        std::chrono::system_clock::time_point at;
    };

    table_def versions_table() const {
        table_def t;
        t.name = o.table;
        t.columns = {column_def{"version", column_type::bigint},
                     column_def{"name", column_type::text, false, false, 255},
                     column_def{"checksum", column_type::text, false, false, 64},
                     column_def{"applied_at", column_type::timestamp}};
        t.primary_key = {"version"};
        return t;
    }

    std::map<std::int64_t, source> sources() const {
        std::map<std::int64_t, source> out;
        auto add = [&](source s) {
            if (out.count(s.version))
                fail(fmt::format("two migrations have version {}: {} and {}", s.version, out[s.version].name, s.name));
            out.emplace(s.version, std::move(s));
        };
        std::error_code ec;
        if (std::filesystem::is_directory(o.directory, ec)) {
            for (const auto& entry : std::filesystem::directory_iterator{o.directory}) {
                const std::string file = entry.path().filename().string();
                if (!entry.is_regular_file() || !file.ends_with(".sql") || file == "seed.sql") continue;
                source s;
                const auto [end, err] = std::from_chars(file.data(), file.data() + file.size(), s.version);
                if (err != std::errc{} || end == file.data() || *end != '_' || s.version < 0)
                    fail(fmt::format("migration file '{}' must be named <version>_<name>.sql (version: digits)",
                                     entry.path().string()));
                s.name = file.substr(static_cast<std::size_t>(end - file.data()) + 1);
                s.name.resize(s.name.size() - 4);
                std::ifstream in{entry.path(), std::ios::binary};
                s.text.assign(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
                s.checksum = sha256_hex(s.text);
                s.is_file = true;
                add(std::move(s));
            }
        }
        for (const auto& c : code) {
            source s;
            s.version = c.version;
            s.name = c.name;
            s.checksum = "code";
            s.up = c.up;
            s.down = c.down;
            add(std::move(s));
        }
        return out;
    }

    static Task<bool> table_exists(Session& db, const std::string& table) {
        const dialect d = db.dialect();
        std::int64_t n = 0;
        if (d == dialect::sqlite)
            n = co_await db.scalar<std::int64_t>("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                                                 table);
        else if (d == dialect::postgresql)
            n = co_await db.scalar<std::int64_t>(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = "
                "?",
                table);
        else
            n = co_await db.scalar<std::int64_t>(
                "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
                table);
        co_return n > 0;
    }

    static Task<std::vector<applied_row>> read_applied(Session& db, const std::string& table) {
        const std::string sql = fmt::format("SELECT version, name, checksum, applied_at FROM {} ORDER BY version",
                                            detail::quote(table, db.dialect()));
        auto rows =
            co_await db
                .query<std::tuple<std::int64_t, std::string, std::string, std::chrono::system_clock::time_point>>(sql);
        std::vector<applied_row> out;
        for (auto& [v, n, c, at] : rows)
            out.push_back(applied_row{v, std::move(n), std::move(c), at});
        co_return out;
    }

    Task<void> ensure_table(Session& db) const {
        for (const auto& sql : create_table_sql(versions_table(), db.dialect(), true))
            co_await db.execute(sql);
    }

    // Runs `body` on one connection holding the migration lock (SQLite: inside one BEGIN IMMEDIATE transaction,
    // with foreign key enforcement off so tables can be rebuilt, and checked before commit).
    Task<void> locked(std::function<Task<void>(Connection&)> body) {
        Connection c = co_await pool->acquire();
        const dialect d = c.dialect();
        const std::string lock_name = "zephyr:" + o.table;
        // The advisory lock's key must be the same in every process, whatever standard library built it:
        // taken from the name's SHA-256, not std::hash.
        const std::string digest = sha256_hex(lock_name);
        std::int64_t lock_key = 0;  // 15 hex digits: 60 bits, positive
        std::from_chars(digest.data(), digest.data() + 15, lock_key, 16);
        if (d == dialect::postgresql) {
            co_await c.execute(fmt::format("SET lock_timeout = '{}s'", o.lock_timeout.count()));
            std::exception_ptr lock_error;
            try {
                co_await c.execute("SELECT pg_advisory_lock(?)", lock_key);
            } catch (const Error&) {
                lock_error = std::current_exception();
            }
            co_await c.execute("SET lock_timeout = 0");
            if (lock_error)
                fail(fmt::format("another process has been migrating for {} s; giving up", o.lock_timeout.count()));
        } else if (d == dialect::mysql) {
            const auto got = co_await c.scalar<std::optional<std::int64_t>>(
                "SELECT GET_LOCK(?, ?)", lock_name, static_cast<std::int64_t>(o.lock_timeout.count()));
            if (got != 1)
                fail(fmt::format("another process has been migrating for {} s; giving up", o.lock_timeout.count()));
        } else {
            co_await c.execute("PRAGMA foreign_keys = OFF");
            co_await c.execute("BEGIN IMMEDIATE");
        }
        std::exception_ptr error;
        try {
            co_await ensure_table(c);
            co_await body(c);
            if (d == dialect::sqlite) {
                auto broken = co_await c.query<std::tuple<std::string, std::optional<std::int64_t>, std::string>>(
                    "SELECT \"table\", rowid, parent FROM pragma_foreign_key_check");
                if (!broken.empty())
                    fail(fmt::format("the migration leaves rows of {} referring to missing rows of {}",
                                     std::get<0>(broken.front()), std::get<2>(broken.front())));
                co_await c.execute("COMMIT");
            }
        } catch (...) {
            error = std::current_exception();
        }
        try {
            if (d == dialect::sqlite) {
                if (error) co_await c.execute("ROLLBACK");
                co_await c.execute("PRAGMA foreign_keys = ON");
            } else if (d == dialect::postgresql) {
                co_await c.execute("SELECT pg_advisory_unlock(?)", lock_key);
            } else {
                co_await c.execute("SELECT RELEASE_LOCK(?)", lock_name);
            }
        } catch (const std::exception& e) {
            // The connection is gone (and its locks with it), or the transaction already ended.
            log::warn(fmt::format("db migrate: releasing the migration lock: {}", e.what()));
        }
        if (error) std::rethrow_exception(error);
    }

    // One step (a migration up or down) in its own transaction where the database has transactional DDL.
    static Task<void> step(Connection& c, const source& s, bool up, const std::string& table) {
        const dialect d = c.dialect();
        const bool own_tx = d != dialect::sqlite;  // SQLite: the whole run is one transaction
        if (own_tx) co_await c.execute("BEGIN");
        std::exception_ptr error;
        try {
            if (s.is_file) {
                const auto sql = section(s.text, up ? "up" : "down", d);
                if (!sql)
                    fail(fmt::format("migration {} has no '-- migrate:{}' section", label(s.version, s.name),
                                     up ? "up" : "down"));
                if (!blank(*sql)) co_await c.execute(*sql);
            } else {
                const migration_fn& f = up ? s.up : s.down;
                if (!f) fail(fmt::format("migration {} has no down step", label(s.version, s.name)));
                co_await f(c);
            }
            const std::string t = detail::quote(table, d);
            if (up)
                co_await c.execute(
                    fmt::format("INSERT INTO {} (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)", t),
                    s.version, s.name, s.checksum, detail::stamp_now());
            else
                co_await c.execute(fmt::format("DELETE FROM {} WHERE version = ?", t), s.version);
            if (own_tx) co_await c.execute("COMMIT");
        } catch (...) {
            error = std::current_exception();
        }
        if (!error) co_return;
        if (own_tx) {
            try {
                co_await c.execute("ROLLBACK");
            } catch (const std::exception&) {
            }
        }
        try {
            std::rethrow_exception(error);
        } catch (const Error& e) {
            raise(e.kind(),
                  fmt::format("migration {} ({}) failed: {}", label(s.version, s.name), up ? "up" : "down", e.what()),
                  e.sqlstate());
        }
    }

    static migration_info info_of(const source* s, const applied_row* a) {
        migration_info i;
        i.version = s ? s->version : a->version;
        i.name = s ? s->name : a->name;
        i.applied = a != nullptr;
        if (a) i.applied_at = a->at;
        i.changed = a && s && a->checksum != s->checksum;
        i.missing = a && !s;
        return i;
    }

    std::vector<migration_info> merge(const std::map<std::int64_t, source>& src,
                                      const std::vector<applied_row>& applied) const {
        std::map<std::int64_t, migration_info> all;
        for (const auto& [v, s] : src)
            all[v] = info_of(&s, nullptr);
        for (const auto& a : applied) {
            auto it = src.find(a.version);
            all[a.version] = info_of(it == src.end() ? nullptr : &it->second, &a);
        }
        std::vector<migration_info> out;
        for (auto& [v, i] : all)
            out.push_back(std::move(i));
        return out;
    }
};

Migrator::Migrator(std::shared_ptr<Pool> pool, migrator_options options) : impl_{std::make_unique<impl>()} {
    impl_->pool = std::move(pool);
    impl_->o = std::move(options);
    detail::check_identifier(impl_->o.table, "migrations table name");
}

Migrator::~Migrator() = default;

Migrator& Migrator::add(std::int64_t version, std::string name, migration_fn up, migration_fn down) {
    if (version < 0 || !up) fail(fmt::format("migration {}: needs a version >= 0 and an up step", name));
    impl_->code.push_back(impl::code_migration{version, std::move(name), std::move(up), std::move(down)});
    return *this;
}

Migrator& Migrator::seed(migration_fn f) {
    impl_->seeds.push_back(std::move(f));
    return *this;
}

Migrator& Migrator::add_model(const table_def& table) {
    impl_->models.push_back(table);
    return *this;
}

Task<std::vector<migration_info>> Migrator::status() {
    auto src = impl_->sources();
    Connection c = co_await impl_->pool->acquire();
    // A read: without the versions table nothing is applied yet (it is created by the first migrate).
    std::vector<impl::applied_row> applied;
    const bool exists = co_await impl::table_exists(c, impl_->o.table);
    if (exists) applied = co_await impl::read_applied(c, impl_->o.table);
    co_return impl_->merge(src, applied);
}

Task<std::vector<migration_info>> Migrator::migrate() {
    auto src = impl_->sources();
    std::vector<migration_info> done;
    co_await impl_->locked([&](Connection& c) -> Task<void> {
        auto applied = co_await impl::read_applied(c, impl_->o.table);
        for (const auto& i : impl_->merge(src, applied)) {
            if (i.changed)
                fail(
                    fmt::format("migration {} changed after it was applied; restore it and add a new migration instead",
                                label(i.version, i.name)));
            if (i.missing)
                fail(
                    fmt::format("migration {} was applied but its file is gone; restore it", label(i.version, i.name)));
        }
        for (const auto& entry : src) {
            const auto& s = entry.second;
            if (std::any_of(applied.begin(), applied.end(), [&](const auto& a) { return a.version == s.version; }))
                continue;
            co_await impl::step(c, s, true, impl_->o.table);
            log::info(fmt::format("db migrate: applied {}", label(s.version, s.name)));
            done.push_back(impl::info_of(&s, nullptr));
            done.back().applied = true;
        }
    });
    co_return done;
}

Task<std::vector<migration_info>> Migrator::rollback(std::size_t n) {
    auto src = impl_->sources();
    std::vector<migration_info> done;
    co_await impl_->locked([&](Connection& c) -> Task<void> {
        auto applied = co_await impl::read_applied(c, impl_->o.table);
        std::reverse(applied.begin(), applied.end());
        if (applied.size() > n) applied.resize(n);
        for (const auto& a : applied) {
            auto it = src.find(a.version);
            if (it == src.end()) fail(fmt::format("cannot roll back {}: its file is gone", label(a.version, a.name)));
            co_await impl::step(c, it->second, false, impl_->o.table);
            log::info(fmt::format("db rollback: reverted {}", label(a.version, a.name)));
            done.push_back(impl::info_of(&it->second, nullptr));
        }
    });
    co_return done;
}

Task<void> Migrator::reset() {
    co_await rollback(static_cast<std::size_t>(-1));
    co_await migrate();
}

Task<void> Migrator::run_seed() {
    const auto file = impl_->o.directory / "seed.sql";
    std::string text;
    if (std::filesystem::exists(file)) {
        std::ifstream in{file, std::ios::binary};
        text.assign(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
    }
    co_await impl_->pool->transaction([&](Tx& tx) -> Task<void> {
        if (!text.empty()) {
            const auto sql = section(text, "seed", tx.dialect());
            const std::string& run = sql ? *sql : text;
            if (!blank(run)) co_await tx.execute(run);
        }
        for (auto& f : impl_->seeds)
            co_await f(tx);
    });
}

Task<std::vector<table_def>> Migrator::live_schema() {
    Connection c = co_await impl_->pool->acquire();
    co_return co_await detail::read_schema(c, impl_->o.table);
}

Task<std::string> Migrator::pending_changes() {
    const auto st = co_await status();
    const auto pending = std::count_if(st.begin(), st.end(), [](const migration_info& i) { return !i.applied; });
    if (pending > 0)
        fail(fmt::format("{} migration(s) not applied yet; run `db migrate` before making new ones", pending));
    if (impl_->models.empty()) fail("no models registered with Migrator::models<...>()");
    const auto live = co_await live_schema();
    const dialect here = impl_->pool->dialect();
    if (schema_changes(live, impl_->models, here).first.empty()) co_return std::string{};
    std::string text = fmt::format(
        "-- Written by `db makemigrations` from the models (compared with a {} database). Review it before\n"
        "-- applying: renames appear as a drop and an add, and a new NOT NULL column needs a default on a table with "
        "rows.\n",
        to_string(here));
    for (dialect d : {dialect::sqlite, dialect::postgresql, dialect::mysql}) {
        auto [up, down] = schema_changes(live, impl_->models, d);
        text += fmt::format("\n-- migrate:up {}\n", to_string(d));
        for (const auto& sql : up)
            text += sql + ";\n";
        text += fmt::format("\n-- migrate:down {}\n", to_string(d));
        for (const auto& sql : down)
            text += sql + ";\n";
    }
    co_return text;
}

Task<std::optional<std::filesystem::path>> Migrator::make_migrations(std::string name) {
    std::string text = co_await pending_changes();
    if (text.empty()) co_return std::nullopt;
    std::string clean;
    for (char ch : name) {
        const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        clean += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
    }
    if (clean.empty()) clean = "auto";
    auto src = impl_->sources();
    const std::int64_t version = src.empty() ? 1 : src.rbegin()->first + 1;
    std::filesystem::create_directories(impl_->o.directory);
    const auto path = impl_->o.directory / (label(version, clean) + ".sql");
    // Written whole to a temporary name, then renamed: never a half-written migration.
    const auto tmp = impl_->o.directory / (".tmp-" + label(version, clean));
    {
        std::ofstream out{tmp, std::ios::binary | std::ios::trunc};
        out << text;
        if (!out.flush()) fail(fmt::format("cannot write {}", tmp.string()));
    }
    std::filesystem::rename(tmp, path);
    co_return path;
}

int Migrator::run_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
    const std::string usage =
        "usage: APP db COMMAND\n\n"
        "  migrate              apply the pending migrations\n"
        "  rollback [N]         revert the last N applied migrations (default 1)\n"
        "  status               list migrations and whether they are applied\n"
        "  reset                revert every migration, then apply all (development)\n"
        "  seed                 load the seed data\n"
        "  makemigrations [NAME] write a migration from the differences between models and database\n"
        "  sql                  print what makemigrations would write\n";
    if (args.empty() || args[0] == "-h" || args[0] == "--help") {
        (args.empty() ? err : out) << usage;
        return args.empty() ? 2 : 0;
    }
    const std::string& cmd = args[0];
    const std::size_t max_args = cmd == "rollback" || cmd == "makemigrations" ? 2 : 1;
    if (args.size() > max_args) {
        err << "error: too many arguments for 'db " << cmd << "'\n\n" << usage;
        return 2;
    }
    try {
        if (cmd == "migrate") {
            auto done = block_on(migrate());
            out << (done.empty() ? "Nothing to migrate.\n" : "");
            for (const auto& i : done)
                out << "applied  " << label(i.version, i.name) << "\n";
        } else if (cmd == "rollback") {
            std::size_t n = 1;
            if (args.size() == 2) {
                const auto [end, ec] = std::from_chars(args[1].data(), args[1].data() + args[1].size(), n);
                if (ec != std::errc{} || end != args[1].data() + args[1].size() || n == 0) {
                    err << "error: rollback N: '" << args[1] << "' is not a positive number\n";
                    return 2;
                }
            }
            auto done = block_on(rollback(n));
            out << (done.empty() ? "Nothing to roll back.\n" : "");
            for (const auto& i : done)
                out << "reverted " << label(i.version, i.name) << "\n";
        } else if (cmd == "status") {
            for (const auto& i : block_on(status())) {
                out << fmt::format("{:<9}{}{}{}\n", i.applied ? "applied" : "pending", label(i.version, i.name),
                                   i.applied_at ? fmt::format("  ({:%Y-%m-%d %H:%M:%S} UTC)",
                                                              std::chrono::floor<std::chrono::seconds>(*i.applied_at))
                                                : "",
                                   i.changed   ? "  CHANGED since applied"
                                   : i.missing ? "  MISSING file"
                                               : "");
            }
        } else if (cmd == "reset") {
            block_on(reset());
            out << "Reset: every migration reverted and applied again.\n";
        } else if (cmd == "seed") {
            block_on(run_seed());
            out << "Seeded.\n";
        } else if (cmd == "makemigrations") {
            auto path = block_on(make_migrations(args.size() == 2 ? args[1] : "auto"));
            out << (path ? "wrote " + path->string() + "\n"
                         : std::string{"No changes: the database matches the models.\n"});
        } else if (cmd == "sql") {
            auto text = block_on(pending_changes());
            out << (text.empty() ? "-- No changes: the database matches the models.\n" : text);
        } else {
            err << "error: unknown db command '" << cmd << "'\n\n" << usage;
            return 2;
        }
    } catch (const std::exception& e) {
        err << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

}  // namespace zephyr::db
