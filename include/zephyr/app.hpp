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

#include <memory>
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
    /// Provides T per request: `factory(Request&) -> T` runs at most once per request that injects T.
    template <class T, class F>
        requires std::is_invocable_r_v<T, F&, Request&>
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
        requires std::is_invocable_r_v<T, F&, Request&>
    App& override(F factory) {
        check_can_provide();
        services().replace_factory<T>(std::move(factory));
        return *this;
    }

    /// One line per route: methods, pattern and name, sorted by pattern.
    std::string routes_text() const;

private:
    http::services& services() noexcept;
    void check_can_provide() const;

    http::server_config config_;
};

}  // namespace zephyr
