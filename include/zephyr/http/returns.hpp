// zephyr/http/returns.hpp — small types that say what a handler sends.
//
// Return them from a handler (or a Task); each has a to_response() overload.
//
//     app.post("/users", [](Json<new_user> b) -> Created<Json<user>> { return {user{...}, "/users/7"}; });
//     app.del("/users/{id}", [](Path<int>) { return NoContent{}; });
//     app.get("/old", [] { return Redirect{"/new"}; });
//     app.get("/page", [] { return Html{"<h1>Hi</h1>"}; });
//     app.get("/users/{id}", [](Path<int> id) -> Result<Json<user>> {
//         if (*id != 7) return HttpError{status::not_found, "no such user"};
//         return user{...};
//     });
#pragma once

#include <zephyr/http/error.hpp>
#include <zephyr/http/response.hpp>

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace zephyr::http {

/// 201 Created with T's body and, when `location` is set, a Location header.
template <class T>
struct Created {
    T value{};
    std::string location{};

    Created() = default;
    Created(T v, std::string loc = {}) : value{std::move(v)}, location{std::move(loc)} {}  // NOLINT: implicit
};

template <class T>
Response to_response(Created<T> c) {
    Response r = to_response(std::move(c.value));
    r.set_status(status::created);
    if (!c.location.empty()) r.headers().set("Location", c.location);
    return r;
}

/// 204 No Content.
struct NoContent {};
inline Response to_response(NoContent) { return Response{status::no_content}; }

/// A redirect: 302 Found unless another 3xx status is given (303 after a form post, 307/308 to keep the method).
struct Redirect {
    std::string location{};
    http::status code = status::found;
};
inline Response to_response(Redirect r) { return Response::redirect(r.location, r.code); }

/// An HTML body (text/html; charset=utf-8), sent as it is: escape what you interpolate.
struct Html {
    std::string body{};
    http::status code = status::ok;
};
inline Response to_response(Html h) { return Response::html(std::move(h.body), h.code); }

/// A value or the HttpError that stands in for it: errors as return values instead of exceptions. Returned
/// from a handler, the value is sent as T would be, and the error exactly as if it had been thrown (problem+json,
/// `internal` logged, on_error mappers consulted).
template <class T>
class Result {
public:
    Result(T value) : v_{std::in_place_index<0>, std::move(value)} {}         // NOLINT: implicit by design
    Result(HttpError error) : v_{std::in_place_index<1>, std::move(error)} {}  // NOLINT: implicit by design
    template <class U>
        requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::remove_cvref_t<U>, HttpError> &&
                 !std::is_same_v<std::remove_cvref_t<U>, Result>)
    Result(U&& value) : v_{std::in_place_index<0>, T(std::forward<U>(value))} {}  // NOLINT: implicit by design

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    /// The value; throws the error when there is none.
    T& value() & {
        if (!ok()) throw std::get<1>(v_);
        return std::get<0>(v_);
    }
    T&& value() && { return std::move(value()); }
    T& operator*() & { return value(); }
    T* operator->() { return &value(); }
    /// The error. Only valid when !ok().
    const HttpError& error() const { return std::get<1>(v_); }

private:
    std::variant<T, HttpError> v_;
};

/// The value's response, or the error thrown into the framework's error mapping.
template <class T>
Response to_response(Result<T> r) {
    return to_response(std::move(r).value());
}

}  // namespace zephyr::http
