#include "http/router/route_table.hpp"

namespace zephyr::http {

Router::Router() : table_{std::make_shared<detail::route_table>(this)} {}

Router::Router(std::shared_ptr<detail::route_table> t, Router* parent, std::string prefix)
    : table_{std::move(t)}, parent_{parent}, prefix_{std::move(prefix)} {}

Router::~Router() = default;

Router& Router::group(std::string_view prefix) {
    table_->check_not_frozen("a group was added");
    if (prefix.empty() || prefix.front() != '/' || (prefix.size() > 1 && prefix.back() == '/'))
        throw route_error{"group prefix '" + std::string{prefix} + "' must start with '/' and not end with '/'"};
    detail::parse_pattern(prefix_ + std::string{prefix});  // reject malformed prefixes now
    children_.push_back(std::unique_ptr<Router>{new Router{table_, this, prefix_ + std::string{prefix}}});
    return *children_.back();
}

Route& Router::add_route(std::vector<http::method> ms, std::string_view pattern, std::shared_ptr<endpoint> ep,
                         route_options o) {
    auto& entry = table_->add(*this, std::move(ms), pattern, std::move(ep), std::move(o));
    routes_.push_back(std::make_unique<Route>(&entry));
    return *routes_.back();
}

void Router::add_layer(std::shared_ptr<layer_base> l) {
    table_->check_not_frozen("a layer was added");
    layers_.push_back(std::move(l));
}

Route& Route::name(std::string n) {
    entry_->table->check_not_frozen("a route was named");
    entry_->table->set_name(*entry_, std::move(n));
    return *this;
}

const std::string& Route::pattern() const noexcept { return entry_->info.pattern; }
const std::vector<http::method>& Route::methods() const noexcept { return entry_->methods; }

void Route::add_layer(std::shared_ptr<layer_base> l) {
    entry_->table->check_not_frozen("a route layer was added");
    entry_->layers.push_back(std::move(l));
}

}  // namespace zephyr::http
