// zephyr/core/task.hpp — the coroutine type of Zephyr.
//
// Every asynchronous function in Zephyr returns a Task<T>, which is Boost.Asio's awaitable<T>: it runs on the
// io_context of the connection that awaits it and can await any Asio operation directly.
//
//     zephyr::Task<std::string> greet(std::string name) {
//         co_return "Hello, " + name;
//     }
//     zephyr::Task<void> caller() { std::string s = co_await greet("you"); }
#pragma once

#include <boost/asio/awaitable.hpp>

namespace zephyr {

/// The result of a Zephyr coroutine: `co_await` it from another Task, or hand it to the framework as a handler.
template <class T = void>
using Task = boost::asio::awaitable<T>;

}  // namespace zephyr
