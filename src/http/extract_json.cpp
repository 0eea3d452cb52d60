#include <zephyr/http/extract/json.hpp>

#include <fmt/format.h>

namespace zephyr::http::detail {

bool is_json_media_type(std::string_view type) noexcept {
    type = type.substr(0, type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    if (iequals(type, "application/json")) return true;
    if (type.size() > 5 && iequals(type.substr(type.size() - 5), "+json")) {
        auto slash = type.find('/');
        return slash != std::string_view::npos && iequals(type.substr(0, slash), "application");
    }
    return false;
}

HttpError rejection(const json::decode_error& e, status shape_status, std::string_view what) {
    status s = e.is_syntax_error() ? status::bad_request : shape_status;
    std::string detail;
    if (e.errors.size() == 1)
        detail = fmt::format("{}: {}", e.errors.front().path, e.errors.front().message);
    else
        detail = fmt::format("{} has {} invalid fields", what, e.errors.size());
    HttpError err{s, std::move(detail)};
    for (const auto& f : e.errors) err.errors().push_back({f.path, f.message});
    return err;
}

boost::json::value query_object(const Request& req) { return pairs_object(req.query_params()); }

bool is_form_media_type(std::string_view type) noexcept {
    type = type.substr(0, type.find(';'));
    while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
    return iequals(type, "application/x-www-form-urlencoded");
}

boost::json::value pairs_object(const std::vector<std::pair<std::string, std::string>>& pairs) {
    boost::json::object o;
    for (const auto& [k, v] : pairs) {
        auto it = o.find(k);
        if (it == o.end()) {
            o.emplace(k, boost::json::string{v});
        } else if (it->value().is_array()) {
            it->value().as_array().emplace_back(boost::json::string{v});
        } else {
            boost::json::array a;
            a.emplace_back(std::move(it->value()));
            a.emplace_back(boost::json::string{v});
            it->value() = std::move(a);
        }
    }
    return o;
}

}  // namespace zephyr::http::detail
