// zephyr/http/services.hpp — dependency injection by type.
//
// An app provides services by type: one shared instance (app scope) or a factory run once per request
// (request scope). Handlers ask for them with `Inject<T>`. A route that injects a type nothing provides
// fails when the app starts serving, naming the route and the type; tests replace a service with override().
//
//     app.provide(std::make_shared<user_store>(path));                     // one for the whole app
//     app.provide<request_clock>([](zephyr::Request&) { return request_clock{}; });   // one per request
//     app.get("/users/{id}", [](zephyr::Path<int> id, zephyr::Inject<user_store> store) { ... });
//     app.override(std::make_shared<user_store>(test_path));               // in a test
#pragma once

#include <zephyr/http/extract/extractor.hpp>

#include <functional>
#include <memory>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

namespace zephyr::http {

namespace detail {
template <class T>
struct service_tag {
    static constexpr char id = 0;
};
template <class T>
const void* service_key() noexcept {
    return &service_tag<T>::id;
}
std::string type_name(const std::type_info& t);

// A request-scoped service value, kept in the request's extensions under a key of its own.
template <class T>
struct scoped_service {
    std::shared_ptr<T> value;
};
}  // namespace detail

/// The services of one app.
class services {
public:
    /// Provides one shared instance of T. Throws std::logic_error if T is provided already (use replace()).
    template <class T>
    void provide(std::shared_ptr<T> instance) {
        add(detail::service_key<T>(), typeid(T), std::move(instance), {}, false);
    }
    /// Provides T per request: `factory(Request&)` runs at most once per request that injects T.
    template <class T, class F>
    void provide_factory(F factory) {
        add(detail::service_key<T>(), typeid(T), nullptr, make_factory<T>(std::move(factory)), false);
    }
    /// Replaces (or adds) the provider of T: app scope.
    template <class T>
    void replace(std::shared_ptr<T> instance) {
        add(detail::service_key<T>(), typeid(T), std::move(instance), {}, true);
    }
    /// Replaces (or adds) the provider of T: request scope.
    template <class T, class F>
    void replace_factory(F factory) {
        add(detail::service_key<T>(), typeid(T), nullptr, make_factory<T>(std::move(factory)), true);
    }

    /// True when T (by key) has a provider.
    bool has(const void* key) const noexcept;

    /// The T for `req`; throws HttpError 500 (logged) when nothing provides T.
    template <class T>
    T& get(Request& req) const {
        const entry* e = find(detail::service_key<T>());
        if (e == nullptr) missing(typeid(T));
        if (e->singleton) return *static_cast<T*>(e->singleton.get());
        if (auto* s = req.extensions().get<detail::scoped_service<T>>()) return *s->value;
        auto value = std::static_pointer_cast<T>(e->factory(req));
        return *req.extensions().insert(detail::scoped_service<T>{std::move(value)}).value;
    }

private:
    using factory_fn = std::function<std::shared_ptr<void>(Request&)>;
    struct entry {
        const void* key;
        std::string type;
        std::shared_ptr<void> singleton;
        factory_fn factory;
    };

    template <class T, class F>
    static factory_fn make_factory(F f) {
        return [f = std::move(f)](Request& req) -> std::shared_ptr<void> {
            return std::make_shared<T>(f(req));
        };
    }
    void add(const void* key, const std::type_info& t, std::shared_ptr<void> one, factory_fn f, bool replace);
    const entry* find(const void* key) const noexcept;
    [[noreturn]] static void missing(const std::type_info& t);

    std::vector<entry> entries_;
};

/// A service of type T from the app's providers.
template <class T>
class Inject {
public:
    T& operator*() const noexcept { return *value_; }
    T* operator->() const noexcept { return value_; }

    static Inject extract(Request& req) {
        Inject i;
        i.value_ = &req.services()->template get<T>(req);
        return i;
    }
    static void check_route(const route_check& c) {
        if (c.needs) c.needs->push_back({detail::service_key<T>(), detail::type_name(typeid(T))});
    }

private:
    T* value_ = nullptr;
};

}  // namespace zephyr::http
