// zephyr/http/extract/json.hpp — JSON bodies in and out, and typed query strings.
//
// `Json<T>` as a parameter decodes the body (Content-Type application/json or any +json type, else 415) into
// a described struct: malformed JSON is a 400, JSON of the wrong shape a 422, both problem+json with every
// failing field in `errors`. As a return type it serializes T with Content-Type application/json.
// `Query<T>` decodes the query string into a described struct (repeated keys fill vectors); a parameter the
// query leaves out keeps the member's default (`int limit = 20;`); failures are 400.
// The struct's validation rules (zephyr/json/validate.hpp) are checked too, and their failures listed with the
// decoding errors.
//
//     struct page { std::optional<int> number; std::vector<std::string> tag; };
//     BOOST_DESCRIBE_STRUCT(page, (), (number, tag))
//     app.post("/users", [](zephyr::Query<page> q, zephyr::Json<new_user> body) -> zephyr::Json<user> { ... });
#pragma once

#include <zephyr/http/extract/extractor.hpp>
#include <zephyr/http/response.hpp>
#include <zephyr/json/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace zephyr::http {

namespace detail {
/// True for application/json and application/*+json, with any parameters.
bool is_json_media_type(std::string_view content_type) noexcept;
/// The HttpError for a decode_error: 400 for malformed JSON (or any query problem), 422 otherwise.
HttpError rejection(const json::decode_error& e, status shape_status, std::string_view what);
/// The query string as a JSON object of strings; a repeated key becomes an array of strings.
boost::json::value query_object(const Request& req);
/// Decoded urlencoded pairs as such an object.
boost::json::value pairs_object(const std::vector<std::pair<std::string, std::string>>& pairs);
/// True for application/x-www-form-urlencoded, with any parameters.
bool is_form_media_type(std::string_view content_type) noexcept;
/// Builds T's validation rules when the route is registered, so a bad rule (an invalid pattern) fails at
/// start-up rather than on a request.
template <class T>
void prepare_rules() {
    if constexpr (json::detail::has_rules<T>) (void)validate::rules_of<T>();
}
}  // namespace detail

template <class T>
class Json : public detail::holder<T> {
public:
    static constexpr bool consumes_body = true;

    Json() = default;
    Json(T v) : detail::holder<T>{std::move(v)} {}  // NOLINT: implicit, so handlers can `return user{...};`

    static Json extract(Request& req) {
        auto type = req.header("Content-Type");
        if (!type || !detail::is_json_media_type(*type))
            throw HttpError{status::unsupported_media_type, "expected a JSON body (Content-Type: application/json)"};
        try {
            return Json{json::parse<T>(req.body(), json::decode_options{.root = "body"})};
        } catch (const json::decode_error& e) {
            throw detail::rejection(e, status::unprocessable_content, "the request body");
        }
    }
    static void check_route(const route_check&) { detail::prepare_rules<T>(); }
};

/// A Json<T> result: 200 application/json.
template <class T>
Response to_response(Json<T> j) {
    return Response::json(json::to_string(*j));
}

template <class T>
class Query : public detail::holder<T> {
public:
    using detail::holder<T>::holder;

    static Query extract(Request& req) {
        try {
            return Query{json::from_value<T>(
                detail::query_object(req),
                json::decode_options{.root = "query", .text_values = true, .missing_keeps_default = true})};
        } catch (const json::decode_error& e) {
            throw detail::rejection(e, status::bad_request, "the query string");
        }
    }
    static void check_route(const route_check&) { detail::prepare_rules<T>(); }
};

/// An application/x-www-form-urlencoded body decoded into a described struct, like Query<T> (repeated keys
/// fill vectors, text converts to numbers and bools, "on"/"off" for checkboxes). 415 for another Content-Type,
/// 400 for a malformed body, 422 listing every failing field. A body extractor: the last parameter.
template <class T>
class Form : public detail::holder<T> {
public:
    static constexpr bool consumes_body = true;
    using detail::holder<T>::holder;

    static Form extract(Request& req) {
        auto type = req.header("Content-Type");
        if (!type || !detail::is_form_media_type(*type))
            throw HttpError{status::unsupported_media_type,
                            "expected a form body (Content-Type: application/x-www-form-urlencoded)"};
        auto pairs = parse_urlencoded(req.body());
        try {
            return Form{json::from_value<T>(detail::pairs_object(pairs),
                                            json::decode_options{.root = "form", .text_values = true})};
        } catch (const json::decode_error& e) {
            throw detail::rejection(e, status::unprocessable_content, "the form");
        }
    }
    static void check_route(const route_check&) { detail::prepare_rules<T>(); }
};

}  // namespace zephyr::http
