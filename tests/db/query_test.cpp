// The SQL the query builder writes, per dialect, and the checks on model declarations. Running the queries is
// tested on all three databases in integration/orm_test.cpp.
#include "db/orm_models.hpp"

#include <gtest/gtest.h>

namespace db = zephyr::db;
using namespace orm_test;
using db::col;
using db::dialect;

namespace {

std::string sql(const auto& q, dialect d = dialect::postgresql) {
    return q.to_sql(d).sql;
}

TEST(db_model, columns_types_and_keys_come_from_the_struct_and_declaration) {
    const db::table_def& t = db::schema_of<author>();
    EXPECT_EQ(t.name, "authors");
    ASSERT_EQ(t.columns.size(), 6u);  // `posts` is a relation, not a column
    EXPECT_EQ(t.columns[0].name, "id");
    EXPECT_TRUE(t.columns[0].auto_increment);
    EXPECT_EQ(t.columns[0].type, db::column_type::bigint);
    EXPECT_EQ(t.columns[1].max_length, 100u);
    EXPECT_TRUE(t.columns[2].nullable);
    EXPECT_EQ(t.columns[3].type, db::column_type::integer);
    EXPECT_EQ(t.columns[3].default_sql, "0");
    EXPECT_EQ(t.columns[4].type, db::column_type::timestamp);
    EXPECT_EQ(t.key(), "id");
    ASSERT_EQ(t.indexes.size(), 1u);
    EXPECT_EQ(t.indexes[0].name, "authors_email_key");
    EXPECT_TRUE(t.indexes[0].unique);
    EXPECT_EQ(t.created_at, "created_at");
    ASSERT_EQ(t.relations.size(), 1u);
    EXPECT_EQ(t.relations[0].kind, db::relation_kind::has_many);
    EXPECT_EQ(t.relations[0].foreign_key, "author_id");

    const db::table_def& p = db::schema_of<post>();
    EXPECT_EQ(p.columns.size(), 6u);
    EXPECT_EQ(p.find("state")->type, db::column_type::text);  // enums are stored by name
    EXPECT_EQ(p.find("score")->type, db::column_type::real);
    ASSERT_EQ(p.foreign_keys.size(), 1u);
    EXPECT_EQ(p.foreign_keys[0].references().name, "authors");
    EXPECT_EQ(p.relation("tags")->through, "post_tags");

    const db::table_def& j = db::schema_of<post_tag>();
    EXPECT_EQ(j.primary_key, (std::vector<std::string>{"post_id", "tag_id"}));
    EXPECT_FALSE(j.columns[0].auto_increment);
    EXPECT_THROW((void)j.key(), db::Error);  // composite: find/get/update need a single key
}

struct bad_name {
    std::int64_t id = 0;
};
BOOST_DESCRIBE_STRUCT(bad_name, (), (id))
inline auto zephyr_model(bad_name*) {
    return db::model<bad_name>("users; DROP TABLE x").primary_key(&bad_name::id);
}

struct odd_type {
    std::int64_t id = 0;
    std::vector<int> numbers;  // no column type for this
};
BOOST_DESCRIBE_STRUCT(odd_type, (), (id, numbers))
inline auto zephyr_model(odd_type*) {
    return db::model<odd_type>("odd").primary_key(&odd_type::id);
}

TEST(db_model, bad_declarations_are_refused_with_the_reason) {
    try {
        (void)db::schema_of<bad_name>();
        FAIL() << "expected db::Error";
    } catch (const db::Error& e) {
        EXPECT_EQ(e.kind(), db::errc::misuse);
        EXPECT_NE(std::string{e.what()}.find("letters, digits or underscores"), std::string::npos) << e.what();
    }
    try {
        (void)db::schema_of<odd_type>();
        FAIL() << "expected db::Error";
    } catch (const db::Error& e) {
        EXPECT_NE(std::string{e.what()}.find("column 'numbers'"), std::string::npos) << e.what();
    }
}

TEST(db_query, select_with_conditions_order_and_limit) {
    auto q = db::select<author>()
                 .where(col(&author::age) > 18 && col(&author::name).like("a%"))
                 .order_by(&author::created_at, db::desc)
                 .limit(20);
    EXPECT_EQ(
        sql(q),
        R"(SELECT "authors"."id", "authors"."name", "authors"."email", "authors"."age", "authors"."created_at", )"
        R"("authors"."updated_at" FROM "authors" WHERE (("authors"."age" > ?) AND ("authors"."name" LIKE ? ESCAPE '\')) )"
        R"(ORDER BY "authors"."created_at" DESC LIMIT ?)");
    auto st = q.to_sql(dialect::postgresql);
    ASSERT_EQ(st.params.size(), 3u);
    EXPECT_EQ(st.params[0].as_int(), 18);
    EXPECT_EQ(st.params[1].as_text(), "a%");
    EXPECT_EQ(st.params[2].as_int(), 20);
    // MySQL quotes with backticks.
    EXPECT_EQ(sql(db::select<tag>().where(col(&tag::id) == 1), dialect::mysql),
              "SELECT `tags`.`id`, `tags`.`label` FROM `tags` WHERE (`tags`.`id` = ?)");
}

TEST(db_query, like_has_one_escape_character_everywhere) {
    auto st = db::select<tag>(col(&tag::id)).where(col(&tag::label).contains("50%_\\")).to_sql(dialect::mysql);
    EXPECT_EQ(st.sql, "SELECT `tags`.`id` FROM `tags` WHERE (`tags`.`label` LIKE ? ESCAPE '\\\\')");
    EXPECT_EQ(st.params[0].as_text(), "%50\\%\\_\\\\%");
    EXPECT_EQ(db::select<tag>(col(&tag::id))
                  .where(col(&tag::label).starts_with("a_"))
                  .to_sql(dialect::sqlite)
                  .params[0]
                  .as_text(),
              "a\\_%");
    EXPECT_EQ(db::select<tag>(col(&tag::id))
                  .where(col(&tag::label).ends_with("%x"))
                  .to_sql(dialect::sqlite)
                  .params[0]
                  .as_text(),
              "%\\%x");
}

TEST(db_query, values_are_always_parameters) {
    const std::string hostile = "x' OR '1'='1'; DROP TABLE tags; --";
    auto st =
        db::select<tag>().where(col(&tag::label) == hostile || col(&tag::label).in_({hostile})).to_sql(dialect::sqlite);
    EXPECT_EQ(st.sql.find("DROP"), std::string::npos);
    EXPECT_EQ(st.params.size(), 2u);
    EXPECT_EQ(st.params[0].as_text(), hostile);
}

TEST(db_query, null_checks_in_between_and_not) {
    EXPECT_EQ(
        sql(db::select<tag>(col(&tag::id)).where(col(&author::email).is_null() || col(&author::email).is_not_null())),
        R"(SELECT "tags"."id" FROM "tags" WHERE (("authors"."email" IS NULL) OR ("authors"."email" IS NOT NULL)))");
    EXPECT_EQ(sql(db::select<tag>(col(&tag::id)).where(col(&tag::id).in_(std::vector<int>{1, 2, 3}))),
              R"(SELECT "tags"."id" FROM "tags" WHERE ("tags"."id" IN (?, ?, ?)))");
    // An empty list matches nothing (IN () is not SQL).
    EXPECT_EQ(sql(db::select<tag>(col(&tag::id)).where(col(&tag::id).in_(std::vector<int>{}))),
              R"(SELECT "tags"."id" FROM "tags" WHERE (1=0))");
    EXPECT_EQ(
        sql(db::select<tag>(col(&tag::id)).where(!col(&tag::id).between(1, 5) && col(&tag::id).not_in({7}))),
        R"(SELECT "tags"."id" FROM "tags" WHERE ((NOT ("tags"."id" BETWEEN ? AND ?)) AND ("tags"."id" NOT IN (?))))");
}

TEST(db_query, aliases_join_a_table_to_itself) {
    const db::alias<author> older{"older"};
    auto q = db::select<author>(col(&author::name), older(&author::name))
                 .join(older, older(&author::age) > col(&author::age))
                 .order_by(older(&author::name));
    static_assert(std::is_same_v<decltype(q)::row_type, std::tuple<std::string, std::string>>);
    EXPECT_EQ(sql(q), R"(SELECT "authors"."name", "older"."name" FROM "authors" JOIN "authors" AS "older" )"
                      R"(ON ("older"."age" > "authors"."age") ORDER BY "older"."name")");
    EXPECT_EQ(sql(db::select<post>(col(&post::title)).left_join(older, older(&author::id) == col(&post::author_id)),
                  dialect::mysql),
              "SELECT `posts`.`title` FROM `posts` LEFT JOIN `authors` AS `older` ON (`older`.`id` = `posts`.`author_id`)");
    // An alias is an identifier, never SQL.
    for (const char* bad : {"", "1st", "a b", "x\"; DROP TABLE authors; --", "a.b"}) {
        EXPECT_THROW(db::alias<author>{bad}, db::Error) << bad;
    }
}

TEST(db_query, joins_aggregates_group_by_having) {
    auto q = db::select<author>(col(&author::name), db::count(col(&post::id)), db::avg(col(&post::score)))
                 .join<post>(col(&post::author_id) == col(&author::id))
                 .group_by(col(&author::name))
                 .having(db::count(col(&post::id)) >= 2)
                 .order_by(db::count(col(&post::id)).desc());
    static_assert(std::is_same_v<decltype(q)::row_type, std::tuple<std::string, std::int64_t, std::optional<double>>>);
    EXPECT_EQ(sql(q), R"(SELECT "authors"."name", COUNT("posts"."id"), AVG("posts"."score") FROM "authors" )"
                      R"(JOIN "posts" ON ("posts"."author_id" = "authors"."id") GROUP BY "authors"."name" )"
                      R"(HAVING (COUNT("posts"."id") >= ?) ORDER BY COUNT("posts"."id") DESC)");
    EXPECT_EQ(sql(db::select<author>()
                      .left_join<post>(col(&post::author_id) == col(&author::id))
                      .where(col(&post::id).is_null())
                      .distinct(),
                  dialect::sqlite)
                  .substr(0, 16),
              "SELECT DISTINCT ");
}

TEST(db_query, subqueries_exists_and_raw_fragments) {
    auto busy = db::select<post>(col(&post::author_id)).where(col(&post::score) > 4.5);
    EXPECT_EQ(
        sql(db::select<author>(col(&author::id)).where(col(&author::id).in_(busy))),
        R"(SELECT "authors"."id" FROM "authors" WHERE ("authors"."id" IN (SELECT "posts"."author_id" FROM "posts" )"
        R"(WHERE ("posts"."score" > ?))))");
    EXPECT_EQ(sql(db::select<author>(col(&author::id)).where(db::exists(busy))),
              R"(SELECT "authors"."id" FROM "authors" WHERE EXISTS (SELECT "posts"."author_id" FROM "posts" WHERE )"
              R"(("posts"."score" > ?)))");
    auto st = db::select<author>(col(&author::id))
                  .where(db::raw("lower(\"authors\".\"name\") = ?", "ada") && col(&author::age) > 3)
                  .to_sql(dialect::postgresql);
    EXPECT_EQ(st.sql,
              R"(SELECT "authors"."id" FROM "authors" WHERE (lower("authors"."name") = ? AND ("authors"."age" > ?)))");
    ASSERT_EQ(st.params.size(), 2u);
    EXPECT_EQ(st.params[0].as_text(), "ada");
    EXPECT_EQ(st.params[1].as_int(), 3);
}

TEST(db_query, offset_without_limit_per_dialect) {
    auto q = db::select<tag>(col(&tag::id)).offset(10);
    EXPECT_EQ(sql(q, dialect::postgresql), R"(SELECT "tags"."id" FROM "tags" LIMIT ALL OFFSET ?)");
    EXPECT_EQ(sql(q, dialect::sqlite), R"(SELECT "tags"."id" FROM "tags" LIMIT -1 OFFSET ?)");
    EXPECT_EQ(sql(q, dialect::mysql), "SELECT `tags`.`id` FROM `tags` LIMIT 18446744073709551615 OFFSET ?");
}

TEST(db_query, insert_update_delete_upsert_returning) {
    author a;
    a.name = "ada";
    a.age = 36;
    // The generated key is left out while it is 0.
    EXPECT_EQ(sql(db::insert(a)),
              R"(INSERT INTO "authors" ("name", "email", "age", "created_at", "updated_at") VALUES (?, ?, ?, ?, ?))");
    a.id = 9;
    const std::string with_key = sql(db::insert(a).returning());
    EXPECT_EQ(with_key.rfind(R"(INSERT INTO "authors" ("id", "name", )", 0), 0u) << with_key;
    EXPECT_NE(with_key.find(R"( RETURNING "authors"."id", "authors"."name", )"), std::string::npos) << with_key;

    tag t{0, "c++"};
    auto up = db::insert(t).on_conflict(&tag::label).do_update(&tag::label);
    EXPECT_EQ(
        sql(up),
        R"(INSERT INTO "tags" ("label") VALUES (?) ON CONFLICT ("label") DO UPDATE SET "label" = "excluded"."label")");
    EXPECT_EQ(sql(up, dialect::mysql),
              "INSERT INTO `tags` (`label`) VALUES (?) ON DUPLICATE KEY UPDATE `label` = VALUES(`label`)");
    EXPECT_EQ(sql(db::insert(t).on_conflict(&tag::label).do_nothing(), dialect::sqlite),
              R"(INSERT INTO "tags" ("label") VALUES (?) ON CONFLICT ("label") DO NOTHING)");
    EXPECT_EQ(sql(db::insert(std::vector<tag>{{0, "a"}, {0, "b"}})), R"(INSERT INTO "tags" ("label") VALUES (?), (?))");

    auto u = db::update<author>()
                 .set(&author::age, col(&author::age) + 1)
                 .set(&author::email, std::nullopt)
                 .where(col(&author::id) == 3);
    EXPECT_EQ(sql(u), R"(UPDATE "authors" SET "age" = ("authors"."age" + ?), "email" = ? WHERE ("authors"."id" = ?))");
    EXPECT_EQ(sql(db::delete_from<tag>().where(col(&tag::id) > 5).returning(), dialect::sqlite),
              R"(DELETE FROM "tags" WHERE ("tags"."id" > ?) RETURNING "tags"."id", "tags"."label")");
    // MariaDB has no UPDATE ... RETURNING: refused before it reaches the server.
    EXPECT_THROW((void)u.returning().to_sql(dialect::mysql), db::Error);
    // PostgreSQL and SQLite need a conflict target to update; a target needs an action.
    EXPECT_THROW((void)db::insert(t).do_update(&tag::label).to_sql(dialect::postgresql), db::Error);
    EXPECT_THROW((void)db::insert(t).on_conflict(&tag::label).to_sql(dialect::sqlite), db::Error);
    // do_update_all() leaves the key and the creation time alone.
    author b;
    b.id = 4;
    b.name = "b";
    const std::string all = sql(db::insert(b).on_conflict(&author::email).do_update_all(), dialect::sqlite);
    EXPECT_EQ(
        all.substr(all.find(" DO UPDATE") + 1),
        R"(DO UPDATE SET "name" = "excluded"."name", "age" = "excluded"."age", "updated_at" = "excluded"."updated_at")");
    // Rows that mix a generated key with given keys cannot share one statement.
    EXPECT_THROW((void)db::insert(std::vector<tag>{{0, "a"}, {7, "b"}}).to_sql(dialect::sqlite), db::Error);
}

TEST(db_query, ddl_per_dialect) {
    const auto pg = db::create_table_sql(db::schema_of<post>(), dialect::postgresql);
    ASSERT_EQ(pg.size(), 2u);
    EXPECT_EQ(pg[0],
              "CREATE TABLE \"posts\" (\n  \"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n"
              "  \"author_id\" BIGINT NOT NULL,\n  \"title\" TEXT NOT NULL,\n  \"body\" TEXT,\n"
              "  \"score\" DOUBLE PRECISION NOT NULL,\n  \"state\" TEXT NOT NULL,\n"
              "  CONSTRAINT \"posts_author_id_fkey\" FOREIGN KEY (\"author_id\") REFERENCES \"authors\" (\"id\") "
              "ON DELETE CASCADE\n)");
    EXPECT_EQ(pg[1], R"(CREATE INDEX "posts_author_id_score_idx" ON "posts" ("author_id", "score"))");
    const auto my = db::create_table_sql(db::schema_of<author>(), dialect::mysql, true);
    EXPECT_NE(my[0].find("`id` BIGINT AUTO_INCREMENT PRIMARY KEY"), std::string::npos) << my[0];
    EXPECT_NE(my[0].find("`email` VARCHAR(255),"), std::string::npos) << my[0];  // indexed text is bounded
    EXPECT_NE(my[0].find("`age` INT NOT NULL DEFAULT 0"), std::string::npos) << my[0];
    EXPECT_NE(my[0].find("`created_at` DATETIME(6) NOT NULL"), std::string::npos) << my[0];
    const auto lite = db::create_table_sql(db::schema_of<post_tag>(), dialect::sqlite);
    EXPECT_NE(lite[0].find("PRIMARY KEY (\"post_id\", \"tag_id\")"), std::string::npos) << lite[0];
}

}  // namespace
