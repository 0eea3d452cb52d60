#include <zephyr/http/layers/timeout.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

namespace zephyr::http::layers {

Task<Response> timeout::operator()(Request& req, Next next) const {
    using namespace boost::asio::experimental::awaitable_operators;
    boost::asio::steady_timer timer{co_await boost::asio::this_coro::executor, limit_};
    auto winner = co_await (next(req) || timer.async_wait(boost::asio::use_awaitable));
    if (winner.index() == 0) co_return std::get<0>(std::move(winner));
    co_return Response::problem(status_, fmt::format("the request did not complete within {} ms", limit_.count()));
}

}  // namespace zephyr::http::layers
