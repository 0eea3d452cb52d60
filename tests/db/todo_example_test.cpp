// The to-do example (examples/05-todo-api) on SQLite with its migrations, through the in-process client. The same
// flow runs on PostgreSQL and MariaDB in integration/todo_example_test.cpp.
#include "db/todo_example_flow.hpp"

TEST(todo_example, lists_todos_and_pages) {
    auto tdb = todo_flow::database("sqlite:");
    todo_flow::lists_todos_and_pages(*tdb);
}

TEST(todo_example, bad_input_writes_nothing) {
    auto tdb = todo_flow::database("sqlite:");
    todo_flow::bad_input_writes_nothing(*tdb);
}

TEST(todo_example, the_migrations_match_the_models) {
    auto tdb = todo_flow::database("sqlite:");
    db::Migrator m{tdb->shared_pool(), db::migrator_options{.directory = TODO_MIGRATIONS_DIR}};
    m.models<todo_list, todo>();
    EXPECT_EQ(block_on(m.pending_changes()), "");
}
