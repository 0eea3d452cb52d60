// The development error page: only in debug mode, with the exception, the request and the throw site.
#include "support/problem.hpp"

#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace zephyr;
using zephyr::test_support::expect_problem;
using zephyr::testing::Client;

namespace {

const zephyr::testing::request_options browser{.headers = {{"Accept", "text/html,application/xhtml+xml"}}};

[[gnu::noinline]] int parse_quantity(const std::string& text) {
    if (text == "many") throw std::invalid_argument{"quantity <many> is not a number"};
    return std::stoi(text);
}

void add_routes(App& app) {
    app.get("/orders/{qty}", [](Path<std::string> qty) { return std::to_string(parse_quantity(*qty)); });
}

bool contains(const std::string& text, std::string_view what) { return text.find(what) != std::string::npos; }

TEST(debug_page, production_mode_gives_a_plain_500_without_details) {
    App app;
    app.debug(false);
    add_routes(app);
    Client client{app};
    auto r = client.get("/orders/many", browser);
    expect_problem(r, 500);
    EXPECT_FALSE(contains(r.text(), "invalid_argument"));
    EXPECT_FALSE(contains(r.text(), "many"));
    EXPECT_FALSE(contains(r.text(), "parse_quantity"));
}

TEST(debug_page, browsers_get_an_html_page_with_exception_request_and_throw_site) {
    App app;
    app.debug(true);
    add_routes(app);
    Client client{app};
    auto r = client.get("/orders/many?x=1", browser);
    EXPECT_EQ(r.status(), 500);
    EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
    const std::string& html = r.text();
    EXPECT_TRUE(contains(html, "std::invalid_argument")) << html;
    EXPECT_TRUE(contains(html, "quantity &lt;many&gt; is not a number"));  // escaped, not raw markup
    EXPECT_FALSE(contains(html, "<many>"));
    EXPECT_TRUE(contains(html, "/orders/many?x=1"));
    EXPECT_TRUE(contains(html, "/orders/{qty}"));
    EXPECT_TRUE(contains(html, "text/html,application/xhtml+xml"));  // the request's headers
    // The stack where it was thrown, symbolized, with this file's source line.
    EXPECT_TRUE(contains(html, "parse_quantity")) << html;
    EXPECT_TRUE(contains(html, "debug_page_test.cpp"));
    EXPECT_TRUE(contains(html, "throw std::invalid_argument{&quot;quantity"));
}

TEST(debug_page, api_clients_get_problem_json_with_the_exception) {
    App app;
    app.debug(true);
    add_routes(app);
    Client client{app};
    auto r = client.get("/orders/many", {.headers = {{"Accept", "application/json"}}});
    expect_problem(r, 500);
    auto j = r.json();
    EXPECT_EQ(j.at("detail").as_string(), "std::invalid_argument: quantity <many> is not a number");
    bool found = false;
    for (const auto& f : j.at("frames").as_array())
        found = found || contains(std::string{f.at("function").as_string()}, "parse_quantity");
    EXPECT_TRUE(found) << r.text();
}

TEST(debug_page, http_errors_and_mapped_errors_are_unchanged_in_debug_mode) {
    App app;
    app.debug(true);
    app.get("/gone", []() -> std::string { throw HttpError{status::gone, "moved away"}; });
    Client client{app};
    auto r = client.get("/gone", browser);
    expect_problem(r, 410);
    EXPECT_EQ(r.json().at("detail").as_string(), "moved away");
}

TEST(debug_page, exceptions_from_coroutines_keep_their_throw_site) {
    App app;
    app.debug(true);
    app.get("/co/{qty}", [](Path<std::string> qty) -> Task<std::string> {
        co_return std::to_string(parse_quantity(*qty));
    });
    Client client{app};
    auto r = client.get("/co/many", browser);
    EXPECT_EQ(r.status(), 500);
    EXPECT_TRUE(contains(r.text(), "parse_quantity"));
}

}  // namespace
