// zephyr/http/extract/header.hpp — typed request headers and cookies.
//
// `Header<"Name">` is the header's value (400 when absent); `Header<"Name", T>` converts it to T (400 when it
// does not convert); with `std::optional<T>` an absent header is nothing instead of an error. `Cookie<"name">`
// does the same for a cookie.
//
//     app.get("/me", [](zephyr::Header<"Authorization"> auth, zephyr::Cookie<"theme", std::optional<std::string>> t) {
//         return *auth + " " + t->value_or("light");
//     });
#pragma once

#include <zephyr/http/extract/extractor.hpp>

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace zephyr::http {

namespace detail {
template <class T>
struct optional_of {
    using type = void;
};
template <class T>
struct optional_of<std::optional<T>> {
    using type = T;
};

template <class T>
T convert_field(std::string_view what, std::string_view name, std::optional<std::string_view> raw) {
    using inner = typename optional_of<T>::type;
    if constexpr (!std::is_void_v<inner>) {
        if (!raw) return std::nullopt;
        return Request::convert<inner>(what, name, *raw);
    } else {
        if (!raw) throw HttpError{status::bad_request, std::string{what} + " '" + std::string{name} + "' is required"};
        return Request::convert<T>(what, name, *raw);
    }
}

}  // namespace detail

template <fixed_string Name, class T = std::string>
class Header : public detail::holder<T> {
public:
    static Header extract(Request& req) {
        Header h;
        h.value_ = detail::convert_field<T>("header", Name.view(), req.header(Name.view()));
        return h;
    }
};

template <fixed_string Name, class T = std::string>
class Cookie : public detail::holder<T> {
public:
    static Cookie extract(Request& req) {
        Cookie c;
        c.value_ = detail::convert_field<T>("cookie", Name.view(), req.cookie(Name.view()));
        return c;
    }
};

}  // namespace zephyr::http
