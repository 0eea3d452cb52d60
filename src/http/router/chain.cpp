#include "http/debug_page.hpp"
#include "http/router/route_table.hpp"

#include <zephyr/core/error.hpp>
#include <zephyr/core/log.hpp>
#include <zephyr/http/layers/error_boundary.hpp>
#include <zephyr/http/extract/json.hpp>
#include <zephyr/http/layers/request_id.hpp>

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/this_coro.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <optional>

namespace zephyr::http {

namespace {

// Runs `inner`, turning an exception into the response error_response() gives. A coroutine cancelled by an
// outer layer (timeout) fails at its current await; that is not a bug of the code inside, so it is not
// logged, and the layer that cancelled it answers the client.
template <class Inner>
Task<Response> mapped(const Request& req, Inner inner) {
    std::exception_ptr error;
    try {
        co_return co_await inner();
    } catch (...) {
        error = std::current_exception();
    }
    boost::asio::cancellation_state cs = co_await boost::asio::this_coro::cancellation_state;
    if (cs.cancelled() != boost::asio::cancellation_type::none) co_return Response{status::service_unavailable};
    co_return error_response(req, error);
}

}  // namespace

// Every layer runs inside an error mapper of its own, so the layers outside it always receive a Response
// (with the request id, access-log line and so on) even when an inner layer throws.
Task<Response> Next::operator()(Request& req) const {
    if (index_ < chain_->layers.size()) {
        layer_base* l = chain_->layers[index_].get();
        Next rest{chain_, index_ + 1};
        return mapped(req, [l, &req, rest] { return l->call(req, rest); });
    }
    return chain_->invoke_endpoint(req);
}

namespace {

// RFC 9457 problem details with an `errors` extension member listing each failing field.
Response problem_with_errors(const HttpError& err) {
    boost::json::object o;
    o["type"] = "about:blank";
    o["title"] = reason_phrase(err.status());
    o["status"] = to_int(err.status());
    if (!err.detail().empty()) o["detail"] = err.detail();
    boost::json::array list;
    for (const auto& f : err.errors()) list.push_back(boost::json::object{{"path", f.path}, {"message", f.message}});
    o["errors"] = std::move(list);
    return Response{err.status(), boost::json::serialize(o), "application/problem+json"};
}

}  // namespace

Response error_to_response(const HttpError& err, const Request& req) {
    Response res = err.errors().empty() ? Response::problem(err.status(), err.detail()) : problem_with_errors(err);
    for (const auto& [k, v] : err.headers()) res.headers().add(k, v);
    if (!err.internal().empty() && log::enabled(log::level::warn)) {
        const auto* id = req.extensions().get<request_id>();
        log::warn(fmt::format("{} {} -> {}: {} (request id {})", req.method_name(), req.path(), to_int(err.status()),
                              err.internal(), id ? id->value : "-"));
    }
    return res;
}

Response error_response(const Request& req, std::exception_ptr e) noexcept {
    try {
        if (const services* s = req.services())
            if (auto mapped = s->map_error(e, req)) return std::move(*mapped);
        try {
            std::rethrow_exception(e);
        } catch (const HttpError& err) {
            return error_to_response(err, req);
        } catch (const json::decode_error& err) {
            // A handler decoding or validating input itself (json::parse, validate::ensure): the client's fault.
            return error_to_response(detail::rejection(err, status::unprocessable_content, "the input"), req);
        } catch (const std::exception& err) {
            if (const auto* hint = dynamic_cast<const status_hint*>(&err)) {
                // A module's error with an obvious answer (db unique violation → 409, database down → 503).
                // error_to_response logs what() as the internal message.
                return error_to_response(
                    HttpError{static_cast<status>(hint->http_status()), hint->client_message(), err.what()}, req);
            }
            const auto* id = req.extensions().get<request_id>();
            log::error(fmt::format("unhandled exception in {} {} (route '{}', request id {}): {}", req.method_name(),
                                   req.path(), req.route() ? req.route()->pattern : "-", id ? id->value : "-",
                                   err.what()));
        } catch (...) {
            const auto* id = req.extensions().get<request_id>();
            log::error(fmt::format("unhandled non-standard exception in {} {} (request id {})", req.method_name(),
                                   req.path(), id ? id->value : "-"));
        }
        if (const services* s = req.services(); s != nullptr && s->debug())
            if (auto page = detail::debug_error_page(req, e)) return std::move(*page);
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

namespace {

// The handler, then the finalisers of the Scoped services it used, told whether it threw. A finaliser that
// throws replaces the response with that error (a failed commit must not look like success).
Task<Response> finalised(Request& req, endpoint* e) {
    std::exception_ptr error;
    std::optional<Response> res;
    try {
        res.emplace(co_await e->call(req));
    } catch (...) {
        error = std::current_exception();
    }
    // A timeout layer may have cancelled the handler (mapped() explains the 503); the finalisers (a rollback)
    // must still be able to await.
    boost::asio::cancellation_state cs = co_await boost::asio::this_coro::cancellation_state;
    const bool cancelled = cs.cancelled() != boost::asio::cancellation_type::none;
    co_await boost::asio::this_coro::reset_cancellation_state();
    if (!res) res.emplace(cancelled ? Response{status::service_unavailable} : error_response(req, error));
    // A named local, not a temporary in the co_await expression: GCC 12 destroys such a temporary's
    // exception_ptr twice.
    const scope_outcome outcome{error, res->status()};
    try {
        co_await run_finalisers(req, outcome);
    } catch (...) {
        res.emplace(error_response(req, std::current_exception()));
    }
    co_return std::move(*res);
}

}  // namespace

Task<Response> chain::invoke_endpoint(Request& req) const {
    endpoint* e = ep.get();
    if (finalises) return finalised(req, e);
    return mapped(req, [e, &req] { return e->call(req); });
}

// Next already maps errors at every step; there is nothing left to catch here.
Task<Response> chain::run(Request& req) const { return Next{this, 0}(req); }

Response chain::run_sync(Request& req) const {
    try {
        return ep->call_sync(req);
    } catch (...) {
        return error_response(req, std::current_exception());
    }
}

}  // namespace detail
}  // namespace zephyr::http
