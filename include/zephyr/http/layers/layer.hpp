// zephyr/http/layers/layer.hpp — the layer (middleware) concept and Next.
//
// A layer is anything callable as `(Request&, Next) -> Task<Response>`: it sees the request on the way in,
// calls `next(req)` to run the rest of the stack, and sees the response on the way out.
//
//     zephyr::Task<zephyr::Response> timing(zephyr::Request& req, zephyr::Next next) {
//         auto start = std::chrono::steady_clock::now();
//         zephyr::Response res = co_await next(req);
//         res.headers().set("X-Elapsed-Us", std::to_string(elapsed_us(start)));
//         co_return res;
//     }
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/http/request.hpp>
#include <zephyr/http/response.hpp>

#include <concepts>
#include <memory>
#include <utility>

namespace zephyr::http {

namespace detail {
struct chain;
}

/// The rest of the stack below a layer: the inner layers and the handler. Cheap to copy; call it at most once.
class Next {
public:
    Next(const detail::chain* c, std::size_t index) noexcept : chain_{c}, index_{index} {}
    /// Runs the inner layers and the handler. Never throws for handler errors: those arrive as a Response
    /// with the mapped status.
    Task<Response> operator()(Request& req) const;

private:
    const detail::chain* chain_;
    std::size_t index_;
};

/// A type-erased layer, as stored in a built stack.
class layer_base {
public:
    virtual ~layer_base() = default;
    virtual Task<Response> call(Request& req, Next next) = 0;
};

/// Anything callable as `(Request&, Next) -> Task<Response>`.
template <class L>
concept layer = std::move_constructible<std::decay_t<L>> && requires(std::decay_t<L>& l, Request& r, Next n) {
    { l(r, n) } -> std::same_as<Task<Response>>;
};

namespace detail {
template <class L>
class layer_impl final : public layer_base {
public:
    explicit layer_impl(L l) : layer_{std::move(l)} {}
    Task<Response> call(Request& req, Next next) override { return layer_(req, next); }

private:
    L layer_;
};
}  // namespace detail

/// Wraps a layer for storage. Fails to compile, with the reason, for something that is not a layer.
template <class L>
std::shared_ptr<layer_base> make_layer(L&& l) {
    static_assert(layer<L>,
                  "a layer must be callable as (zephyr::Request&, zephyr::Next) -> zephyr::Task<zephyr::Response>; "
                  "see docs/layers.md");
    return std::make_shared<detail::layer_impl<std::decay_t<L>>>(std::forward<L>(l));
}

}  // namespace zephyr::http
