// App: the command line (routes, --help, errors), configuration from the environment, routes_text().
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace http = zephyr::http;
using zephyr::App;

// Redirects a stream to a string for the lifetime of the object.
class capture {
public:
    explicit capture(std::ostream& s) : stream_{s}, old_{s.rdbuf(buf_.rdbuf())} {}
    ~capture() { stream_.rdbuf(old_); }
    capture(const capture&) = delete;
    capture& operator=(const capture&) = delete;
    std::string str() const { return buf_.str(); }

private:
    std::ostringstream buf_;
    std::ostream& stream_;
    std::streambuf* old_;
};

// Sets (or unsets, for nullopt) an environment variable and restores its previous value when destroyed.
class scoped_env {
public:
    scoped_env(const char* name, std::optional<std::string> value) : name_{name} {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value)
            ::setenv(name, value->c_str(), 1);
        else
            ::unsetenv(name);
    }
    ~scoped_env() {
        if (old_)
            ::setenv(name_, old_->c_str(), 1);
        else
            ::unsetenv(name_);
    }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

struct run_result {
    int code;
    std::string out;
    std::string err;
};

run_result run(App& app, const std::vector<std::string>& args) {
    capture out{std::cout};
    capture err{std::cerr};
    int code = app.run(args);
    return {code, out.str(), err.str()};
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in{text};
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

void add_sample_routes(App& app) {
    app.post("/items", [] { return "x"; });
    app.get("/users/{id:int}", [] { return "x"; }, {.name = "users.show"});
    app.route({http::method::get, http::method::post}, "/form", [] { return "x"; });
    auto& api = app.group("/api");
    api.get("/ping", [] { return "pong"; }, {.name = "api.ping"});
}

}  // namespace

TEST(app, routes_command_prints_the_table) {
    App app;
    add_sample_routes(app);
    auto r = run(app, {"routes"});
    EXPECT_EQ(r.code, 0) << r.err;
    auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 4u) << r.out;
    EXPECT_NE(lines[0].find("/api/ping"), std::string::npos) << r.out;
    EXPECT_NE(lines[0].find("GET"), std::string::npos) << r.out;
    EXPECT_NE(lines[0].find("api.ping"), std::string::npos) << r.out;
    EXPECT_NE(lines[1].find("/form"), std::string::npos) << r.out;
    EXPECT_NE(lines[1].find("GET,POST"), std::string::npos) << r.out;
    EXPECT_NE(lines[2].find("/items"), std::string::npos) << r.out;
    EXPECT_NE(lines[2].find("POST"), std::string::npos) << r.out;
    EXPECT_NE(lines[3].find("/users/{id:int}"), std::string::npos) << r.out;
    EXPECT_NE(lines[3].find("users.show"), std::string::npos) << r.out;
    EXPECT_EQ(r.out, app.routes_text());
}

TEST(app, routes_command_with_options_and_argv) {
    App app;
    add_sample_routes(app);
    auto r = run(app, {"routes", "--port", "9000", "--host", "0.0.0.0", "--threads", "2"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(lines_of(r.out).size(), 4u);

    App other;
    other.get("/only", [] { return "x"; });
    std::string prog = "app", cmd = "routes";
    char* argv[] = {prog.data(), cmd.data(), nullptr};
    capture out{std::cout};
    EXPECT_EQ(other.run(2, argv), 0);
    EXPECT_NE(out.str().find("/only"), std::string::npos);
}

TEST(app, routes_command_on_an_empty_app) {
    App app;
    auto r = run(app, {"routes"});
    EXPECT_EQ(r.code, 0);
    EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(app, help_returns_zero) {
    App app;
    for (const char* flag : {"--help", "-h"}) {
        auto r = run(app, {flag});
        EXPECT_EQ(r.code, 0) << flag;
        EXPECT_NE(r.out.find("usage"), std::string::npos) << r.out;
        EXPECT_NE(r.out.find("--port"), std::string::npos) << r.out;
    }
    auto after_command = run(app, {"routes", "--help"});
    EXPECT_EQ(after_command.code, 0);
    EXPECT_NE(after_command.out.find("usage"), std::string::npos);
}

TEST(app, unknown_flag_returns_2) {
    App app;
    auto r = run(app, {"--bogus"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--bogus"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
    EXPECT_EQ(run(app, {"routes", "--verbose"}).code, 2);
}

TEST(app, unknown_command_returns_2) {
    App app;
    auto r = run(app, {"frobnicate"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("frobnicate"), std::string::npos) << r.err;
    EXPECT_EQ(run(app, {"routes", "extra"}).code, 2);
}

TEST(app, bad_port_returns_2) {
    App app;
    for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
             {"--port", "abc"}, {"--port", "70000"}, {"--port", "-1"}, {"--port", "80x"}, {"--port", ""}, {"--port"},
             {"routes", "--port", "65536"}}) {
        auto r = run(app, args);
        EXPECT_EQ(r.code, 2) << args.back();
        EXPECT_FALSE(r.err.empty());
    }
}

TEST(app, bad_threads_and_missing_values_return_2) {
    App app;
    EXPECT_EQ(run(app, {"--threads", "many"}).code, 2);
    EXPECT_EQ(run(app, {"--threads"}).code, 2);
    EXPECT_EQ(run(app, {"--host"}).code, 2);
}

TEST(app, command_line_does_not_change_the_config) {
    App app{http::server_config{}};
    add_sample_routes(app);
    EXPECT_EQ(run(app, {"routes", "--port", "9001"}).code, 0);
    EXPECT_EQ(app.config().port, 8080);
}

TEST(app, environment_configures_the_default_app) {
    scoped_env port{"PORT", "9123"};
    scoped_env host{"HOST", "0.0.0.0"};
    scoped_env threads{"ZEPHYR_THREADS", "3"};
    App app;
    EXPECT_EQ(app.config().port, 9123);
    EXPECT_EQ(app.config().host, "0.0.0.0");
    EXPECT_EQ(app.config().threads, 3u);
}

TEST(app, defaults_without_environment) {
    scoped_env port{"PORT", std::nullopt};
    scoped_env host{"HOST", std::nullopt};
    scoped_env threads{"ZEPHYR_THREADS", std::nullopt};
    App app;
    EXPECT_EQ(app.config().port, 8080);
    EXPECT_EQ(app.config().host, "127.0.0.1");
    EXPECT_EQ(app.config().threads, 0u);
}

TEST(app, malformed_environment_is_ignored) {
    scoped_env port{"PORT", "http"};
    scoped_env host{"HOST", ""};
    scoped_env threads{"ZEPHYR_THREADS", "lots"};
    App app;
    EXPECT_EQ(app.config().port, 8080);
    EXPECT_EQ(app.config().host, "127.0.0.1");
    EXPECT_EQ(app.config().threads, 0u);
    scoped_env big{"PORT", "70000"};
    EXPECT_EQ(App{}.config().port, 8080);
}

TEST(app, explicit_config_ignores_environment) {
    scoped_env port{"PORT", "9123"};
    scoped_env host{"HOST", "0.0.0.0"};
    http::server_config cfg;
    cfg.port = 7000;
    App app{cfg};
    EXPECT_EQ(app.config().port, 7000);
    EXPECT_EQ(app.config().host, "127.0.0.1");
    app.config().port = 7001;
    EXPECT_EQ(app.config().port, 7001);
}

TEST(app, routes_text_is_sorted_by_pattern) {
    App app;
    app.get("/zebra", [] { return "x"; });
    app.get("/alpha", [] { return "x"; }, {.name = "alpha"});
    app.del("/middle/{id}", [] { return "x"; });
    app.get("/", [] { return "x"; });
    auto lines = lines_of(app.routes_text());
    ASSERT_EQ(lines.size(), 4u);
    auto pattern_of = [](const std::string& line) {
        std::istringstream in{line};
        std::string methods, pattern;
        in >> methods >> pattern;
        return pattern;
    };
    EXPECT_EQ(pattern_of(lines[0]), "/");
    EXPECT_EQ(pattern_of(lines[1]), "/alpha");
    EXPECT_EQ(pattern_of(lines[2]), "/middle/{id}");
    EXPECT_EQ(pattern_of(lines[3]), "/zebra");
    EXPECT_NE(lines[1].find("alpha"), std::string::npos);
    EXPECT_EQ(lines[2].rfind("DELETE", 0), 0u) << lines[2];
}

TEST(app, app_serves_in_process_after_routes_command) {
    App app;
    app.get("/hello", [] { return "hi"; });
    EXPECT_EQ(run(app, {"routes"}).code, 0);
    zephyr::testing::Client client{app};
    EXPECT_EQ(client.get("/hello").text(), "hi");
}

TEST(app, routes_text_shows_the_summary) {
    App app;
    app.get("/users/{id}", [] { return "x"; }, {.name = "users.show", .summary = "One user by id", .tags = {"users"}});
    auto text = app.routes_text();
    EXPECT_NE(text.find("users.show"), std::string::npos) << text;
    EXPECT_NE(text.find("One user by id"), std::string::npos) << text;
}
