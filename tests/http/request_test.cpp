// Request accessors against hostile and malformed input: query strings, percent-encoding, path parameter
// conversion and cookies.
#include <zephyr/http/request.hpp>
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace zephyr::http;
using pairs = std::vector<std::pair<std::string, std::string>>;

Request with_target(std::string_view target) {
    Request req;
    req.set_target(target);
    return req;
}

// Runs `f` and returns the HttpError it throws; fails the test when it throws nothing.
template <class F>
HttpError http_error_of(F&& f) {
    try {
        f();
    } catch (const HttpError& e) {
        return e;
    }
    ADD_FAILURE() << "no HttpError was thrown";
    return HttpError{status::ok};
}

// ---- query strings -------------------------------------------------------------------------------------

TEST(request, query_repeated_keys) {
    auto req = with_target("/search?tag=a&tag=b&page=2&tag=c");
    EXPECT_EQ(req.path(), "/search");
    EXPECT_EQ(req.query_string(), "tag=a&tag=b&page=2&tag=c");
    EXPECT_EQ(req.query("tag"), "a");  // the first
    EXPECT_EQ(req.query_all("tag"), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(req.query("page"), "2");
    EXPECT_FALSE(req.query("missing"));
    EXPECT_TRUE(req.query_all("missing").empty());
    EXPECT_EQ(req.query_params(), (pairs{{"tag", "a"}, {"tag", "b"}, {"page", "2"}, {"tag", "c"}}));
}

TEST(request, query_plus_and_percent_decoding) {
    auto req = with_target("/s?q=hello+world&plus=a%2Bb&utf8=J%C3%BCrgen&slash=%2F%2f&k%20ey=v&amp=%26%3D");
    EXPECT_EQ(req.query("q"), "hello world");
    EXPECT_EQ(req.query("plus"), "a+b");
    EXPECT_EQ(req.query("utf8"), "J\xc3\xbcrgen");
    EXPECT_EQ(req.query("slash"), "//");
    EXPECT_EQ(req.query("k ey"), "v");
    EXPECT_EQ(req.query("amp"), "&=");
}

TEST(request, query_edge_cases) {
    EXPECT_EQ(parse_urlencoded(""), pairs{});
    EXPECT_EQ(parse_urlencoded("&&&"), pairs{});
    EXPECT_EQ(parse_urlencoded("flag"), (pairs{{"flag", ""}}));
    EXPECT_EQ(parse_urlencoded("a=&=b&="), (pairs{{"a", ""}, {"", "b"}, {"", ""}}));
    EXPECT_EQ(parse_urlencoded("a=b=c"), (pairs{{"a", "b=c"}}));
    EXPECT_EQ(parse_urlencoded("a=1&&b=2&"), (pairs{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(parse_urlencoded("nul=%00"), (pairs{{"nul", std::string(1, '\0')}}));

    auto none = with_target("/path");
    EXPECT_EQ(none.query_string(), "");
    EXPECT_TRUE(none.query_params().empty());
    auto empty = with_target("/path?");
    EXPECT_EQ(empty.path(), "/path");
    EXPECT_TRUE(empty.query_params().empty());
    auto absolute = with_target("http://example.com/a/b?x=1");
    EXPECT_EQ(absolute.path(), "/a/b");
    EXPECT_EQ(absolute.query("x"), "1");
    auto bare_host = with_target("http://example.com?x=1");
    EXPECT_EQ(bare_host.path(), "/");
}

TEST(request, malformed_query_escape_is_400_naming_the_parameter) {
    for (std::string_view target : {"/s?ok=1&bad=%zz", "/s?bad=%4", "/s?bad=%", "/s?ok=1&bad=a%G1b&later=2"}) {
        auto req = with_target(target);
        auto e = http_error_of([&] { (void)req.query("ok"); });
        EXPECT_EQ(e.status(), status::bad_request) << target;
        EXPECT_EQ(e.detail(), "query parameter 'bad': malformed percent-encoding") << target;
    }
    auto key = with_target("/s?b%zzd=1");
    auto e = http_error_of([&] { (void)key.query_all("x"); });
    EXPECT_EQ(e.status(), status::bad_request);
    EXPECT_EQ(e.detail(), "query string: malformed percent-encoding in a key");

    // The key is decoded before it is named.
    auto decoded_name = with_target("/s?my+key%21=%x");
    auto named = http_error_of([&] { (void)decoded_name.query_params(); });
    EXPECT_EQ(named.detail(), "query parameter 'my key!': malformed percent-encoding");
}

TEST(request, malformed_query_through_the_app_is_400) {
    zephyr::App app;
    app.get("/s", [](zephyr::Request& req) { return req.query("q").value_or("none"); });
    zephyr::testing::Client client{app};
    EXPECT_EQ(client.get("/s?q=a+b%21").text(), "a b!");
    auto bad = client.get("/s?q=%E");
    EXPECT_EQ(bad.status(), 400);
    EXPECT_NE(bad.text().find("query parameter 'q': malformed percent-encoding"), std::string::npos) << bad.text();
}

// ---- percent-encoding ----------------------------------------------------------------------------------

TEST(request, percent_decode_rules) {
    EXPECT_EQ(percent_decode("a%20b"), "a b");
    EXPECT_EQ(percent_decode("%41%6a%6A"), "Ajj");  // both cases of hex digits
    EXPECT_EQ(percent_decode("a+b"), "a+b");
    EXPECT_EQ(percent_decode("a+b", true), "a b");
    EXPECT_EQ(percent_decode("%2B", true), "+");
    EXPECT_EQ(percent_decode(""), "");
    EXPECT_EQ(percent_decode("%2541"), "%41");  // decoded once only
    for (std::string_view bad : {"%", "%4", "a%", "%G0", "%0G", "%%", "% 1", "%-1", "abc%2"}) {
        EXPECT_FALSE(percent_decode(bad)) << bad;
        EXPECT_FALSE(percent_decode(bad, true)) << bad;
    }
}

TEST(request, percent_encode_round_trips) {
    std::string every_byte;
    for (int c = 0; c < 256; ++c) every_byte += static_cast<char>(c);
    for (bool keep_slash : {false, true}) {
        std::string enc = percent_encode(every_byte, keep_slash);
        for (char c : enc) {
            bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           c == '-' || c == '.' || c == '_' || c == '~' || c == '%' || (keep_slash && c == '/');
            EXPECT_TRUE(allowed) << "unexpected '" << c << "' in the encoding";
        }
        EXPECT_EQ(percent_decode(enc), every_byte);
        EXPECT_EQ(percent_decode(enc, true), every_byte);
    }
    EXPECT_EQ(percent_encode("a b/c+d~"), "a%20b%2Fc%2Bd~");
    EXPECT_EQ(percent_encode("a b/c", true), "a%20b/c");
    EXPECT_EQ(percent_encode("\xff\x00"), "%FF");  // stops at the literal's NUL: one byte
    EXPECT_EQ(percent_encode(std::string_view{"\xff\x00", 2}), "%FF%00");

    std::string form = "name=" + percent_encode("Jürgen & Co=") + "&x=" + percent_encode("+");
    EXPECT_EQ(parse_urlencoded(form), (pairs{{"name", "Jürgen & Co="}, {"x", "+"}}));
}

// ---- path parameter conversion -------------------------------------------------------------------------

TEST(request, convert_succeeds_for_valid_text) {
    EXPECT_EQ(Request::convert<int>("path parameter", "id", "42"), 42);
    EXPECT_EQ(Request::convert<int>("path parameter", "id", "-7"), -7);
    EXPECT_EQ(Request::convert<std::int64_t>("path parameter", "id", "9223372036854775807"), INT64_MAX);
    EXPECT_EQ(Request::convert<std::uint8_t>("path parameter", "b", "255"), 255);
    EXPECT_DOUBLE_EQ(Request::convert<double>("path parameter", "x", "2.5e3"), 2500.0);
    EXPECT_TRUE(Request::convert<bool>("path parameter", "on", "true"));
    EXPECT_FALSE(Request::convert<bool>("path parameter", "on", "0"));
    EXPECT_EQ(Request::convert<std::string>("path parameter", "s", "a b"), "a b");
    EXPECT_EQ(Request::convert<std::string_view>("path parameter", "s", ""), "");
}

TEST(request, convert_errors_are_400_with_a_precise_detail) {
    struct bad_case {
        std::string text;
        std::string detail;
    };
    auto check = [](auto convert, const std::vector<bad_case>& cases) {
        for (const auto& c : cases) {
            auto e = http_error_of([&] { convert(c.text); });
            EXPECT_EQ(e.status(), status::bad_request) << c.text;
            EXPECT_EQ(e.detail(), c.detail) << c.text;
        }
    };
    const std::string integer = "path parameter 'id': expected an integer";
    check([](const std::string& t) { (void)Request::convert<int>("path parameter", "id", t); },
          {{"abc", integer}, {"", integer}, {"12abc", integer}, {" 12", integer}, {"12 ", integer},
           {"+12", integer}, {"1.5", integer}, {"0x10", integer}, {"\xd9\xa1", integer},
           {"99999999999", "path parameter 'id': expected a number in range"},
           {"-99999999999", "path parameter 'id': expected a number in range"}});
    check([](const std::string& t) { (void)Request::convert<unsigned>("path parameter", "n", t); },
          {{"-1", "path parameter 'n': expected an integer"}});
    check([](const std::string& t) { (void)Request::convert<double>("query parameter", "x", t); },
          {{"abc", "query parameter 'x': expected a number"}, {"", "query parameter 'x': expected a number"},
           {"1e99999", "query parameter 'x': expected a number in range"}});
    check([](const std::string& t) { (void)Request::convert<bool>("path parameter", "flag", t); },
          {{"yes", "path parameter 'flag': expected true or false"},
           {"TRUE", "path parameter 'flag': expected true or false"},
           {"", "path parameter 'flag': expected true or false"}});
}

TEST(request, path_parameter_errors_through_the_app) {
    zephyr::App app;
    app.get("/users/{id}", [](zephyr::Request& req) { return std::to_string(req.param<int>("id")); });
    app.get("/files/{name}", [](zephyr::Request& req) { return std::string{req.param("name")}; });
    app.get("/oops/{id}", [](zephyr::Request& req) { return std::string{req.param("nope")}; });
    zephyr::testing::Client client{app};

    EXPECT_EQ(client.get("/users/12").text(), "12");
    for (std::string_view path : {"/users/abc", "/users/1.5", "/users/%31%32x", "/users/99999999999999"}) {
        auto res = client.get(path);
        EXPECT_EQ(res.status(), 400) << path;
        EXPECT_NE(res.text().find("path parameter 'id': expected"), std::string::npos) << res.text();
    }
    EXPECT_NE(client.get("/users/abc").text().find("path parameter 'id': expected an integer"), std::string::npos);
    EXPECT_EQ(client.get("/users/%31%32").text(), "12");  // decoded before conversion

    EXPECT_EQ(client.get("/files/a%20b").text(), "a b");
    EXPECT_EQ(client.get("/files/%zz").status(), 400);  // malformed escape in a path parameter
    EXPECT_EQ(client.get("/oops/1").status(), 500);      // a handler asking for a parameter it lacks is a bug
}

// ---- cookies -------------------------------------------------------------------------------------------

TEST(request, cookie_reading) {
    Request req;
    req.mutable_headers().add("Accept", "*/*");
    req.mutable_headers().add("Cookie", "session=abc123; theme=\"dark\"; empty=; =nameless; flag");
    req.mutable_headers().add("cookie", "late=1; session=second");
    EXPECT_EQ(req.cookie("session"), "abc123");  // the first wins
    EXPECT_EQ(req.cookie("theme"), "dark");      // quotes removed
    EXPECT_EQ(req.cookie("empty"), "");
    EXPECT_EQ(req.cookie("late"), "1");          // from the second Cookie field
    EXPECT_FALSE(req.cookie("flag"));
    EXPECT_FALSE(req.cookie(""));
    EXPECT_FALSE(req.cookie("SESSION"));         // cookie names are case-sensitive
    EXPECT_FALSE(Request{}.cookie("session"));
}

TEST(request, cookie_reading_through_the_app) {
    zephyr::App app;
    app.get("/me", [](zephyr::Request& req) { return std::string{req.cookie("session").value_or("anonymous")}; });
    zephyr::testing::Client client{app};
    EXPECT_EQ(client.get("/me").text(), "anonymous");
    EXPECT_EQ(client.get("/me", {.headers = {{"Cookie", "a=1;session=s%20x ;b=2"}}}).text(), "s%20x");
    EXPECT_EQ(client.get("/me", {.headers = {{"Cookie", ";;; session = spaced ;"}}}).text(), "spaced");
    EXPECT_EQ(client.get("/me", {.headers = {{"Cookie", "session"}}}).text(), "anonymous");
}

}  // namespace
