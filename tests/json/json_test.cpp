#include <zephyr/json/json.hpp>

#include <gtest/gtest.h>
#include <boost/describe.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <ostream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace zephyr::json {
// gtest prints field_errors readably when an expectation fails.
void PrintTo(const field_error& e, std::ostream* os) {
    *os << e.path << ": " << e.message;
}
}  // namespace zephyr::json

namespace {

namespace json = zephyr::json;
using namespace std::chrono_literals;

// The field errors that decoding `text` as the tagged type reports; a test failure when there are none.
std::vector<json::field_error> errors_of(std::string_view text, auto type_tag,
                                         const json::decode_options& options = {}) {
    using T = typename decltype(type_tag)::type;
    try {
        json::parse<T>(text, options);
    } catch (const json::decode_error& e) {
        EXPECT_FALSE(e.is_syntax_error());
        return e.errors;
    }
    ADD_FAILURE() << "no decode_error for " << text;
    return {};
}

template <class T>
struct tag {
    using type = T;
};

// Documentation examples (docs/json.md) -------------------------------------------------------------------------

// [describe]
enum class plan { free, pro, enterprise };
BOOST_DESCRIBE_ENUM(plan, free, pro, enterprise)

struct address {
    std::string city{};
    std::optional<std::string> zip{};  // may be missing or null
};
BOOST_DESCRIBE_STRUCT(address, (), (city, zip))

struct new_user {
    std::string name{};
    std::string email{};
    std::optional<int> age{};
    plan tier = plan::free;
    std::vector<address> addresses{};
};
BOOST_DESCRIBE_STRUCT(new_user, (), (name, email, age, tier, addresses))
// [describe]

TEST(json_docs, round_trip) {
    // [round_trip]
    std::string text = json::to_string(new_user{.name = "Ada", .email = "ada@example.com", .tier = plan::pro});
    // {"name":"Ada","email":"ada@example.com","age":null,"tier":"pro","addresses":[]}
    new_user back = json::parse<new_user>(R"({"name": "Ada", "email": "ada@example.com", "tier": "pro",
                                              "addresses": [{"city": "London"}]})");
    // back.age == std::nullopt, back.addresses[0].zip == std::nullopt
    // [round_trip]
    EXPECT_EQ(text, R"({"name":"Ada","email":"ada@example.com","age":null,"tier":"pro","addresses":[]})");
    EXPECT_EQ(back.name, "Ada");
    EXPECT_EQ(back.age, std::nullopt);
    EXPECT_EQ(back.tier, plan::pro);
    ASSERT_EQ(back.addresses.size(), 1u);
    EXPECT_EQ(back.addresses[0].city, "London");
    EXPECT_EQ(back.addresses[0].zip, std::nullopt);
}

TEST(json_docs, errors) {
    std::vector<json::field_error> found;
    // [errors]
    try {
        json::parse<new_user>(R"({"name": 42, "tier": "gold", "addresses": [{"city": "Paris"}, {"zip": "75001"}]})");
    } catch (const json::decode_error& e) {
        found = e.errors;
        // body.name: expected a string, got number
        // body.email: is required
        // body.tier: must be one of: free, pro, enterprise
        // body.addresses[1].city: is required
    }
    // [errors]
    const std::vector<json::field_error> expected{
        {"body.name", "expected a string, got number"},
        {"body.email", "is required"},
        {"body.tier", "must be one of: free, pro, enterprise"},
        {"body.addresses[1].city", "is required"},
    };
    EXPECT_EQ(found, expected);
}

// [query_struct]
struct search {
    std::optional<std::string> q{};
    std::optional<int> page{};
    std::vector<std::string> tags{};
};
BOOST_DESCRIBE_STRUCT(search, (), (q, page, tags))
// [query_struct]

TEST(json_docs, text_values) {
    // [query]
    // ?page=2&tags=new, as a query-string extractor hands it over: every value is text
    const boost::json::value v = {{"page", "2"}, {"tags", "new"}};
    search s = json::from_value<search>(v, {.root = "query", .text_values = true});
    // s.q == std::nullopt, s.page == 2, s.tags == {"new"}
    // [query]
    EXPECT_EQ(s.q, std::nullopt);
    EXPECT_EQ(s.page, 2);
    EXPECT_EQ(s.tags, std::vector<std::string>{"new"});
    const auto bad = json::from_value<search>(boost::json::value{{"tags", {"a", "b"}}}, {.text_values = true});
    EXPECT_EQ(bad.tags, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(bad.page, std::nullopt);
    try {
        json::from_value<search>(boost::json::value{{"page", "two"}}, {.root = "query", .text_values = true});
        FAIL() << "expected a decode_error";
    } catch (const json::decode_error& e) {
        EXPECT_STREQ(e.what(), "query.page: expected an integer");
    }
}

// A struct with every supported scalar type -------------------------------------------------------------------

enum class color { red, green, blue };
BOOST_DESCRIBE_ENUM(color, red, green, blue)

enum class undescribed_color { red };

struct scalars {
    bool b = false;
    char c = 0;
    signed char sc = 0;
    unsigned char uc = 0;
    std::int8_t i8 = 0;
    std::uint8_t u8 = 0;
    std::int16_t i16 = 0;
    std::uint16_t u16 = 0;
    int i = 0;
    unsigned u = 0;
    long l = 0;
    unsigned long ul = 0;
    long long ll = 0;
    unsigned long long ull = 0;
    float f = 0;
    double d = 0;
    std::string s{};
    color col = color::red;
    std::chrono::system_clock::time_point at{};
    boost::json::value raw{};
};
BOOST_DESCRIBE_STRUCT(scalars, (), (b, c, sc, uc, i8, u8, i16, u16, i, u, l, ul, ll, ull, f, d, s, col, at, raw))

TEST(json_round_trip, every_scalar_type) {
    scalars x;
    x.b = true;
    x.c = 'A';
    x.sc = -128;
    x.uc = 255;
    x.i8 = -7;
    x.u8 = 200;
    x.i16 = -32768;
    x.u16 = 65535;
    x.i = std::numeric_limits<int>::min();
    x.u = std::numeric_limits<unsigned>::max();
    x.l = std::numeric_limits<long>::min();
    x.ul = std::numeric_limits<unsigned long>::max();
    x.ll = std::numeric_limits<long long>::max();
    x.ull = 42;
    x.f = 1.5f;
    x.d = -0.1;
    x.s = "h\u00e9llo \"q\" \n";
    x.col = color::blue;
    x.at = std::chrono::sys_days{std::chrono::year{2024} / 5 / 1} + 12h + 34min + 56s + 789ms;
    x.raw = boost::json::value{{"any", boost::json::array{1, "two", nullptr}}};

    const std::string text = json::to_string(x);
    const scalars y = json::parse<scalars>(text);
    EXPECT_EQ(json::to_string(y), text);
    EXPECT_EQ(y.b, x.b);
    EXPECT_EQ(y.c, x.c);
    EXPECT_EQ(y.sc, x.sc);
    EXPECT_EQ(y.uc, x.uc);
    EXPECT_EQ(y.i8, x.i8);
    EXPECT_EQ(y.u8, x.u8);
    EXPECT_EQ(y.i16, x.i16);
    EXPECT_EQ(y.u16, x.u16);
    EXPECT_EQ(y.i, x.i);
    EXPECT_EQ(y.u, x.u);
    EXPECT_EQ(y.l, x.l);
    EXPECT_EQ(y.ul, x.ul);
    EXPECT_EQ(y.ll, x.ll);
    EXPECT_EQ(y.ull, x.ull);
    EXPECT_EQ(y.f, x.f);
    EXPECT_EQ(y.d, x.d);
    EXPECT_EQ(y.s, x.s);
    EXPECT_EQ(y.col, x.col);
    EXPECT_EQ(y.at, x.at);
    EXPECT_EQ(y.raw, x.raw);

    const boost::json::value v = json::to_value(x);
    EXPECT_EQ(v.at("col"), "blue");
    EXPECT_EQ(v.at("at"), "2024-05-01T12:34:56.789Z");
    EXPECT_EQ(v.at("ul").as_uint64(), std::numeric_limits<std::uint64_t>::max());
    EXPECT_EQ(v.at("i8").as_int64(), -7);
}

TEST(json_round_trip, top_level_values) {
    EXPECT_EQ(json::to_string(true), "true");
    EXPECT_EQ(json::to_string(-5), "-5");
    EXPECT_EQ(json::to_string(std::string_view{"sv"}), "\"sv\"");
    EXPECT_EQ(json::to_string(std::optional<int>{}), "null");
    EXPECT_EQ(json::to_string(std::vector<bool>{true, false}), "[true,false]");
    EXPECT_EQ(json::parse<std::vector<bool>>("[true, false, true]"), (std::vector<bool>{true, false, true}));
    EXPECT_EQ(json::parse<int>(" 17 "), 17);
    EXPECT_EQ(json::parse<std::string>(R"("\u00e9")"), "\u00e9");
    EXPECT_EQ(json::parse<std::optional<int>>("null"), std::nullopt);
    EXPECT_EQ(json::parse<std::optional<int>>("3"), 3);
    EXPECT_EQ(json::parse<boost::json::value>(R"({"a":[1]})"), (boost::json::value{{"a", {1}}}));
    EXPECT_EQ(json::to_string(boost::json::object{{"k", 1}}), R"({"k":1})");
    EXPECT_EQ(json::parse<boost::json::array>("[1,2]"), (boost::json::array{1, 2}));
    EXPECT_EQ(errors_of("[]", tag<boost::json::object>{})[0].message, "expected an object, got array");
    EXPECT_EQ(errors_of("{}", tag<boost::json::string>{})[0].message, "expected a string, got object");
}

TEST(json_round_trip, maps) {
    const std::map<std::string, int> m{{"a", 1}, {"b c", 2}};
    EXPECT_EQ(json::to_string(m), R"({"a":1,"b c":2})");
    EXPECT_EQ((json::parse<std::map<std::string, int>>(R"({"a":1,"b c":2})")), m);

    const std::unordered_map<std::string, std::vector<double>> u{{"xs", {1.5, 2}}, {"empty", {}}};
    EXPECT_EQ((json::parse<std::unordered_map<std::string, std::vector<double>>>(json::to_string(u))), u);
}

TEST(json_round_trip, non_finite_numbers_encode_as_null) {
    EXPECT_EQ(json::to_string(std::numeric_limits<double>::quiet_NaN()), "null");
    EXPECT_EQ(json::to_string(std::vector<float>{std::numeric_limits<float>::infinity(), 1}), "[null,1E0]");
}

TEST(json_round_trip, enum_without_a_name_throws_when_encoded) {
    EXPECT_THROW(json::to_value(static_cast<color>(7)), std::invalid_argument);
}

// Nested structs, bases and recursion ------------------------------------------------------------------------

struct line_item {
    std::string sku{};
    int qty = 0;
    std::optional<double> price{};
};
BOOST_DESCRIBE_STRUCT(line_item, (), (sku, qty, price))

struct order {
    std::int64_t id = 0;
    std::vector<line_item> items{};
    std::map<std::string, std::string> meta{};
    std::optional<std::vector<line_item>> returns{};
};
BOOST_DESCRIBE_STRUCT(order, (), (id, items, meta, returns))

TEST(json_nested, vectors_of_structs_round_trip) {
    order o{.id = 9, .items = {{.sku = "a", .qty = 1}, {.sku = "b", .qty = 2, .price = 3.25}}, .meta = {{"k", "v"}}};
    const std::string text = json::to_string(o);
    EXPECT_EQ(text, R"({"id":9,"items":[{"sku":"a","qty":1,"price":null},{"sku":"b","qty":2,"price":3.25E0}],)"
                    R"("meta":{"k":"v"},"returns":null})");
    const order back = json::parse<order>(text);
    EXPECT_EQ(json::to_string(back), text);
}

struct entity {
    std::int64_t id = 0;
    std::chrono::system_clock::time_point created{};
};
BOOST_DESCRIBE_STRUCT(entity, (), (id, created))

struct account : entity {
    std::string owner{};
};
BOOST_DESCRIBE_STRUCT(account, (entity), (owner))

TEST(json_nested, base_class_members_come_first) {
    account a;
    a.id = 3;
    a.owner = "ada";
    EXPECT_EQ(json::to_string(a), R"({"id":3,"created":"1970-01-01T00:00:00Z","owner":"ada"})");

    try {
        json::parse<account>(R"({"owner": "ada"})");
        FAIL() << "expected a decode_error";
    } catch (const json::decode_error& e) {
        const std::vector<json::field_error> expected{{"body.id", "is required"}, {"body.created", "is required"}};
        EXPECT_EQ(e.errors, expected);
    }
    const auto back = json::parse<account>(R"({"id": 4, "created": "2024-05-01T00:00:00Z", "owner": "bo"})");
    EXPECT_EQ(back.id, 4);
    EXPECT_EQ(back.owner, "bo");
}

struct tree {
    std::string name{};
    std::vector<tree> children{};
};
BOOST_DESCRIBE_STRUCT(tree, (), (name, children))

TEST(json_nested, recursive_structs) {
    const char* text = R"({"name":"a","children":[{"name":"b","children":[]},
                           {"name":"c","children":[{"name":"d","children":[{"children":[]}]}]}]})";
    try {
        json::parse<tree>(text, "doc");
        FAIL() << "expected a decode_error";
    } catch (const json::decode_error& e) {
        const std::vector<json::field_error> expected{{"doc.children[1].children[0].children[0].name", "is required"}};
        EXPECT_EQ(e.errors, expected);
    }
    const auto t =
        json::parse<tree>(R"({"name":"a","children":[{"name":"b","children":[{"name":"c","children":[]}]}]})");
    ASSERT_EQ(t.children.size(), 1u);
    EXPECT_EQ(t.children[0].children[0].name, "c");
}

// Error paths and messages -----------------------------------------------------------------------------------

TEST(json_errors, index_in_path) {
    const auto errors = errors_of(R"({"id": 1, "meta": {}, "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2},
                                                        {"sku": "c", "qty": "three"}]})",
                                  tag<order>{});
    const std::vector<json::field_error> expected{{"body.items[2].qty", "expected an integer, got string"}};
    EXPECT_EQ(errors, expected);
}

TEST(json_errors, all_errors_collected_in_one_pass) {
    const auto errors = errors_of(R"({"items": [{"qty": 1}, {"sku": 5, "qty": 1.5}, 7], "meta": {"a": 1, "b c": "x",
                                                "d": null}, "returns": [{}]})",
                                  tag<order>{});
    const std::vector<json::field_error> expected{
        {"body.id", "is required"},
        {"body.items[0].sku", "is required"},
        {"body.items[1].sku", "expected a string, got number"},
        {"body.items[1].qty", "expected an integer, got number"},
        {"body.items[2]", "expected an object, got number"},
        {"body.meta.a", "expected a string, got number"},
        {"body.meta.d", "expected a string, got null"},
        {"body.returns[0].sku", "is required"},
        {"body.returns[0].qty", "is required"},
    };
    EXPECT_EQ(errors, expected);
}

TEST(json_errors, what_joins_the_errors) {
    try {
        json::parse<line_item>(R"({"qty": "x"})");
        FAIL() << "expected a decode_error";
    } catch (const json::decode_error& e) {
        EXPECT_STREQ(e.what(), "body.sku: is required; body.qty: expected an integer, got string");
    }
}

TEST(json_errors, non_object_where_object_expected) {
    for (const char* text : {"[]", "1", "\"s\"", "null", "true"}) {
        const auto errors = errors_of(text, tag<line_item>{});
        ASSERT_EQ(errors.size(), 1u) << text;
        EXPECT_EQ(errors[0].path, "body");
        EXPECT_TRUE(errors[0].message.starts_with("expected an object, got ")) << errors[0].message;
    }
    EXPECT_EQ(errors_of("[]", tag<line_item>{})[0].message, "expected an object, got array");
    EXPECT_EQ(errors_of("{}", tag<std::vector<int>>{})[0].message, "expected an array, got object");
    EXPECT_EQ(errors_of("[]", tag<std::map<std::string, int>>{})[0].message, "expected an object, got array");
}

TEST(json_errors, custom_root_and_map_keys_that_are_not_identifiers) {
    const auto errors = errors_of(R"({"ok": 1, "a b": "x", "": "y", "q\"\n": "z", "9": "w"})",
                                  tag<std::map<std::string, int>>{}, {.root = "query"});
    const std::vector<json::field_error> expected{
        {R"(query["a b"])", "expected an integer, got string"},
        {R"(query[""])", "expected an integer, got string"},
        {R"(query["q\"\u000a"])", "expected an integer, got string"},
        {R"(query["9"])", "expected an integer, got string"},
    };
    EXPECT_EQ(errors, expected);

    std::vector<json::field_error> errs;
    int out = 0;
    EXPECT_FALSE(json::try_from_value(boost::json::value{"x"}, out, errs, ""));
    ASSERT_EQ(errs.size(), 1u);
    EXPECT_EQ(errs[0].path, "");
}

TEST(json_errors, wrong_scalar_types) {
    EXPECT_EQ(errors_of("1", tag<bool>{})[0].message, "expected a boolean, got number");
    EXPECT_EQ(errors_of("\"1\"", tag<int>{})[0].message, "expected an integer, got string");
    EXPECT_EQ(errors_of("true", tag<double>{})[0].message, "expected a number, got boolean");
    EXPECT_EQ(errors_of("[]", tag<std::string>{})[0].message, "expected a string, got array");
    EXPECT_EQ(errors_of("null", tag<std::string>{})[0].message, "expected a string, got null");
    EXPECT_EQ(errors_of("1", tag<std::chrono::system_clock::time_point>{})[0].message,
              "expected an RFC 3339 date-time string, got number");
}

TEST(json_errors, integer_ranges) {
    EXPECT_EQ(errors_of("300", tag<std::uint8_t>{})[0].message, "must be an integer between 0 and 255");
    EXPECT_EQ(errors_of("-1", tag<std::uint8_t>{})[0].message, "must be an integer between 0 and 255");
    EXPECT_EQ(errors_of("-129", tag<std::int8_t>{})[0].message, "must be an integer between -128 and 127");
    EXPECT_EQ(errors_of("2147483648", tag<int>{})[0].message, "must be an integer between -2147483648 and 2147483647");
    EXPECT_EQ(errors_of("-1", tag<unsigned>{})[0].message, "must be an integer between 0 and 4294967295");
    EXPECT_EQ(errors_of("18446744073709551615", tag<std::int64_t>{})[0].message,
              "must be an integer between -9223372036854775808 and 9223372036854775807");
    EXPECT_EQ(errors_of("1.5", tag<int>{})[0].message, "expected an integer, got number");
    EXPECT_EQ(errors_of("1e300", tag<std::uint64_t>{})[0].message,
              "must be an integer between 0 and 18446744073709551615");
    EXPECT_EQ(errors_of("9223372036854775808.0", tag<std::int64_t>{})[0].message,
              "must be an integer between -9223372036854775808 and 9223372036854775807");

    // Whole numbers written as doubles are integers.
    EXPECT_EQ(json::parse<int>("2.0"), 2);
    EXPECT_EQ(json::parse<int>("1e3"), 1000);
    EXPECT_EQ(json::parse<std::uint8_t>("255"), 255);
    EXPECT_EQ(json::parse<std::int64_t>("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(json::parse<std::uint64_t>("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
}

TEST(json_errors, huge_numbers) {
    // Boost.JSON reads integers beyond 64 bits as doubles.
    EXPECT_EQ(errors_of("99999999999999999999", tag<std::int64_t>{})[0].message,
              "must be an integer between -9223372036854775808 and 9223372036854775807");
    EXPECT_EQ(errors_of("-99999999999999999999", tag<std::uint64_t>{})[0].message,
              "must be an integer between 0 and 18446744073709551615");
    EXPECT_EQ(errors_of("1e400", tag<double>{})[0].message, "must be a number between -1.79769e+308 and 1.79769e+308");
    EXPECT_EQ(errors_of("-1e400", tag<double>{})[0].message, "must be a number between -1.79769e+308 and 1.79769e+308");
    EXPECT_EQ(errors_of("1e39", tag<float>{})[0].message, "must be a number between -3.40282e+38 and 3.40282e+38");
    EXPECT_EQ(json::parse<double>("99999999999999999999"), 1e20);
    EXPECT_EQ(json::parse<float>("18446744073709551615"), 18446744073709551615.0f);
    EXPECT_EQ(json::parse<double>("1e-400"), 0.0);
}

TEST(json_errors, optional_null_or_missing) {
    const auto a = json::parse<line_item>(R"({"sku": "a", "qty": 1})");
    EXPECT_EQ(a.price, std::nullopt);
    const auto b = json::parse<line_item>(R"({"sku": "a", "qty": 1, "price": null})");
    EXPECT_EQ(b.price, std::nullopt);
    const auto c = json::parse<line_item>(R"({"sku": "a", "qty": 1, "price": 2})");
    EXPECT_EQ(c.price, 2.0);
    // A required member may not be null, and an optional one may not have the wrong type.
    const std::vector<json::field_error> expected{{"body.sku", "expected a string, got null"},
                                                  {"body.price", "expected a number, got string"}};
    EXPECT_EQ(errors_of(R"({"sku": null, "qty": 1, "price": "2"})", tag<line_item>{}), expected);
}

TEST(json_errors, enums) {
    EXPECT_EQ(json::parse<color>("\"green\""), color::green);
    EXPECT_EQ(errors_of("\"purple\"", tag<color>{})[0].message, "must be one of: red, green, blue");
    EXPECT_EQ(errors_of("\"Red\"", tag<color>{})[0].message, "must be one of: red, green, blue");
    EXPECT_EQ(errors_of("1", tag<color>{})[0].message, "must be one of: red, green, blue");
}

TEST(json_errors, time_points) {
    using std::chrono::sys_days;
    using std::chrono::year;
    const auto utc = sys_days{year{2024} / 5 / 1} + 12h + 34min + 56s;
    EXPECT_EQ(json::parse<std::chrono::system_clock::time_point>(R"("2024-05-01T12:34:56Z")"), utc);
    EXPECT_EQ(json::parse<std::chrono::system_clock::time_point>(R"("2024-05-01T14:34:56.250+02:00")"), utc + 250ms);
    EXPECT_EQ(json::parse<std::chrono::system_clock::time_point>(R"("2024-05-01T12:04:56.25-00:30")"), utc + 250ms);
    EXPECT_EQ(json::to_string(utc + 250ms), R"("2024-05-01T12:34:56.250Z")");
    // Coarser clocks (sys_seconds, sys_days) work too; decoding truncates toward the past.
    EXPECT_EQ(json::to_string(sys_days{year{2024} / 5 / 1}), R"("2024-05-01T00:00:00Z")");
    EXPECT_EQ(json::parse<std::chrono::sys_seconds>(R"("2024-05-01T12:34:56.999Z")"), utc);
    EXPECT_EQ(json::parse<sys_days>(R"("2024-05-01T01:00:00+02:00")"), sys_days{year{2024} / 4 / 30});
    for (const char* bad : {R"("2024-05-01")", R"("2024-02-30T00:00:00Z")", R"("2024-05-01T12:34:56")",
                            R"("yesterday")", R"("2024-05-01T12:34:56+2:00")"}) {
        EXPECT_EQ(errors_of(bad, tag<std::chrono::system_clock::time_point>{})[0].message,
                  "must be an RFC 3339 date-time such as 2024-05-01T12:34:56Z")
            << bad;
    }
}

TEST(json_errors, unknown_fields_ignored_unless_rejected) {
    EXPECT_EQ(json::parse<line_item>(R"({"sku": "a", "qty": 1, "extra": [1, 2]})").sku, "a");
    const auto errors = errors_of(R"({"sku": "a", "qty": 1, "extra": [1, 2], "a b": 0})", tag<line_item>{},
                                  {.reject_unknown_fields = true});
    const std::vector<json::field_error> expected{{"body.extra", "is not a known field"},
                                                  {R"(body["a b"])", "is not a known field"}};
    EXPECT_EQ(errors, expected);
    // Members of a described base are known fields.
    EXPECT_NO_THROW(json::parse<account>(R"({"id": 1, "created": "2024-05-01T00:00:00Z", "owner": "x"})",
                                         json::decode_options{.reject_unknown_fields = true}));
}

TEST(json_errors, error_count_is_capped) {
    std::string text = "[";
    for (int i = 0; i < 10000; ++i) {
        text += i == 0 ? "\"x\"" : ",\"x\"";
    }
    text += "]";
    EXPECT_EQ(errors_of(text, tag<std::vector<int>>{}).size(), 100u);
    EXPECT_EQ(errors_of(text, tag<std::vector<int>>{}, {.max_errors = 3}).size(), 3u);
    EXPECT_EQ(errors_of(text, tag<std::vector<int>>{}, {.max_errors = 0}).size(), 1u);
}

// try_from_value ---------------------------------------------------------------------------------------------

TEST(json_try, success_and_failure) {
    std::vector<json::field_error> errors{{"earlier", "kept"}};
    line_item out{.sku = "unchanged", .qty = 5};
    EXPECT_FALSE(json::try_from_value(boost::json::value{{"sku", "new"}}, out, errors, "item"));
    EXPECT_EQ(out.sku, "unchanged");  // untouched on failure
    const std::vector<json::field_error> expected{{"earlier", "kept"}, {"item.qty", "is required"}};
    EXPECT_EQ(errors, expected);

    errors.clear();
    EXPECT_TRUE(json::try_from_value(boost::json::value{{"sku", "new"}, {"qty", 2}}, out, errors));
    EXPECT_EQ(out.sku, "new");
    EXPECT_EQ(out.qty, 2);
    EXPECT_TRUE(errors.empty());
}

TEST(json_try, field_errors_serialize_for_problem_details) {
    const std::vector<json::field_error> errors{{"body.name", "is required"}};
    EXPECT_EQ(json::to_string(errors), R"([{"path":"body.name","message":"is required"}])");
    EXPECT_EQ(json::format_errors(errors), "body.name: is required");
}

// Text values (query strings and forms) ----------------------------------------------------------------------

struct search_query {
    std::optional<std::string> q{};
    int page = 1;
    bool exact = false;
    double min_score = 0;
    std::vector<std::string> tags{};
    std::optional<std::uint16_t> limit{};
    std::optional<color> tint{};
};
BOOST_DESCRIBE_STRUCT(search_query, (), (q, page, exact, min_score, tags, limit, tint))

TEST(json_text_values, strings_decode_as_scalars) {
    const json::decode_options query{.root = "query", .text_values = true};
    const boost::json::value v = {{"page", "2"},    {"exact", "on"}, {"min_score", "0.5"},
                                  {"tags", "solo"}, {"limit", ""},   {"tint", "blue"}};
    const auto s = json::from_value<search_query>(v, query);
    EXPECT_EQ(s.q, std::nullopt);
    EXPECT_EQ(s.page, 2);
    EXPECT_TRUE(s.exact);
    EXPECT_EQ(s.min_score, 0.5);
    EXPECT_EQ(s.tags, std::vector<std::string>{"solo"});
    EXPECT_EQ(s.limit, std::nullopt);
    EXPECT_EQ(s.tint, color::blue);

    const boost::json::value many = {{"page", "-3"}, {"exact", "0"}, {"min_score", "1e2"}, {"tags", {"a", "b"}}};
    const auto m = json::from_value<search_query>(many, query);
    EXPECT_EQ(m.page, -3);
    EXPECT_FALSE(m.exact);
    EXPECT_EQ(m.min_score, 100);
    EXPECT_EQ(m.tags, (std::vector<std::string>{"a", "b"}));
}

TEST(json_text_values, bad_text_is_reported_without_got_string) {
    const json::decode_options query{.root = "query", .text_values = true};
    const boost::json::value v = {{"page", " 2"}, {"exact", "maybe"}, {"min_score", "nan"},
                                  {"tags", {}},   {"limit", "70000"}, {"tint", "mauve"}};
    std::vector<json::field_error> errors;
    search_query out;
    EXPECT_FALSE(json::try_from_value(v, out, errors, query));
    const std::vector<json::field_error> expected{
        {"query.page", "expected an integer"},
        {"query.exact", "expected a boolean (true or false)"},
        {"query.min_score", "expected a number"},
        {"query.tags", "expected an array, got object"},
        {"query.limit", "must be an integer between 0 and 65535"},
        {"query.tint", "must be one of: red, green, blue"},
    };
    EXPECT_EQ(errors, expected);

    errors.clear();
    EXPECT_FALSE(json::try_from_value(
        boost::json::value{{"page", "99999999999999999999"}, {"exact", "1"}, {"limit", "-1"}, {"min_score", "1e999"}},
        out, errors, query));
    const std::vector<json::field_error> range{
        {"query.page", "must be an integer between -2147483648 and 2147483647"},
        {"query.min_score", "must be a number between -1.79769e+308 and 1.79769e+308"},
        {"query.limit", "must be an integer between 0 and 65535"},
    };
    EXPECT_EQ(errors, range);
}

// Malformed JSON text ----------------------------------------------------------------------------------------

json::decode_error syntax_error_of(std::string_view text) {
    try {
        json::parse<boost::json::value>(text);
    } catch (const json::decode_error& e) {
        EXPECT_TRUE(e.is_syntax_error());
        EXPECT_EQ(e.errors.size(), 1u);
        return e;
    }
    ADD_FAILURE() << "no syntax error for " << text.substr(0, 40);
    return json::decode_error{{}};
}

TEST(json_syntax, truncated) {
    const auto e = syntax_error_of(R"({"a": [1, 2)");
    EXPECT_EQ(e.errors[0].path, "body");
    EXPECT_EQ(e.errors[0].message, "invalid JSON at offset 11 (line 1, column 12): incomplete JSON");
    EXPECT_EQ(syntax_error_of("").errors[0].message, "invalid JSON at offset 0 (line 1, column 1): incomplete JSON");
}

TEST(json_syntax, bad_token_position_counts_lines) {
    const auto e = syntax_error_of("{\n  \"a\": 1,\n  \"b\": tru\n}");
    EXPECT_EQ(e.errors[0].message, "invalid JSON at offset 19 (line 3, column 8): syntax error");
}

TEST(json_syntax, trailing_garbage) {
    EXPECT_EQ(syntax_error_of(R"({"a": 1} x)").errors[0].message,
              "invalid JSON at offset 9 (line 1, column 10): extra data");
    EXPECT_EQ(syntax_error_of("[1][2]").errors[0].message, "invalid JSON at offset 3 (line 1, column 4): extra data");
    EXPECT_EQ(json::parse<std::vector<int>>("[1]  \n\t"), std::vector<int>{1});
}

TEST(json_syntax, deep_nesting_is_refused) {
    const auto e = syntax_error_of(std::string(10000, '['));
    EXPECT_TRUE(e.errors[0].message.ends_with("nesting too deep (more than 64 levels)")) << e.errors[0].message;
    const std::string ok = std::string(64, '[') + std::string(64, ']');
    EXPECT_NO_THROW(json::parse<boost::json::value>(ok));
    const std::string deep = std::string(65, '[') + std::string(65, ']');
    EXPECT_THROW(json::parse<boost::json::value>(deep), json::decode_error);
}

TEST(json_syntax, other_malformations) {
    for (const char* text : {"{\"a\":1,}", "[1,]", "{'a':1}", "\"\xff\"", "01", "NaN", "{\"a\"}", "// c\n1"}) {
        syntax_error_of(text);
    }
    try {
        json::parse<line_item>("{", "payload");
        FAIL() << "expected a decode_error";
    } catch (const json::decode_error& e) {
        EXPECT_EQ(e.errors[0].path, "payload");
        EXPECT_TRUE(e.is_syntax_error());
    }
}

// Numbers read back exactly: what json writes, json reads as the same double, and long decimal mantissas round
// to the nearest double (as strtod does), not an ulp or two away.
TEST(json_numbers, doubles_round_trip_through_text) {
    std::mt19937_64 bits{20261124};
    int checked = 0;
    while (checked < 20000) {
        const std::uint64_t b = bits();
        double x = 0;
        std::memcpy(&x, &b, sizeof x);
        if (!std::isfinite(x)) continue;
        ++checked;
        const std::string text = json::to_string(boost::json::value(x));
        const boost::json::value back = json::parse_value(text);
        ASSERT_TRUE(back.is_double()) << text;
        ASSERT_EQ(back.get_double(), x) << text;
    }
}

TEST(json_numbers, long_mantissas_round_to_nearest) {
    const std::vector<std::string> texts{"1." + std::string(140, '6') + "5", "0.1000000000000000055511151231257827",
                                         "2.2250738585072011e-308", "-9007199254740993.0", "4.9e-330",
                                         "123456789012345678901234567890"};
    for (const std::string& text : texts) {
        EXPECT_EQ(json::parse_value(text).as_double(), std::strtod(text.c_str(), nullptr)) << text;
    }
    // A described struct's double member sees the same value.
    EXPECT_EQ(json::parse<double>("1.6666666666666667"), 1.6666666666666667);
}

}  // namespace
