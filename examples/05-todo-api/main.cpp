// A to-do API on a database: lists of to-dos as models, the schema in migrations, SQLite by default (a file next
// to the binary), PostgreSQL or MariaDB by changing one setting (DATABASE_URL).
//
//     make run EXAMPLE=todo_api                                   # sqlite://todo.db, migrations applied at start
//     DATABASE_URL=postgresql://user:pass@localhost/todo make run EXAMPLE=todo_api
//     curl -s localhost:8080/lists -H 'Content-Type: application/json' -d '{"name":"home"}'
//     curl -s localhost:8080/lists/1/todos -H 'Content-Type: application/json' -d '{"title":"write docs"}'
//     curl -s localhost:8080/lists                                  # every list with its to-dos (2 queries)
//     curl -s 'localhost:8080/todos?done=false&page=1&per_page=20'
//     curl -s -X POST localhost:8080/todos/1/done
//     ./build/release/examples/todo_api db status                   # also: migrate, rollback, makemigrations ...
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

#ifndef TODO_MIGRATIONS_DIR
#define TODO_MIGRATIONS_DIR "migrations"
#endif

// [models]
struct todo {
    std::int64_t id = 0;
    std::int64_t list_id = 0;
    std::string title;
    bool done = false;
    std::chrono::system_clock::time_point created_at{};
    std::chrono::system_clock::time_point updated_at{};
};
BOOST_DESCRIBE_STRUCT(todo, (), (id, list_id, title, done, created_at, updated_at))

struct todo_list {
    std::int64_t id = 0;
    std::string name;
    std::chrono::system_clock::time_point created_at{};
    std::chrono::system_clock::time_point updated_at{};
    std::vector<todo> todos{};  // a relation: filled by eager loading, written in JSON
};
BOOST_DESCRIBE_STRUCT(todo_list, (), (id, name, created_at, updated_at, todos))

inline auto zephyr_model(todo_list*) {
    return db::model<todo_list>("todo_lists")
        .primary_key(&todo_list::id)
        .max_length(&todo_list::name, 100)
        .unique(&todo_list::name)
        .timestamps(&todo_list::created_at, &todo_list::updated_at)
        .has_many(&todo_list::todos, &todo::list_id);
}

inline auto zephyr_model(todo*) {
    return db::model<todo>("todos")
        .primary_key(&todo::id)
        .max_length(&todo::title, 200)
        .default_sql(&todo::done, "FALSE")
        .foreign_key(&todo::list_id, &todo_list::id, db::on_delete::cascade)
        .index(&todo::list_id, &todo::done)
        .timestamps(&todo::created_at, &todo::updated_at);
}
// [models]

// [input]
struct new_list {
    std::string name;
};
BOOST_DESCRIBE_STRUCT(new_list, (), (name))

struct new_todo {
    std::string title;
};
BOOST_DESCRIBE_STRUCT(new_todo, (), (title))

struct todo_filter {
    std::optional<bool> done;
    std::optional<std::string> q;  // words the title contains
    std::int64_t page = 1;
    std::int64_t per_page = 20;
};
BOOST_DESCRIBE_STRUCT(todo_filter, (), (done, q, page, per_page))

struct todo_page {
    std::vector<todo> items;
    std::int64_t total = 0;
    std::int64_t page = 1;
    std::int64_t pages = 0;
};
BOOST_DESCRIBE_STRUCT(todo_page, (), (items, total, page, pages))

inline auto validation(validate::rules_for<new_list>) {
    using namespace zephyr::validate;
    return rules(field(&new_list::name, length(1, 100)));
}
inline auto validation(validate::rules_for<new_todo>) {
    using namespace zephyr::validate;
    return rules(field(&new_todo::title, length(1, 200)));
}
inline auto validation(validate::rules_for<todo_filter>) {
    using namespace zephyr::validate;
    return rules(field(&todo_filter::page, min(1)), field(&todo_filter::per_page, min(1), max(100)));
}
// [input]

// [routes]
App& make_app(App& app, std::shared_ptr<db::Pool> pool) {
    app.provide(pool);
    db::provide_request_transaction(app, pool);
    using db::col;

    app.get("/lists", [](Inject<db::Pool> db) -> Task<Json<std::vector<todo_list>>> {
        // Two queries in all: the lists, then the to-dos of every list.
        co_return co_await db::select<todo_list>().order_by(&todo_list::name).with(&todo_list::todos).all(*db);
    });
    app.get("/lists/{id}", [](Path<std::int64_t> id, Inject<db::Pool> db) -> Task<Json<todo_list>> {
        todo_list l = co_await db::get<todo_list>(*db, *id);  // none: db::not_found, answered 404
        co_await db::load(*db, l, &todo_list::todos);
        co_return l;
    });
    app.post("/lists", [](Inject<db::Tx> tx, Json<new_list> body) -> Task<Created<Json<todo_list>>> {
        todo_list l{.name = body->name};
        co_await db::insert(*tx, l);  // a taken name: db::unique_violation, answered 409
        co_return Created<Json<todo_list>>{Json{l}, "/lists/" + std::to_string(l.id)};
    });
    app.del("/lists/{id}", [](Path<std::int64_t> id, Inject<db::Tx> tx) -> Task<status> {
        // The list's to-dos go with it (ON DELETE CASCADE).
        co_return co_await db::remove<todo_list>(*tx, *id) ? status::no_content : status::not_found;
    });

    app.post("/lists/{id}/todos", [](Path<std::int64_t> id, Inject<db::Tx> tx, Json<new_todo> body) -> Task<Created<Json<todo>>> {
        todo t{.list_id = *id, .title = body->title};
        co_await db::insert(*tx, t);  // no such list: db::foreign_key_violation, answered 409
        co_return Created<Json<todo>>{Json{t}, "/todos/" + std::to_string(t.id)};
    });
    app.get("/todos", [](Query<todo_filter> f, Inject<db::Pool> db) -> Task<Json<todo_page>> {
        auto q = db::select<todo>().order_by(&todo::id);
        if (f->done) q.where(col(&todo::done) == *f->done);
        if (f->q) q.where(col(&todo::title).contains(*f->q));
        auto page = co_await db::paginate(*db, q, f->page, f->per_page);
        co_return todo_page{std::move(page.items), page.total, page.number, page.pages()};
    });
    app.get("/todos/{id}", [](Path<std::int64_t> id, Inject<db::Pool> db) -> Task<Json<todo>> {
        co_return co_await db::get<todo>(*db, *id);
    });
    app.post("/todos/{id}/done", [](Path<std::int64_t> id, Inject<db::Tx> tx) -> Task<status> {
        todo t = co_await db::get<todo>(*tx, *id);
        t.done = true;
        co_await db::update(*tx, t);
        co_return status::no_content;
    });
    app.del("/todos/{id}", [](Path<std::int64_t> id, Inject<db::Tx> tx) -> Task<status> {
        co_return co_await db::remove<todo>(*tx, *id) ? status::no_content : status::not_found;
    });
    return app;
}
// [routes]

#ifndef ZEPHYR_EXAMPLE_NO_MAIN
// [main]
int main(int argc, char** argv) {
    const char* url = std::getenv("DATABASE_URL");
    auto pool = std::make_shared<db::Pool>(url ? url : "sqlite://todo.db");
    auto migrator = std::make_shared<db::Migrator>(pool, db::migrator_options{.directory = TODO_MIGRATIONS_DIR});
    migrator->models<todo_list, todo>();  // what `db makemigrations` compares the database with

    App app;
    make_app(app, pool);
    db::add_commands(app, migrator);  // ./todo_api db migrate | rollback | status | makemigrations ...
    if (argc == 1) block_on(migrator->migrate());  // serving: bring the schema up to date first
    return app.run(argc, argv);
}
// [main]
#endif
