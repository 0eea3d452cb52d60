// zephyr/db/http.hpp — a database transaction per request, through Inject<db::Tx>.
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
#include <zephyr/db/pool.hpp>
#include <zephyr/http/services.hpp>

#include <memory>

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

}  // namespace zephyr::db
