// zephyr/db/http.hpp — the database in an App: a transaction per request (Inject<db::Tx>) and the `db` commands.
//
// After provide_request_transaction(app, pool), a handler that asks for Inject<db::Tx> gets a transaction that
// begins with its first statement and ends after the handler: committed when the response status is below 400,
// rolled back when the handler threw or answered with an error status. A failed COMMIT (a serialization failure,
// say) replaces the response with its error (409).
//
//     zephyr::db::provide_request_transaction(app, pool);
//     app.post("/orders", [](zephyr::Inject<zephyr::db::Tx> tx, zephyr::Json<order> o) -> zephyr::Task<zephyr::http::status> {
//         co_await tx->execute("INSERT INTO orders(item) VALUES (?)", o->item);
//         co_return zephyr::http::status::created;
//     });
#pragma once

#include <zephyr/app.hpp>
#include <zephyr/db/migrate.hpp>
#include <zephyr/db/pool.hpp>
#include <zephyr/http/services.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace zephyr::db {

/// Provides `Inject<db::Tx>`: one deferred transaction on `pool` per request that injects it.
inline void provide_request_transaction(App& app, std::shared_ptr<Pool> pool, tx_options options = {}) {
    app.provide<Tx>([pool = std::move(pool), options](http::Request&) {
        return http::Scoped<Tx>{pool->deferred(options), [](Tx& tx, const http::scope_outcome& outcome) -> Task<void> {
                                    if (outcome.failed() || http::to_int(outcome.status) >= 400)
                                        co_await tx.rollback();
                                    else
                                        co_await tx.commit();
                                }};
    });
}

/// Adds `./app db ...` (migrate, rollback [N], status, reset, seed, makemigrations [NAME], sql) to the app's
/// command line: the models live in the app binary, so it is its own migration tool.
inline void add_commands(App& app, std::shared_ptr<Migrator> migrator) {
    app.command("db", "database migrations and seed data (db --help)",
                [m = std::move(migrator)](const std::vector<std::string>& args) {
                    return m->run_command(args, std::cout, std::cerr);
                });
}

}  // namespace zephyr::db
