// Fuzzes parse_request_head (and, for pipelined requests, the chunked decoder between heads).
//
// The input is a byte stream as a client might send it: one or more requests back to back. It is parsed
// three ways, like a server that receives it in one read, in two reads split at a point the fuzzer picks
// (the input's last two bytes choose it, so seeds stay plain text), and in many reads of random size. The
// incremental ways exercise the `scan_from` resumption and must agree with the one-read way.
#include "fuzz_check.hpp"
#include "http/parser.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace zephyr::http;
using namespace zephyr::http::detail;

// Small limits so short inputs reach the 414 and 431 paths.
parser_limits fuzz_limits() {
    parser_limits l;
    l.max_request_line = 256;
    l.max_header_bytes = 1024;
    l.max_headers = 16;
    l.max_chunk_line = 64;
    l.max_trailer_bytes = 256;
    return l;
}

struct outcome {
    parse_status st = parse_status::incomplete;
    status code = status::ok;
    std::size_t offset = 0;  // where this request started in the input
    std::size_t size = 0;
    method m = method::get;
    std::string method_name, target;
    int version_minor = 0;
    std::optional<std::uint64_t> content_length;
    bool chunked = false, keep_alive = false, expect_continue = false;
    std::vector<std::pair<std::string, std::string>> headers;

    bool operator==(const outcome&) const = default;
};

void check_head(std::string_view buf, const request_head& head, const header_view& headers,
                const parser_limits& limits) {
    FUZZ_CHECK(head.size >= 4 && head.size <= buf.size());
    std::string_view h = buf.substr(0, head.size);
    FUZZ_CHECK(h.substr(h.size() - 4) == "\r\n\r\n");
    FUZZ_CHECK(zephyr_fuzz::inside(head.method_name, h) && !head.method_name.empty());
    FUZZ_CHECK(zephyr_fuzz::inside(head.target, h) && !head.target.empty());
    FUZZ_CHECK(head.target.size() <= limits.max_request_line);
    FUZZ_CHECK(head.version_minor == 0 || head.version_minor == 1);
    FUZZ_CHECK(headers.size() <= limits.max_headers);
    FUZZ_CHECK(!(head.content_length && head.chunked));
    FUZZ_CHECK(!head.chunked || head.version_minor == 1);
    int hosts = 0;
    for (const auto& [name, value] : headers) {
        FUZZ_CHECK(zephyr_fuzz::inside(name, h) && zephyr_fuzz::inside(value, h));
        FUZZ_CHECK(!name.empty());
        for (char c : name) FUZZ_CHECK(is_tchar(static_cast<unsigned char>(c)));
        for (char c : value) {
            auto u = static_cast<unsigned char>(c);
            FUZZ_CHECK(u == '\t' || (u >= 0x20 && u != 0x7F));
        }
        if (!value.empty()) {
            FUZZ_CHECK(value.front() != ' ' && value.front() != '\t');
            FUZZ_CHECK(value.back() != ' ' && value.back() != '\t');
        }
        if (iequals(name, "host")) ++hosts;
    }
    if (head.version_minor == 1) FUZZ_CHECK(hosts == 1);
    if (head.expect_continue) FUZZ_CHECK(headers.contains("expect"));
}

// Parses the stream as a server would when bytes become available at `arrivals` (increasing, ending at the
// input's size). Bodies are skipped by Content-Length or decoded; they are taken to have arrived.
std::vector<outcome> run(std::string_view input, const std::vector<std::size_t>& arrivals) {
    const parser_limits limits = fuzz_limits();
    std::vector<outcome> out;
    std::size_t next_arrival = 0;
    std::size_t avail = arrivals.at(0);
    std::size_t begin = 0;
    std::size_t scan = 0;
    while (out.size() < 8) {
        std::string_view buf = input.substr(begin, avail - begin);
        request_head head;
        header_view headers;
        parse_error err;
        auto st = parse_request_head(buf, limits, head, headers, err, scan);
        if (st == parse_status::incomplete) {
            FUZZ_CHECK(scan <= buf.size());
            if (avail == input.size()) {
                out.push_back({.st = st, .offset = begin});
                break;
            }
            while (arrivals[next_arrival] <= avail) ++next_arrival;
            avail = arrivals[next_arrival];
            continue;
        }
        if (st == parse_status::error) {
            FUZZ_CHECK(!err.message.empty());
            const int code = to_int(err.code);
            FUZZ_CHECK(code >= 400 && code <= 599);
            out.push_back({.st = st, .code = err.code, .offset = begin});
            break;
        }
        FUZZ_CHECK(scan == 0);
        check_head(buf, head, headers, limits);
        outcome o{.st = st, .offset = begin, .size = head.size, .m = head.method,
                  .method_name = std::string{head.method_name}, .target = std::string{head.target},
                  .version_minor = head.version_minor, .content_length = head.content_length,
                  .chunked = head.chunked, .keep_alive = head.keep_alive, .expect_continue = head.expect_continue};
        for (const auto& [k, v] : headers) o.headers.emplace_back(k, v);
        out.push_back(std::move(o));

        std::size_t body_begin = begin + head.size;
        if (head.content_length) {
            if (*head.content_length > input.size() - body_begin) break;
            begin = body_begin + static_cast<std::size_t>(*head.content_length);
        } else if (head.chunked) {
            chunked_decoder dec;
            std::string body;
            std::size_t used = 0;
            parse_error cerr;
            auto r = dec.feed(input.substr(body_begin), used, body, 4096, limits, cerr);
            if (r != chunked_decoder::result::done) break;
            FUZZ_CHECK(used <= input.size() - body_begin && body.size() <= 4096);
            begin = body_begin + used;
        } else {
            begin = body_begin;
        }
        avail = std::max(avail, begin);
    }
    return out;
}

bool same_result(const std::vector<outcome>& a, const std::vector<outcome>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        // A stream that is rejected is rejected either way, but the reason can depend on how much had
        // arrived (a bare LF seen early versus a bad version seen once the head is complete).
        if (a[i].st == parse_status::error && b[i].st == parse_status::error && a[i].offset == b[i].offset) continue;
        if (!(a[i] == b[i])) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input{reinterpret_cast<const char*>(data), size};
    if (input.empty()) return 0;

    const auto whole = run(input, {size});

    // Split in two where the last two bytes say.
    std::size_t split = size >= 2 ? (static_cast<std::size_t>(data[size - 2]) << 8 | data[size - 1]) % size : 0;
    if (split > 0) FUZZ_CHECK(same_result(whole, run(input, {split, size})));

    // Many reads of random sizes, or one byte at a time for short inputs (the slow-loris pattern).
    zephyr_fuzz::input_rng rng{input};
    std::vector<std::size_t> arrivals;
    const bool bytewise = size <= 512 && rng.next() % 4 == 0;
    for (std::size_t at = 0; at < size;) {
        at = std::min(size, at + (bytewise ? 1 : rng.between(1, 64)));
        arrivals.push_back(at);
    }
    FUZZ_CHECK(same_result(whole, run(input, arrivals)));
    return 0;
}
