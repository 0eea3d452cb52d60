// multipart/form-data: the incremental parser (any split of the input gives the same parts), boundary and
// Content-Disposition parsing, safe file names, and the Multipart and BodyStream extractors in-process.
#include <zephyr/http/multipart.hpp>
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include "support/problem.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace zephyr;
using zephyr::http::multipart_limits;
using zephyr::http::multipart_parser;
using zephyr::testing::Client;
namespace fs = std::filesystem;
namespace zt = zephyr::testing;
using namespace std::string_literals;

namespace {

struct parsed_part {
    std::vector<std::pair<std::string, std::string>> headers;
    std::string data;
    bool ended = false;
    bool operator==(const parsed_part&) const = default;
};

struct parsed {
    std::vector<parsed_part> parts;
    bool done = false;
    int error_status = 0;
    std::string error;
    bool operator==(const parsed&) const = default;
};

// Runs the parser over `pieces`, then finish(), recording every event.
parsed run(const std::vector<std::string_view>& pieces, std::string_view boundary = "b0undary",
           const multipart_limits& limits = {}) {
    multipart_parser p{boundary, limits};
    parsed out;
    auto drain = [&] {
        while (true) {
            switch (p.next()) {
                case multipart_parser::event::need_more: return true;
                case multipart_parser::event::part_begin: {
                    parsed_part part;
                    for (const auto& [k, v] : p.part_headers()) part.headers.emplace_back(k, v);
                    out.parts.push_back(std::move(part));
                    break;
                }
                case multipart_parser::event::data:
                    EXPECT_FALSE(p.data().empty());
                    out.parts.back().data += p.data();
                    break;
                case multipart_parser::event::part_end: out.parts.back().ended = true; break;
                case multipart_parser::event::done: out.done = true; return false;
                case multipart_parser::event::error:
                    out.error_status = http::to_int(p.error_status());
                    out.error = p.error_message();
                    return false;
            }
        }
    };
    for (auto piece : pieces) {
        p.feed(piece);
        if (!drain()) return out;
    }
    p.finish();
    drain();
    return out;
}

parsed run_whole(std::string_view body, std::string_view boundary = "b0undary", const multipart_limits& limits = {}) {
    return run({body}, boundary, limits);
}

const std::string simple_body =
    "--b0undary\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "A cat\r\n"
    "--b0undary\r\n"
    "Content-Disposition: form-data; name=\"photo\"; filename=\"cat.jpg\"\r\n"
    "Content-Type: image/jpeg\r\n"
    "\r\n"
    "\xff\xd8\r\n--b0undar\r\n\r\x00jpeg\r\n"
    "--b0undary--\r\n"s;

std::string body_of(std::initializer_list<std::string_view> lines) {
    std::string out;
    for (auto l : lines) out += l;
    return out;
}

}  // namespace

// ---- the parser ----------------------------------------------------------------------------------------------

TEST(multipart_parser, parses_fields_and_files) {
    auto r = run_whole(simple_body);
    ASSERT_TRUE(r.done) << r.error;
    ASSERT_EQ(r.parts.size(), 2u);
    EXPECT_EQ(r.parts[0].data, "A cat");
    EXPECT_EQ(r.parts[0].headers,
              (std::vector<std::pair<std::string, std::string>>{{"Content-Disposition", "form-data; name=\"title\""}}));
    EXPECT_TRUE(r.parts[0].ended);
    // Data that looks like the start of a boundary, CR, NUL and bytes above 0x7F are content.
    EXPECT_EQ(r.parts[1].data, "\xff\xd8\r\n--b0undar\r\n\r\x00jpeg"s);
    EXPECT_EQ(r.parts[1].headers.size(), 2u);
    EXPECT_TRUE(r.parts[1].ended);
}

TEST(multipart_parser, any_split_of_the_input_gives_the_same_parts) {
    const parsed whole = run_whole(simple_body);
    ASSERT_TRUE(whole.done);
    const std::string_view body = simple_body;
    for (std::size_t i = 0; i <= body.size(); ++i) {
        EXPECT_EQ(run({body.substr(0, i), body.substr(i)}), whole) << "split at " << i;
        for (std::size_t j = i; j <= body.size(); j += 7)
            EXPECT_EQ(run({body.substr(0, i), body.substr(i, j - i), body.substr(j)}), whole) << i << "," << j;
    }
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < body.size(); ++i) bytes.push_back(body.substr(i, 1));
    EXPECT_EQ(run(bytes), whole);
}

TEST(multipart_parser, errors_do_not_depend_on_the_split) {
    const std::string bodies[] = {
        "--b0undary\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunfinished",
        "--b0undary\r\nBad Header\r\n\r\nx\r\n--b0undary--",
        "--b0undary\r\nX: " + std::string(9000, 'h') + "\r\n\r\nx\r\n--b0undary--",
        "--b0undary\r\nX: 1\r\n\r\nx\r\n--b0undaryX\r\n",
        "no boundary at all",
    };
    for (const auto& body : bodies) {
        const parsed whole = run_whole(body);
        EXPECT_NE(whole.error_status, 0) << body.substr(0, 60);
        for (std::size_t i = 0; i <= body.size(); i += 3)
            EXPECT_EQ(run({std::string_view{body}.substr(0, i), std::string_view{body}.substr(i)}), whole) << i;
    }
}

TEST(multipart_parser, preamble_and_epilogue_are_ignored) {
    auto r = run_whole(body_of({"This is a preamble.\r\n--not-it\r\n", "\r\n--b0undary\r\n", "X-A: 1\r\n\r\n",
                                "one\r\n--b0undary--\r\n", "epilogue, with\r\n--b0undary\r\nanything"}));
    ASSERT_TRUE(r.done) << r.error;
    ASSERT_EQ(r.parts.size(), 1u);
    EXPECT_EQ(r.parts[0].data, "one");
    // A body whose first line is the boundary needs no preamble CRLF; a body opening with CRLF works too.
    EXPECT_TRUE(run_whole("\r\n--b0undary\r\nX: 1\r\n\r\nv\r\n--b0undary--").done);
    EXPECT_TRUE(run_whole("--b0undary\r\nX: 1\r\n\r\nv\r\n--b0undary--").done);  // no final CRLF
}

TEST(multipart_parser, crlf_rules) {
    // The delimiter is CRLF "--" boundary: the CRLF belongs to it, not to the data.
    auto r = run_whole("--b0undary\r\nX: 1\r\n\r\n\r\n\r\n--b0undary--");
    ASSERT_TRUE(r.done);
    EXPECT_EQ(r.parts[0].data, "\r\n");
    // An empty part.
    r = run_whole("--b0undary\r\nX: 1\r\n\r\n\r\n--b0undary--");
    ASSERT_TRUE(r.done);
    EXPECT_EQ(r.parts[0].data, "");
    EXPECT_TRUE(r.parts[0].ended);
    // A boundary after a bare LF is data.
    r = run_whole("--b0undary\r\nX: 1\r\n\r\na\n--b0undary\r\n--b0undary--");
    ASSERT_TRUE(r.done);
    EXPECT_EQ(r.parts[0].data, "a\n--b0undary");
    // Transport padding after a boundary is allowed.
    r = run_whole("--b0undary  \t\r\nX: 1\r\n\r\nv\r\n--b0undary--  ");
    EXPECT_TRUE(r.done) << r.error;
    // LF-only framing is rejected.
    r = run_whole("--b0undary\nX: 1\n\nv\n--b0undary--\n");
    EXPECT_EQ(r.error_status, 400);
    EXPECT_EQ(r.error, "malformed multipart boundary line: expected CRLF after the boundary");
    // A bare LF inside a header line.
    r = run_whole("--b0undary\r\nX: 1\nY: 2\r\n\r\nv\r\n--b0undary--");
    EXPECT_EQ(r.error_status, 400);
    EXPECT_EQ(r.error, "multipart part 1: invalid character in a header line");
    // Something other than "--" or CRLF right after a boundary.
    r = run_whole("--b0undary\r\nX: 1\r\n\r\nv\r\n--b0undary-x");
    EXPECT_EQ(r.error_status, 400);
}

TEST(multipart_parser, headers_folded_and_oversized) {
    auto r = run_whole("--b0undary\r\nContent-Disposition: form-data;\r\n  name=\"a\"\r\nX-Empty:\r\n\r\nv\r\n--b0undary--");
    ASSERT_TRUE(r.done) << r.error;
    EXPECT_EQ(r.parts[0].headers,
              (std::vector<std::pair<std::string, std::string>>{{"Content-Disposition", "form-data; name=\"a\""},
                                                                 {"X-Empty", ""}}));
    r = run_whole("--b0undary\r\n folded-first\r\n\r\nv\r\n--b0undary--");
    EXPECT_EQ(r.error_status, 400);
    EXPECT_EQ(r.error, "multipart part 1: header continuation without a field");
    r = run_whole("--b0undary\r\nno colon\r\n\r\nv\r\n--b0undary--");
    EXPECT_EQ(r.error, "multipart part 1: malformed header line");

    multipart_limits small;
    small.max_header_bytes = 64;
    std::string ok_headers = "--b0undary\r\nX: " + std::string(57, 'a') + "\r\n\r\nv\r\n--b0undary--";  // 62 + 2 bytes
    EXPECT_TRUE(run_whole(ok_headers, "b0undary", small).done);
    std::string big = "--b0undary\r\nX: " + std::string(58, 'a') + "\r\n\r\nv\r\n--b0undary--";
    r = run_whole(big, "b0undary", small);
    EXPECT_EQ(r.error_status, 413);
    EXPECT_EQ(r.error, "multipart part 1: header section larger than 64 bytes");
    // Also when the oversized header never ends.
    r = run({"--b0undary\r\nX: " + std::string(100, 'a')}, "b0undary", small);
    EXPECT_EQ(r.error_status, 413);
}

TEST(multipart_parser, truncated_bodies_are_errors) {
    auto r = run_whole("--b0undary\r\nX: 1\r\n\r\nvalue without end");
    EXPECT_EQ(r.error_status, 400);
    EXPECT_EQ(r.error, "the body ended in multipart part 1, before the closing boundary");
    r = run_whole("--b0undary\r\nX: 1\r\n\r\nvalue\r\n--b0undary\r\n");
    EXPECT_EQ(r.error, "the body ended in the headers of multipart part 2");
    r = run_whole("--b0undary\r\nX: 1\r\n\r\nvalue\r\n--b0undary");
    EXPECT_EQ(r.error, "the body ended after a boundary");
    r = run_whole("");
    EXPECT_EQ(r.error, "the body has no multipart boundary");
    r = run_whole("--b0und");
    EXPECT_EQ(r.error, "the body has no multipart boundary");
    // A closing boundary ends the body even when more bytes (or none) follow.
    EXPECT_TRUE(run_whole("--b0undary--").done);
    EXPECT_TRUE(run_whole("--b0undary--").parts.empty());
}

TEST(multipart_parser, too_many_parts) {
    multipart_limits l;
    l.max_parts = 2;
    std::string body;
    for (int i = 0; i < 3; ++i) body += "--b0undary\r\nX: 1\r\n\r\nv\r\n";
    body += "--b0undary--";
    auto r = run_whole(body, "b0undary", l);
    EXPECT_EQ(r.error_status, 413);
    EXPECT_EQ(r.error, "more than 2 multipart parts");
    EXPECT_EQ(r.parts.size(), 2u);
}

TEST(multipart_parser, large_data_is_reported_in_pieces_without_holding_the_body) {
    multipart_parser p{"b0undary"};
    p.feed("--b0undary\r\nX: 1\r\n\r\n");
    ASSERT_EQ(p.next(), multipart_parser::event::part_begin);
    std::size_t total = 0;
    std::string chunk(64 * 1024, 'x');
    chunk[100] = '\r';  // a lone CR in the data
    for (int i = 0; i < 64; ++i) {
        p.feed(chunk);
        for (auto e = p.next(); e != multipart_parser::event::need_more; e = p.next()) {
            ASSERT_EQ(e, multipart_parser::event::data);
            total += p.data().size();
        }
    }
    // The buffer is reused: feeding 4 MiB did not grow it past a couple of pieces.
    auto space = p.prepare(16);
    EXPECT_LE(space.size(), 4 * chunk.size());
    p.commit(0);
    p.feed("\r\n--b0undary--\r\n");
    while (true) {
        auto e = p.next();
        if (e == multipart_parser::event::data) total += p.data().size();
        if (e == multipart_parser::event::done || e == multipart_parser::event::need_more ||
            e == multipart_parser::event::error)
            break;
    }
    EXPECT_EQ(total, 64 * chunk.size());
}

// ---- boundary, Content-Disposition and file names --------------------------------------------------------

TEST(multipart, boundary_from_content_type) {
    EXPECT_EQ(http::multipart_boundary("multipart/form-data; boundary=abc"), "abc");
    EXPECT_EQ(http::multipart_boundary("Multipart/Form-Data;boundary=\"a b:c\""), "a b:c");
    EXPECT_EQ(http::multipart_boundary("multipart/form-data; charset=utf-8; BOUNDARY=x-y"), "x-y");
    auto status_of = [](std::string_view ct) {
        try {
            http::multipart_boundary(ct);
        } catch (const http::HttpError& e) {
            return http::to_int(e.status());
        }
        return 0;
    };
    EXPECT_EQ(status_of("application/json"), 415);
    EXPECT_EQ(status_of("multipart/mixed; boundary=abc"), 415);
    EXPECT_EQ(status_of("multipart/form-data"), 400);
    EXPECT_EQ(status_of("multipart/form-data; boundary="), 400);
    EXPECT_EQ(status_of("multipart/form-data; boundary=" + std::string(71, 'a')), 400);
    EXPECT_EQ(status_of("multipart/form-data; boundary=\"ends in space \""), 400);
    EXPECT_EQ(status_of("multipart/form-data; boundary=a{b"), 400);
    EXPECT_EQ(status_of("multipart/form-data; boundary=\"unterminated"), 400);
}

TEST(multipart, content_disposition) {
    auto cd = http::parse_content_disposition("form-data; name=\"field\"; filename=\"a \\\"b\\\".txt\"");
    ASSERT_TRUE(cd);
    EXPECT_EQ(cd->type, "form-data");
    EXPECT_EQ(cd->name, "field");
    EXPECT_EQ(cd->filename, "a \"b\".txt");
    cd = http::parse_content_disposition("Form-Data; NAME=plain");
    ASSERT_TRUE(cd);
    EXPECT_EQ(cd->type, "form-data");
    EXPECT_EQ(cd->name, "plain");
    EXPECT_FALSE(cd->filename);
    // Windows paths as old browsers sent them keep their backslashes.
    cd = http::parse_content_disposition("form-data; name=f; filename=\"C:\\Users\\me\\cv.pdf\"");
    EXPECT_EQ(cd->filename, "C:\\Users\\me\\cv.pdf");
    // RFC 5987 filename* wins over filename.
    cd = http::parse_content_disposition("form-data; name=f; filename=\"EUR rates.txt\"; filename*=UTF-8''%e2%82%ac%20rates.txt");
    EXPECT_EQ(cd->filename, "\xe2\x82\xac rates.txt");
    cd = http::parse_content_disposition("form-data; name=f; filename*=iso-8859-1'en'%A3%20rates");
    EXPECT_EQ(cd->filename, "\xc2\xa3 rates");
    cd = http::parse_content_disposition("form-data; name=f; filename=x; filename*=KOI8-R''%C1");
    EXPECT_EQ(cd->filename, "x");  // an unsupported charset is ignored
    EXPECT_FALSE(http::parse_content_disposition("form-data; name=\"unterminated"));
    EXPECT_FALSE(http::parse_content_disposition("form-data; name"));
}

TEST(multipart, safe_filename) {
    EXPECT_EQ(http::safe_filename("report.pdf"), "report.pdf");
    EXPECT_EQ(http::safe_filename("../../etc/passwd"), "passwd");
    EXPECT_EQ(http::safe_filename("C:\\Users\\me\\cv.pdf"), "cv.pdf");
    EXPECT_EQ(http::safe_filename(".."), "");
    EXPECT_EQ(http::safe_filename("dir/"), "");
    EXPECT_EQ(http::safe_filename(".htaccess"), "htaccess");
    EXPECT_EQ(http::safe_filename("a\x01" "b\r\nc\x7f.txt"), "abc.txt");
    EXPECT_EQ(http::safe_filename("what?.txt "), "what_.txt");
    EXPECT_EQ(http::safe_filename("\xe2\x82\xac.txt"), "\xe2\x82\xac.txt");
    std::string longname = std::string(254, 'a') + "\xe2\x82\xac";
    EXPECT_EQ(http::safe_filename(longname), std::string(254, 'a'));  // not cut inside the euro sign
}

// ---- the extractors, in-process --------------------------------------------------------------------------

namespace {

App& upload_app(App& app) {
    app.post("/parts", [](Multipart form) -> Task<std::string> {
        std::string out;
        while (auto part = co_await form.next()) {
            std::string data = co_await part->read_all(1 << 20);
            out += part->name() + (part->is_file() ? "[" + part->filename() + "|" + part->safe_filename() + "]" : "") +
                   "(" + std::string{part->content_type()} + ")=" + data + ";";
        }
        co_return out;
    });
    app.post("/skip", [](Multipart form) -> Task<std::string> {
        std::string names;
        while (auto part = co_await form.next()) {
            names += part->name();
            char one = 0;
            co_await part->read_some({&one, 1});  // read a byte, leave the rest
            names += one;
            names += ',';
        }
        co_return names;
    });
    app.post("/collect", [](Multipart form) -> Task<std::string> {
        auto f = co_await form.collect();
        std::string out = std::string{f.field("title").value_or("-")} + "|";
        for (const auto& file : f.files)
            out += file.name() + ":" + file.filename() + ":" + std::to_string(file.size()) + ":" +
                   (file.in_memory() ? "memory" : "disk") + ":" + file.contents() + "|";
        co_return out;
    });
    return app;
}

}  // namespace

TEST(multipart, extractor_reads_parts_in_order) {
    App app;
    Client client{upload_app(app)};
    auto res = client.post_multipart("/parts", zt::multipart{}
                                                   .field("title", "A cat")
                                                   .file("photo", "../cat.jpg", "image/jpeg", std::string("\0\xff", 2))
                                                   .field("empty", ""));
    EXPECT_EQ(res.status(), 200) << res.text();
    EXPECT_EQ(res.text(), "title(text/plain)=A cat;photo[../cat.jpg|cat.jpg](image/jpeg)=" + std::string("\0\xff", 2) +
                              ";empty(text/plain)=;");
}

TEST(multipart, next_skips_what_the_handler_did_not_read) {
    App app;
    Client client{upload_app(app)};
    auto res = client.post_multipart("/skip", zt::multipart{}.field("a", "12345").field("b", "xyz").file(
                                                  "c", "c.bin", "application/octet-stream", std::string(100000, 'q')));
    EXPECT_EQ(res.text(), "a1,bx,cq,");
}

TEST(multipart, rejections_are_problems) {
    App app;
    Client client{upload_app(app)};
    auto wrong_type = client.post("/parts", "x", {.headers = {{"Content-Type", "text/plain"}}});
    test_support::expect_problem(wrong_type, 415);
    auto no_type = client.post("/parts", "x");
    test_support::expect_problem(no_type, 415);
    auto no_boundary = client.post("/parts", "x", {.headers = {{"Content-Type", "multipart/form-data"}}});
    test_support::expect_problem(no_boundary, 400);
    EXPECT_EQ(no_boundary.json().at("detail").as_string(), "multipart/form-data without a boundary parameter");

    auto post_raw = [&](std::string body) {
        return client.post("/parts", std::move(body), {.headers = {{"Content-Type", "multipart/form-data; boundary=XyZ"}}});
    };
    auto truncated = post_raw("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end");
    test_support::expect_problem(truncated, 400);
    EXPECT_EQ(truncated.json().at("detail").as_string(), "the body ended in multipart part 1, before the closing boundary");
    auto nameless = post_raw("--XyZ\r\nContent-Disposition: form-data; filename=\"x\"\r\n\r\nv\r\n--XyZ--");
    test_support::expect_problem(nameless, 400);
    EXPECT_EQ(nameless.json().at("detail").as_string(), "multipart part 1 has no name");
    auto no_disposition = post_raw("--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--");
    test_support::expect_problem(no_disposition, 400);
    EXPECT_EQ(no_disposition.json().at("detail").as_string(),
              "multipart part 1 has no valid Content-Disposition: form-data");
    test_support::expect_problem(post_raw("--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--XyZ--"), 400);
    test_support::expect_problem(post_raw(""), 400);
}

TEST(multipart, limits_answer_413_naming_the_part) {
    App app;
    app.post("/limited", [](Multipart form) -> Task<std::string> {
        http::multipart_limits l;
        l.max_field_size = 10;
        l.max_file_size = 100;
        auto f = co_await form.collect(l);
        co_return std::to_string(f.fields.size()) + "," + std::to_string(f.files.size());
    });
    Client client{app};
    EXPECT_EQ(client.post_multipart("/limited", zt::multipart{}.field("a", std::string(10, 'x')).file(
                                                    "f", "f", "text/plain", std::string(100, 'y')))
                  .text(),
              "1,1");
    auto field = client.post_multipart("/limited", zt::multipart{}.field("comment", std::string(11, 'x')));
    test_support::expect_problem(field, 413);
    EXPECT_EQ(field.json().at("detail").as_string(), "multipart field 'comment' is larger than 10 bytes");
    auto file = client.post_multipart("/limited",
                                      zt::multipart{}.file("avatar", "a.png", "image/png", std::string(101, 'y')));
    test_support::expect_problem(file, 413);
    EXPECT_EQ(file.json().at("detail").as_string(), "multipart file 'avatar' is larger than 100 bytes");
}

TEST(multipart, read_all_limit_names_the_part) {
    App app;
    app.post("/small", [](Multipart form) -> Task<std::string> {
        auto part = co_await form.next();
        co_return co_await part->read_all(3);
    });
    Client client{app};
    auto res = client.post_multipart("/small", zt::multipart{}.field("code", "1234"));
    test_support::expect_problem(res, 413);
    EXPECT_EQ(res.json().at("detail").as_string(), "multipart field 'code' is larger than 3 bytes");
    EXPECT_EQ(client.post_multipart("/small", zt::multipart{}.field("code", "123")).text(), "123");
}

TEST(multipart, collect_keeps_small_files_in_memory_and_spools_large_ones) {
    const fs::path dir = fs::temp_directory_path() / ("zephyr-multipart-test-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::path spooled;
    bool existed_during_handler = false;
    App app;
    app.post("/collect", [&](Multipart form) -> Task<std::string> {
        http::multipart_limits l;
        l.spool_threshold = 1000;
        l.temp_dir = dir;
        auto f = co_await form.collect(l);
        const auto* small = f.file("small");
        const auto* large = f.file("large");
        if (small == nullptr || large == nullptr) co_return "missing";
        spooled = large->temp_path();
        existed_during_handler = fs::exists(spooled);
        co_return std::string{small->in_memory() ? "memory" : "disk"} + "," + (large->in_memory() ? "memory" : "disk") +
            "," + std::to_string(large->size()) + "," + (large->contents() == std::string(5000, 'L') ? "same" : "diff") +
            "," + small->memory() + "," + std::string{f.field("t").value_or("")};
    });
    Client client{app};
    auto res = client.post_multipart("/collect", zt::multipart{}
                                                     .file("small", "s.txt", "text/plain", std::string(1000, 's'))
                                                     .field("t", "title")
                                                     .file("large", "l.bin", "application/octet-stream",
                                                           std::string(5000, 'L')));
    EXPECT_EQ(res.text(), "memory,disk,5000,same," + std::string(1000, 's') + ",title");
    EXPECT_TRUE(existed_during_handler);
    EXPECT_EQ(spooled.parent_path(), dir);
    EXPECT_FALSE(fs::exists(spooled)) << "the temporary file outlived the form";
    EXPECT_TRUE(fs::is_empty(dir));

    // A body that fails half-way leaves no temporary file either.
    std::string body = zt::multipart{}.file("large", "l.bin", "application/octet-stream", std::string(5000, 'L')).body();
    body.resize(body.size() - 10);  // no closing boundary
    auto bad = client.post("/collect", body, {.headers = {{"Content-Type", zt::multipart{}.file("large", "l.bin", "application/octet-stream", std::string(5000, 'L')).content_type()}}});
    EXPECT_EQ(bad.status(), 400);
    EXPECT_TRUE(fs::is_empty(dir));
    fs::remove_all(dir);
}

TEST(multipart, uploaded_file_save_as_moves_the_temporary_file) {
    const fs::path dir = fs::temp_directory_path() / ("zephyr-multipart-save-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    App app;
    app.post("/save", [&](Multipart form) -> Task<std::string> {
        http::multipart_limits l;
        l.spool_threshold = 10;
        l.temp_dir = dir;
        auto f = co_await form.collect(l);
        for (auto& file : f.files) file.save_as(dir / ("saved-" + file.safe_filename()));
        co_return "ok";
    });
    Client client{app};
    EXPECT_EQ(client.post_multipart("/save", zt::multipart{}
                                                 .file("a", "../big.txt", "text/plain", std::string(100, 'b'))
                                                 .file("b", "small.txt", "text/plain", "tiny"))
                  .text(),
              "ok");
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator{dir}) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"saved-big.txt", "saved-small.txt"}));
    EXPECT_EQ(fs::file_size(dir / "saved-big.txt"), 100u);
    std::ifstream in{dir / "saved-small.txt"};
    std::string tiny;
    in >> tiny;
    EXPECT_EQ(tiny, "tiny");
    fs::remove_all(dir);
}

TEST(multipart, part_save_to_writes_the_part_and_removes_it_on_failure) {
    const fs::path dir = fs::temp_directory_path() / ("zephyr-multipart-part-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    App app;
    app.post("/save", [&](Multipart form) -> Task<std::string> {
        std::uint64_t total = 0;
        while (auto part = co_await form.next())
            if (part->is_file()) total += co_await part->save_to(dir / part->safe_filename());
        co_return std::to_string(total);
    });
    Client client{app};
    EXPECT_EQ(client.post_multipart("/save", zt::multipart{}.file("f", "x/../one.bin", "a/b", std::string(70000, 'o')))
                  .text(),
              "70000");
    EXPECT_EQ(fs::file_size(dir / "one.bin"), 70000u);
    std::string body = zt::multipart{}.file("f", "two.bin", "a/b", std::string(70000, 't')).body();
    body.resize(body.size() - 20);
    auto bad = client.post("/save", body, {.headers = {{"Content-Type", zt::multipart{}.file("f", "two.bin", "a/b", std::string(70000, 't')).content_type()}}});
    EXPECT_EQ(bad.status(), 400);
    EXPECT_FALSE(fs::exists(dir / "two.bin"));
    // An upload replaces a file of the same name only once it is complete.
    std::string again = zt::multipart{}.file("f", "one.bin", "a/b", std::string(100, 'n')).body();
    again.resize(again.size() - 20);
    EXPECT_EQ(client.post("/save", again, {.headers = {{"Content-Type", zt::multipart{}.file("f", "one.bin", "a/b", "").content_type()}}}).status(), 400);
    EXPECT_EQ(fs::file_size(dir / "one.bin"), 70000u);
    EXPECT_EQ(client.post_multipart("/save", zt::multipart{}.file("f", "one.bin", "a/b", std::string(100, 'n'))).text(), "100");
    EXPECT_EQ(fs::file_size(dir / "one.bin"), 100u);
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator{dir}) ++entries;
    EXPECT_EQ(entries, 1u) << "a partial file was left behind";
    fs::remove_all(dir);
}

TEST(multipart, collect_example) {
    const fs::path avatars = fs::temp_directory_path() / ("zephyr-multipart-avatars-" + std::to_string(::getpid()));
    fs::remove_all(avatars);
    fs::create_directories(avatars);
    App app;
    // [collect]
    app.post("/profile", [avatars](Multipart body) -> Task<std::string> {
        http::multipart_limits limits;
        limits.max_file_size = 5 * 1024 * 1024;  // 413 above 5 MiB
        http::multipart_form form = co_await body.collect(limits);
        std::string user{form.field("user").value_or("anonymous")};
        if (http::uploaded_file* avatar = form.file("avatar")) {
            // In memory up to 1 MiB, in a temporary file above; save_as() moves it without copying.
            avatar->save_as(avatars / (http::safe_filename(user) + ".png"));
        }
        co_return "profile of " + user + " updated\n";
    });
    // [collect]
    Client client{app};
    auto res = client.post_multipart("/profile", zt::multipart{}.field("user", "ada").file("avatar", "me.png",
                                                                                             "image/png", "PNG..."));
    EXPECT_EQ(res.text(), "profile of ada updated\n");
    EXPECT_EQ(fs::file_size(avatars / "ada.png"), 6u);
    fs::remove_all(avatars);
}

// ---- BodyStream, route max_body, streams_body, form helpers -------------------------------------------------

TEST(body_stream, reads_the_body_in_pieces_in_process) {
    App app;
    app.put("/echo", [](Request& req, BodyStream body) -> Task<std::string> {
        std::string out = req.body_streamed() ? "socket:" : "memory:";
        char buf[3];
        while (std::size_t n = co_await body.read_some(buf)) out += std::string{buf, n} + "|";
        co_return out;
    });
    app.put("/all", [](BodyStream body) -> Task<std::string> {
        auto len = body.content_length();
        std::string all = co_await body.read_all(10);
        co_return std::to_string(len.value_or(0)) + ":" + all;
    });
    Client client{app};
    EXPECT_EQ(client.put("/echo", "abcdefgh").text(), "memory:abc|def|gh|");
    EXPECT_EQ(client.put("/all", "0123456789").text(), "10:0123456789");
    auto big = client.put("/all", "0123456789!");
    test_support::expect_problem(big, 413);
    EXPECT_EQ(big.json().at("detail").as_string(), "the request body is larger than 10 bytes");
}

TEST(body_stream, handlers_report_whether_they_stream) {
    EXPECT_TRUE(http::make_endpoint([](BodyStream) { return "x"; })->streams_body());
    EXPECT_TRUE(http::make_endpoint([](Request&, Multipart) -> Task<std::string> { co_return "x"; })->streams_body());
    EXPECT_FALSE(http::make_endpoint([](Body) { return "x"; })->streams_body());
    EXPECT_FALSE(http::make_endpoint([](Request&) { return "x"; })->streams_body());
    static_assert(http::streaming_body_extractor<Multipart> && http::streaming_body_extractor<BodyStream>);
    static_assert(!http::streaming_body_extractor<Body>);
}

TEST(route_options, max_body_overrides_the_server_limit) {
    App app;
    app.post("/big", [](Body b) { return std::to_string(b->size()); }, {.max_body = 100});
    app.post("/small", [](Body b) { return std::to_string(b->size()); }, {.max_body = 5});
    app.post("/default", [](Body b) { return std::to_string(b->size()); });
    Client client{app, http::server_limits{.max_body = 10}};
    EXPECT_EQ(client.post("/big", std::string(100, 'x')).text(), "100");
    auto over = client.post("/big", std::string(101, 'x'));
    test_support::expect_problem(over, 413);
    EXPECT_EQ(over.json().at("detail").as_string(), "the request body is larger than 100 bytes");
    test_support::expect_problem(client.post("/small", "123456"), 413);
    EXPECT_EQ(client.post("/small", "12345").text(), "5");
    test_support::expect_problem(client.post("/default", std::string(11, 'x')), 413);
    // Chunked bodies are held to the same limits.
    auto chunked = client.raw("POST /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" +
                              std::string(32, 'c') + "\r\n0\r\n\r\n");
    EXPECT_EQ(chunked.text(), "32");
    test_support::expect_problem(client.raw("POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n123456\r\n0\r\n\r\n"), 413);
}

TEST(test_client, post_form_and_multipart_builders) {
    struct login {
        std::string user;
        std::string pass;
    };
    App app;
    app.post("/form", [](Request& req) {
        return std::string{req.header("Content-Type").value_or("")} + "|" + req.body();
    });
    Client client{app};
    EXPECT_EQ(client.post_form("/form", {{"user", "ada l"}, {"pass", "a&b=c"}}).text(),
              "application/x-www-form-urlencoded|user=ada%20l&pass=a%26b%3Dc");

    zt::multipart mp;
    mp.field("a", "1").file("f", "f.txt", "text/plain", "contains zephyr-test-boundary inside");
    EXPECT_NE(mp.content_type(), "multipart/form-data; boundary=zephyr-test-boundary");
    std::string boundary = mp.content_type().substr(mp.content_type().find('=') + 1);
    EXPECT_EQ(mp.body().find("--" + boundary + "\r\n"), 0u);
    EXPECT_EQ(http::multipart_boundary(mp.content_type()), boundary);
    auto r = run_whole(mp.body(), boundary);
    ASSERT_TRUE(r.done);
    ASSERT_EQ(r.parts.size(), 2u);
    EXPECT_EQ(r.parts[1].data, "contains zephyr-test-boundary inside");
}
