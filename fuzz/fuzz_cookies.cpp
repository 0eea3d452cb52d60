// Fuzzes Cookie header parsing and Set-Cookie serialization. Every pair parsed from the input is also
// turned into a Set-Cookie value (with attributes the input picks): that must be refused with
// std::invalid_argument exactly when RFC 6265 does not allow the name or value, must never contain a
// character that could end the header field, and must read back as the same pair.
#include "fuzz_check.hpp"

#include <zephyr/http/cookies.hpp>
#include <zephyr/http/headers.hpp>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

using namespace zephyr::http;

bool token(std::string_view s) {
    if (s.empty()) return false;
    for (unsigned char c : s) {
        if (c <= 32 || c >= 127) return false;
        if (std::string_view{"()<>@,;:\\\"/[]?={}"}.find(static_cast<char>(c)) != std::string_view::npos) return false;
    }
    return true;
}

bool cookie_octets(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x21 || c > 0x7E || c == '"' || c == ',' || c == ';' || c == '\\') return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input{reinterpret_cast<const char*>(data), size};
    zephyr_fuzz::input_rng rng{input};

    for (const auto& [name, value] : parse_cookie_header(input)) {
        FUZZ_CHECK(zephyr_fuzz::inside(name, input) && zephyr_fuzz::inside(value, input));
        FUZZ_CHECK(!name.empty() && name.find(';') == std::string_view::npos && name.find('=') == std::string_view::npos);
        FUZZ_CHECK(value.find(';') == std::string_view::npos);
        FUZZ_CHECK(name.front() != ' ' && name.back() != ' ');

        cookie c;
        c.name = std::string{name};
        c.value = std::string{value};
        const auto bits = rng.next();
        c.secure = bits & 1;
        c.http_only = bits & 2;
        c.partitioned = (bits & 4) && c.secure;
        c.same_site = static_cast<same_site>((bits >> 3) % 4);
        if (c.same_site == same_site::none) c.secure = true;
        if (bits & 32) c.max_age = std::chrono::seconds{static_cast<std::int32_t>(bits >> 32)};
        if (bits & 64)
            c.expires = std::chrono::system_clock::time_point{} +
                        std::chrono::seconds{static_cast<std::int64_t>((bits >> 20) % 8'000'000'000)};
        if (bits & 128) c.path = "/" + std::string{value};
        if (bits & 256) c.domain = std::string{name};
        const bool valid = token(name) && cookie_octets(value);
        try {
            std::string line = to_set_cookie(c);
            FUZZ_CHECK(valid);
            for (unsigned char ch : line) FUZZ_CHECK(ch >= 0x20 && ch < 0x7F);
            headers h;
            h.set("Set-Cookie", line);  // throws if the value could inject a header
            auto back = parse_cookie_header(line);
            FUZZ_CHECK(!back.empty() && back.front().first == name && back.front().second == value);
        } catch (const std::invalid_argument& e) {
            // The path and domain came from the input too, so a valid name and value may still be refused
            // for them; the message always names the cookie.
            FUZZ_CHECK(!valid || (bits & (128 | 256)));
            FUZZ_CHECK(std::string_view{e.what()}.find("cookie '") == 0);
        }
    }
    return 0;
}
