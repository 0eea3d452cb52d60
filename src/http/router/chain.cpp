#include "http/router/route_table.hpp"

#include <zephyr/core/log.hpp>
#include <zephyr/http/layers/error_boundary.hpp>
#include <zephyr/http/layers/request_id.hpp>

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include <optional>

namespace zephyr::http {

Task<Response> Next::operator()(Request& req) const {
    if (index_ < chain_->layers.size()) return chain_->layers[index_]->call(req, Next{chain_, index_ + 1});
    return chain_->invoke_endpoint(req);
}

Response error_response(const Request& req, std::exception_ptr e) noexcept {
    try {
        try {
            std::rethrow_exception(e);
        } catch (const HttpError& err) {
            Response res = Response::problem(err.status(), err.detail());
            for (const auto& [k, v] : err.headers()) res.headers().add(k, v);
            if (!err.internal().empty() && log::enabled(log::level::warn)) {
                const auto* id = req.extensions().get<request_id>();
                log::warn(fmt::format("{} {} -> {}: {} (request id {})", req.method_name(), req.path(),
                                      to_int(err.status()), err.internal(), id ? id->value : "-"));
            }
            return res;
        } catch (const std::exception& err) {
            const auto* id = req.extensions().get<request_id>();
            log::error(fmt::format("unhandled exception in {} {} (route '{}', request id {}): {}", req.method_name(),
                                   req.path(), req.route() ? req.route()->pattern : "-", id ? id->value : "-",
                                   err.what()));
        } catch (...) {
            const auto* id = req.extensions().get<request_id>();
            log::error(fmt::format("unhandled non-standard exception in {} {} (request id {})", req.method_name(),
                                   req.path(), id ? id->value : "-"));
        }
        return Response::problem(status::internal_server_error, "the server failed to handle this request");
    } catch (...) {
        // Building the error response itself failed (out of memory): answer with the bare status.
        return Response{status::internal_server_error};
    }
}

namespace layers {
Task<Response> error_boundary::operator()(Request& req, Next next) const {
    std::optional<Response> failed;
    try {
        co_return co_await next(req);
    } catch (...) {
        failed.emplace(error_response(req, std::current_exception()));
    }
    co_return std::move(*failed);
}
}  // namespace layers

namespace detail {

Task<Response> chain::invoke_endpoint(Request& req) const {
    std::exception_ptr error;
    try {
        co_return co_await ep->call(req);
    } catch (...) {
        error = std::current_exception();
    }
    // A handler cancelled by an outer layer (timeout) fails at its current await; that is no handler bug, so
    // it is not logged as one, and the layer that cancelled it answers the client.
    boost::asio::cancellation_state cs = co_await boost::asio::this_coro::cancellation_state;
    if (cs.cancelled() != boost::asio::cancellation_type::none) co_return Response{status::service_unavailable};
    co_return error_response(req, error);
}

Task<Response> chain::run(Request& req) const {
    std::optional<Response> failed;
    try {
        co_return co_await Next{this, 0}(req);
    } catch (...) {
        failed.emplace(error_response(req, std::current_exception()));
    }
    co_return std::move(*failed);
}

Response chain::run_sync(Request& req) const {
    try {
        return ep->call_sync(req);
    } catch (...) {
        return error_response(req, std::current_exception());
    }
}

}  // namespace detail
}  // namespace zephyr::http
