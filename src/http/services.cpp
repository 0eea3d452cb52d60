#include <zephyr/http/services.hpp>

#include <fmt/format.h>

#include <cxxabi.h>

#include <cstdlib>
#include <stdexcept>

namespace zephyr::http {

namespace detail {
std::string type_name(const std::type_info& t) {
    int status = 0;
    char* demangled = abi::__cxa_demangle(t.name(), nullptr, nullptr, &status);
    std::string out = (status == 0 && demangled != nullptr) ? demangled : t.name();
    std::free(demangled);
    return out;
}
}  // namespace detail

void services::add(const void* key, const std::type_info& t, std::shared_ptr<void> one, factory_fn f, bool replace,
                   bool scoped) {
    for (auto& e : entries_) {
        if (e.key != key) continue;
        if (!replace)
            throw std::logic_error{fmt::format("{} is provided twice; use override() to replace a provider",
                                               detail::type_name(t))};
        e.singleton = std::move(one);
        e.factory = std::move(f);
        e.scoped = scoped;
        return;
    }
    entries_.push_back({key, detail::type_name(t), std::move(one), std::move(f), scoped});
}

bool services::finalises(const void* key) const noexcept {
    const entry* e = find(key);
    return e != nullptr && e->scoped;
}

namespace detail {

namespace {
struct finaliser_list {
    std::vector<std::function<Task<void>(const scope_outcome&)>> items;
};
}  // namespace

void add_finaliser(Request& req, std::function<Task<void>(const scope_outcome&)> f) {
    auto* list = req.extensions().get<finaliser_list>();
    if (list == nullptr) list = &req.extensions().insert(finaliser_list{});
    list->items.push_back(std::move(f));
}

bool has_finalisers(const Request& req) noexcept {
    const auto* list = req.extensions().get<finaliser_list>();
    return list != nullptr && !list->items.empty();
}

Task<void> run_finalisers(Request& req, scope_outcome outcome) {
    auto* list = req.extensions().get<finaliser_list>();
    if (list == nullptr) co_return;
    auto items = std::move(list->items);
    list->items.clear();
    std::exception_ptr first;
    for (auto it = items.rbegin(); it != items.rend(); ++it) {
        try {
            co_await (*it)(outcome);
        } catch (...) {
            if (!first) first = std::current_exception();
        }
    }
    if (first) std::rethrow_exception(first);
}

}  // namespace detail

const services::entry* services::find(const void* key) const noexcept {
    for (const auto& e : entries_)
        if (e.key == key) return &e;
    return nullptr;
}

bool services::has(const void* key) const noexcept { return find(key) != nullptr; }

void services::missing(const std::type_info& t) {
    throw HttpError{status::internal_server_error, {},
                    fmt::format("no provider for {}; call app.provide<{}>(...)", detail::type_name(t),
                                detail::type_name(t))};
}

}  // namespace zephyr::http
