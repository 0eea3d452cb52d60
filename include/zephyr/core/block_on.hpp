// zephyr/core/block_on.hpp — running a Task to completion from plain code (main, start-up, scripts).
//
// The task runs on a private event loop on the calling thread; its result is returned and its exception
// rethrown. Not for use inside a handler (it would stop that thread's event loop while it waits).
//
//     int main() {
//         auto db = std::make_shared<zephyr::db::Pool>("sqlite://app.db");
//         zephyr::block_on(create_schema(*db));
//     }
#pragma once

#include <zephyr/core/task.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace zephyr {

/// Runs `task` on a fresh event loop until it finishes; returns its value or rethrows its exception.
template <class T>
T block_on(Task<T> task) {
    boost::asio::io_context ioc{1};
    std::exception_ptr error;
    if constexpr (std::is_void_v<T>) {
        boost::asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e) { error = e; });
        ioc.run();
        if (error) std::rethrow_exception(error);
    } else {
        std::optional<T> out;
        boost::asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T v) {
            if (e)
                error = e;
            else
                out.emplace(std::move(v));
        });
        ioc.run();
        if (error) std::rethrow_exception(error);
        return std::move(*out);
    }
}

}  // namespace zephyr
