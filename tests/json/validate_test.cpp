#include <zephyr/json/json.hpp>
#include <zephyr/json/validate.hpp>

#include <gtest/gtest.h>
#include <boost/describe.hpp>

#include <map>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace shop {

struct line {
    std::string sku;
    int qty = 0;
};
BOOST_DESCRIBE_STRUCT(line, (), (sku, qty))

inline auto validation(zephyr::validate::rules_for<line>) {
    using namespace zephyr::validate;
    return rules(field(&line::sku, pattern("[A-Z]{2}-[0-9]+")), field(&line::qty, min(1), max(99)));
}

// [rules]
struct order {
    std::string customer;
    std::string email;
    int age = 0;
    std::optional<std::string> plan;
    std::vector<line> lines;
    std::vector<std::string> tags;
    std::optional<std::string> coupon;
    std::string password;
    std::string confirm;
};
BOOST_DESCRIBE_STRUCT(order, (), (customer, email, age, plan, lines, tags, coupon, password, confirm))

inline auto validation(zephyr::validate::rules_for<order>) {
    using namespace zephyr::validate;
    return rules(field(&order::customer, length(1, 40)),
                 field(&order::email, email()),
                 field(&order::age, min(18), max(130)),
                 field(&order::plan, one_of({"free", "pro"})),
                 field(&order::lines, min_length(1), max_length(50)),
                 field(&order::tags, each(length(1, 10))),
                 field(&order::coupon, required()),
                 field(&order::password, custom([](const std::string& p) { return p.size() >= 8; },
                                                "must have at least 8 characters")),
                 check([](const order& o) { return o.password == o.confirm; }, "confirm",
                       "must equal the password"));
}
// [rules]

struct cart {
    std::map<std::string, line> saved;
    std::optional<line> pinned;
    double discount = 0;
};
BOOST_DESCRIBE_STRUCT(cart, (), (saved, pinned, discount))

inline auto validation(zephyr::validate::rules_for<cart>) {
    using namespace zephyr::validate;
    return rules(field(&cart::discount, min(0.0), max(0.5)));
}

}  // namespace shop

namespace {

namespace json = zephyr::json;
namespace validate = zephyr::validate;
using json::field_error;

const char* good_order = R"({"customer":"Ada","email":"ada@example.org","age":36,"plan":"pro",
    "lines":[{"sku":"AB-1","qty":2}],"tags":["a"],"coupon":"X","password":"12345678","confirm":"12345678"})";

std::vector<field_error> decode_errors(std::string_view text) {
    try {
        json::parse<shop::order>(text);
    } catch (const json::decode_error& e) {
        EXPECT_FALSE(e.is_syntax_error());
        return e.errors;
    }
    return {};
}

TEST(validate, valid_input_passes) {
    auto o = json::parse<shop::order>(good_order);
    EXPECT_EQ(o.customer, "Ada");
    EXPECT_TRUE(validate::errors(o).empty());
}

TEST(validate, every_failing_field_is_listed_with_its_path) {
    auto errors = decode_errors(R"({"customer":"","email":"not-an-email","age":12,"plan":"gold",
        "lines":[{"sku":"AB-1","qty":0},{"sku":"lower-1","qty":5}],"tags":["ok","much-too-long-tag"],
        "password":"short","confirm":"other"})");
    std::vector<field_error> expected{
        {"body.lines[0].qty", "must be at least 1"},
        {"body.lines[1].sku", "must match the pattern [A-Z]{2}-[0-9]+"},
        {"body.customer", "must have at least 1 character"},
        {"body.email", "must be an email address"},
        {"body.age", "must be at least 18"},
        {"body.plan", "must be one of: free, pro"},
        {"body.tags[1]", "must have at most 10 characters"},
        {"body.coupon", "is required"},
        {"body.password", "must have at least 8 characters"},
        {"body.confirm", "must equal the password"},
    };
    EXPECT_EQ(errors, expected);
}

TEST(validate, type_errors_and_rule_errors_come_together_without_duplicates) {
    // `age` fails to decode; its rules are not checked again. `customer` decodes and fails its rule.
    auto errors = decode_errors(R"({"customer":"","email":"ada@example.org","age":"old","lines":[{"sku":"AB-1","qty":1}],
        "tags":[],"coupon":"c","password":"12345678","confirm":"12345678"})");
    std::vector<field_error> expected{{"body.age", "expected an integer, got string"},
                                      {"body.customer", "must have at least 1 character"}};
    EXPECT_EQ(errors, expected);
}

TEST(validate, empty_optional_skips_checks_except_required) {
    auto o = json::parse<shop::order>(good_order);
    o.plan.reset();
    EXPECT_TRUE(validate::errors(o).empty());
    o.coupon.reset();
    EXPECT_EQ(validate::errors(o, "order"), (std::vector<field_error>{{"order.coupon", "is required"}}));
}

TEST(validate, length_counts_characters_not_bytes) {
    auto o = json::parse<shop::order>(good_order);
    o.customer = std::string(40, 'x');
    EXPECT_TRUE(validate::errors(o).empty());
    o.customer.clear();
    for (int i = 0; i < 40; ++i) o.customer += "\xc3\xa9";  // 40 × 'é', 80 bytes
    EXPECT_TRUE(validate::errors(o).empty());
    o.customer += "x";
    EXPECT_EQ(validate::errors(o), (std::vector<field_error>{{"value.customer", "must have at most 40 characters"}}));
}

TEST(validate, list_length_and_nested_structs_in_maps_and_optionals) {
    shop::cart c;
    c.saved["later"] = {"AB-1", 0};
    c.pinned = shop::line{"bad", 1};
    c.discount = 0.75;
    std::vector<field_error> expected{{"cart.saved.later.qty", "must be at least 1"},
                                      {"cart.pinned.sku", "must match the pattern [A-Z]{2}-[0-9]+"},
                                      {"cart.discount", "must be at most 0.5"}};
    EXPECT_EQ(validate::errors(c, "cart"), expected);
    EXPECT_THROW(validate::ensure(c), json::decode_error);
    c = {};
    EXPECT_NO_THROW(validate::ensure(c));
}

TEST(validate, email_accepts_usual_addresses_and_refuses_the_rest) {
    for (const char* ok : {"a@b.co", "first.last+tag@example.org", "x_y@sub.domain.example", "ü@bücher.de"})
        EXPECT_TRUE(validate::detail::is_email(ok)) << ok;
    for (const char* bad : {"", "@example.org", "a@", "a@b", "a@@b.co", "a b@c.de", ".a@b.co", "a.@b.co", "a..b@c.de",
                            "a@-b.co", "a@b-.co", "a@b..co", "a@.b.co", "\"q\"@b.co", "a@b.co\n"})
        EXPECT_FALSE(validate::detail::is_email(bad)) << bad;
    EXPECT_FALSE(validate::detail::is_email(std::string(65, 'a') + "@b.co"));
    EXPECT_FALSE(validate::detail::is_email("a@" + std::string(64, 'b') + ".co"));
}

TEST(validate, pattern_matches_the_whole_text_and_survives_hostile_input) {
    validate::detail::pattern_matcher p{"[a-z]+"};
    EXPECT_TRUE(p.matches("abc"));
    EXPECT_FALSE(p.matches("abc1"));
    EXPECT_FALSE(p.matches(""));
    // Catastrophic backtracking: Boost.Regex gives up instead of running for ages or overflowing the stack.
    validate::detail::pattern_matcher evil{"(a+)+b"};
    EXPECT_FALSE(evil.matches(std::string(1000, 'a')));
    validate::detail::pattern_matcher long_ok{"a*"};
    EXPECT_TRUE(long_ok.matches(std::string(1'000'000, 'a')));
}

TEST(validate, an_invalid_pattern_is_a_clear_error) {
    try {
        validate::pattern("([a-z");
        ADD_FAILURE() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string{e.what()}.find("invalid regular expression '([a-z'"), std::string::npos) << e.what();
    }
}

TEST(validate, numbers_in_messages_read_naturally) {
    EXPECT_EQ(*validate::min(0.25)(0.1), "must be at least 0.25");
    EXPECT_EQ(*validate::max(10)(11), "must be at most 10");
    EXPECT_EQ(*validate::max(10u)(11u), "must be at most 10");
    EXPECT_EQ(*validate::one_of({1, 2, 3})(4), "must be one of: 1, 2, 3");
    EXPECT_FALSE(validate::one_of({1, 2, 3})(2));
    EXPECT_EQ(*validate::length(2, 2)(std::string{"abc"}), "must have exactly 2 characters");
    EXPECT_EQ(*validate::min_length(1)(std::vector<int>{}), "must have at least 1 item");
}

TEST(validate, rules_are_built_once_and_shared_between_threads) {
    const auto* first = &validate::rules_of<shop::order>();
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] {
            for (int j = 0; j < 200; ++j) EXPECT_EQ(decode_errors(good_order).size(), 0u);
            EXPECT_EQ(&validate::rules_of<shop::order>(), first);
        });
    for (auto& t : threads) t.join();
}

}  // namespace
