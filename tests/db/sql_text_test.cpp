#include "db/sql_text.hpp"

#include <zephyr/db/error.hpp>

#include <gtest/gtest.h>

using namespace zephyr::db;
using namespace zephyr::db::detail;

TEST(db_sql_text, numbers_placeholders_outside_literals_and_comments) {
    std::size_t n = 0;
    EXPECT_EQ(numbered_placeholders("SELECT * FROM t WHERE a = ? AND b = ?", n), "SELECT * FROM t WHERE a = $1 AND b = $2");
    EXPECT_EQ(n, 2u);
    EXPECT_EQ(numbered_placeholders("SELECT '?', \"?\", `?` -- ?\n, ? /* ? */", n), "SELECT '?', \"?\", `?` -- ?\n, $1 /* ? */");
    EXPECT_EQ(n, 1u);
    EXPECT_EQ(numbered_placeholders("SELECT 'it''s ?', ?", n), "SELECT 'it''s ?', $1");
    EXPECT_EQ(numbered_placeholders("SELECT E'\\'?', ?", n), "SELECT E'\\'?', $1");
    EXPECT_EQ(numbered_placeholders("SELECT $tag$ ? $tag$, $$?$$, ?", n), "SELECT $tag$ ? $tag$, $$?$$, $1");
    EXPECT_EQ(n, 1u);
}

TEST(db_sql_text, double_question_mark_is_a_literal) {
    std::size_t n = 0;
    EXPECT_EQ(numbered_placeholders("SELECT data ?? 'k', data ??| ?", n), "SELECT data ? 'k', data ?| $1");
    EXPECT_EQ(n, 1u);
    EXPECT_EQ(plain_placeholders("SELECT a ?? b, ?", n), "SELECT a ? b, ?");
    EXPECT_EQ(n, 1u);
    EXPECT_EQ(count_placeholders("?, ??, '?'"), 1u);
}

TEST(db_sql_text, unterminated_literals_do_not_run_off_the_end) {
    std::size_t n = 0;
    EXPECT_EQ(numbered_placeholders("SELECT '?", n), "SELECT '?");
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(numbered_placeholders("SELECT /* ?", n), "SELECT /* ?");
    EXPECT_EQ(numbered_placeholders("SELECT $a$ ?", n), "SELECT $a$ ?");
    EXPECT_EQ(numbered_placeholders("?", n), "$1");
    EXPECT_EQ(numbered_placeholders("", n), "");
}

TEST(db_sql_text, parameter_count_mismatch_names_both_numbers) {
    try {
        check_param_count("SELECT ?, ?", 2, 1);
        ADD_FAILURE();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), errc::misuse);
        EXPECT_NE(std::string{e.what()}.find("2 placeholders but 1 value"), std::string::npos) << e.what();
    }
    EXPECT_NO_THROW(check_param_count("x", 0, 0));
}

TEST(db_sql_text, mysql_strings_take_backslash_escapes_and_hash_comments) {
    std::size_t n = 0;
    EXPECT_EQ(plain_placeholders("SELECT 'it\\'s ?', \"a\\\"?\", ? # ?\n, ?", n, sql_syntax::mysql),
              "SELECT 'it\\'s ?', \"a\\\"?\", ? # ?\n, ?");
    EXPECT_EQ(n, 2u);
    EXPECT_EQ(count_placeholders("SELECT $1, ?", sql_syntax::mysql), 1u);
    // The standard syntax has neither: the backslash ends nothing and # is an operator.
    EXPECT_EQ(count_placeholders("SELECT 'a\\', ? # ?"), 2u);
}
