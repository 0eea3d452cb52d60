// Fuzzes route patterns: parse_pattern must either succeed or throw route_error, never anything else.
// The input holds up to four patterns, one per line; those that parse are registered in one App (where a
// conflict is also a route_error), and a path built from each registered pattern must reach a handler.
#include "fuzz_check.hpp"
#include "http/router/route_table.hpp"

#include <zephyr/core/log.hpp>
#include <zephyr/testing.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace zephyr::http;
using namespace zephyr::http::detail;

// A request path that the pattern matches: literals encoded, parameters filled with a sample value.
std::string instantiate(const std::vector<segment>& segs) {
    if (segs.empty()) return "/";
    std::string path;
    for (const auto& s : segs) {
        path += '/';
        switch (s.kind) {
            case segment::literal: path += percent_encode(s.text); break;
            case segment::param:
            case segment::int_param: path += "7"; break;
            case segment::catch_all: path += "x/y"; break;
        }
    }
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    zephyr::log::set_level(zephyr::log::level::off);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input{reinterpret_cast<const char*>(data), size};

    std::vector<std::string_view> patterns;
    while (patterns.size() < 4) {
        auto nl = input.find('\n');
        patterns.push_back(input.substr(0, nl));
        if (nl == std::string_view::npos) break;
        input.remove_prefix(nl + 1);
    }

    zephyr::App app;
    std::vector<std::string> paths;
    for (std::string_view p : patterns) {
        std::vector<segment> segs;
        try {
            segs = parse_pattern(p);
        } catch (const route_error& e) {
            FUZZ_CHECK(std::string_view{e.what()}.find("malformed route pattern") == 0);
            try {
                app.get(p, [] { return "ok"; });
                FUZZ_CHECK(false);  // registration must refuse what parse_pattern refuses
            } catch (const route_error&) {
            }
            continue;
        }
        FUZZ_CHECK(!p.empty() && p[0] == '/');
        FUZZ_CHECK(segs.size() <= p.size());
        for (std::size_t i = 0; i < segs.size(); ++i) {
            if (segs[i].kind == segment::catch_all) FUZZ_CHECK(i + 1 == segs.size());
            if (segs[i].kind != segment::literal) FUZZ_CHECK(!segs[i].text.empty());
        }
        try {
            app.get(p, [](zephyr::http::Request& req) {
                for (const auto& prm : req.params()) FUZZ_CHECK(!prm.value.empty());
                return "ok";
            });
            paths.push_back(instantiate(segs));
        } catch (const route_error&) {
            // Conflicts with an earlier pattern.
        }
    }

    zephyr::http::server_limits roomy;  // the paths built here may be longer than a default request line
    roomy.max_request_line = 1 << 20;
    zephyr::testing::Client client{app, roomy};
    for (const auto& path : paths) {
        auto res = client.get(path);
        if (res.status() != 200) {
            std::fprintf(stderr, "GET %s answered %d\n", path.c_str(), res.status());
            FUZZ_CHECK(res.status() == 200);
        }
    }
    return 0;
}
