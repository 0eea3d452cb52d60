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

// Asio keeps freed coroutine frames per thread for reuse; Zephyr's CMake targets raise how many (a database
// statement nests four frames). The number shapes Asio's per-thread state, so every file of a program that
// includes Asio must be compiled with the same one: link the Zephyr:: targets, or define it yourself.
#if !defined(BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE) || BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE != 8
#error "Zephyr needs -DBOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=8 (the Zephyr:: CMake targets set it)"
#endif

namespace zephyr {

/// The result of a Zephyr coroutine: `co_await` it from another Task, or hand it to the framework as a handler.
template <class T = void>
using Task = boost::asio::awaitable<T>;

}  // namespace zephyr
