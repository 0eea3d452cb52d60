// zephyr/http/extract/ext.hpp — typed values set by layers, and the raw body.
//
// `Ext<T>` is the value of type T a layer stored with `req.extensions().insert(...)`; a missing value is a
// bug in the app's set-up (the layer is not installed), answered 500 and logged with the type's role.
// `Body` is the raw request body as a string; it consumes the body, so it must be the last parameter.
//
//     struct current_user { std::string name; };
//     app.get("/me", [](zephyr::Ext<current_user> u) { return u->name; });
//     app.post("/raw", [](zephyr::Body b) { return std::to_string(b->size()); });
#pragma once

#include <zephyr/http/extract/extractor.hpp>

#include <string>
#include <utility>

namespace zephyr::http {

template <class T>
class Ext {
public:
    T& operator*() noexcept { return *value_; }
    const T& operator*() const noexcept { return *value_; }
    T* operator->() noexcept { return value_; }
    const T* operator->() const noexcept { return value_; }

    static Ext extract(Request& req) {
        Ext e;
        e.value_ = req.extensions().get<T>();
        if (e.value_ == nullptr)
            throw HttpError{status::internal_server_error, {},
                            "Ext<T>: the request carries no value of this type; is the layer that sets it installed "
                            "on this route?"};
        return e;
    }

private:
    T* value_ = nullptr;
};

class Body : public detail::holder<std::string> {
public:
    static constexpr bool consumes_body = true;
    using detail::holder<std::string>::holder;

    static Body extract(Request& req) { return Body{std::move(req.body())}; }
};

}  // namespace zephyr::http
