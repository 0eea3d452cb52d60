// zephyr::testing's database fixtures on the three databases: a database per test, rolled-back transactions,
// factories.
#include "db/integration/db_fixture.hpp"
#include "db/orm_models.hpp"

#include <zephyr/core/block_on.hpp>

#include <zephyr/testing.hpp>
#include <zephyr/testing/db.hpp>

#include <gtest/gtest.h>

namespace db = zephyr::db;
using zephyr::Task;
using zephyr::testing::TestDatabase;
using namespace orm_test;

namespace {

class fixtures : public ::testing::TestWithParam<std::string> {};

std::int64_t count_authors(db::Pool& pool) {
    return zephyr::block_on(db::count<author>(pool));
}

TEST_P(fixtures, each_test_database_is_separate_and_dropped) {
    std::string first_url;
    {
        TestDatabase a{db_test::server_for(GetParam())};
        TestDatabase b{db_test::server_for(GetParam())};
        EXPECT_NE(a.url(), b.url());
        a.create_tables<author, tag, post, post_tag>();
        b.create_tables<author, tag, post, post_tag>();
        zephyr::block_on([&]() -> Task<void> {
            author x{.name = "only in a"};
            co_await db::insert(a.pool(), x);
        }());
        EXPECT_EQ(count_authors(a.pool()), 1);
        EXPECT_EQ(count_authors(b.pool()), 0);
        first_url = a.url();
    }
    // Dropped: a new pool on the old URL finds no table (PostgreSQL: the schema is gone, so search_path is empty;
    // MariaDB: the database is gone; SQLite: the file is gone).
    if (GetParam() == "sqlite") {
        EXPECT_FALSE(std::filesystem::exists(first_url.substr(std::string{"sqlite://"}.size())));
    } else {
        db::Pool old{first_url, db::pool_options{.max_size = 1}};
        EXPECT_THROW(count_authors(old), db::Error);
    }
}

TEST_P(fixtures, in_rollback_leaves_nothing_behind) {
    TestDatabase tdb{db_test::server_for(GetParam())};
    tdb.create_tables<author, tag, post, post_tag>();
    zephyr::testing::run_task([&]() -> Task<void> {
        co_await zephyr::testing::in_rollback(tdb.pool(), [](db::Tx& tx) -> Task<void> {
            author a{.name = "temporary"};
            co_await db::insert(tx, a);
            EXPECT_EQ(co_await db::count<author>(tx), 1);  // visible inside
        });
        EXPECT_EQ(co_await db::count<author>(tdb.pool()), 0);
        // A throwing body is rolled back too, and its exception comes through.
        bool thrown = false;
        try {
            co_await zephyr::testing::in_rollback(tdb.pool(), [](db::Tx& tx) -> Task<void> {
                author a{.name = "doomed"};
                co_await db::insert(tx, a);
                throw std::runtime_error{"boom"};
            });
        } catch (const std::runtime_error&) {
            thrown = true;
        }
        EXPECT_TRUE(thrown);
        EXPECT_EQ(co_await db::count<author>(tdb.pool()), 0);
    }());
}

TEST_P(fixtures, factories_insert_unique_rows) {
    TestDatabase tdb{db_test::server_for(GetParam())};
    tdb.create_tables<author, tag, post, post_tag>();
    // [factory]
    zephyr::testing::Factory<author> authors{[](std::size_t n) {
        author a;
        a.name = "author" + std::to_string(n);
        a.email = "a" + std::to_string(n) + "@example.com";  // unique per row
        a.age = static_cast<int>(20 + n);
        return a;
    }};
    // [factory]
    zephyr::testing::Factory<post> posts{[](std::size_t n) {
        post p;
        p.title = "post " + std::to_string(n);
        return p;
    }};
    zephyr::testing::run_task([&]() -> Task<void> {
        auto& db = tdb.pool();
        author ada = co_await authors.create(db, [](author& a) { a.name = "ada"; });
        EXPECT_GT(ada.id, 0);
        auto more = co_await authors.create_many(db, 5);
        EXPECT_EQ(more.size(), 5u);
        EXPECT_EQ(more.back().name, "author6");
        auto written = co_await posts.create_many(db, 3, [&](post& p) { p.author_id = ada.id; });
        EXPECT_EQ(co_await db::count<author>(db), 6);
        EXPECT_EQ(co_await db::count<post>(db, db::col(&post::author_id) == ada.id), 3);
        EXPECT_EQ(authors.build().name, "author7");  // built, not inserted
        EXPECT_EQ(co_await db::count<author>(db), 6);
    }());
}

INSTANTIATE_TEST_SUITE_P(db, fixtures, ::testing::Values("sqlite", "postgres", "mariadb"),
                         [](const auto& info) { return info.param; });

}  // namespace
