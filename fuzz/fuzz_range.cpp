// Fuzzes Range header parsing (static files). The first 8 bytes pick the representation's size, the rest is
// the header. A satisfiable range must lie inside the representation; a header with several ranges or
// another unit must be ignored; and a range that parses must also parse when written back canonically.
#include "fuzz_check.hpp"

#include "http/range.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::uint64_t length = 0;
    if (size >= 8) {
        std::memcpy(&length, data, 8);
        data += 8;
        size -= 8;
    }
    length %= (std::uint64_t{1} << 62);
    if (size % 3 == 0) length %= 1000;  // small sizes often, to reach the edge cases
    const std::string_view header{reinterpret_cast<const char*>(data), size};

    auto parsed = zephyr::http::detail::parse_range(header, length);
    if (!parsed) return 0;
    FUZZ_CHECK(header.starts_with("bytes="));
    FUZZ_CHECK(header.find(',') == std::string_view::npos);
    if (!*parsed) return 0;  // unsatisfiable: 416
    const auto r = **parsed;
    FUZZ_CHECK(length > 0);
    FUZZ_CHECK(r.first <= r.last);
    FUZZ_CHECK(r.last < length);

    const std::string canonical = "bytes=" + std::to_string(r.first) + "-" + std::to_string(r.last);
    auto again = zephyr::http::detail::parse_range(canonical, length);
    FUZZ_CHECK(again && *again && (*again)->first == r.first && (*again)->last == r.last);
    return 0;
}
