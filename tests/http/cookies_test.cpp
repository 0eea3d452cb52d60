// Set-Cookie serialization and Cookie header parsing (RFC 6265), including the values they must refuse.
#include <zephyr/http/cookies.hpp>
#include <zephyr/http/response.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace zephyr::http;
using namespace std::chrono;
using cookie_pairs = std::vector<std::pair<std::string_view, std::string_view>>;

sys_seconds utc(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
    return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss};
}

// The message of the std::invalid_argument that to_set_cookie throws for `c`, or "" when it throws none.
std::string refusal(const cookie& c) {
    try {
        (void)to_set_cookie(c);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

// ---- to_set_cookie -------------------------------------------------------------------------------------

TEST(cookies, every_attribute) {
    cookie c{.name = "id",
             .value = "a3fWa",
             .expires = utc(2015, 10, 21, 7, 28, 0),
             .max_age = hours{1},
             .domain = "example.com",
             .path = "/docs",
             .secure = true,
             .http_only = true,
             .same_site = same_site::lax,
             .partitioned = true};
    EXPECT_EQ(to_set_cookie(c),
              "id=a3fWa; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Max-Age=3600; Domain=example.com; Path=/docs; "
              "Secure; HttpOnly; SameSite=Lax; Partitioned");
}

TEST(cookies, minimal_cookie) {
    EXPECT_EQ(to_set_cookie({.name = "a", .value = "b"}), "a=b");
    EXPECT_EQ(to_set_cookie({.name = "a"}), "a=");  // an empty value is allowed
    EXPECT_EQ(to_set_cookie({.name = "!#$%&'*+-.^_`|~09AZaz", .value = "!#+-./:<[]^`{|}~"}),
              "!#$%&'*+-.^_`|~09AZaz=!#+-./:<[]^`{|}~");
}

TEST(cookies, expires_is_an_imf_fixdate) {
    // Two-digit day, English names, 24-hour clock, GMT; sub-second parts are dropped.
    EXPECT_EQ(to_set_cookie({.name = "a", .value = "b", .expires = utc(2024, 3, 5, 0, 0, 9)}),
              "a=b; Expires=Tue, 05 Mar 2024 00:00:09 GMT");
    EXPECT_EQ(to_set_cookie({.name = "a", .value = "b", .expires = utc(1999, 12, 31, 23, 59, 59) + milliseconds{999}}),
              "a=b; Expires=Fri, 31 Dec 1999 23:59:59 GMT");
    EXPECT_EQ(to_set_cookie({.name = "a", .value = "b", .expires = system_clock::time_point{}}),
              "a=b; Expires=Thu, 01 Jan 1970 00:00:00 GMT");
}

// Sets TZ for one test and restores it afterwards.
class scoped_tz {
public:
    explicit scoped_tz(const char* tz) {
        if (const char* old = std::getenv("TZ")) old_ = old;
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    ~scoped_tz() {
        if (old_) ::setenv("TZ", old_->c_str(), 1);
        else ::unsetenv("TZ");
        ::tzset();
    }

private:
    std::optional<std::string> old_;
};

// Expires must be written in GMT whatever the server's local time zone (fmt 9's chrono formatter would use
// local time, so a server with TZ=America/New_York would announce "03:28:00 GMT").
TEST(cookies, expires_is_gmt_in_any_local_time_zone) {
    scoped_tz tz{"EST5EDT"};  // a POSIX TZ string: needs no time-zone database
    EXPECT_EQ(to_set_cookie({.name = "a", .value = "b", .expires = utc(2015, 10, 21, 7, 28, 0)}),
              "a=b; Expires=Wed, 21 Oct 2015 07:28:00 GMT");
}

TEST(cookies, max_age) {
    EXPECT_EQ(to_set_cookie({.name = "a", .value = "b", .max_age = seconds{90}}), "a=b; Max-Age=90");
    EXPECT_EQ(to_set_cookie({.name = "a", .value = "b", .max_age = seconds{0}}), "a=b; Max-Age=0");
    EXPECT_EQ(to_set_cookie({.name = "a", .value = "b", .max_age = seconds{-5}}), "a=b; Max-Age=0");  // delete
    EXPECT_EQ(to_set_cookie({.name = "a", .value = "b", .max_age = days{400}}), "a=b; Max-Age=34560000");
}

TEST(cookies, same_site_values) {
    EXPECT_EQ(to_set_cookie({.name = "a", .value = "b", .same_site = same_site::lax}), "a=b; SameSite=Lax");
    EXPECT_EQ(to_set_cookie({.name = "a", .value = "b", .same_site = same_site::strict}), "a=b; SameSite=Strict");
    EXPECT_EQ(to_set_cookie({.name = "a", .value = "b", .secure = true, .same_site = same_site::none}),
              "a=b; Secure; SameSite=None");
    EXPECT_EQ(to_set_cookie({.name = "a", .value = "b", .same_site = same_site::unset}), "a=b");
}

TEST(cookies, same_site_none_and_partitioned_need_secure) {
    auto none = refusal({.name = "tracker", .value = "1", .same_site = same_site::none});
    EXPECT_NE(none.find("cookie 'tracker'"), std::string::npos) << none;
    EXPECT_NE(none.find("SameSite=None requires Secure"), std::string::npos) << none;

    auto partitioned = refusal({.name = "chip", .value = "1", .partitioned = true});
    EXPECT_NE(partitioned.find("cookie 'chip'"), std::string::npos) << partitioned;
    EXPECT_NE(partitioned.find("Partitioned requires Secure"), std::string::npos) << partitioned;
}

TEST(cookies, invalid_names_are_refused) {
    for (std::string name : std::vector<std::string>{"", "a b", "a;b", "a=b", "a,b", "a\"b", "a(b)", "a/b", "a:b", "a@b", "a?b", "a{b}",
                             "a[b]", "a\\b", "a\tb", "a\x01", "a\x7f", "caf\xc3\xa9", std::string{"a\0b", 3}}) {
        auto msg = refusal({.name = name, .value = "v"});
        ASSERT_FALSE(msg.empty()) << "accepted name: " << name;
        EXPECT_EQ(msg.rfind("cookie '", 0), 0u) << msg;
        if (name.find('\0') == std::string::npos) {  // what() ends at a NUL in the name
            EXPECT_NE(msg.find(name.empty() ? "name is empty" : "the name"), std::string::npos) << msg;
        }
    }
}

TEST(cookies, invalid_values_are_refused) {
    for (std::string value : std::vector<std::string>{"a b", "a\"b", "\"quoted\"", "a,b", "a;b", "a\\b", "a\tb", "a\r\nSet-Cookie: x=y",
                              "a\x7f", "\x1f", "caf\xc3\xa9", std::string{"a\0b", 3}}) {
        auto msg = refusal({.name = "session", .value = value});
        ASSERT_FALSE(msg.empty()) << "accepted value: " << value;
        EXPECT_EQ(msg.rfind("cookie 'session': the value", 0), 0u) << msg;
    }
}

TEST(cookies, invalid_domain_and_path_are_refused) {
    for (std::string domain : std::vector<std::string>{"example.com; Secure", "exa\r\nmple.com", "a\x7f", std::string{"a\0b", 3}}) {
        auto msg = refusal({.name = "d", .value = "v", .domain = domain});
        EXPECT_EQ(msg.rfind("cookie 'd': the domain", 0), 0u) << msg;
    }
    for (std::string path : {"/a;b", "/a\nb", "/\t", "/caf\xc3\xa9"}) {
        auto msg = refusal({.name = "p", .value = "v", .path = path});
        EXPECT_EQ(msg.rfind("cookie 'p': the path", 0), 0u) << msg;
    }
    // Spaces and other printable characters are fine in a path.
    EXPECT_EQ(to_set_cookie({.name = "p", .value = "v", .path = "/a b=c"}), "p=v; Path=/a b=c");
}

TEST(cookies, response_set_cookie) {
    Response res{status::ok};
    res.set_cookie({.name = "a", .value = "1", .http_only = true});
    res.set_cookie({.name = "b", .value = "2", .path = "/"});
    EXPECT_EQ(res.headers().get_all("set-cookie"), (std::vector<std::string_view>{"a=1; HttpOnly", "b=2; Path=/"}));
    EXPECT_THROW(res.set_cookie({.name = "bad name", .value = "1"}), std::invalid_argument);
    EXPECT_EQ(res.headers().get_all("set-cookie").size(), 2u);  // nothing added for the refused one
}

// ---- parse_cookie_header -------------------------------------------------------------------------------

TEST(cookies, parse_simple) {
    EXPECT_EQ(parse_cookie_header("a=1; b=2"), (cookie_pairs{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(parse_cookie_header("a=1;b=2"), (cookie_pairs{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(parse_cookie_header("single=x"), (cookie_pairs{{"single", "x"}}));
    EXPECT_EQ(parse_cookie_header("a=1; a=2"), (cookie_pairs{{"a", "1"}, {"a", "2"}}));  // duplicates kept, in order
    EXPECT_EQ(parse_cookie_header("a=b=c; d==e"), (cookie_pairs{{"a", "b=c"}, {"d", "=e"}}));
}

TEST(cookies, parse_quoted_values) {
    EXPECT_EQ(parse_cookie_header("a=\"quoted\""), (cookie_pairs{{"a", "quoted"}}));
    EXPECT_EQ(parse_cookie_header("a=\"\""), (cookie_pairs{{"a", ""}}));
    EXPECT_EQ(parse_cookie_header("a=\"with space\"; b=2"), (cookie_pairs{{"a", "with space"}, {"b", "2"}}));
    // Unbalanced quotes are left alone.
    EXPECT_EQ(parse_cookie_header("a=\""), (cookie_pairs{{"a", "\""}}));
    EXPECT_EQ(parse_cookie_header("a=\"x; b=y\""), (cookie_pairs{{"a", "\"x"}, {"b", "y\""}}));
    EXPECT_EQ(parse_cookie_header("a= \"x\" "), (cookie_pairs{{"a", "x"}}));
}

TEST(cookies, parse_skips_missing_equals_and_empty_names) {
    EXPECT_EQ(parse_cookie_header("flag; a=1"), (cookie_pairs{{"a", "1"}}));
    EXPECT_EQ(parse_cookie_header("=nameless; a=1; = ; b=2"), (cookie_pairs{{"a", "1"}, {"b", "2"}}));
    EXPECT_EQ(parse_cookie_header("a="), (cookie_pairs{{"a", ""}}));
    EXPECT_TRUE(parse_cookie_header("").empty());
    EXPECT_TRUE(parse_cookie_header(";;;").empty());
    EXPECT_TRUE(parse_cookie_header("   ").empty());
    EXPECT_TRUE(parse_cookie_header("novalue").empty());
}

TEST(cookies, parse_extra_spaces) {
    EXPECT_EQ(parse_cookie_header("  a = 1 ;   b=2  ;c =3;"), (cookie_pairs{{"a", "1"}, {"b", "2"}, {"c", "3"}}));
    EXPECT_EQ(parse_cookie_header("\ta\t=\t1\t"), (cookie_pairs{{"a", "1"}}));
    EXPECT_EQ(parse_cookie_header("a=two words"), (cookie_pairs{{"a", "two words"}}));
    EXPECT_EQ(parse_cookie_header(" ; ; a=1 ; ; "), (cookie_pairs{{"a", "1"}}));
}

TEST(cookies, round_trip_through_set_cookie) {
    auto line = to_set_cookie({.name = "sid", .value = "x.y-z_1", .max_age = seconds{60}, .path = "/"});
    auto parsed = parse_cookie_header(line);
    ASSERT_FALSE(parsed.empty());
    EXPECT_EQ(parsed.front(), (std::pair<std::string_view, std::string_view>{"sid", "x.y-z_1"}));
}

}  // namespace
