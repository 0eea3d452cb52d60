// The to-do example on PostgreSQL and MariaDB: the same migrations file and the same behaviour as on SQLite
// (tests/db/todo_example_test.cpp); only the database URL differs.
#include "db/integration/db_fixture.hpp"
#include "db/todo_example_flow.hpp"

namespace {

class todo_example_on : public ::testing::TestWithParam<std::string> {};

TEST_P(todo_example_on, lists_todos_and_pages) {
    auto tdb = todo_flow::database(db_test::server_for(GetParam()));
    todo_flow::lists_todos_and_pages(*tdb);
}

TEST_P(todo_example_on, bad_input_writes_nothing) {
    auto tdb = todo_flow::database(db_test::server_for(GetParam()));
    todo_flow::bad_input_writes_nothing(*tdb);
}

TEST_P(todo_example_on, the_migrations_match_the_models) {
    auto tdb = todo_flow::database(db_test::server_for(GetParam()));
    db::Migrator m{tdb->shared_pool(), db::migrator_options{.directory = TODO_MIGRATIONS_DIR}};
    m.models<todo_list, todo>();
    EXPECT_EQ(block_on(m.pending_changes()), "");
}

INSTANTIATE_TEST_SUITE_P(db, todo_example_on, ::testing::Values("postgres", "mariadb"),
                         [](const auto& info) { return info.param; });

}  // namespace
