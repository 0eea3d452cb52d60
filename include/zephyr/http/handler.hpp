// zephyr/http/handler.hpp — how a handler function becomes an endpoint.
//
// A handler is a plain function or a coroutine whose parameters are `Request&` or extractors (Path, Header,
// Cookie, Ext, Body, ...) and whose result has a `to_response` overload, or is a Task of one. Plain handlers
// with plain extractors run without a coroutine frame on the hot path.
//
//     app.get("/", [] { return "Hello"; });
//     app.get("/users/{id}", [](zephyr::Path<int> id, zephyr::Header<"Accept"> accept) { ... });
//     app.get("/a", [](zephyr::Request& req) -> zephyr::Task<zephyr::Response> { co_return ...; });
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/http/extract/extractor.hpp>
#include <zephyr/http/request.hpp>
#include <zephyr/http/response.hpp>

#include <cstddef>
#include <memory>
#include <tuple>
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
    /// Lets the handler's extractors check the route it is registered on; throws route_error.
    virtual void check_route(const route_check&) const {}
    /// True when a parameter reads the body as it arrives (BodyStream, Multipart): the server then runs the
    /// handler before reading the body instead of after.
    virtual bool streams_body() const { return false; }
};

namespace detail {

template <class T>
struct task_value {
    using type = T;
    static constexpr bool is_task = false;
};
template <class T>
struct task_value<Task<T>> {
    using type = T;
    static constexpr bool is_task = true;
};

// The parameter list and result of a non-generic callable.
template <class F>
struct fn_traits : fn_traits<decltype(&F::operator())> {};
template <class R, class... A>
struct fn_traits<R (*)(A...)> {
    using result = R;
    using args = std::tuple<A...>;
};
template <class R, class... A>
struct fn_traits<R(A...)> : fn_traits<R (*)(A...)> {};
template <class R, class C, class... A>
struct fn_traits<R (C::*)(A...)> : fn_traits<R (*)(A...)> {};
template <class R, class C, class... A>
struct fn_traits<R (C::*)(A...) const> : fn_traits<R (*)(A...)> {};
template <class R, class C, class... A>
struct fn_traits<R (C::*)(A...) noexcept> : fn_traits<R (*)(A...)> {};
template <class R, class C, class... A>
struct fn_traits<R (C::*)(A...) const noexcept> : fn_traits<R (*)(A...)> {};
template <class R, class... A>
struct fn_traits<R (*)(A...) noexcept> : fn_traits<R (*)(A...)> {};

template <class F>
concept has_traits = requires { typename fn_traits<std::decay_t<F>>::args; };

template <class A>
constexpr bool is_request_param = std::is_same_v<A, Request&>;

template <class A>
using param_value = std::remove_cvref_t<A>;

template <class A>
constexpr bool valid_param = is_request_param<A> || extractor<param_value<A>>;

// Where an extracted argument waits between extraction (left to right) and the call.
template <class A>
using arg_holder = std::conditional_t<is_request_param<A>, Request*, param_value<A>>;

template <class A>
arg_holder<A> extract_one(Request& req) {
    if constexpr (is_request_param<A>)
        return &req;
    else
        return param_value<A>::extract(req);
}

template <class A, class H>
decltype(auto) pass(H& h) {
    if constexpr (is_request_param<A>)
        return *h;
    else
        return std::move(h);
}

template <class Args, std::size_t... I>
constexpr bool body_is_last(std::index_sequence<I...>) {
    constexpr std::size_t n = sizeof...(I);
    std::size_t bodies = 0, last_body = 0;
    ((body_extractor<param_value<std::tuple_element_t<I, Args>>> ? (++bodies, last_body = I) : 0), ...);
    return bodies == 0 || (bodies == 1 && last_body == n - 1);
}

template <class F, class Args>
class fn_endpoint;

template <class F, class... A>
class fn_endpoint<F, std::tuple<A...>> final : public endpoint {
    using result = std::invoke_result_t<F&, A...>;
    static constexpr bool async = task_value<result>::is_task;

public:
    explicit fn_endpoint(F f) : f_{std::move(f)} {}
    bool is_sync() const noexcept override { return !async; }

    Response call_sync(Request& req) override {
        if constexpr (async)
            return Response{status::internal_server_error};
        else
            return to_response(invoke(req));
    }
    Task<Response> call(Request& req) override {
        if constexpr (async)
            co_return to_response(co_await invoke(req));
        else
            co_return to_response(invoke(req));
    }
    void check_route(const route_check& c) const override {
        (check_one<A>(c), ...);
    }
    bool streams_body() const override { return (streaming_body_extractor<param_value<A>> || ... || false); }

private:
    template <class P>
    static void check_one(const route_check& c) {
        if constexpr (!is_request_param<P>)
            if constexpr (requires { param_value<P>::check_route(c); }) param_value<P>::check_route(c);
    }

    result invoke(Request& req) {
        // Braced initialisation runs the extractors left to right, so the first failing one is reported.
        std::tuple<arg_holder<A>...> held{extract_one<A>(req)...};
        return [&]<std::size_t... I>(std::index_sequence<I...>) -> result {
            return f_(pass<A>(std::get<I>(held))...);
        }(std::index_sequence_for<A...>{});
    }

    F f_;
};

}  // namespace detail

/// Wraps a handler. Fails to compile, with the reason, for an unsupported signature or result type.
template <class F>
std::shared_ptr<endpoint> make_endpoint(F&& f) {
    using Fn = std::decay_t<F>;
    if constexpr (!detail::has_traits<Fn>) {
        static_assert(detail::has_traits<Fn>,
                      "a handler must be a function or a non-generic lambda whose parameters are Request& or "
                      "extractors; see docs/routing.md#handlers");
        return nullptr;
    } else {
        using Args = typename detail::fn_traits<Fn>::args;
        return []<class... A>(Fn fn, std::tuple<A...>*) -> std::shared_ptr<endpoint> {
            static_assert((detail::valid_param<A> && ...),
                          "every handler parameter must be zephyr::Request& or an extractor (Path, Query, Json, "
                          "Header, Cookie, Ext, Body, ...); see docs/routing.md#handlers");
            static_assert(detail::body_is_last<Args>(std::index_sequence_for<A...>{}),
                          "a handler may take at most one body extractor (Json, Form, Body, ...), and it must be "
                          "the last parameter; see docs/routing.md#handlers");
            using R = std::invoke_result_t<Fn&, A...>;
            using V = typename detail::task_value<R>::type;
            static_assert(into_response<V>,
                          "a handler must return something with a to_response() overload (std::string, const "
                          "char*, zephyr::Response, zephyr::http::status, std::pair<status, T>), or a Task of one; "
                          "see docs/routing.md#handlers");
            return std::make_shared<detail::fn_endpoint<Fn, std::tuple<A...>>>(std::move(fn));
        }(std::forward<F>(f), static_cast<Args*>(nullptr));
    }
}

}  // namespace zephyr::http
