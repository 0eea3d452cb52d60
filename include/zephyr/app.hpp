// zephyr/app.hpp — the application: routes, layers, configuration and the command line.
//
// An App is the root Router plus the server configuration. `run()` reads the process's command line, so the
// application binary is also its own management tool: `./app` (or `./app serve`) serves, `./app routes`
// lists the routes, `--port`, `--host` and `--threads` override the configuration.
//
//     zephyr::App app;
//     app.get("/", [] { return "Hello, World!"; });
//     app.run();   // 127.0.0.1:8080, or PORT / HOST from the environment
#pragma once

#include <zephyr/http/router/router.hpp>
#include <zephyr/http/server.hpp>
#include <zephyr/http/services.hpp>

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <string_view>
#include <utility>
#include <vector>

namespace zephyr {

using http::Request;

class App : public http::Router {
public:
    /// An app with the default configuration, overridden by PORT, HOST and ZEPHYR_THREADS when set.
    App();
    /// An app with `config`; the environment does not override it.
    explicit App(http::server_config config);

    /// The server configuration, to change before run().
    http::server_config& config() noexcept { return config_; }
    const http::server_config& config() const noexcept { return config_; }

    /// Runs the command given on this process's command line (Linux: /proc/self/cmdline). Serves by default
    /// until SIGINT or SIGTERM, then returns after a graceful shutdown. Exits the process with status 2 for a
    /// bad command line and 1 when the server cannot start.
    void run();
    /// Runs the command in `argv` and returns the exit status instead of exiting.
    int run(int argc, char** argv);
    /// Same, with the arguments after the program name.
    int run(const std::vector<std::string>& args);

    /// The path of the route named `name` with `params` filled in (percent-encoded); parameters the pattern
    /// does not use become the query string. Throws std::invalid_argument for an unknown name or a missing
    /// or ill-typed parameter.
    std::string url_for(std::string_view name, const std::vector<std::pair<std::string, std::string>>& params = {}) const;

    /// Provides one shared instance of T for `Inject<T>`. Throws std::logic_error when T already has a
    /// provider or the app is serving.
    template <class T>
    App& provide(std::shared_ptr<T> instance) {
        check_can_provide();
        services().provide<T>(std::move(instance));
        return *this;
    }
    /// Provides T per request: `factory(Request&) -> T` runs at most once per request that injects T. A factory
    /// returning `Scoped<T>` adds a finaliser awaited after the handler (see services.hpp).
    template <class T, class F>
        requires(std::is_invocable_r_v<T, F&, Request&> || std::is_invocable_r_v<http::Scoped<T>, F&, Request&>)
    App& provide(F factory) {
        check_can_provide();
        services().provide_factory<T>(std::move(factory));
        return *this;
    }
    /// Replaces the provider of T, typically in a test: `app.override(std::make_shared<fake_store>())` for a
    /// `std::shared_ptr<T>` argument, or a per-request factory as with provide().
    template <class T>
    App& override(std::shared_ptr<T> instance) {
        check_can_provide();
        services().replace<T>(std::move(instance));
        return *this;
    }
    template <class T, class F>
        requires(std::is_invocable_r_v<T, F&, Request&> || std::is_invocable_r_v<http::Scoped<T>, F&, Request&>)
    App& override(F factory) {
        check_can_provide();
        services().replace_factory<T>(std::move(factory));
        return *this;
    }

    /// Maps exceptions of type E (and types derived from it) thrown by handlers, extractors or layers to a
    /// response. `mapper` takes `const E&` (and optionally `const Request&`) and returns an HttpError (sent as
    /// problem+json, its `internal` text logged) or anything a handler may return. Mappers are tried in the
    /// order registered, before the built-in mapping of HttpError; an exception no mapper takes is a 500.
    ///
    ///     app.on_error<payment_declined>([](const payment_declined& e) {
    ///         return HttpError{status::payment_required, e.reason()};
    ///     });
    template <class E, class F>
    App& on_error(F mapper) {
        check_can_provide();
        services().add_error_mapper(
            [m = std::move(mapper)](std::exception_ptr p, const Request& req) -> std::optional<http::Response> {
                try {
                    std::rethrow_exception(p);
                } catch (const E& e) {
                    return map_with(m, e, req);
                } catch (...) {
                    return std::nullopt;
                }
            });
        return *this;
    }

    /// Debug mode (development only): an unhandled exception is answered with an HTML page showing the exception,
    /// the request and the stack where it was thrown, with source lines (problem+json with the same facts for
    /// clients that do not accept HTML). Off by default, and then such errors are a plain 500. The constructor
    /// turns it on when ZEPHYR_DEBUG is 1 or true, or ZEPHYR_PROFILE is "development". Never enable it on a
    /// server others can reach: the page shows source code and request headers.
    App& debug(bool on);
    bool debug() const noexcept;

    /// One line per route: methods, pattern and name, sorted by pattern.
    std::string routes_text() const;

    /// A management command run from the app binary: `./app NAME ARGS...` calls `run(ARGS)` instead of serving
    /// and exits with its result. `help` is the line shown in `--help`. Modules add theirs (`db::add_commands`).
    /// Throws std::logic_error for a name already taken (serve, routes, or one added before).
    using command_fn = std::function<int(const std::vector<std::string>& args)>;
    App& command(std::string name, std::string help, command_fn run);

private:
    template <class F, class E>
    static http::Response map_with(const F& m, const E& e, const Request& req) {
        auto call = [&] {
            if constexpr (std::is_invocable_v<const F&, const E&, const Request&>)
                return m(e, req);
            else
                return m(e);
        };
        using R = decltype(call());
        if constexpr (std::is_same_v<R, http::HttpError>)
            return http::error_to_response(call(), req);
        else
            return to_response(call());
    }

    http::services& services() noexcept;
    void check_can_provide() const;

    struct command_entry {
        std::string name, help;
        command_fn run;
    };

    http::server_config config_;
    std::vector<command_entry> commands_;
};

}  // namespace zephyr
