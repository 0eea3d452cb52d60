// zephyr/config/config.hpp — typed configuration from zephyr.toml, profiles and the environment.
//
// Describe a struct (defaults in its member initializers), then load it. Values come from the TOML file,
// then from the `[profile.<name>]` table of the active profile, then from environment variables such as
// `ZEPHYR_SERVER__PORT=9000` (double underscore between levels). A bad value is reported with the key and
// where it came from: `config.server.port: expected an integer (from zephyr.toml:3)`.
//
//     struct server_part { std::string host = "127.0.0.1"; int port = 8080; };
//     struct settings { server_part server; std::string database_url = "sqlite::memory:"; };
//     BOOST_DESCRIBE_STRUCT(server_part, (), (host, port))
//     BOOST_DESCRIBE_STRUCT(settings, (), (server, database_url))
//     settings s = zephyr::config::load<settings>();          // zephyr.toml, profile from ZEPHYR_PROFILE
#pragma once

#include <zephyr/json/json.hpp>

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace zephyr::config {

/// Where configuration comes from.
struct load_options {
    std::string path = "zephyr.toml";  ///< The TOML file; a missing file is fine unless `file_required`.
    bool file_required = false;
    std::string profile{};             ///< "" means ZEPHYR_PROFILE from the environment, else "development".
    std::string env_prefix = "ZEPHYR_";  ///< Variables PREFIX + KEY__SUBKEY override keys; "" turns this off.
};

/// A configuration that could not be loaded: unreadable or malformed file, or values of the wrong type.
/// what() lists every problem, one per line, each with its origin (file:line or the variable's name).
class config_error : public std::runtime_error {
public:
    explicit config_error(std::vector<json::field_error> errors);
    std::vector<json::field_error> errors;  ///< path = "config.server.port", message includes the origin.
};

/// The merged configuration as JSON, and where each leaf value came from ("zephyr.toml:3", "env ZEPHYR_X").
struct raw_config {
    boost::json::value value;
    std::map<std::string, std::string> origin;  ///< keyed by dotted path without the root, e.g. "server.port"
    std::string profile;
};

/// Reads and merges file, profile and environment. Throws config_error for an unreadable or malformed file.
raw_config load_raw(const load_options& options = {});

/// The active profile's name: the argument, else ZEPHYR_PROFILE, else "development".
std::string active_profile(std::string_view requested = {});

/// Throws config_error for `errors`, each message prefixed with the origin of its key.
[[noreturn]] void fail(const raw_config& raw, std::vector<json::field_error> errors);

/// Loads T: every member absent from every source keeps its default; unknown keys are ignored.
template <class T>
T load(const load_options& options = {}) {
    raw_config raw = load_raw(options);
    T out{};
    std::vector<json::field_error> errors;
    json::decode_options d{.root = "config", .text_values = true, .missing_keeps_default = true};
    if (!json::try_from_value(raw.value, out, errors, d)) fail(raw, std::move(errors));
    return out;
}

}  // namespace zephyr::config
