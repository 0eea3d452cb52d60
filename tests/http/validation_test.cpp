// Validation rules declared next to request structs, enforced by Json<T>, Query<T> and Form<T> before the
// handler runs.
#include "support/problem.hpp"

#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace zephyr;
using zephyr::test_support::expect_problem;
using zephyr::testing::Client;

namespace accounts {

struct item {
    std::string sku;
    int qty = 0;
};
BOOST_DESCRIBE_STRUCT(item, (), (sku, qty))

inline auto validation(validate::rules_for<item>) {
    using namespace zephyr::validate;
    return rules(field(&item::qty, min(1)));
}

struct signup {
    std::string name;
    std::string email;
    int age = 0;
    std::vector<item> items;
};
BOOST_DESCRIBE_STRUCT(signup, (), (name, email, age, items))

inline auto validation(validate::rules_for<signup>) {
    using namespace zephyr::validate;
    return rules(field(&signup::name, length(1, 20)), field(&signup::email, email()),
                 field(&signup::age, min(18)));
}

struct search {
    std::string q;
    std::optional<int> limit;
};
BOOST_DESCRIBE_STRUCT(search, (), (q, limit))

inline auto validation(validate::rules_for<search>) {
    using namespace zephyr::validate;
    return rules(field(&search::q, min_length(2)), field(&search::limit, min(1), max(100)));
}

struct bad_rule {
    std::string code;
};
BOOST_DESCRIBE_STRUCT(bad_rule, (), (code))

inline auto validation(validate::rules_for<bad_rule>) {
    using namespace zephyr::validate;
    return rules(field(&bad_rule::code, pattern("[unclosed")));
}

}  // namespace accounts

namespace {

const zephyr::testing::request_options json_type{.headers = {{"Content-Type", "application/json"}}};
const zephyr::testing::request_options form_type{.headers = {{"Content-Type", "application/x-www-form-urlencoded"}}};

std::vector<std::string> error_lines(const zephyr::testing::TestResponse& r) {
    std::vector<std::string> out;
    const auto body = r.json();
    for (const auto& e : body.at("errors").as_array())
        out.push_back(std::string{e.at("path").as_string()} + ": " + std::string{e.at("message").as_string()});
    return out;
}

App& accounts_app(App& app, int& calls) {
    app.post("/signup", [&calls](Json<accounts::signup> s) {
        ++calls;
        return "welcome " + s->name;
    });
    app.get("/search", [&calls](Query<accounts::search> q) {
        ++calls;
        return q->q;
    });
    app.post("/signup-form", [&calls](Form<accounts::signup> s) {
        ++calls;
        return s->email;
    });
    return app;
}

TEST(validation, json_body_breaking_rules_is_422_listing_every_field_and_the_handler_never_runs) {
    App app;
    int calls = 0;
    Client client{accounts_app(app, calls)};
    auto r = client.post("/signup", R"({"name":"","email":"nope","age":16,"items":[{"sku":"a","qty":0}]})", json_type);
    expect_problem(r, 422);
    EXPECT_EQ(error_lines(r), (std::vector<std::string>{"body.items[0].qty: must be at least 1",
                                                        "body.name: must have at least 1 character",
                                                        "body.email: must be an email address",
                                                        "body.age: must be at least 18"}));
    EXPECT_EQ(r.json().at("detail").as_string(), "the request body has 4 invalid fields");
    EXPECT_EQ(calls, 0);

    auto ok = client.post("/signup", R"({"name":"Ada","email":"ada@example.org","age":36,"items":[]})", json_type);
    EXPECT_EQ(ok.status(), 200);
    EXPECT_EQ(ok.text(), "welcome Ada");
    EXPECT_EQ(calls, 1);
}

TEST(validation, a_single_failure_is_named_in_the_detail) {
    App app;
    int calls = 0;
    Client client{accounts_app(app, calls)};
    auto r = client.post("/signup", R"({"name":"Ada","email":"ada@example.org","age":3,"items":[]})", json_type);
    expect_problem(r, 422);
    EXPECT_EQ(r.json().at("detail").as_string(), "body.age: must be at least 18");
}

TEST(validation, query_rules_reject_with_400) {
    App app;
    int calls = 0;
    Client client{accounts_app(app, calls)};
    auto r = client.get("/search?q=a&limit=500");
    expect_problem(r, 400);
    EXPECT_EQ(error_lines(r),
              (std::vector<std::string>{"query.q: must have at least 2 characters", "query.limit: must be at most 100"}));
    EXPECT_EQ(client.get("/search?q=ab").text(), "ab");
    EXPECT_EQ(client.get("/search?q=ab&limit=").text(), "ab");  // an empty optional is not checked
    EXPECT_EQ(calls, 2);
}

TEST(validation, form_rules_reject_with_422) {
    App app;
    int calls = 0;
    Client client{accounts_app(app, calls)};
    auto r = client.post("/signup-form", "name=Ada&email=ada%40example&age=40", form_type);
    expect_problem(r, 422);
    EXPECT_EQ(error_lines(r), (std::vector<std::string>{"form.email: must be an email address"}));
    EXPECT_EQ(client.post("/signup-form", "name=Ada&email=ada%40example.org&age=40", form_type).text(),
              "ada@example.org");
}

TEST(validation, an_invalid_rule_fails_when_the_route_is_registered) {
    App app;
    try {
        app.post("/codes", [](Json<accounts::bad_rule> b) { return b->code; });
        ADD_FAILURE() << "registration accepted an invalid pattern";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string{e.what()}.find("[unclosed"), std::string::npos) << e.what();
    }
}

TEST(validation, hostile_values_are_rejected_not_crashing) {
    App app;
    int calls = 0;
    Client client{accounts_app(app, calls)};
    std::string huge(1 << 20, 'x');
    auto r = client.post("/signup", R"({"name":")" + huge + R"(","email":")" + huge + R"(@x.io","age":20,"items":[]})",
                         json_type);
    expect_problem(r, 422);
    EXPECT_EQ(error_lines(r), (std::vector<std::string>{"body.name: must have at most 20 characters",
                                                        "body.email: must be an email address"}));
    // Invalid UTF-8 is refused by the JSON parser before any rule sees it.
    EXPECT_EQ(client.post("/signup", "{\"name\":\"\xff\",\"email\":\"a@b.co\",\"age\":20,\"items\":[]}", json_type).status(),
              400);
}

}  // namespace
