// The HTTP/1.1 request-head parser and chunked decoder against valid, hostile and malformed input
// (RFC 9112). Every rejection is checked for its exact status code.
#include "http/parser.hpp"

#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace zephyr::http;
using namespace zephyr::http::detail;

struct parsed {
    parse_status st = parse_status::incomplete;
    request_head head;
    header_view headers;
    parse_error err;
    std::size_t scan = 0;

    int code() const { return to_int(err.code); }
};

// The views in the result refer into `bytes`, which must outlive it.
parsed parse(std::string_view bytes, const parser_limits& limits = {}) {
    parsed p;
    p.st = parse_request_head(bytes, limits, p.head, p.headers, p.err, p.scan);
    return p;
}

// Expects `bytes` to be rejected with `code`.
void expect_rejected(std::string_view bytes, int code, const parser_limits& limits = {}) {
    auto p = parse(bytes, limits);
    ASSERT_EQ(p.st, parse_status::error) << "accepted: " << bytes;
    EXPECT_EQ(p.code(), code) << p.err.message << " for: " << bytes;
    EXPECT_FALSE(p.err.message.empty());
}

struct decode_result {
    chunked_decoder::result r = chunked_decoder::result::need_more;
    std::size_t consumed = 0;
    std::string body;
    parse_error err;
    int code() const { return to_int(err.code); }
};

decode_result decode(std::string_view in, std::uint64_t max_body = 1 << 20, const parser_limits& limits = {}) {
    chunked_decoder dec;
    decode_result d;
    d.r = dec.feed(in, d.consumed, d.body, max_body, limits, d.err);
    return d;
}

// ---- valid heads ---------------------------------------------------------------------------------------

TEST(parser, valid_get_head) {
    std::string_view req =
        "GET /users/42?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept:   text/html \t\r\nX-Empty:\r\n\r\n";
    auto p = parse(req);
    ASSERT_EQ(p.st, parse_status::complete);
    EXPECT_EQ(p.head.method, method::get);
    EXPECT_EQ(p.head.method_name, "GET");
    EXPECT_EQ(p.head.target, "/users/42?x=1");
    EXPECT_EQ(p.head.version_minor, 1);
    EXPECT_TRUE(p.head.keep_alive);
    EXPECT_FALSE(p.head.content_length);
    EXPECT_FALSE(p.head.chunked);
    EXPECT_FALSE(p.head.expect_continue);
    EXPECT_EQ(p.head.size, req.size());
    EXPECT_EQ(p.scan, 0u);
    ASSERT_EQ(p.headers.size(), 3u);
    EXPECT_EQ(p.headers.get("host"), "example.com");
    EXPECT_EQ(p.headers.get("ACCEPT"), "text/html");  // optional whitespace trimmed on both sides
    EXPECT_EQ(p.headers.get("x-empty"), "");
}

TEST(parser, valid_post_head_leaves_the_body) {
    std::string_view req = "POST /items HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                           "Content-Length: 13\r\n\r\n{\"name\":\"x\"}";
    auto p = parse(req);
    ASSERT_EQ(p.st, parse_status::complete);
    EXPECT_EQ(p.head.method, method::post);
    ASSERT_TRUE(p.head.content_length);
    EXPECT_EQ(*p.head.content_length, 13u);
    EXPECT_EQ(req.substr(p.head.size), "{\"name\":\"x\"}");
}

TEST(parser, valid_heads_of_other_forms) {
    auto star = parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT_EQ(star.st, parse_status::complete);
    EXPECT_EQ(star.head.target, "*");

    auto absolute = parse("GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n");
    ASSERT_EQ(absolute.st, parse_status::complete);
    EXPECT_EQ(absolute.head.target, "http://example.com/x");

    auto extension = parse("PROPFIND /dav HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT_EQ(extension.st, parse_status::complete);
    EXPECT_EQ(extension.head.method, method::other);
    EXPECT_EQ(extension.head.method_name, "PROPFIND");

    auto obs_text = parse("GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9\tok\r\n\r\n");
    ASSERT_EQ(obs_text.st, parse_status::complete);
    EXPECT_EQ(obs_text.headers.get("x-name"), "caf\xc3\xa9\tok");
}

TEST(parser, pipelined_heads) {
    std::string_view stream =
        "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
        "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
        "GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        "GET /d HTTP/1.1\r\nHo";
    std::vector<std::string> targets;
    std::size_t scan = 0;
    while (true) {
        request_head head;
        header_view headers;
        parse_error err;
        auto st = parse_request_head(stream, {}, head, headers, err, scan);
        if (st != parse_status::complete) {
            EXPECT_EQ(st, parse_status::incomplete);
            break;
        }
        targets.emplace_back(head.target);
        EXPECT_EQ(scan, 0u);
        stream.remove_prefix(head.size + head.content_length.value_or(0));
        if (targets.size() == 3) {
            EXPECT_FALSE(head.keep_alive);
        }
    }
    EXPECT_EQ(targets, (std::vector<std::string>{"/a", "/b", "/c"}));
    EXPECT_EQ(stream, "GET /d HTTP/1.1\r\nHo");
}

// ---- incremental parsing -------------------------------------------------------------------------------

// Feeds `req` one byte at a time as a slow client would, carrying scan_from between calls.
void feed_byte_by_byte(std::string_view req) {
    std::size_t scan = 0;
    for (std::size_t n = 1; n < req.size(); ++n) {
        request_head head;
        header_view headers;
        parse_error err;
        ASSERT_EQ(parse_request_head(req.substr(0, n), {}, head, headers, err, scan), parse_status::incomplete)
            << "at " << n << ": " << err.message;
        // The search resumes near the end of what has arrived, never from the start: each byte is looked at
        // a bounded number of times, so a slow client costs linear time.
        ASSERT_LE(scan, n);
        ASSERT_GE(scan + 3, n);
    }
    request_head head;
    header_view headers;
    parse_error err;
    ASSERT_EQ(parse_request_head(req, {}, head, headers, err, scan), parse_status::complete) << err.message;
    EXPECT_EQ(head.size, req.size());
    EXPECT_EQ(scan, 0u);
}

TEST(parser, incremental_byte_by_byte) {
    feed_byte_by_byte("GET /slow HTTP/1.1\r\nHost: a\r\nUser-Agent: loris\r\n\r\n");
    feed_byte_by_byte("\r\nGET / HTTP/1.0\r\n\r\n");
}

TEST(parser, incremental_8k_head_is_linear) {
    std::string req = "GET /big HTTP/1.1\r\nHost: example.com\r\n";
    for (int i = 0; req.size() < 8 * 1024 - 100; ++i)
        req += "X-Filler-" + std::to_string(i) + ": " + std::string(100, 'v') + "\r\n";
    req += "\r\n";
    ASSERT_GE(req.size(), 8000u);
    feed_byte_by_byte(req);
}

TEST(parser, incremental_matches_whole_at_every_split) {
    std::string_view req = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n";
    auto whole = parse(req);
    ASSERT_EQ(whole.st, parse_status::complete);
    for (std::size_t split = 1; split < req.size(); ++split) {
        std::size_t scan = 0;
        request_head head;
        header_view headers;
        parse_error err;
        ASSERT_EQ(parse_request_head(req.substr(0, split), {}, head, headers, err, scan), parse_status::incomplete);
        ASSERT_EQ(parse_request_head(req, {}, head, headers, err, scan), parse_status::complete);
        EXPECT_EQ(head.size, whole.head.size);
        EXPECT_TRUE(head.chunked);
        EXPECT_TRUE(head.expect_continue);
        EXPECT_EQ(headers.size(), 3u);
    }
}

// ---- message framing (request smuggling) ---------------------------------------------------------------

TEST(parser, content_length_with_transfer_encoding_is_400) {
    expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400);
}

TEST(parser, differing_duplicate_content_length_is_400) {
    expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
    expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", 400);
}

TEST(parser, identical_duplicate_content_length_is_accepted) {
    for (std::string_view req : {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
                                 "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n",
                                 "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,5 , 5\r\n\r\n"}) {
        auto p = parse(req);
        ASSERT_EQ(p.st, parse_status::complete) << req;
        EXPECT_EQ(p.head.content_length, 5u);
    }
}

TEST(parser, invalid_content_length_is_400) {
    for (std::string value : {"abc", "-1", "+5", "5x", "0x10", "5 5", "", "1.0", ",", "5,", "\xd9\xa5"}) {
        std::string req = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + value + "\r\n\r\n";
        expect_rejected(req, 400);
    }
}

TEST(parser, overflowing_content_length_is_400) {
    for (std::string value : {"18446744073709551616", "99999999999999999999", "123456789012345678901234567890"}) {
        std::string req = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + value + "\r\n\r\n";
        expect_rejected(req, 400);
    }
    auto big = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000000000\r\n\r\n");
    ASSERT_EQ(big.st, parse_status::complete);  // large but representable: the 413 is the server's call
    EXPECT_EQ(big.head.content_length, 1000000000000u);
}

TEST(parser, unknown_transfer_coding_is_501) {
    expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
    expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
    expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 501);
}

TEST(parser, chunked_not_last_is_400) {
    // RFC 9112 §6.3: the body length of a request whose final coding is not chunked cannot be determined.
    expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400);
    expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
                    400);
    expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400);
    expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", 400);
    expect_rejected("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);

    auto ok = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , CHUNKED \r\n\r\n");
    ASSERT_EQ(ok.st, parse_status::complete);
    EXPECT_TRUE(ok.head.chunked);
}

// ---- field syntax --------------------------------------------------------------------------------------

TEST(parser, obsolete_line_folding_is_400) {
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\n\r\n", 400);
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n\ttwo\r\n\r\n", 400);
    expect_rejected("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400);
}

TEST(parser, bare_cr_is_400) {
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\rtwo\r\n\r\n", 400);
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\r\n\r\n", 400);
    expect_rejected("GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_rejected("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400);
}

TEST(parser, bare_lf_line_endings_are_400) {
    // Entirely LF-terminated: no CRLF CRLF ever arrives, so this must be refused as soon as the LF is seen
    // rather than waiting (and timing out) for the end of the head.
    expect_rejected("GET / HTTP/1.1\nHost: a\n\n", 400);
    expect_rejected("GET / HTTP/1.1\n", 400);
    expect_rejected("GET / HTTP/1.1\r\nHost: a\n", 400);
    // Mixed with CRLF.
    expect_rejected("GET / HTTP/1.1\nHost: a\r\n\r\n", 400);
    expect_rejected("GET / HTTP/1.1\r\nHost: a\nX-B: b\r\n\r\n", 400);
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\n\n\r\n\r\n", 400);
}

TEST(parser, control_characters_in_header_values_are_400) {
    for (char c : {'\0', '\x01', '\x08', '\x0b', '\x0c', '\x1b', '\x1f', '\x7f'}) {
        std::string req = "GET / HTTP/1.1\r\nHost: a\r\nX-Value: ab";
        req += c;
        req += "cd\r\n\r\n";
        expect_rejected(req, 400);
    }
}

TEST(parser, bad_header_names_are_400) {
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400);
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nHost : b\r\n\r\n", 400);  // space before the colon
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX-A\t: b\r\n\r\n", 400);
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n", 400);
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400);
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n", 400);
    expect_rejected(std::string{"GET / HTTP/1.1\r\nHost: a\r\nX"} + '\0' + "A: b\r\n\r\n", 400);
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX\x01: b\r\n\r\n", 400);
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: b\r\n\r\n", 400);
}

TEST(parser, malformed_request_lines_are_400) {
    expect_rejected("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_rejected("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400);
    expect_rejected(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_rejected("GET\r\nHost: a\r\n\r\n", 400);
    expect_rejected("GET /\r\nHost: a\r\n\r\n", 400);
    expect_rejected("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_rejected("GET users HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    expect_rejected("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

// ---- limits --------------------------------------------------------------------------------------------

TEST(parser, request_line_over_the_limit_is_414) {
    parser_limits small;
    small.max_request_line = 64;
    const std::string target = "/" + std::string(100, 'a');
    // Complete head, and a request line still arriving (no CRLF yet).
    expect_rejected("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n", 414, small);
    expect_rejected("GET " + target, 414, small);
    expect_rejected("GET " + target + " HTTP/1.1\r\nHost", 414, small);

    // With the default limit (8 KiB).
    expect_rejected("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414);

    // Exactly at the limit is fine, however it arrives.
    std::string at_limit = "GET /" + std::string(64 - 14, 'a') + " HTTP/1.1";
    ASSERT_EQ(at_limit.size(), 64u);
    std::string req = at_limit + "\r\nHost: a\r\n\r\n";
    for (std::size_t n = 1; n < req.size(); ++n) {
        auto p = parse(std::string_view{req}.substr(0, n), small);
        EXPECT_EQ(p.st, parse_status::incomplete) << "prefix " << n << ": " << p.err.message;
    }
    EXPECT_EQ(parse(req, small).st, parse_status::complete);
}

TEST(parser, header_section_over_the_limit_is_431) {
    parser_limits small;
    small.max_header_bytes = 256;
    std::string req = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(300, 'x') + "\r\n\r\n";
    expect_rejected(req, 431, small);
    expect_rejected(std::string_view{req}.substr(0, req.size() - 4), 431, small);  // still arriving

    std::string huge = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 60; ++i) huge += "X-H" + std::to_string(i) + ": " + std::string(300, 'y') + "\r\n";
    huge += "\r\n";
    expect_rejected(huge, 431);  // default limit, 16 KiB

    // A section of exactly the limit is accepted, including every prefix of it.
    std::string fields = "Host: a\r\nX-Fill: ";
    fields += std::string(256 - fields.size() - 2, 'f') + "\r\n";
    ASSERT_EQ(fields.size(), 256u);
    std::string exact = "GET / HTTP/1.1\r\n" + fields + "\r\n";
    for (std::size_t n = 1; n < exact.size(); ++n) {
        auto p = parse(std::string_view{exact}.substr(0, n), small);
        EXPECT_EQ(p.st, parse_status::incomplete) << "prefix " << n << ": " << p.err.message;
    }
    EXPECT_EQ(parse(exact, small).st, parse_status::complete);
}

TEST(parser, too_many_headers_is_431) {
    std::string req = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 100; ++i) req += "X-" + std::to_string(i) + ": v\r\n";
    req += "\r\n";
    expect_rejected(req, 431);  // 101 fields, limit 100

    parser_limits small;
    small.max_headers = 3;
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", small).st, parse_status::complete);
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, small);
}

// ---- Host, version, Expect, Connection -----------------------------------------------------------------

TEST(parser, host_rules) {
    expect_rejected("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400);
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400);
    EXPECT_EQ(parse("GET / HTTP/1.0\r\n\r\n").st, parse_status::complete);  // HTTP/1.0 needs no Host
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHOST: a\r\n\r\n").st, parse_status::complete);
}

TEST(parser, a_later_http1_minor_version_is_served_as_1_1) {
    request_head head;
    header_view headers;
    parse_error err;
    std::size_t scan = 0;
    EXPECT_EQ(parse_request_head("GET / HTTP/1.2\r\nHost: a\r\n\r\n", {}, head, headers, err, scan),
              parse_status::complete);
    EXPECT_EQ(head.version_minor, 1);
}

TEST(parser, unsupported_versions_are_505) {
    expect_rejected("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
    expect_rejected("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505);
    expect_rejected("GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505);
}

TEST(parser, garbage_versions_are_400) {
    for (std::string_view v : {"HTTP/1.1x", "HTTX/1.1", "http/1.1", "HTTP/11", "HTTP/1", "HTTP/1.a", "HTTP/a.1",
                               "HTTP 1.1", "HTTP/1.1.1", "HTTP/", "1.1", "HTTP/\xc2\xb9.1"}) {
        std::string req = "GET / ";
        req += v;
        req += "\r\nHost: a\r\n\r\n";
        expect_rejected(req, 400);
    }
}

TEST(parser, expect_continue_and_unknown_expectation) {
    auto p = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    ASSERT_EQ(p.st, parse_status::complete);
    EXPECT_TRUE(p.head.expect_continue);
    auto upper = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nexpect: 100-Continue\r\n\r\n");
    ASSERT_EQ(upper.st, parse_status::complete);
    EXPECT_TRUE(upper.head.expect_continue);

    expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417);
    expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, foo\r\n\r\n", 417);
    expect_rejected("POST / HTTP/1.1\r\nHost: a\r\nExpect:\r\n\r\n", 417);
}

TEST(parser, keep_alive_rules) {
    auto http10 = parse("GET / HTTP/1.0\r\n\r\n");
    ASSERT_EQ(http10.st, parse_status::complete);
    EXPECT_EQ(http10.head.version_minor, 0);
    EXPECT_FALSE(http10.head.keep_alive);

    auto http10_keep = parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    ASSERT_EQ(http10_keep.st, parse_status::complete);
    EXPECT_TRUE(http10_keep.head.keep_alive);

    auto http10_both = parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
    ASSERT_EQ(http10_both.st, parse_status::complete);
    EXPECT_FALSE(http10_both.head.keep_alive);

    auto http11 = parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    ASSERT_EQ(http11.st, parse_status::complete);
    EXPECT_TRUE(http11.head.keep_alive);

    auto http11_close = parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    ASSERT_EQ(http11_close.st, parse_status::complete);
    EXPECT_FALSE(http11_close.head.keep_alive);

    auto http11_list = parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n");
    ASSERT_EQ(http11_list.st, parse_status::complete);
    EXPECT_FALSE(http11_list.head.keep_alive);
}

TEST(parser, leading_empty_lines_are_tolerated) {
    for (std::string_view req : {"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"}) {
        auto p = parse(req);
        ASSERT_EQ(p.st, parse_status::complete) << p.err.message;
        EXPECT_EQ(p.head.target, "/");
        EXPECT_EQ(p.head.size, req.size());
    }
    EXPECT_EQ(parse("\r\n\r\n").st, parse_status::incomplete);
    EXPECT_EQ(parse("\r\n").st, parse_status::incomplete);
    EXPECT_EQ(parse("").st, parse_status::incomplete);
}

// ---- chunked bodies ------------------------------------------------------------------------------------

TEST(chunked, valid_body_with_extensions_and_trailers) {
    std::string_view body =
        "5;name=value\r\nhello\r\n"
        "6 ; quoted=\"a;b\"\r\n world\r\n"
        "A\r\n0123456789\r\n"
        "0;last\r\nExpires: never\r\nX-Checksum: abc\r\n\r\n"
        "GET /next";
    auto d = decode(body);
    ASSERT_EQ(d.r, chunked_decoder::result::done) << d.err.message;
    EXPECT_EQ(d.body, "hello world0123456789");  // trailers are dropped
    EXPECT_EQ(body.substr(d.consumed), "GET /next");
}

TEST(chunked, valid_body_fed_one_byte_at_a_time) {
    std::string_view body = "3\r\nabc\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nT: v\r\n\r\n";
    chunked_decoder dec;
    std::string out;
    parse_error err;
    for (std::size_t i = 0; i < body.size(); ++i) {
        std::size_t used = 0;
        auto r = dec.feed(body.substr(i, 1), used, out, 1 << 20, {}, err);
        EXPECT_EQ(used, 1u);
        EXPECT_EQ(r, i + 1 == body.size() ? chunked_decoder::result::done : chunked_decoder::result::need_more);
    }
    EXPECT_TRUE(dec.done());
    EXPECT_EQ(out, "abcabcdefghijklmnopqrstuvwxyz");
}

TEST(chunked, empty_body) {
    auto d = decode("0\r\n\r\n");
    EXPECT_EQ(d.r, chunked_decoder::result::done);
    EXPECT_EQ(d.consumed, 5u);
    EXPECT_TRUE(d.body.empty());
    EXPECT_EQ(decode("0\r\n\r").r, chunked_decoder::result::need_more);
}

TEST(chunked, bad_chunk_sizes_are_400) {
    for (std::string_view body : {"zz\r\nab\r\n0\r\n\r\n", "\r\nab\r\n0\r\n\r\n", ";ext\r\n0\r\n\r\n", "-1\r\n",
                                  "0x5\r\nhello\r\n", "+5\r\nhello\r\n", "5\nhello\r\n", "5\r\rhello",
                                  "1234567890abcdef0\r\n", "ffffffffffffffff\r\n"}) {
        auto d = decode(body);
        ASSERT_EQ(d.r, chunked_decoder::result::error) << body;
        EXPECT_EQ(d.code(), 400) << body;
    }
}

TEST(chunked, missing_crlf_after_data_is_400) {
    for (std::string_view body : {"3\r\nabcd\r\n0\r\n\r\n", "3\r\nabc\n0\r\n\r\n", "3\r\nabc\rX", "3\r\nabc0\r\n\r\n"}) {
        auto d = decode(body);
        ASSERT_EQ(d.r, chunked_decoder::result::error) << body;
        EXPECT_EQ(d.code(), 400) << body;
    }
}

TEST(chunked, malformed_end_is_400) {
    for (std::string_view body : {"0\r\n\rX", "0\r\nX-T: v\rX", "0\r\n X-T: folded\r\n\r\n", "0\r\nX-T: a\nb\r\n\r\n"}) {
        auto d = decode(body);
        ASSERT_EQ(d.r, chunked_decoder::result::error) << body;
        EXPECT_EQ(d.code(), 400) << body;
    }
}

TEST(chunked, body_over_max_is_413) {
    auto one = decode("5\r\nhello\r\n0\r\n\r\n", 4);
    ASSERT_EQ(one.r, chunked_decoder::result::error);
    EXPECT_EQ(one.code(), 413);

    auto many = decode("3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", 5);
    ASSERT_EQ(many.r, chunked_decoder::result::error);
    EXPECT_EQ(many.code(), 413);
    EXPECT_EQ(many.body, "abc");

    // Refused from the size line, before the data arrives.
    auto early = decode("fffffffffffffff\r\n", 1 << 20);
    ASSERT_EQ(early.r, chunked_decoder::result::error);
    EXPECT_EQ(early.code(), 413);

    EXPECT_EQ(decode("5\r\nhello\r\n0\r\n\r\n", 5).r, chunked_decoder::result::done);
}

TEST(chunked, oversized_trailer_is_431) {
    std::string body = "1\r\na\r\n0\r\n";
    for (int i = 0; i < 200; ++i) body += "X-Trailer-" + std::to_string(i) + ": " + std::string(50, 't') + "\r\n";
    body += "\r\n";
    auto d = decode(body);
    ASSERT_EQ(d.r, chunked_decoder::result::error);
    EXPECT_EQ(d.code(), 431);
}

TEST(chunked, chunk_extension_too_long_is_400) {
    parser_limits small;
    small.max_chunk_line = 32;
    auto d = decode("5;" + std::string(100, 'e') + "\r\nhello\r\n0\r\n\r\n", 1 << 20, small);
    ASSERT_EQ(d.r, chunked_decoder::result::error);
    EXPECT_EQ(d.code(), 400);

    auto dflt = decode("5;" + std::string(5000, 'e') + "\r\nhello\r\n0\r\n\r\n");
    ASSERT_EQ(dflt.r, chunked_decoder::result::error);
    EXPECT_EQ(dflt.code(), 400);

    auto ctl = decode("5;a\x01\r\nhello\r\n0\r\n\r\n");
    ASSERT_EQ(ctl.r, chunked_decoder::result::error);
    EXPECT_EQ(ctl.code(), 400);

    EXPECT_EQ(decode("5;" + std::string(20, 'e') + "\r\nhello\r\n0\r\n\r\n", 1 << 20, small).r,
              chunked_decoder::result::done);
}

// ---- the same rejections through the in-process client -------------------------------------------------

TEST(parser, hostile_requests_get_exact_status_end_to_end) {
    zephyr::App app;
    app.get("/", [] { return "ok"; });
    app.post("/", [](zephyr::Request& req) { return req.body(); });
    zephyr::testing::Client client{app};

    struct probe {
        std::string_view raw;
        int status;
    };
    const probe probes[] = {
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 200},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nT: x\r\n\r\n", 200},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400},
        {"GET / HTTP/1.1\nHost: a\n\n", 400},
        {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        {"GET / HTTP/1.1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n", 417},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
    };
    for (const auto& p : probes) EXPECT_EQ(client.raw(p.raw).status(), p.status) << p.raw;

    std::string long_line = "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n";
    EXPECT_EQ(client.raw(long_line).status(), 414);

    std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 150; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
    EXPECT_EQ(client.raw(many + "\r\n").status(), 431);

    zephyr::http::server_limits tight;
    tight.max_body = 4;
    zephyr::testing::Client small{app, tight};
    EXPECT_EQ(small.raw("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
                  .status(),
              413);
    EXPECT_EQ(small.raw("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello").status(), 413);
}

}  // namespace
