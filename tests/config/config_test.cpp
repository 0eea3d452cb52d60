// Configuration: TOML file, profiles, environment overrides, defaults and errors that name their origin.
#include <zephyr/config/config.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

// [settings]
struct server_part {
    std::string host = "127.0.0.1";
    int port = 8080;
    std::vector<std::string> origins{};
};
BOOST_DESCRIBE_STRUCT(server_part, (), (host, port, origins))

struct settings {
    server_part server{};
    std::string database_url = "sqlite::memory:";
    bool debug = false;
    std::optional<double> ratio{};
};
BOOST_DESCRIBE_STRUCT(settings, (), (server, database_url, debug, ratio))
// [settings]

namespace {

struct temp_file {
    fs::path path;
    explicit temp_file(std::string_view text) {
        static int n = 0;
        path = fs::temp_directory_path() / ("zephyr-config-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".toml");
        std::ofstream{path} << text;
    }
    ~temp_file() { fs::remove(path); }
};

struct env_var {
    std::string name;
    env_var(std::string n, const char* value) : name{std::move(n)} { ::setenv(name.c_str(), value, 1); }
    ~env_var() { ::unsetenv(name.c_str()); }
};

}  // namespace

TEST(config, defaults_when_nothing_is_given) {
    auto s = zephyr::config::load<settings>({.path = "/nonexistent/zephyr.toml"});
    EXPECT_EQ(s.server.port, 8080);
    EXPECT_EQ(s.database_url, "sqlite::memory:");
    EXPECT_FALSE(s.ratio);
}

TEST(config, file_then_profile_then_environment) {
    temp_file f{R"(
database_url = "postgresql://localhost/app"
debug = true

[server]
port = 9000
origins = ["https://a.example", "https://b.example"]

[profile.production]
debug = false

[profile.production.server]
host = "0.0.0.0"
)"};
    auto dev = zephyr::config::load<settings>({.path = f.path.string(), .profile = "development"});
    EXPECT_EQ(dev.server.port, 9000);
    EXPECT_EQ(dev.server.host, "127.0.0.1");
    EXPECT_TRUE(dev.debug);
    EXPECT_EQ(dev.server.origins.size(), 2u);

    auto prod = zephyr::config::load<settings>({.path = f.path.string(), .profile = "production"});
    EXPECT_EQ(prod.server.host, "0.0.0.0");
    EXPECT_FALSE(prod.debug);
    EXPECT_EQ(prod.server.port, 9000);

    env_var port{"ZEPHYR_SERVER__PORT", "9100"};
    env_var ratio{"ZEPHYR_RATIO", "0.5"};
    auto env = zephyr::config::load<settings>({.path = f.path.string(), .profile = "production"});
    EXPECT_EQ(env.server.port, 9100);
    ASSERT_TRUE(env.ratio);
    EXPECT_DOUBLE_EQ(*env.ratio, 0.5);
}

TEST(config, profile_from_the_environment) {
    temp_file f{"[profile.staging]\ndatabase_url = \"staging-db\"\n"};
    env_var p{"ZEPHYR_PROFILE", "staging"};
    EXPECT_EQ(zephyr::config::load<settings>({.path = f.path.string()}).database_url, "staging-db");
    EXPECT_EQ(zephyr::config::active_profile(), "staging");
}

TEST(config, a_bad_value_names_the_key_and_the_file_line) {
    temp_file f{"debug = true\n\n[server]\nport = \"eighty\"\n"};
    try {
        zephyr::config::load<settings>({.path = f.path.string()});
        ADD_FAILURE() << "expected config_error";
    } catch (const zephyr::config::config_error& e) {
        ASSERT_EQ(e.errors.size(), 1u);
        EXPECT_EQ(e.errors[0].path, "config.server.port");
        std::string what = e.what();
        EXPECT_NE(what.find(f.path.string() + ":4"), std::string::npos) << what;
        EXPECT_NE(what.find("expected an integer"), std::string::npos) << what;
    }
}

TEST(config, a_bad_environment_value_names_the_variable) {
    env_var port{"ZEPHYR_SERVER__PORT", "lots"};
    try {
        zephyr::config::load<settings>({.path = "/nonexistent/zephyr.toml"});
        ADD_FAILURE() << "expected config_error";
    } catch (const zephyr::config::config_error& e) {
        EXPECT_NE(std::string{e.what()}.find("ZEPHYR_SERVER__PORT"), std::string::npos) << e.what();
    }
}

TEST(config, malformed_toml_reports_line_and_column) {
    temp_file f{"[server]\nport = = 3\n"};
    try {
        zephyr::config::load<settings>({.path = f.path.string()});
        ADD_FAILURE() << "expected config_error";
    } catch (const zephyr::config::config_error& e) {
        EXPECT_NE(std::string{e.what()}.find(f.path.string() + ":2:"), std::string::npos) << e.what();
    }
}

TEST(config, a_required_file_that_is_missing_is_an_error) {
    EXPECT_THROW(zephyr::config::load<settings>({.path = "/nonexistent/zephyr.toml", .file_required = true}),
                 zephyr::config::config_error);
}
