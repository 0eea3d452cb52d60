#include <zephyr/http/layers/timeout.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <exception>

namespace zephyr::http::layers {
namespace {

// Runs the inner stack and always completes normally, keeping an exception aside: `||` waits for the first
// operation to *succeed*, so an inner layer that throws would otherwise be masked by the timer and the
// client would wait for the whole limit to get a timeout instead of the error.
Task<Response> run_inner(Request& req, Next next, std::exception_ptr& error) {
    try {
        co_return co_await next(req);
    } catch (...) {
        error = std::current_exception();
    }
    co_return Response{};
}

}  // namespace

Task<Response> timeout::operator()(Request& req, Next next) const {
    using namespace boost::asio::experimental::awaitable_operators;
    boost::asio::steady_timer timer{co_await boost::asio::this_coro::executor, limit_};
    std::exception_ptr error;
    auto winner = co_await (run_inner(req, next, error) || timer.async_wait(boost::asio::use_awaitable));
    if (winner.index() == 0) {
        if (error) std::rethrow_exception(error);
        co_return std::get<0>(std::move(winner));
    }
    co_return Response::problem(status_, fmt::format("the request did not complete within {} ms", limit_.count()));
}

}  // namespace zephyr::http::layers
