// A to-do API on a database: SQLite by default (a file next to the binary), PostgreSQL or MariaDB by changing
// one setting. Reads go through the pool; writes run in a per-request transaction (Inject<db::Tx>).
//
//     make run EXAMPLE=todo_api                                   # sqlite://todo.db
//     DATABASE_URL=postgresql://user:pass@localhost/todo make run EXAMPLE=todo_api
//     curl -s localhost:8080/todos -H 'Content-Type: application/json' -d '{"title":"write docs"}'
//     curl -s localhost:8080/todos
//     curl -s -X POST localhost:8080/todos/1/done
#include <zephyr/core/block_on.hpp>
#include <zephyr/db.hpp>
#include <zephyr/db/http.hpp>
#include <zephyr/zephyr.hpp>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace zephyr;

// [types]
struct todo {
    std::int64_t id = 0;
    std::string title;
    bool done = false;
    std::chrono::system_clock::time_point created_at{};
};
BOOST_DESCRIBE_STRUCT(todo, (), (id, title, done, created_at))

struct new_todo {
    std::string title;
};
BOOST_DESCRIBE_STRUCT(new_todo, (), (title))

inline auto validation(validate::rules_for<new_todo>) {
    using namespace zephyr::validate;
    return rules(field(&new_todo::title, length(1, 200)));
}
// [types]

// [schema]
// Until migrations: create the table when it is missing, in the dialect of the configured database.
Task<void> create_schema(db::Pool& db) {
    const std::string id = db.dialect() == db::dialect::postgresql ? "BIGSERIAL PRIMARY KEY"
                           : db.dialect() == db::dialect::mysql    ? "BIGINT AUTO_INCREMENT PRIMARY KEY"
                                                                   : "INTEGER PRIMARY KEY";
    const std::string time = db.dialect() == db::dialect::postgresql ? "TIMESTAMPTZ"
                             : db.dialect() == db::dialect::mysql    ? "DATETIME(6)"
                                                                     : "TEXT";
    co_await db.execute("CREATE TABLE IF NOT EXISTS todos (id " + id +
                        ", title VARCHAR(200) NOT NULL, done BOOLEAN NOT NULL DEFAULT FALSE, created_at " + time +
                        " NOT NULL)");
}
// [schema]

// [routes]
App& make_app(App& app, std::shared_ptr<db::Pool> pool) {
    app.provide(pool);
    db::provide_request_transaction(app, pool);

    app.get("/todos", [](Inject<db::Pool> db) -> Task<Json<std::vector<todo>>> {
        co_return co_await db->query<todo>("SELECT id, title, done, created_at FROM todos ORDER BY id");
    });
    app.get("/todos/{id}", [](Path<std::int64_t> id, Inject<db::Pool> db) -> Task<Json<todo>> {
        // query_one throws db::not_found when there is no such row: the client gets a 404.
        co_return co_await db->query_one<todo>("SELECT id, title, done, created_at FROM todos WHERE id = ?", *id);
    });
    app.post("/todos", [](Inject<db::Tx> tx, Json<new_todo> body) -> Task<Created<Json<todo>>> {
        todo t{.title = body->title, .created_at = std::chrono::system_clock::now()};
        if (tx->dialect() == db::dialect::postgresql) {
            t.id = co_await tx->scalar<std::int64_t>(
                "INSERT INTO todos (title, done, created_at) VALUES (?, ?, ?) RETURNING id", t.title, t.done,
                t.created_at);
        } else {
            auto r = co_await tx->execute("INSERT INTO todos (title, done, created_at) VALUES (?, ?, ?)", t.title,
                                          t.done, t.created_at);
            t.id = r.last_insert_id.value_or(0);
        }
        co_return Created<Json<todo>>{Json{t}, "/todos/" + std::to_string(t.id)};
    });
    app.post("/todos/{id}/done", [](Path<std::int64_t> id, Inject<db::Tx> tx) -> Task<status> {
        auto r = co_await tx->execute("UPDATE todos SET done = ? WHERE id = ?", true, *id);
        co_return r.affected_rows == 1 ? status::no_content : status::not_found;
    });
    app.del("/todos/{id}", [](Path<std::int64_t> id, Inject<db::Tx> tx) -> Task<status> {
        auto r = co_await tx->execute("DELETE FROM todos WHERE id = ?", *id);
        co_return r.affected_rows == 1 ? status::no_content : status::not_found;
    });
    return app;
}
// [routes]

#ifndef ZEPHYR_EXAMPLE_NO_MAIN
// [main]
int main(int argc, char** argv) {
    const char* url = std::getenv("DATABASE_URL");
    auto pool = std::make_shared<db::Pool>(url ? url : "sqlite://todo.db");
    block_on(create_schema(*pool));
    App app;
    make_app(app, pool);
    return app.run(argc, argv);
}
// [main]
#endif
