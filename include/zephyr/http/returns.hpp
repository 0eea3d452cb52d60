// zephyr/http/returns.hpp — small types that say what a handler sends.
//
// Return them from a handler (or a Task); each has a to_response() overload.
//
//     app.post("/users", [](Json<new_user> b) -> Created<Json<user>> { return {user{...}, "/users/7"}; });
//     app.del("/users/{id}", [](Path<int>) { return NoContent{}; });
//     app.get("/old", [] { return Redirect{"/new"}; });
//     app.get("/page", [] { return Html{"<h1>Hi</h1>"}; });
#pragma once

#include <zephyr/http/response.hpp>

#include <string>
#include <utility>

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

}  // namespace zephyr::http
