// zephyr/http/extract/path.hpp — typed path parameters.
//
// `Path<T>` converts the route's only parameter to T; `Path<std::tuple<A, B>>` converts two parameters in
// pattern order. A mismatch between the tuple size and the pattern fails when the route is registered.
// A value that does not convert is a 400 naming the parameter.
//
//     app.get("/users/{id}", [](zephyr::Path<std::int64_t> id) { return std::to_string(*id); });
//     app.get("/a/{x}/{y}", [](zephyr::Path<std::tuple<int, std::string>> p) {
//         auto [x, y] = *p; ...
//     });
#pragma once

#include <zephyr/http/extract/extractor.hpp>
#include <zephyr/http/router/route_error.hpp>

#include <cstddef>
#include <string>
#include <tuple>
#include <utility>

namespace zephyr::http {

namespace detail {
template <class T>
struct path_tuple : std::false_type {};
template <class... A>
struct path_tuple<std::tuple<A...>> : std::true_type {};
}  // namespace detail

template <class T>
class Path : public detail::holder<T> {
public:
    using detail::holder<T>::holder;

    static Path extract(Request& req) {
        auto params = req.params();
        if constexpr (detail::path_tuple<T>::value) {
            return Path{[&]<std::size_t... I>(std::index_sequence<I...>) {
                return T{Request::convert<std::tuple_element_t<I, T>>("path parameter", params[I].name,
                                                                      params[I].value)...};
            }(std::make_index_sequence<std::tuple_size_v<T>>{})};
        } else {
            return Path{Request::convert<T>("path parameter", params[0].name, params[0].value)};
        }
    }

    static void check_route(const route_check& c) {
        std::size_t want = 1;
        if constexpr (detail::path_tuple<T>::value) want = std::tuple_size_v<T>;
        if (c.params.size() != want)
            throw route_error{"route '" + std::string{c.pattern} + "': the handler takes Path<...> with " +
                              std::to_string(want) + " value(s) but the pattern has " +
                              std::to_string(c.params.size()) + " parameter(s)" +
                              (want == 1 ? "; use Path<std::tuple<...>> for several" : "")};
    }
};

}  // namespace zephyr::http
