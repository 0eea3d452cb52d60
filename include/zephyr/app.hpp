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

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zephyr {

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

    /// One line per route: methods, pattern and name, sorted by pattern.
    std::string routes_text() const;

private:
    http::server_config config_;
};

}  // namespace zephyr
