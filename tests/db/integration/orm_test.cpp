// Models, the query builder and the repository operations on SQLite, PostgreSQL and MariaDB: the same
// behaviour everywhere, each test in a database of its own.
#include "db/integration/db_fixture.hpp"
#include "db/orm_models.hpp"

#include <zephyr/testing.hpp>
#include <zephyr/testing/db.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>

namespace db = zephyr::db;
using db::col;
using zephyr::Task;
using namespace orm_test;

// gtest's ASSERT_* return from the function; in a coroutine the early exit is co_return.
#define CO_ASSERT_EQ(a, b)            \
    do {                              \
        EXPECT_EQ(a, b);              \
        if (!((a) == (b))) co_return; \
    } while (0)
#define CO_ASSERT_GT(a, b)           \
    do {                             \
        EXPECT_GT(a, b);             \
        if (!((a) > (b))) co_return; \
    } while (0)
#define CO_ASSERT_TRUE(a)    \
    do {                     \
        EXPECT_TRUE(a);      \
        if (!(a)) co_return; \
    } while (0)

namespace {

// GCC 12 cannot keep an std::initializer_list's array in a coroutine frame ("array used as initializer"):
// coroutines build their lists through these plain functions.
template <class T, class... Args>
std::vector<T> list(Args&&... args) {
    std::vector<T> out;
    (out.emplace_back(std::forward<Args>(args)), ...);
    return out;
}
std::vector<tag> tags(std::vector<std::string> labels) {
    std::vector<tag> out;
    for (auto& l : labels)
        out.push_back(tag{0, std::move(l)});
    return out;
}

/// A session that counts the statements run through it (to check eager loading's query count).
class counting_session final : public db::Session {
public:
    explicit counting_session(db::Session& inner) : inner_{inner} {}
    Task<db::exec_result> run(std::string_view sql, const db::Params& params, db::RowSink* sink) override {
        ++statements;
        return inner_.run(sql, params, sink);
    }
    db::dialect dialect() const noexcept override { return inner_.dialect(); }
    int statements = 0;

private:
    db::Session& inner_;
};

class orm : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        database_ = std::make_unique<zephyr::testing::TestDatabase>(db_test::server_for(GetParam()));
        pool_ = std::make_unique<db::Pool>(database_->url(), db::pool_options{.max_size = 4});
        run([&]() -> Task<void> { co_await db::create_tables<author, tag, post, post_tag>(*pool_); });
    }
    void TearDown() override { pool_.reset(); }
    void run(std::function<Task<void>()> body) { zephyr::testing::run_task(body()); }

    /// Three authors with posts and tags: ada (2 posts), bob (1 post), cy (none).
    Task<void> seed() {
        auto& db = *pool_;
        for (const std::string& name : list<std::string>("ada", "bob", "cy")) {
            author a;
            a.name = name;
            a.age = name == "ada" ? 36 : name == "bob" ? 17 : 52;
            a.email = name + "@example.com";
            co_await db::insert(db, a);
            ids[name] = a.id;
        }
        for (const std::string& label : list<std::string>("c++", "sql", "web")) {
            tag t{0, label};
            co_await db::insert(db, t);
            ids[label] = t.id;
        }
        post p1{.author_id = ids["ada"], .title = "Coroutines", .score = 4.5, .state = status::published};
        post p2{.author_id = ids["ada"], .title = "Pools", .body = "about pools", .score = 3.0};
        post p3{.author_id = ids["bob"], .title = "Joins", .score = 5.0, .state = status::published};
        co_await db::insert(db, p1);
        co_await db::insert(db, p2);
        co_await db::insert(db, p3);
        ids["p1"] = p1.id;
        ids["p2"] = p2.id;
        ids["p3"] = p3.id;
        const auto links =
            list<post_tag>(post_tag{p1.id, ids["c++"]}, post_tag{p1.id, ids["sql"]}, post_tag{p3.id, ids["sql"]});
        co_await db::insert(links).execute(db);
    }

    std::unique_ptr<zephyr::testing::TestDatabase> database_;
    std::unique_ptr<db::Pool> pool_;
    std::map<std::string, std::int64_t> ids;
};

TEST_P(orm, insert_sets_key_and_timestamps_and_find_reads_it_back) {
    run([&]() -> Task<void> {
        auto& db = *pool_;
        const auto before = std::chrono::system_clock::now() - std::chrono::seconds{1};
        author a;
        a.name = "ada";
        a.age = 36;
        co_await db::insert(db, a);
        EXPECT_GT(a.id, 0);
        EXPECT_GE(a.created_at, before);
        EXPECT_EQ(a.created_at, a.updated_at);

        author b{.name = "bob"};
        co_await db::insert(db, b);
        EXPECT_EQ(b.id, a.id + 1);

        std::optional<author> found = co_await db::find<author>(db, a.id);
        EXPECT_TRUE(found.has_value());
        if (!found) co_return;
        EXPECT_EQ(found->name, "ada");
        EXPECT_EQ(found->age, 36);
        EXPECT_FALSE(found->email.has_value());
        EXPECT_EQ(found->created_at, a.created_at);  // microseconds survive the round trip
        EXPECT_FALSE((co_await db::find<author>(db, 999999)).has_value());
        EXPECT_EQ((co_await db::get<author>(db, b.id)).name, "bob");
        EXPECT_EQ((co_await db::find_by(db, &author::name, "bob"))->id, b.id);
        bool thrown = false;
        try {
            (void)co_await db::get<author>(db, 999999);
        } catch (const db::not_found& e) {
            thrown = true;
            EXPECT_EQ(e.http_status(), 404);
        }
        EXPECT_TRUE(thrown);
    });
}

TEST_P(orm, update_save_and_remove) {
    run([&]() -> Task<void> {
        auto& db = *pool_;
        author a{.name = "ada", .age = 36};
        co_await db::save(db, a);  // key 0: inserted
        CO_ASSERT_GT(a.id, 0);
        const auto created = a.created_at;
        a.age = 37;
        a.email = "ada@example.com";
        co_await db::save(db, a);  // key set: updated
        EXPECT_EQ(co_await db::count<author>(db), 1);
        author back = co_await db::get<author>(db, a.id);
        EXPECT_EQ(back.age, 37);
        EXPECT_EQ(back.email, "ada@example.com");
        EXPECT_EQ(back.created_at, created);

        // Updating with unchanged values is still "found" (MariaDB reports matched rows too).
        co_await db::update(db, back);

        author ghost{.id = 424242, .name = "ghost"};
        bool thrown = false;
        try {
            co_await db::update(db, ghost);
        } catch (const db::not_found&) {
            thrown = true;
        }
        EXPECT_TRUE(thrown);

        EXPECT_TRUE(co_await db::remove(db, a));
        EXPECT_FALSE(co_await db::remove(db, a));
        EXPECT_FALSE(co_await db::remove<author>(db, 5));
        EXPECT_EQ(co_await db::count<author>(db), 0);
    });
}

TEST_P(orm, explicit_keys_are_kept_and_later_keys_follow_them) {
    run([&]() -> Task<void> {
        auto& db = *pool_;
        author first{.name = "first"};
        co_await db::insert(db, first);  // the sequence has been used once
        author imported{.id = first.id + 100, .name = "imported"};
        co_await db::insert(db, imported);
        EXPECT_EQ(imported.id, first.id + 100);
        author next{.name = "next"};
        co_await db::insert(db, next);  // PostgreSQL's identity would hand out first.id + 1 .. and collide at +100
        EXPECT_GT(next.id, imported.id);
        author lower{.id = first.id + 50, .name = "lower"};
        co_await db::insert(db, lower);  // below the sequence: it stays where it is
        author after{.name = "after"};
        co_await db::insert(db, after);
        EXPECT_GT(after.id, next.id);
        // save() of an object whose row is gone inserts it with its key, the same way.
        author ghost{.id = after.id + 10, .name = "ghost"};
        co_await db::save(db, ghost);
        author last{.name = "last"};
        co_await db::insert(db, last);
        EXPECT_GT(last.id, ghost.id);
        // Several rows in one statement (an import), and with RETURNING, the same way.
        author bulk1{.id = last.id + 20, .name = "bulk 1"};
        author bulk2{.id = last.id + 30, .name = "bulk 2"};
        const std::vector<author> bulk = list<author>(bulk1, bulk2);
        co_await db::insert(bulk).execute(db);
        author after_bulk{.name = "after bulk"};
        co_await db::insert(db, after_bulk);
        EXPECT_GT(after_bulk.id, last.id + 30);
        author returned{.id = after_bulk.id + 5, .name = "returned"};
        auto stored = co_await db::insert(returned).returning().all(db);
        EXPECT_EQ(stored.size(), 1u);
        author after_returning{.name = "after returning"};
        co_await db::insert(db, after_returning);
        EXPECT_GT(after_returning.id, after_bulk.id + 5);
        EXPECT_EQ(co_await db::count<author>(db), 12);
    });
}

TEST_P(orm, query_builder_runs_the_same_everywhere) {
    run([&]() -> Task<void> {
        auto& db = *pool_;
        co_await seed();
        auto adults = co_await db::select<author>().where(col(&author::age) >= 18).order_by(&author::name).all(db);
        CO_ASSERT_EQ(adults.size(), 2u);
        EXPECT_EQ(adults[0].name, "ada");
        EXPECT_EQ(adults[1].name, "cy");

        auto a_names = co_await db::select<author>()
                           .where(col(&author::name).like("a%") || col(&author::age) > 50)
                           .order_by(&author::age, db::desc)
                           .all(db);
        CO_ASSERT_EQ(a_names.size(), 2u);
        EXPECT_EQ(a_names[0].name, "cy");

        EXPECT_EQ(co_await db::select<author>().where(col(&author::email).is_null()).count(db), 0);
        EXPECT_EQ(co_await db::select<author>()
                      .where(col(&author::name).in_(list<std::string>("ada", "bob", "zed")))
                      .count(db),
                  2);
        EXPECT_EQ(co_await db::select<author>().where(col(&author::name).in_(std::vector<std::string>{})).count(db), 0);
        EXPECT_EQ(co_await db::select<author>().where(col(&author::age).between(17, 36)).count(db), 2);
        EXPECT_TRUE(co_await db::exists<author>(db, col(&author::name) == "bob"));
        EXPECT_FALSE(co_await db::exists<author>(db, col(&author::name) == "zed"));

        // Second page of one, by name.
        auto second = co_await db::select<author>().order_by(&author::name).limit(1).offset(1).all(db);
        CO_ASSERT_EQ(second.size(), 1u);
        EXPECT_EQ(second[0].name, "bob");
        auto skip_two = co_await db::select<author>().order_by(&author::name).offset(2).all(db);
        CO_ASSERT_EQ(skip_two.size(), 1u);
        EXPECT_EQ(skip_two[0].name, "cy");

        // Aggregates over a join, grouped, read as a tuple.
        auto per_author =
            co_await db::select<author>(col(&author::name), db::count(col(&post::id)), db::max(col(&post::score)))
                .join<post>(col(&post::author_id) == col(&author::id))
                .group_by(col(&author::name))
                .having(db::count(col(&post::id)) >= 1)
                .order_by(col(&author::name))
                .all(db);
        CO_ASSERT_EQ(per_author.size(), 2u);
        EXPECT_EQ(std::get<0>(per_author[0]), "ada");
        EXPECT_EQ(std::get<1>(per_author[0]), 2);
        EXPECT_EQ(std::get<2>(per_author[0]), 4.5);
        EXPECT_EQ(std::get<1>(per_author[1]), 1);

        // Authors without posts: a left join and a null check; and the same with NOT IN (subquery).
        auto idle = co_await db::select<author>()
                        .left_join<post>(col(&post::author_id) == col(&author::id))
                        .where(col(&post::id).is_null())
                        .all(db);
        CO_ASSERT_EQ(idle.size(), 1u);
        EXPECT_EQ(idle[0].name, "cy");
        auto writers =
            co_await db::select<author>()
                .where(col(&author::id).in_(db::select<post>(col(&post::author_id)).where(col(&post::score) > 4.0)))
                .order_by(&author::name)
                .all(db);
        CO_ASSERT_EQ(writers.size(), 2u);
        EXPECT_EQ(writers[1].name, "bob");
        // A self-join through an alias: each author with every older one.
        const db::alias<author> older{"older"};
        auto pairs = co_await db::select<author>(col(&author::name), older(&author::name))
                         .join(older, older(&author::age) > col(&author::age))
                         .order_by(col(&author::name))
                         .order_by(older(&author::name))
                         .all(db);
        CO_ASSERT_EQ(pairs.size(), 3u);  // bob (17) < ada (36) < cy (52)
        EXPECT_EQ(pairs[0], std::make_tuple(std::string{"ada"}, std::string{"cy"}));
        EXPECT_EQ(pairs[1], std::make_tuple(std::string{"bob"}, std::string{"ada"}));
        EXPECT_EQ(pairs[2], std::make_tuple(std::string{"bob"}, std::string{"cy"}));
        auto silent = co_await db::select<author>()
                          .where(col(&author::id).not_in(db::select<post>(col(&post::author_id))))
                          .all(db);
        CO_ASSERT_EQ(silent.size(), 1u);
        EXPECT_EQ(silent[0].name, "cy");
        EXPECT_EQ(
            co_await db::select<author>()
                .where(db::exists(db::select<post>(col(&post::id)).where(col(&post::author_id) == col(&author::id))))
                .count(db),
            2);

        // Enums and optional text come back as written.
        auto published =
            co_await db::select<post>().where(col(&post::state) == status::published).order_by(&post::id).all(db);
        CO_ASSERT_EQ(published.size(), 2u);
        EXPECT_EQ(published[0].title, "Coroutines");
        auto p2 = co_await db::get<post>(db, ids["p2"]);
        EXPECT_EQ(p2.body, "about pools");
        EXPECT_EQ(p2.state, status::draft);

        // A raw fragment with its own bound value.
        auto lower = co_await db::select<author>().where(db::raw("lower(name) = ?", "ada")).all(db);
        EXPECT_EQ(lower.size(), 1u);

        // update ... set with arithmetic, delete ... where.
        auto r = co_await db::update<author>()
                     .set(&author::age, col(&author::age) + 1)
                     .where(col(&author::age) < 40)
                     .execute(db);
        EXPECT_EQ(r.affected_rows, 2u);
        EXPECT_EQ((co_await db::get<author>(db, ids["bob"])).age, 18);
        r = co_await db::delete_from<post>().where(col(&post::score) < 4.0).execute(db);
        EXPECT_EQ(r.affected_rows, 1u);
    });
}

struct bad_page {
    int number;
    int per_page;
};
constexpr bad_page bad_pages[] = {{0, 3}, {-1, 3}, {1, 0}};

TEST_P(orm, paginate_counts_and_pages) {
    run([&]() -> Task<void> {
        auto& db = *pool_;
        for (int i = 0; i < 7; ++i) {
            tag t{0, "t" + std::to_string(i)};
            co_await db::insert(db, t);
        }
        auto p = co_await db::paginate(db, db::select<tag>().order_by(&tag::label), 3, 3);
        EXPECT_EQ(p.total, 7);
        EXPECT_EQ(p.pages(), 3);
        CO_ASSERT_EQ(p.items.size(), 1u);
        EXPECT_EQ(p.items[0].label, "t6");
        auto beyond = co_await db::paginate(db, db::select<tag>().order_by(&tag::label), 9, 3);
        EXPECT_TRUE(beyond.items.empty());
        EXPECT_EQ(beyond.total, 7);
        // Numbers from a request that cannot name a page: a 400 that says which.
        for (const bad_page& bad : bad_pages) {
            const int number = bad.number;
            const int per_page = bad.per_page;
            std::string message;
            int status = 0;
            try {
                (void)co_await db::paginate(db, db::select<tag>(), number, per_page);
            } catch (const db::invalid_argument& e) {
                message = e.client_message();
                status = e.http_status();
            }
            EXPECT_EQ(status, 400);
            EXPECT_NE(message.find(per_page == 0 ? "per_page" : "page"), std::string::npos) << message;
        }
    });
}

TEST_P(orm, upsert_and_returning) {
    run([&]() -> Task<void> {
        auto& db = *pool_;
        author a{.name = "ada", .email = "ada@example.com", .age = 36};
        co_await db::insert(db, a);
        author again{.name = "Ada L.", .email = "ada@example.com", .age = 37};
        co_await db::insert(again).on_conflict(&author::email).do_update(&author::name, &author::age).execute(db);
        EXPECT_EQ(co_await db::count<author>(db), 1);
        auto back = co_await db::get<author>(db, a.id);
        EXPECT_EQ(back.name, "Ada L.");
        EXPECT_EQ(back.age, 37);

        author third{.name = "ignored", .email = "ada@example.com"};
        co_await db::insert(third).on_conflict(&author::email).do_nothing().execute(db);
        EXPECT_EQ((co_await db::get<author>(db, a.id)).name, "Ada L.");

        // A plain insert that conflicts is a typed error (HTTP 409).
        bool conflict = false;
        try {
            co_await db::insert(db, third);
        } catch (const db::unique_violation& e) {
            conflict = e.http_status() == 409;
        }
        EXPECT_TRUE(conflict);

        // RETURNING: insert (all three) and delete (all three; MariaDB has both).
        auto inserted = co_await db::insert(tags(list<std::string>("x", "y"))).returning().all(db);
        CO_ASSERT_EQ(inserted.size(), 2u);
        EXPECT_GT(inserted[0].id, 0);
        EXPECT_EQ(inserted[1].label, "y");
        auto removed = co_await db::delete_from<tag>().where(col(&tag::label) == "x").returning().all(db);
        CO_ASSERT_EQ(removed.size(), 1u);
        EXPECT_EQ(removed[0].id, inserted[0].id);
        if (db.dialect() != db::dialect::mysql) {
            auto renamed = co_await db::update<tag>()
                               .set(&tag::label, "z")
                               .where(col(&tag::id) == inserted[1].id)
                               .returning()
                               .all(db);
            CO_ASSERT_EQ(renamed.size(), 1u);
            EXPECT_EQ(renamed[0].label, "z");
        }
    });
}

TEST_P(orm, hostile_values_stay_data) {
    run([&]() -> Task<void> {
        auto& db = *pool_;
        const std::string evil = "'); DROP TABLE authors; -- \\' \" ` ?";
        author a{.name = evil};
        co_await db::insert(db, a);
        auto found = co_await db::find_by(db, &author::name, evil);
        EXPECT_TRUE(found.has_value());
        EXPECT_EQ(co_await db::count<author>(db, col(&author::name) == evil), 1);
        EXPECT_EQ(co_await db::count<author>(db, col(&author::name).contains(evil)), 1);
        // Wildcards in searched text are literal; in like() patterns they are wildcards, escaped by backslash.
        author plain{.name = "ab"};
        co_await db::insert(db, plain);
        EXPECT_EQ(co_await db::count<author>(db, col(&author::name).contains("_")), 0);
        EXPECT_EQ(co_await db::count<author>(db, col(&author::name).like("a_")), 1);
        EXPECT_EQ(co_await db::count<author>(db, col(&author::name).like("a\\_")), 0);
        EXPECT_EQ(co_await db::count<author>(db, col(&author::name).starts_with("'); DROP")), 1);
        EXPECT_EQ(co_await db::count<author>(db, col(&author::name).ends_with("` ?")), 1);
        EXPECT_EQ(co_await db::count<author>(db, col(&author::name).ends_with("_")), 0);
        EXPECT_EQ(co_await db::count<author>(db, col(&author::name).ends_with("b")), 1);
        EXPECT_EQ((co_await db::get<author>(db, a.id)).name, evil);
    });
}

TEST_P(orm, eager_loading_is_one_query_per_relation) {
    run([&]() -> Task<void> {
        co_await seed();
        counting_session db{*pool_};
        auto authors = co_await db::select<author>().order_by(&author::name).with(&author::posts).all(db);
        EXPECT_EQ(db.statements, 2);  // the authors, then every author's posts
        EXPECT_EQ(authors.size(), 3u);
        if (authors.size() != 3) co_return;
        EXPECT_EQ(authors[0].posts.size(), 2u);
        EXPECT_EQ(authors[1].posts.size(), 1u);
        EXPECT_TRUE(authors[2].posts.empty());
        if (authors[0].posts.size() == 2) {
            EXPECT_EQ(authors[0].posts[1].title, "Pools");
        }

        db.statements = 0;
        auto posts = co_await db::select<post>().order_by(&post::id).with(&post::writer, &post::tags).all(db);
        EXPECT_EQ(db.statements, 3);
        EXPECT_EQ(posts.size(), 3u);
        if (posts.size() != 3) co_return;
        EXPECT_EQ(posts[0].writer->name, "ada");
        EXPECT_EQ(posts[2].writer->name, "bob");
        EXPECT_EQ(posts[0].tags.size(), 2u);
        EXPECT_TRUE(posts[1].tags.empty());
        EXPECT_EQ(posts[2].tags.size(), 1u);
        if (posts[2].tags.size() == 1) {
            EXPECT_EQ(posts[2].tags[0].label, "sql");
        }

        // Loading afterwards, and on an empty list (no query at all).
        std::vector<author> some = co_await db::where<author>(db, col(&author::name) == "bob");
        db.statements = 0;
        co_await db::load(db, some, &author::posts);
        EXPECT_EQ(db.statements, 1);
        EXPECT_EQ(some.at(0).posts.size(), 1u);
        std::vector<author> none;
        db.statements = 0;
        co_await db::load(db, none, &author::posts);
        EXPECT_EQ(db.statements, 0);
    });
}

TEST_P(orm, nested_eager_loading_is_one_query_per_relation_and_level) {
    run([&]() -> Task<void> {
        co_await seed();
        counting_session db{*pool_};
        // Authors, their posts, and those posts' tags and writers: four queries for any number of rows.
        auto authors = co_await db::select<author>()
                           .order_by(&author::name)
                           .with(db::nested(&author::posts, &post::tags, &post::writer))
                           .all(db);
        EXPECT_EQ(db.statements, 4);
        CO_ASSERT_EQ(authors.size(), 3u);
        CO_ASSERT_EQ(authors[0].posts.size(), 2u);  // ada: Coroutines (2 tags), Pools (none)
        EXPECT_EQ(authors[0].posts[0].title, "Coroutines");
        EXPECT_EQ(authors[0].posts[0].tags.size(), 2u);
        EXPECT_TRUE(authors[0].posts[1].tags.empty());
        CO_ASSERT_TRUE(authors[0].posts[1].writer.has_value());
        EXPECT_EQ(authors[0].posts[1].writer->name, "ada");
        CO_ASSERT_EQ(authors[1].posts.size(), 1u);  // bob: one post tagged sql
        CO_ASSERT_EQ(authors[1].posts[0].tags.size(), 1u);
        EXPECT_EQ(authors[1].posts[0].tags[0].label, "sql");
        EXPECT_TRUE(authors[2].posts.empty());

        // Three levels, through a belongs_to: each post's writer with the writer's own posts.
        db.statements = 0;
        auto posts = co_await db::select<post>()
                         .order_by(&post::id)
                         .with(db::nested(&post::writer, &author::posts), &post::tags)
                         .all(db);
        EXPECT_EQ(db.statements, 4);
        CO_ASSERT_EQ(posts.size(), 3u);
        CO_ASSERT_TRUE(posts[0].writer.has_value());
        EXPECT_EQ(posts[0].writer->posts.size(), 2u);
        CO_ASSERT_TRUE(posts[2].writer.has_value());
        EXPECT_EQ(posts[2].writer->posts.size(), 1u);
        EXPECT_EQ(posts[0].tags.size(), 2u);

        // db::load with a path, on rows already read and on one row; nested paths nest.
        std::vector<author> some = co_await db::where<author>(db, col(&author::name) == "ada");
        db.statements = 0;
        co_await db::load(db, some, db::nested(&author::posts, db::nested(&post::writer, &author::posts)));
        EXPECT_EQ(db.statements, 3);
        CO_ASSERT_EQ(some.size(), 1u);
        CO_ASSERT_EQ(some[0].posts.size(), 2u);
        CO_ASSERT_TRUE(some[0].posts[0].writer.has_value());
        EXPECT_EQ(some[0].posts[0].writer->posts.size(), 2u);
        author bob = co_await db::get<author>(db, ids["bob"]);
        co_await db::load(db, bob, db::nested(&author::posts, &post::tags));
        CO_ASSERT_EQ(bob.posts.size(), 1u);
        EXPECT_EQ(bob.posts[0].tags.size(), 1u);
    });
}

TEST_P(orm, foreign_keys_cascade_and_refuse) {
    run([&]() -> Task<void> {
        auto& db = *pool_;
        co_await seed();
        post orphan{.author_id = 999999, .title = "nobody's"};
        bool refused = false;
        try {
            co_await db::insert(db, orphan);
        } catch (const db::foreign_key_violation&) {
            refused = true;
        }
        EXPECT_TRUE(refused);
        EXPECT_TRUE(co_await db::remove<author>(db, ids["ada"]));  // ON DELETE CASCADE takes ada's posts along
        EXPECT_EQ(co_await db::count<post>(db), 1);
        EXPECT_EQ(co_await db::count<post_tag>(db), 1);
    });
}

INSTANTIATE_TEST_SUITE_P(db, orm, ::testing::Values("sqlite", "postgres", "mariadb"),
                         [](const auto& info) { return info.param; });

}  // namespace
