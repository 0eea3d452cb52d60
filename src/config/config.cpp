#include <zephyr/config/config.hpp>

#include <toml++/toml.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>

extern char** environ;

namespace zephyr::config {
namespace {

std::string join_messages(const std::vector<json::field_error>& errors) {
    std::string out = "invalid configuration:";
    for (const auto& e : errors) out += "\n  " + e.path + ": " + e.message;
    return out;
}

// TOML to JSON, remembering the line each leaf came from.
boost::json::value convert(const toml::node& node, const std::string& path, const std::string& file,
                           std::map<std::string, std::string>& origin) {
    auto where = [&] { origin[path] = fmt::format("{}:{}", file, node.source().begin.line); };
    if (const auto* t = node.as_table()) {
        boost::json::object o;
        for (const auto& [k, v] : *t) {
            std::string key{k.str()};
            o[key] = convert(v, path.empty() ? key : path + "." + key, file, origin);
        }
        return o;
    }
    if (const auto* a = node.as_array()) {
        boost::json::array arr;
        std::size_t i = 0;
        for (const auto& v : *a) arr.push_back(convert(v, fmt::format("{}[{}]", path, i++), file, origin));
        where();
        return arr;
    }
    where();
    if (auto v = node.value<std::string>()) return boost::json::string{*v};
    if (node.is_integer()) return boost::json::value(node.value<std::int64_t>().value_or(0));
    if (node.is_floating_point()) return boost::json::value(node.value<double>().value_or(0.0));
    if (auto v = node.value<bool>()) return boost::json::value(*v);
    // Dates and times as RFC 3339 text (a local date-time without offset stays without one).
    auto date = [](const toml::date& d) { return fmt::format("{:04}-{:02}-{:02}", d.year, d.month, d.day); };
    auto time = [](const toml::time& t) {
        std::string s = fmt::format("{:02}:{:02}:{:02}", t.hour, t.minute, t.second);
        if (t.nanosecond != 0) s += fmt::format(".{:09}", t.nanosecond);
        return s;
    };
    if (auto d = node.value<toml::date>()) return boost::json::string{date(*d)};
    if (auto t = node.value<toml::time>()) return boost::json::string{time(*t)};
    if (auto dt = node.value<toml::date_time>()) {
        std::string s = date(dt->date) + "T" + time(dt->time);
        if (dt->offset) {
            int m = dt->offset->minutes;
            s += m == 0 ? std::string{"Z"} : fmt::format("{}{:02}:{:02}", m < 0 ? '-' : '+', std::abs(m) / 60, std::abs(m) % 60);
        }
        return boost::json::string{s};
    }
    return nullptr;
}

void merge(boost::json::value& into, const boost::json::value& from) {
    if (into.is_object() && from.is_object()) {
        for (const auto& [k, v] : from.as_object()) merge(into.as_object()[k], v);
    } else {
        into = from;
    }
}

}  // namespace

config_error::config_error(std::vector<json::field_error> e) : std::runtime_error{join_messages(e)}, errors{std::move(e)} {}

std::string active_profile(std::string_view requested) {
    if (!requested.empty()) return std::string{requested};
    if (const char* p = std::getenv("ZEPHYR_PROFILE"); p && *p) return p;
    return "development";
}

raw_config load_raw(const load_options& options) {
    raw_config raw;
    raw.value = boost::json::object{};
    raw.profile = active_profile(options.profile);

    if (std::filesystem::exists(options.path)) {
        toml::table table;
        try {
            table = toml::parse_file(options.path);
        } catch (const toml::parse_error& e) {
            throw config_error{{{"config", fmt::format("{}:{}:{}: {}", options.path, e.source().begin.line,
                                                       e.source().begin.column, e.description())}}};
        }
        boost::json::value all = convert(table, "", options.path, raw.origin);
        boost::json::object& obj = all.as_object();
        boost::json::value profiles;
        if (auto it = obj.find("profile"); it != obj.end()) {
            profiles = std::move(it->value());
            obj.erase(it);
        }
        raw.value = std::move(all);
        if (profiles.is_object()) {
            if (auto* chosen = profiles.as_object().if_contains(raw.profile)) {
                merge(raw.value, *chosen);
                // Keys set by the profile come from its table: "profile.production.server.port" -> "server.port".
                std::string prefix = "profile." + raw.profile + ".";
                std::vector<std::pair<std::string, std::string>> moved;
                for (const auto& [k, v] : raw.origin)
                    if (k.starts_with(prefix)) moved.emplace_back(k.substr(prefix.size()), v);
                for (auto& [k, v] : moved) raw.origin[k] = v;
            }
        }
    } else if (options.file_required) {
        throw config_error{{{"config", fmt::format("{}: no such file", options.path)}}};
    }

    if (!options.env_prefix.empty()) {
        for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
            std::string_view entry{*e};
            if (!entry.starts_with(options.env_prefix)) continue;
            auto eq = entry.find('=');
            if (eq == std::string_view::npos) continue;
            std::string name{entry.substr(0, eq)};
            std::string key = name.substr(options.env_prefix.size());
            if (key.empty() || key == "PROFILE") continue;
            std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
            // KEY__SUB -> key.sub
            std::vector<std::string> parts;
            std::size_t pos = 0;
            while (true) {
                auto sep = key.find("__", pos);
                parts.push_back(key.substr(pos, sep - pos));
                if (sep == std::string::npos) break;
                pos = sep + 2;
            }
            boost::json::value* at = &raw.value;
            std::string dotted;
            for (std::size_t i = 0; i < parts.size(); ++i) {
                if (!at->is_object()) *at = boost::json::object{};
                at = &at->as_object()[parts[i]];
                dotted += (i ? "." : "") + parts[i];
            }
            *at = boost::json::string{entry.substr(eq + 1)};
            raw.origin[dotted] = "environment variable " + name;
        }
    }
    return raw;
}

void fail(const raw_config& raw, std::vector<json::field_error> errors) {
    for (auto& e : errors) {
        std::string key = e.path.starts_with("config.") ? e.path.substr(7) : std::string{};
        auto it = raw.origin.find(key);
        if (it != raw.origin.end()) e.message += " (from " + it->second + ")";
    }
    throw config_error{std::move(errors)};
}

}  // namespace zephyr::config
