// zephyr/http/extract/extractor.hpp — the extractor concept: typed handler parameters.
//
// A handler parameter is either `Request&` or an extractor: a type with `static T extract(Request&)` that
// builds itself from the request or throws HttpError (400, 415, 422) to reject it. A body extractor also has
// `static constexpr bool consumes_body = true`; a handler may take at most one, as its last parameter. One
// that also has `static constexpr bool streams_body = true` reads the body while it arrives.
//
//     struct client_ip {
//         std::string value;
//         static client_ip extract(zephyr::Request& req) { return {std::string{req.remote_address()}}; }
//     };
//     app.get("/ip", [](client_ip ip) { return ip.value; });
#pragma once

#include <zephyr/http/request.hpp>

#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace zephyr::http {

/// A type a handler can take as a parameter.
template <class T>
concept extractor = requires(Request& r) {
    { T::extract(r) } -> std::same_as<T>;
};

/// An extractor that reads the request body.
template <class T>
concept body_extractor = extractor<T> && requires {
    { T::consumes_body } -> std::convertible_to<bool>;
} && T::consumes_body;

/// A body extractor that reads the body as it arrives instead of after the server has read all of it into
/// Request::body(): it declares `static constexpr bool streams_body = true` and reads with
/// Request::read_body_some(). A route whose handler takes one is served in streaming mode (see BodyStream).
template <class T>
concept streaming_body_extractor = body_extractor<T> && requires {
    { T::streams_body } -> std::convertible_to<bool>;
} && T::streams_body;

/// What an extractor may check against a route when it is registered: the names of the pattern's parameters.
/// Extractors that care define `static void check_route(const route_check&)` and throw route_error.
struct route_check {
    /// A service type the handler injects, checked against the app's providers at start-up.
    struct service_need {
        const void* key;
        std::string type;
    };
    std::string_view pattern;
    const std::vector<std::string>& params;
    std::vector<service_need>* needs = nullptr;
};

namespace detail {
/// The value an extractor carries, reached with `*x`, `x->` or `x.value()`.
template <class T>
class holder {
public:
    holder() = default;
    explicit holder(T v) : value_{std::move(v)} {}

    T& operator*() noexcept { return value_; }
    const T& operator*() const noexcept { return value_; }
    T* operator->() noexcept { return &value_; }
    const T* operator->() const noexcept { return &value_; }
    const T& value() const noexcept { return value_; }

protected:
    T value_{};
};
}  // namespace detail

/// A string usable as a template argument: `Header<"X-Token">`.
template <std::size_t N>
struct fixed_string {
    char data[N]{};
    constexpr fixed_string(const char (&s)[N]) {  // NOLINT: implicit by design
        for (std::size_t i = 0; i < N; ++i) data[i] = s[i];
    }
    constexpr std::string_view view() const { return {data, N - 1}; }
};

}  // namespace zephyr::http
