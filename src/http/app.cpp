#include <zephyr/app.hpp>
#include <zephyr/core/log.hpp>

#include "http/debug_page.hpp"
#include "http/router/route_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>

namespace zephyr {
namespace {

template <class T>
bool parse_number(std::string_view s, T& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
}

constexpr std::string_view usage_head = R"(usage: APP [COMMAND] [OPTIONS]

commands:
  serve            serve HTTP (the default)
  routes           list the routes and exit
)";
constexpr std::string_view usage_options = R"(
options:
  --host ADDRESS   address to listen on (default 127.0.0.1, or HOST)
  --port N         port to listen on (default 8080, or PORT)
  --threads N      event-loop threads (default: one per core, or ZEPHYR_THREADS)
  -h, --help       show this help
)";

}  // namespace

App::App() {
    if (const char* port = std::getenv("PORT")) {
        std::uint16_t p = 0;
        if (parse_number(port, p)) config_.port = p;
        else log::warn(fmt::format("ignoring PORT='{}': not a port number", port));
    }
    if (const char* host = std::getenv("HOST"); host && *host) config_.host = host;
    if (const char* threads = std::getenv("ZEPHYR_THREADS")) {
        unsigned t = 0;
        if (parse_number(threads, t)) config_.threads = t;
        else log::warn(fmt::format("ignoring ZEPHYR_THREADS='{}': not a number", threads));
    }
    const char* dbg = std::getenv("ZEPHYR_DEBUG");
    const char* profile = std::getenv("ZEPHYR_PROFILE");
    if ((dbg && (std::string_view{dbg} == "1" || std::string_view{dbg} == "true")) ||
        (profile && std::string_view{profile} == "development"))
        debug(true);
}

App& App::debug(bool on) {
    check_can_provide();
    if (on && !services().debug()) http::detail::enable_throw_traces();
    services().set_debug(on);
    return *this;
}

bool App::debug() const noexcept { return const_cast<App*>(this)->services().debug(); }

App::App(http::server_config config) : config_{std::move(config)} {}

void App::run() {
    std::vector<std::string> args;
    std::ifstream cmdline{"/proc/self/cmdline", std::ios::binary};
    std::string all{std::istreambuf_iterator<char>{cmdline}, std::istreambuf_iterator<char>{}};
    std::size_t pos = 0;
    bool first = true;
    while (pos < all.size()) {
        std::size_t end = all.find('\0', pos);
        if (end == std::string::npos) end = all.size();
        if (!first) args.push_back(all.substr(pos, end - pos));
        first = false;
        pos = end + 1;
    }
    int code = run(args);
    if (code != 0) std::exit(code);
}

int App::run(int argc, char** argv) {
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
    return run(args);
}

App& App::command(std::string name, std::string help, command_fn run) {
    if (name == "serve" || name == "routes" ||
        std::any_of(commands_.begin(), commands_.end(), [&](const command_entry& c) { return c.name == name; }))
        throw std::logic_error{"App::command: a command named '" + name + "' exists already"};
    commands_.push_back(command_entry{std::move(name), std::move(help), std::move(run)});
    return *this;
}

int App::run(const std::vector<std::string>& args) {
    std::string usage{usage_head};
    for (const auto& c : commands_) usage += fmt::format("  {:<16} {}\n", c.name, c.help);
    usage += usage_options;
    // A module's command takes every argument after its name.
    if (!args.empty()) {
        for (const auto& c : commands_) {
            if (c.name != args[0]) continue;
            try {
                return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
            } catch (const std::exception& e) {
                std::cerr << "error: " << e.what() << "\n";
                return 1;
            }
        }
    }
    std::string command = "serve";
    http::server_config cfg = config_;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::string_view flag) -> const std::string* {
            if (i + 1 >= args.size()) {
                std::cerr << "error: " << flag << " needs a value\n\n" << usage;
                return nullptr;
            }
            return &args[++i];
        };
        if (a == "-h" || a == "--help") {
            std::cout << usage;
            return 0;
        } else if (a == "--port") {
            const std::string* v = value(a);
            if (!v) return 2;
            if (!parse_number(*v, cfg.port)) {
                std::cerr << "error: --port '" << *v << "' is not a port number (0-65535)\n";
                return 2;
            }
        } else if (a == "--host") {
            const std::string* v = value(a);
            if (!v) return 2;
            cfg.host = *v;
        } else if (a == "--threads") {
            const std::string* v = value(a);
            if (!v) return 2;
            if (!parse_number(*v, cfg.threads)) {
                std::cerr << "error: --threads '" << *v << "' is not a number\n";
                return 2;
            }
        } else if (!a.empty() && a[0] != '-' && i == 0) {
            command = a;
        } else {
            std::cerr << "error: unknown argument '" << a << "'\n\n" << usage;
            return 2;
        }
    }
    if (command == "routes") {
        table().freeze();
        std::cout << routes_text();
        return 0;
    }
    if (command != "serve") {
        std::cerr << "error: unknown command '" << command << "'\n\n" << usage;
        return 2;
    }
    try {
        http::Server server{*this, cfg};
        server.run();
    } catch (const std::exception& e) {
        log::error(fmt::format("cannot serve: {}", e.what()));
        return 1;
    }
    return 0;
}

http::services& App::services() noexcept { return table().services(); }

void App::check_can_provide() const {
    table().check_not_frozen("a service provider was added");
}

std::string App::url_for(std::string_view name, const std::vector<std::pair<std::string, std::string>>& params) const {
    return table().url_for(name, params);
}

std::string App::routes_text() const {
    std::vector<const http::detail::route_entry*> rs;
    for (const auto& r : table().routes()) rs.push_back(r.get());
    std::sort(rs.begin(), rs.end(), [](auto* a, auto* b) { return a->info.pattern < b->info.pattern; });
    std::string out;
    for (const auto* r : rs) {
        std::string methods;
        for (auto m : r->methods) {
            if (!methods.empty()) methods += ',';
            methods += http::to_string(m);
        }
        std::string line = fmt::format("{:<14} {:<40} {:<20} {}", methods, r->info.pattern, r->info.name, r->info.summary);
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + '\n';
    }
    return out;
}

}  // namespace zephyr
