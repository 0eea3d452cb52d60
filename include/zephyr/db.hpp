// zephyr/db.hpp — the database module: pools, queries, transactions.
//
//     #include <zephyr/db.hpp>
//     auto db = std::make_shared<zephyr::db::Pool>("sqlite:///var/app.db");
//     auto users = co_await db->query<user>("SELECT * FROM users WHERE age > ?", 18);
#pragma once

#include <zephyr/db/error.hpp>
#include <zephyr/db/listen.hpp>
#include <zephyr/db/migrate.hpp>
#include <zephyr/db/model.hpp>
#include <zephyr/db/pool.hpp>
#include <zephyr/db/query.hpp>
#include <zephyr/db/repository.hpp>
#include <zephyr/db/schema.hpp>
#include <zephyr/db/session.hpp>
#include <zephyr/db/url.hpp>
#include <zephyr/db/value.hpp>
