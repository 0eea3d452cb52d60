// examples/02-json-api, driven through the in-process client: what its documentation promises.
#include <gtest/gtest.h>  // before the example's `using namespace zephyr`, which makes `testing` ambiguous

#define ZEPHYR_EXAMPLE_NO_MAIN
#include "../../examples/02-json-api/main.cpp"

#include "support/problem.hpp"

#include <zephyr/testing.hpp>

#include <gtest/gtest.h>

using zephyr::test_support::expect_problem;

namespace {

const zephyr::testing::request_options json_body{.headers = {{"Content-Type", "application/json"}}};

TEST(json_api_example, create_read_list_delete) {
    App app;
    zephyr::testing::Client client{make_app(app)};
    auto made = client.post("/books", R"({"title":"Dune","author":"Frank Herbert","year":1965,"tags":["sf"]})",
                            json_body);
    ASSERT_EQ(made.status(), 201);
    EXPECT_EQ(made.header("Location"), "/books/1");
    EXPECT_EQ(made.json().at("id").as_int64(), 1);
    client.post("/books", R"({"title":"Emma","author":"Jane Austen","year":1815,"tags":["classic"]})", json_body);

    auto one = client.get("/books/1");
    ASSERT_EQ(one.status(), 200) << one.text();
    EXPECT_EQ(one.json().at("title").as_string(), "Dune");
    auto sf_response = client.get("/books?tag=sf");
    ASSERT_EQ(sf_response.status(), 200) << sf_response.text();
    auto sf = sf_response.json();
    EXPECT_EQ(sf.at("total").as_int64(), 1);
    EXPECT_EQ(sf.at("items").as_array().size(), 1u);
    EXPECT_EQ(client.get("/books?limit=1&offset=1").json().at("items").at(0).at("title").as_string(), "Emma");

    EXPECT_EQ(client.del("/books/1").status(), 204);
    expect_problem(client.get("/books/1"), 404);
    expect_problem(client.del("/books/1"), 404);
}

TEST(json_api_example, bad_input_is_answered_field_by_field) {
    App app;
    zephyr::testing::Client client{make_app(app)};
    auto r = client.post("/books", R"({"title":"","author":"A","year":3000,"tags":["Not OK"],"isbn":"123"})", json_body);
    expect_problem(r, 422);
    std::vector<std::string> paths;
    const auto body = r.json();
    for (const auto& e : body.at("errors").as_array()) paths.emplace_back(e.at("path").as_string());
    EXPECT_EQ(paths, (std::vector<std::string>{"body.title", "body.year", "body.tags[0]", "body.isbn"}));
    expect_problem(client.get("/books?limit=0"), 400);
    expect_problem(client.get("/books?limit=x"), 400);
    expect_problem(client.post("/books", "{", json_body), 400);
    expect_problem(client.post("/books", "{}", {.headers = {{"Content-Type", "text/plain"}}}), 415);
}

TEST(json_api_example, the_test_client_sends_structs_and_json_values) {
    App app;
    zephyr::testing::Client client{make_app(app)};
    auto made = client.post_json("/books", new_book{"Emma", "Jane Austen", 1815, {"classic"}, std::nullopt});
    EXPECT_EQ(made.status(), 201);
    EXPECT_EQ(made.json().at("author").as_string(), "Jane Austen");
    boost::json::value bad = {{"title", "x"}, {"author", "y"}, {"year", 1}, {"tags", boost::json::array{}}};
    expect_problem(client.post_json("/books", bad), 422);
    zephyr::testing::Server server{app};
    EXPECT_EQ(server.post_json("/books", new_book{"Dune", "Frank Herbert", 1965, {}, std::nullopt}).status(), 201);
    EXPECT_EQ(server.get("/books").json().at("total").as_int64(), 2);
}

TEST(json_api_example, duplicate_isbn_is_a_conflict) {
    App app;
    zephyr::testing::Client client{make_app(app)};
    const std::string b = R"({"title":"Dune","author":"Frank Herbert","year":1965,"tags":[],"isbn":"9780441013593"})";
    EXPECT_EQ(client.post("/books", b, json_body).status(), 201);
    auto again = client.post("/books", b, json_body);
    expect_problem(again, 409);
    EXPECT_EQ(again.json().at("detail").as_string(), "a book with ISBN 9780441013593 exists");
}

}  // namespace
