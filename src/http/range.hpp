// Range request headers (RFC 9110 section 14). Private to the library; used by static files.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace zephyr::http::detail {

/// An inclusive byte range within a representation.
struct byte_range {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
};

/// One "bytes=" range of a Range header against a representation of `size` bytes. Nothing when the header is
/// to be ignored (several ranges, another unit, a syntax error: RFC 9110 lets a server ignore those); an empty
/// inner optional when the range cannot be satisfied (416); otherwise a range with first <= last < size.
std::optional<std::optional<byte_range>> parse_range(std::string_view header, std::uint64_t size);

}  // namespace zephyr::http::detail
