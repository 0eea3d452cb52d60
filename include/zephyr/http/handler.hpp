// zephyr/http/handler.hpp — how a handler function becomes an endpoint.
//
// A handler is a plain function or a coroutine taking nothing or `Request&`, returning anything with a
// `to_response` overload (or Task<that>). Plain functions run without a coroutine frame on the hot path.
//
//     app.get("/", [] { return "Hello"; });
//     app.get("/a", [](zephyr::Request& req) -> zephyr::Task<zephyr::Response> { co_return ...; });
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/http/request.hpp>
#include <zephyr/http/response.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace zephyr::http {

/// A type-erased handler.
class endpoint {
public:
    virtual ~endpoint() = default;
    /// True when call_sync() may be used: the handler is a plain function.
    virtual bool is_sync() const noexcept = 0;
    /// Runs a plain handler. Only valid when is_sync().
    virtual Response call_sync(Request& req) = 0;
    /// Runs the handler as a coroutine.
    virtual Task<Response> call(Request& req) = 0;
};

namespace detail {

template <class T>
struct task_value {
    using type = void;
    static constexpr bool is_task = false;
};
template <class T>
struct task_value<Task<T>> {
    using type = T;
    static constexpr bool is_task = true;
};

template <class F>
constexpr bool takes_request = std::is_invocable_v<F&, Request&>;
template <class F>
constexpr bool takes_nothing = std::is_invocable_v<F&>;

template <class F>
decltype(auto) invoke_handler(F& f, Request& req) {
    if constexpr (takes_request<F>)
        return f(req);
    else
        return f();
}

template <class F>
class fn_endpoint final : public endpoint {
    using result = decltype(invoke_handler(std::declval<F&>(), std::declval<Request&>()));
    static constexpr bool async = task_value<result>::is_task;

public:
    explicit fn_endpoint(F f) : f_{std::move(f)} {}
    bool is_sync() const noexcept override { return !async; }
    Response call_sync(Request& req) override {
        if constexpr (async)
            return Response{status::internal_server_error};
        else
            return to_response(invoke_handler(f_, req));
    }
    Task<Response> call(Request& req) override {
        if constexpr (async)
            co_return to_response(co_await invoke_handler(f_, req));
        else
            co_return to_response(invoke_handler(f_, req));
    }

private:
    F f_;
};

}  // namespace detail

/// Wraps a handler. Fails to compile, with the reason, for an unsupported signature or result type.
template <class F>
std::shared_ptr<endpoint> make_endpoint(F&& f) {
    using Fn = std::decay_t<F>;
    static_assert(detail::takes_request<Fn> || detail::takes_nothing<Fn>,
                  "a handler takes no parameters or (zephyr::Request&); see docs/routing.md#handlers");
    if constexpr (detail::takes_request<Fn> || detail::takes_nothing<Fn>) {
        using R = decltype(detail::invoke_handler(std::declval<Fn&>(), std::declval<Request&>()));
        using V = std::conditional_t<detail::task_value<R>::is_task, typename detail::task_value<R>::type, R>;
        static_assert(into_response<V>,
                      "a handler must return something with a to_response() overload (std::string, const char*, "
                      "zephyr::Response, zephyr::http::status, std::pair<status, T>), or a Task of one; "
                      "see docs/routing.md#handlers");
    }
    return std::make_shared<detail::fn_endpoint<Fn>>(std::forward<F>(f));
}

}  // namespace zephyr::http
