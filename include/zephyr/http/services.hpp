// zephyr/http/services.hpp — dependency injection by type.
//
// An app provides services by type: one shared instance (app scope) or a factory run once per request
// (request scope). Handlers ask for them with `Inject<T>`. A route that injects a type nothing provides
// fails when the app starts serving, naming the route and the type; tests replace a service with override().
//
// A request-scoped factory may return `Scoped<T>`: the value plus an async finaliser that the framework awaits
// once the handler has produced its response (or thrown), before the response is sent, for example to commit
// or roll back a transaction. A finaliser that throws turns the response into the error it threw.
//
//     app.provide(std::make_shared<user_store>(path));                     // one for the whole app
//     app.provide<request_clock>([](zephyr::Request&) { return request_clock{}; });   // one per request
//     app.get("/users/{id}", [](zephyr::Path<int> id, zephyr::Inject<user_store> store) { ... });
//     app.override(std::make_shared<user_store>(test_path));               // in a test
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/http/error.hpp>
#include <zephyr/http/extract/extractor.hpp>
#include <zephyr/http/response.hpp>
#include <zephyr/http/status.hpp>

#include <exception>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

namespace zephyr::http {

/// What a request-scoped service's finaliser learns about the request it served.
struct scope_outcome {
    std::exception_ptr error{};       ///< What the handler (or an extractor) threw, or null.
    http::status status = status::ok;  ///< The status of the response about to be sent.
    /// True when the handler threw: roll back. A handler that returns an error status did not throw.
    bool failed() const noexcept { return error != nullptr; }
};

/// A request-scoped service value with an async finaliser, returned by a factory given to app.provide<T>().
///
///     app.provide<unit_of_work>([](zephyr::Request&) {
///         return zephyr::Scoped<unit_of_work>{unit_of_work{}, [](unit_of_work& w, const zephyr::scope_outcome& o)
///                                                                  -> zephyr::Task<void> {
///             if (o.failed()) co_await w.rollback(); else co_await w.commit();
///         }};
///     });
template <class T>
class Scoped {
public:
    using finaliser = std::function<Task<void>(T&, const scope_outcome&)>;
    Scoped(T value, finaliser f) : value_{std::move(value)}, finaliser_{std::move(f)} {}

    T& value() noexcept { return value_; }
    finaliser& finish() noexcept { return finaliser_; }

private:
    T value_;
    finaliser finaliser_;
};

/// The problem+json response for `err` (with its `errors` list and headers), logging its internal message with
/// the request's id. What the framework sends for an HttpError that escapes a handler.
Response error_to_response(const HttpError& err, const Request& req);

namespace detail {
/// Queues `f` to run when the request's handler is done (see Scoped). Finalisers run newest first.
void add_finaliser(Request& req, std::function<Task<void>(const scope_outcome&)> f);
/// Runs and removes the request's finalisers. Each runs even when an earlier one threw; the first exception is
/// rethrown after all have run.
Task<void> run_finalisers(Request& req, scope_outcome outcome);
/// True when the request has finalisers waiting.
bool has_finalisers(const Request& req) noexcept;

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
    /// Provides T per request: `factory(Request&)` runs at most once per request that injects T. The factory
    /// returns T, or Scoped<T> to have a finaliser awaited after the handler.
    template <class T, class F>
    void provide_factory(F factory) {
        add(detail::service_key<T>(), typeid(T), nullptr, make_factory<T>(std::move(factory)), false,
            returns_scoped<T, F>);
    }
    /// Replaces (or adds) the provider of T: app scope.
    template <class T>
    void replace(std::shared_ptr<T> instance) {
        add(detail::service_key<T>(), typeid(T), std::move(instance), {}, true);
    }
    /// Replaces (or adds) the provider of T: request scope.
    template <class T, class F>
    void replace_factory(F factory) {
        add(detail::service_key<T>(), typeid(T), nullptr, make_factory<T>(std::move(factory)), true,
            returns_scoped<T, F>);
    }

    /// True when T (by key) has a provider.
    bool has(const void* key) const noexcept;
    /// True when T's provider returns Scoped<T>: routes injecting it run their finaliser.
    bool finalises(const void* key) const noexcept;

    /// Maps an exception to a response, or returns nothing to leave it to the next mapper (App::on_error).
    using error_mapper = std::function<std::optional<Response>(std::exception_ptr, const Request&)>;
    void add_error_mapper(error_mapper m) { mappers_.push_back(std::move(m)); }
    /// Debug mode: unhandled exceptions are answered with the development error page (see App::debug).
    bool debug() const noexcept { return debug_; }
    void set_debug(bool on) noexcept { debug_ = on; }

    /// The first registered mapper's response for `e`, or nothing.
    std::optional<Response> map_error(std::exception_ptr e, const Request& req) const {
        for (const auto& m : mappers_)
            if (auto r = m(e, req)) return r;
        return std::nullopt;
    }

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
        bool scoped = false;
    };

    template <class T, class F>
    static constexpr bool returns_scoped = std::is_invocable_r_v<Scoped<T>, F&, Request&>;

    template <class T, class F>
    static factory_fn make_factory(F f) {
        return [f = std::move(f)](Request& req) -> std::shared_ptr<void> {
            if constexpr (returns_scoped<T, F>) {
                Scoped<T> s = f(req);
                auto value = std::make_shared<T>(std::move(s.value()));
                if (s.finish())
                    detail::add_finaliser(req, [value, fin = std::move(s.finish())](const scope_outcome& o) {
                        return fin(*value, o);
                    });
                return value;
            } else {
                return std::make_shared<T>(f(req));
            }
        };
    }
    void add(const void* key, const std::type_info& t, std::shared_ptr<void> one, factory_fn f, bool replace,
             bool scoped = false);
    const entry* find(const void* key) const noexcept;
    [[noreturn]] static void missing(const std::type_info& t);

    std::vector<entry> entries_;
    std::vector<error_mapper> mappers_;
    bool debug_ = false;
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
