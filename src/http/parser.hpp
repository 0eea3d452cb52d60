// The HTTP/1.1 request parser (RFC 9112), parsing in place over the connection's read buffer.
//
// We parse requests ourselves rather than with Beast's basic_parser because the server needs things that
// parser does not give: distinct limits for the request line (414) and the header section (431), rejection
// of obs-fold and bare CR, and string views into our own pooled buffer with no per-field callback.
#pragma once

#include <zephyr/http/headers.hpp>
#include <zephyr/http/method.hpp>
#include <zephyr/http/status.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zephyr::http::detail {

struct parser_limits {
    std::size_t max_request_line = 8 * 1024;
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_headers = 100;
    std::size_t max_chunk_line = 4 * 1024;  // chunk-size line including extensions
    std::size_t max_trailer_bytes = 8 * 1024;
};

/// Why a request was rejected: the status to answer with and a short reason for the body.
struct parse_error {
    http::status code = http::status::bad_request;
    std::string_view message;
};

struct request_head {
    http::method method = http::method::get;
    std::string_view method_name;
    std::string_view target;
    int version_minor = 1;
    std::optional<std::uint64_t> content_length;
    bool chunked = false;
    bool keep_alive = true;
    bool expect_continue = false;
    std::size_t size = 0;  // bytes of the head, including the final CRLF CRLF
};

enum class parse_status { complete, incomplete, error };

/// Parses one request head at the start of `buf`. `scan_from` carries where the search for the end of the
/// head may resume after an incomplete result (start it at 0 for a new request).
parse_status parse_request_head(std::string_view buf, const parser_limits& limits, request_head& head,
                                header_view& headers, parse_error& err, std::size_t& scan_from);

/// Decodes a chunked body incrementally; trailer fields are read, checked and dropped.
class chunked_decoder {
public:
    enum class result { need_more, done, error };
    /// Consumes bytes of `in` (reporting how many in `consumed`), appending the data to `out`. A body that
    /// would grow past `max_body` is an error with status 413.
    result feed(std::string_view in, std::size_t& consumed, std::string& out, std::uint64_t max_body,
                const parser_limits& limits, parse_error& err);
    bool done() const noexcept { return state_ == state::done; }

private:
    enum class state { size, ext, size_lf, data, data_cr, data_lf, trailer_start, trailer, trailer_lf, end_lf, done };
    state state_ = state::size;
    std::uint64_t remaining_ = 0;
    std::size_t digits_ = 0;
    std::size_t line_bytes_ = 0;
    std::size_t trailer_bytes_ = 0;
};

/// True for RFC 9110 token characters.
bool is_tchar(unsigned char c) noexcept;

/// The value of a hexadecimal digit, or -1 (chunk sizes, percent-encoding).
constexpr int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace zephyr::http::detail
