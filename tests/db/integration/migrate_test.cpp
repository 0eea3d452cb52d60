// Migrations on SQLite, PostgreSQL and MariaDB: files and C++ steps, the versions table and its checksums,
// rollback, the lock between two processes, and makemigrations reading the live schema back.
#include "db/integration/db_fixture.hpp"
#include "db/orm_models.hpp"

#include <zephyr/core/block_on.hpp>

#include <zephyr/app.hpp>
#include <zephyr/db/http.hpp>
#include <zephyr/testing.hpp>
#include <zephyr/testing/db.hpp>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace db = zephyr::db;
using zephyr::Task;
using namespace orm_test;

namespace {

class migrations : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        database_ = std::make_unique<zephyr::testing::TestDatabase>(db_test::server_for(GetParam()));
        pool_ = std::make_shared<db::Pool>(database_->url(), db::pool_options{.max_size = 3});
        dir_ = db_test::temp_dir("zephyr-migrations") / (std::string{info->name()} + "_" + GetParam());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override {
        pool_.reset();
        std::filesystem::remove_all(dir_);
    }

    void write(const std::string& file, const std::string& text) {
        std::ofstream out{dir_ / file, std::ios::binary | std::ios::trunc};
        out << text;
    }
    std::unique_ptr<db::Migrator> migrator(std::shared_ptr<db::Pool> pool = {}) {
        return std::make_unique<db::Migrator>(pool ? pool : pool_, db::migrator_options{.directory = dir_});
    }
    std::vector<std::string> tables() {
        std::vector<std::string> out;
        for (const auto& t : zephyr::block_on(migrator()->live_schema()))
            out.push_back(t.name);
        return out;
    }
    bool has_table(const std::string& name) {
        auto t = tables();
        return std::find(t.begin(), t.end(), name) != t.end();
    }
    std::string error_of(std::function<void()> f) {
        try {
            f();
        } catch (const std::exception& e) {
            return e.what();
        }
        return "(no error)";
    }

    std::unique_ptr<zephyr::testing::TestDatabase> database_;
    std::shared_ptr<db::Pool> pool_;
    std::filesystem::path dir_;
};

const char* const create_notes =
    "-- migrate:up\n"
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n"
    "INSERT INTO notes (id, body) VALUES (1, 'first; with a semicolon');\n"
    "-- migrate:down\n"
    "DROP TABLE notes;\n";
const char* const create_labels =
    "-- migrate:up\n"
    "CREATE TABLE labels (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);\n"
    "CREATE INDEX labels_name_idx ON labels (name);\n"
    "-- migrate:down\n"
    "DROP TABLE labels;\n";

TEST_P(migrations, apply_status_rollback_and_reset) {
    write("0001_notes.sql", create_notes);
    write("0002_labels.sql", create_labels);
    auto m = migrator();
    // status is a read: before the first migrate it lists the files as pending and creates nothing.
    auto before = zephyr::block_on(m->status());
    ASSERT_EQ(before.size(), 2u);
    EXPECT_FALSE(before[0].applied || before[1].applied);
    const auto count_applied = [&] {
        zephyr::block_on(pool_->scalar<std::int64_t>("SELECT count(*) FROM zephyr_migrations"));
    };
    EXPECT_NE(error_of(count_applied), "(no error)");  // no such table
    auto done = zephyr::block_on(m->migrate());
    EXPECT_EQ(error_of(count_applied), "(no error)");
    ASSERT_EQ(done.size(), 2u);
    EXPECT_EQ(done[0].name, "notes");
    EXPECT_TRUE(has_table("notes"));
    EXPECT_TRUE(has_table("labels"));
    EXPECT_EQ(zephyr::block_on(pool_->scalar<std::string>("SELECT body FROM notes WHERE id = 1")),
              "first; with a semicolon");
    EXPECT_TRUE(zephyr::block_on(m->migrate()).empty());  // nothing pending

    auto st = zephyr::block_on(m->status());
    ASSERT_EQ(st.size(), 2u);
    EXPECT_TRUE(st[0].applied && st[1].applied);
    EXPECT_TRUE(st[1].applied_at.has_value());

    write("0003_more.sql",
          "-- migrate:up\nALTER TABLE labels ADD COLUMN color VARCHAR(20);\n-- migrate:down\n"
          "ALTER TABLE labels DROP COLUMN color;\n");
    st = zephyr::block_on(m->status());
    ASSERT_EQ(st.size(), 3u);
    EXPECT_FALSE(st[2].applied);
    EXPECT_EQ(zephyr::block_on(m->migrate()).size(), 1u);

    auto back = zephyr::block_on(m->rollback(2));
    ASSERT_EQ(back.size(), 2u);
    EXPECT_EQ(back[0].version, 3);  // newest first
    EXPECT_EQ(back[1].version, 2);
    EXPECT_FALSE(has_table("labels"));
    EXPECT_TRUE(has_table("notes"));

    zephyr::block_on(m->reset());  // all down, all up
    EXPECT_TRUE(has_table("labels"));
    EXPECT_EQ(zephyr::block_on(pool_->scalar<std::int64_t>("SELECT count(*) FROM notes")), 1);
    st = zephyr::block_on(m->status());
    EXPECT_TRUE(std::all_of(st.begin(), st.end(), [](const auto& i) { return i.applied; }));
}

TEST_P(migrations, changed_or_missing_files_stop_migrate) {
    write("0001_notes.sql", create_notes);
    auto m = migrator();
    zephyr::block_on(m->migrate());
    write("0001_notes.sql", std::string{create_notes} + "-- edited\n");
    write("0002_labels.sql", create_labels);
    EXPECT_NE(
        error_of([&] { zephyr::block_on(m->migrate()); }).find("migration 0001_notes changed after it was applied"),
        std::string::npos);
    EXPECT_FALSE(has_table("labels"));  // nothing applied after the check failed
    EXPECT_TRUE(zephyr::block_on(m->status())[0].changed);

    write("0001_notes.sql", create_notes);  // restored
    std::filesystem::rename(dir_ / "0001_notes.sql", dir_ / "0001_notes.sql.bak");
    EXPECT_NE(error_of([&] { zephyr::block_on(m->migrate()); }).find("its file is gone"), std::string::npos);
    EXPECT_TRUE(zephyr::block_on(m->status())[0].missing);
    std::filesystem::rename(dir_ / "0001_notes.sql.bak", dir_ / "0001_notes.sql");
    EXPECT_EQ(zephyr::block_on(m->migrate()).size(), 1u);
}

TEST_P(migrations, a_failing_migration_is_reported_and_rolled_back) {
    write("0001_notes.sql", create_notes);
    write("0002_broken.sql",
          "-- migrate:up\nCREATE TABLE half (id INTEGER PRIMARY KEY);\nTHIS IS NOT SQL;\n"
          "-- migrate:down\nDROP TABLE half;\n");
    auto m = migrator();
    const std::string e = error_of([&] { zephyr::block_on(m->migrate()); });
    EXPECT_NE(e.find("migration 0002_broken (up) failed"), std::string::npos) << e;
    const auto st = zephyr::block_on(m->status());
    EXPECT_FALSE(st[1].applied);
    if (GetParam() == "sqlite") {
        EXPECT_FALSE(st[0].applied);  // SQLite: the run is one transaction
        EXPECT_FALSE(has_table("notes"));
    } else {
        EXPECT_TRUE(st[0].applied);
    }
    if (GetParam() == "postgres") {
        EXPECT_FALSE(has_table("half"));  // transactional DDL: nothing half-done
    }
}

TEST_P(migrations, dialect_sections_and_cpp_steps) {
    write(
        "0001_kinds.sql",
        "-- migrate:up\nCREATE TABLE kinds (name VARCHAR(20) NOT NULL);\n"
        "-- migrate:up postgresql\nCREATE TABLE kinds (name VARCHAR(20) NOT NULL);\nINSERT INTO kinds VALUES ('pg');\n"
        "-- migrate:up mysql\nCREATE TABLE kinds (name VARCHAR(20) NOT NULL);\nINSERT INTO kinds VALUES ('my');\n"
        "-- migrate:up sqlite\nCREATE TABLE kinds (name VARCHAR(20) NOT NULL);\nINSERT INTO kinds VALUES ('lite');\n"
        "-- migrate:down\nDROP TABLE kinds;\n");
    auto m = migrator();
    // [cpp_migration]
    m->add(
        2, "cpp_step", [](db::Session& s) -> Task<void> { co_await s.execute("INSERT INTO kinds VALUES (?)", "code"); },
        [](db::Session& s) -> Task<void> { co_await s.execute("DELETE FROM kinds WHERE name = ?", "code"); });
    // [cpp_migration]
    zephyr::block_on(m->migrate());
    const auto names = zephyr::block_on(pool_->query<std::string>("SELECT name FROM kinds ORDER BY name"));
    const std::string mine = GetParam() == "postgres" ? "pg" : GetParam() == "mariadb" ? "my" : "lite";
    EXPECT_EQ(names, (std::vector<std::string>{"code", mine}));
    zephyr::block_on(m->rollback(1));
    EXPECT_EQ(zephyr::block_on(pool_->scalar<std::int64_t>("SELECT count(*) FROM kinds")), 1);
    m->add(2, "again", [](db::Session&) -> Task<void> { co_return; });
    EXPECT_NE(error_of([&] { zephyr::block_on(m->status()); }).find("two migrations have version 2"),
              std::string::npos);
}

TEST_P(migrations, two_processes_migrating_at_once_apply_each_migration_once) {
    for (int i = 1; i <= 6; ++i)
        write(
            fmt::format("{:04}_t{}.sql", i, i),
            fmt::format("-- migrate:up\nCREATE TABLE t{} (id INTEGER PRIMARY KEY);\n-- migrate:down\nDROP TABLE t{};\n",
                        i, i));
    auto other_pool = std::make_shared<db::Pool>(database_->url(), db::pool_options{.max_size = 2});
    auto a = migrator();
    auto b = migrator(other_pool);
    std::size_t applied_a = 0, applied_b = 0;
    std::string error_a, error_b;
    std::thread ta{[&] { error_a = error_of([&] { applied_a = zephyr::block_on(a->migrate()).size(); }); }};
    std::thread tb{[&] { error_b = error_of([&] { applied_b = zephyr::block_on(b->migrate()).size(); }); }};
    ta.join();
    tb.join();
    EXPECT_EQ(error_a, "(no error)");
    EXPECT_EQ(error_b, "(no error)");
    EXPECT_EQ(applied_a + applied_b, 6u);  // all by one of them, none twice
    EXPECT_EQ(zephyr::block_on(pool_->scalar<std::int64_t>("SELECT count(*) FROM zephyr_migrations")), 6);
}

TEST_P(migrations, makemigrations_writes_what_brings_the_database_to_the_models) {
    auto m = migrator();
    m->models<author, tag, post, post_tag>();
    auto path = zephyr::block_on(m->make_migrations("initial"));
    ASSERT_TRUE(path.has_value());
    EXPECT_EQ(path->filename(), "0001_initial.sql");
    std::ifstream in{*path};
    const std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
    for (const char* part :
         {"-- migrate:up sqlite", "-- migrate:up postgresql", "-- migrate:up mysql", "-- migrate:down mysql"})
        EXPECT_NE(text.find(part), std::string::npos) << part;
    zephyr::block_on(m->migrate());
    EXPECT_TRUE(has_table("post_tags"));
    // Read back, the live schema is exactly the models: nothing more to write.
    EXPECT_EQ(zephyr::block_on(m->pending_changes()), "");
    EXPECT_FALSE(zephyr::block_on(m->make_migrations("again")).has_value());

    // The repository works on the migrated tables.
    zephyr::block_on([&]() -> Task<void> {
        author a{.name = "ada"};
        co_await db::insert(*pool_, a);
        post p{.author_id = a.id, .title = "t"};
        co_await db::insert(*pool_, p);
    }());

    // A changed model: a new nullable column with an index, a column dropped, one made nullable, a default.
    db::table_def v2 = db::schema_of<author>();
    v2.columns.erase(
        std::remove_if(v2.columns.begin(), v2.columns.end(), [](const auto& c) { return c.name == "age"; }),
        v2.columns.end());
    v2.columns.push_back(db::column_def{.name = "bio", .type = db::column_type::text, .nullable = true});
    v2.columns.push_back(db::column_def{.name = "karma", .type = db::column_type::integer, .default_sql = "0"});
    for (auto& c : v2.columns)
        if (c.name == "name") c.nullable = true;
    v2.indexes.push_back(db::index_def{"authors_karma_idx", {"karma"}, false});
    auto m2 = migrator();
    m2->add_model(v2);
    m2->models<tag, post, post_tag>();
    path = zephyr::block_on(m2->make_migrations("author v2"));
    ASSERT_TRUE(path.has_value());
    EXPECT_EQ(path->filename(), "0002_author_v2.sql");
    zephyr::block_on(m2->migrate());
    EXPECT_EQ(zephyr::block_on(m2->pending_changes()), "");
    // The rows survived (SQLite rebuilds the table to change a column) and the references still hold.
    EXPECT_EQ(zephyr::block_on(pool_->scalar<std::int64_t>("SELECT count(*) FROM authors WHERE karma = 0")), 1);
    EXPECT_EQ(zephyr::block_on(pool_->scalar<std::int64_t>("SELECT count(*) FROM posts")), 1);

    // Down again: the database matches the first models.
    zephyr::block_on(m2->rollback(1));
    const std::vector<db::table_def> v1{db::schema_of<author>(), db::schema_of<tag>(), db::schema_of<post>(),
                                        db::schema_of<post_tag>()};
    const auto [up, down] = db::schema_changes(zephyr::block_on(m->live_schema()), v1, pool_->dialect());
    EXPECT_TRUE(up.empty()) << up.front();
    EXPECT_EQ(zephyr::block_on(pool_->scalar<std::int64_t>("SELECT count(*) FROM authors")), 1);
}

TEST_P(migrations, seed_and_the_command_line) {
    write("0001_notes.sql", create_notes);
    write("seed.sql", "INSERT INTO notes (id, body) VALUES (2, 'seeded');\n");
    auto m = std::make_shared<db::Migrator>(pool_, db::migrator_options{.directory = dir_});
    m->seed([](db::Session& s) -> Task<void> {
        co_await s.execute("INSERT INTO notes (id, body) VALUES (?, ?)", 3, "code");
    });
    std::ostringstream out, err;
    EXPECT_EQ(m->run_command({"status"}, out, err), 0);
    EXPECT_NE(out.str().find("pending  0001_notes"), std::string::npos) << out.str();
    EXPECT_EQ(m->run_command({"migrate"}, out, err), 0);
    EXPECT_NE(out.str().find("applied  0001_notes"), std::string::npos) << out.str();
    EXPECT_EQ(m->run_command({"seed"}, out, err), 0);
    EXPECT_EQ(zephyr::block_on(pool_->scalar<std::int64_t>("SELECT count(*) FROM notes")), 3);
    EXPECT_EQ(m->run_command({"rollback", "zero"}, out, err), 2);
    EXPECT_EQ(m->run_command({"frobnicate"}, out, err), 2);
    EXPECT_EQ(m->run_command({}, out, err), 2);
    EXPECT_EQ(m->run_command({"makemigrations"}, out, err), 1);  // no models registered
    EXPECT_NE(err.str().find("no models registered"), std::string::npos) << err.str();

    // Through the app binary's command line.
    zephyr::App app;
    db::add_commands(app, m);
    EXPECT_EQ(app.run(std::vector<std::string>{"db", "rollback"}), 0);
    EXPECT_FALSE(has_table("notes"));
    EXPECT_EQ(app.run(std::vector<std::string>{"db", "migrate"}), 0);
    EXPECT_TRUE(has_table("notes"));
    EXPECT_THROW(db::add_commands(app, m), std::logic_error);  // one `db` command per app
}

INSTANTIATE_TEST_SUITE_P(db, migrations, ::testing::Values("sqlite", "postgres", "mariadb"),
                         [](const auto& info) { return info.param; });

}  // namespace
