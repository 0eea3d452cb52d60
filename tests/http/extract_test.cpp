// Typed handler parameters: Path, Header, Cookie, Ext, Body and Request&, their rejections and start-up checks.
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <vector>
#include <tuple>

using namespace zephyr;
using zephyr::testing::Client;

TEST(extract, path_scalar_and_tuple) {
    App app;
    app.get("/users/{id}", [](Path<std::int64_t> id) { return std::to_string(*id * 2); });
    app.get("/a/{x}/{name}", [](Path<std::tuple<int, std::string>> p) {
        auto [x, name] = *p;
        return name + std::to_string(x + 1);
    });
    Client client{app};
    EXPECT_EQ(client.get("/users/21").text(), "42");
    EXPECT_EQ(client.get("/a/41/n%20m").text(), "n m42");
    auto bad = client.get("/users/abc");
    EXPECT_EQ(bad.status(), 400);
    EXPECT_EQ(bad.json().at("detail").as_string(), "path parameter 'id': expected an integer");
    EXPECT_EQ(client.get("/a/x/y").json().at("detail").as_string(), "path parameter 'x': expected an integer");
}

TEST(extract, path_arity_mismatch_fails_at_registration) {
    App app;
    try {
        app.get("/a/{x}/{y}", [](Path<int>) { return "x"; });
        ADD_FAILURE() << "expected route_error";
    } catch (const http::route_error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("/a/{x}/{y}"), std::string::npos) << what;
        EXPECT_NE(what.find("Path<std::tuple<...>>"), std::string::npos) << what;
    }
    EXPECT_THROW(app.get("/b", [](Path<std::tuple<int, int>>) { return "x"; }), http::route_error);
    EXPECT_THROW(app.get("/c/{a}", [](Path<std::tuple<int, int>>) { return "x"; }), http::route_error);
}

TEST(extract, headers_required_optional_and_typed) {
    App app;
    app.get("/h", [](Header<"X-Token"> token, Header<"X-Count", int> n, Header<"X-Opt", std::optional<int>> opt) {
        return *token + ":" + std::to_string(*n) + ":" + (opt->has_value() ? std::to_string(**opt) : "none");
    });
    Client client{app};
    EXPECT_EQ(client.get("/h", {.headers = {{"x-token", "abc"}, {"X-Count", "3"}}}).text(), "abc:3:none");
    EXPECT_EQ(client.get("/h", {.headers = {{"X-Token", "a"}, {"X-Count", "3"}, {"X-Opt", "7"}}}).text(), "a:3:7");
    auto missing = client.get("/h", {.headers = {{"X-Count", "3"}}});
    EXPECT_EQ(missing.status(), 400);
    EXPECT_EQ(missing.json().at("detail").as_string(), "header 'X-Token' is required");
    auto typed = client.get("/h", {.headers = {{"X-Token", "a"}, {"X-Count", "many"}}});
    EXPECT_EQ(typed.json().at("detail").as_string(), "header 'X-Count': expected an integer");
    auto opt_bad = client.get("/h", {.headers = {{"X-Token", "a"}, {"X-Count", "1"}, {"X-Opt", "x"}}});
    EXPECT_EQ(opt_bad.status(), 400);
}

TEST(extract, cookies) {
    App app;
    app.get("/c", [](Cookie<"session"> s, Cookie<"theme", std::optional<std::string>> t) {
        return *s + "/" + t->value_or("light");
    });
    Client client{app};
    EXPECT_EQ(client.get("/c", {.headers = {{"Cookie", "session=s1; theme=dark"}}}).text(), "s1/dark");
    EXPECT_EQ(client.get("/c", {.headers = {{"Cookie", "session=s1"}}}).text(), "s1/light");
    EXPECT_EQ(client.get("/c").json().at("detail").as_string(), "cookie 'session' is required");
}

struct current_user {
    std::string name;
};

TEST(extract, ext_reads_what_a_layer_stored_and_500s_without_it) {
    App app;
    auto& api = app.group("/api");
    api.layers([](Request& req, Next next) -> Task<Response> {
        req.extensions().insert(current_user{"ada"});
        co_return co_await next(req);
    });
    api.get("/me", [](Ext<current_user> u) { return u->name; });
    app.get("/unprotected", [](Ext<current_user> u) { return u->name; });
    Client client{app};
    EXPECT_EQ(client.get("/api/me").text(), "ada");
    auto r = client.get("/unprotected");
    EXPECT_EQ(r.status(), 500);
    EXPECT_EQ(r.text().find("Ext<T>"), std::string::npos);  // the internal message is logged, not sent
}

TEST(extract, body_and_request_together_in_a_coroutine) {
    App app;
    app.post("/echo/{n}", [](Request& req, Path<int> n, Body body) -> Task<std::string> {
        co_return std::string{req.method_name()} + " " + std::to_string(*n) + " " + *body;
    });
    Client client{app};
    EXPECT_EQ(client.post("/echo/5", "payload").text(), "POST 5 payload");
}

TEST(extract, plain_extractor_handlers_stay_on_the_sync_path) {
    auto plain = http::make_endpoint([](Path<int> id, Header<"A"> a) { return std::to_string(*id) + *a; });
    EXPECT_TRUE(plain->is_sync());
    auto coro = http::make_endpoint([](Path<int> id) -> Task<std::string> { co_return std::to_string(*id); });
    EXPECT_FALSE(coro->is_sync());
}

// ---- Json<T> and Query<T> ----------------------------------------------------------------------------

struct line_item {
    std::string sku;
    int qty = 0;
};
BOOST_DESCRIBE_STRUCT(line_item, (), (sku, qty))

struct new_order {
    std::string customer;
    std::vector<line_item> items;
    std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(new_order, (), (customer, items, note))

struct order_summary {
    std::string customer;
    int total_qty = 0;
};
BOOST_DESCRIBE_STRUCT(order_summary, (), (customer, total_qty))

struct listing {
    std::optional<int> page;
    std::vector<std::string> tag;
    bool desc = false;
};
BOOST_DESCRIBE_STRUCT(listing, (), (page, tag, desc))

namespace {
App& order_app(App& app) {
    app.post("/orders", [](Json<new_order> o) -> Json<order_summary> {
        int total = 0;
        for (const auto& i : o->items) total += i.qty;
        return order_summary{o->customer, total};
    });
    app.get("/items", [](Query<listing> q) {
        return std::to_string(q->page.value_or(1)) + ":" + std::to_string(q->tag.size()) + ":" +
               (q->desc ? "desc" : "asc");
    });
    return app;
}
const zephyr::testing::request_options json_type{.headers = {{"Content-Type", "application/json"}}};
}  // namespace

TEST(extract, json_body_in_and_json_out) {
    App app;
    Client client{order_app(app)};
    auto r = client.post("/orders", R"({"customer":"ada","items":[{"sku":"a","qty":2},{"sku":"b","qty":3}]})",
                         json_type);
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    EXPECT_EQ(r.json().at("total_qty").as_int64(), 5);
    EXPECT_EQ(r.json().at("customer").as_string(), "ada");
}

TEST(extract, json_rejections_list_every_failing_field) {
    App app;
    Client client{order_app(app)};
    auto shape = client.post("/orders", R"({"items":[{"sku":"a","qty":1},{"sku":"b"},{"sku":"c","qty":"x"}]})",
                             json_type);
    EXPECT_EQ(shape.status(), 422);
    EXPECT_EQ(shape.header("Content-Type"), "application/problem+json");
    auto errors = shape.json().at("errors").as_array();
    std::vector<std::string> paths;
    for (const auto& e : errors) paths.emplace_back(e.at("path").as_string());
    EXPECT_NE(std::find(paths.begin(), paths.end(), "body.customer"), paths.end());
    EXPECT_NE(std::find(paths.begin(), paths.end(), "body.items[1].qty"), paths.end());
    EXPECT_NE(std::find(paths.begin(), paths.end(), "body.items[2].qty"), paths.end());

    auto syntax = client.post("/orders", R"({"customer": "ada", )", json_type);
    EXPECT_EQ(syntax.status(), 400);
    EXPECT_NE(std::string{syntax.json().at("detail").as_string()}.find("invalid JSON"), std::string::npos);

    auto wrong_type = client.post("/orders", R"({"customer":"ada","items":[]})",
                                  {.headers = {{"Content-Type", "text/plain"}}});
    EXPECT_EQ(wrong_type.status(), 415);
    EXPECT_EQ(client.post("/orders", R"({"customer":"ada","items":[]})",
                          {.headers = {{"Content-Type", "application/vnd.api+json; charset=utf-8"}}})
                  .status(),
              200);
    auto deep = client.post("/orders", std::string(100000, '['), json_type);
    EXPECT_EQ(deep.status(), 400);
}

TEST(extract, query_struct_with_repeated_keys_and_defaults) {
    App app;
    Client client{order_app(app)};
    EXPECT_EQ(client.get("/items?page=3&tag=a&tag=b&desc=true").text(), "3:2:desc");
    EXPECT_EQ(client.get("/items?desc=false").text(), "1:0:asc");
    EXPECT_EQ(client.get("/items").text(), "1:0:asc");  // a missing parameter keeps the member's default
    auto bad = client.get("/items?page=x&desc=maybe");
    EXPECT_EQ(bad.status(), 400);
    EXPECT_EQ(bad.json().at("errors").as_array().size(), 2u);
    EXPECT_EQ(std::string{bad.json().at("errors").as_array()[0].at("path").as_string()}.substr(0, 6), "query.");
}

// ---- return types ------------------------------------------------------------------------------------------

TEST(returns, created_no_content_redirect_html) {
    App app;
    app.post("/orders", [](Json<new_order> o) -> Created<Json<order_summary>> {
        return {order_summary{o->customer, 0}, "/orders/1"};
    });
    app.del("/orders/{id}", [](Path<int>) { return NoContent{}; });
    app.get("/old", [] { return Redirect{"/new", status::permanent_redirect}; });
    app.get("/page", []() -> Task<Html> { co_return Html{"<h1>hi</h1>"}; });
    Client client{app};
    auto c = client.post("/orders", R"({"customer":"ada","items":[]})", json_type);
    EXPECT_EQ(c.status(), 201);
    EXPECT_EQ(c.header("Location"), "/orders/1");
    EXPECT_EQ(c.json().at("customer").as_string(), "ada");
    auto d = client.del("/orders/1");
    EXPECT_EQ(d.status(), 204);
    EXPECT_TRUE(d.text().empty());
    auto r = client.get("/old");
    EXPECT_EQ(r.status(), 308);
    EXPECT_EQ(r.header("Location"), "/new");
    auto h = client.get("/page");
    EXPECT_EQ(h.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(h.text(), "<h1>hi</h1>");
}

// ---- Form<T> -------------------------------------------------------------------------------------------------

struct signup {
    std::string email;
    int age = 0;
    bool newsletter = false;
    std::vector<std::string> topic;
};
BOOST_DESCRIBE_STRUCT(signup, (), (email, age, newsletter, topic))

TEST(extract, form_bodies) {
    App app;
    app.post("/signup", [](Form<signup> f) {
        return f->email + " " + std::to_string(f->age) + (f->newsletter ? " yes " : " no ") +
               std::to_string(f->topic.size());
    });
    Client client{app};
    const zephyr::testing::request_options form{.headers = {{"Content-Type", "application/x-www-form-urlencoded"}}};
    EXPECT_EQ(client.post("/signup", "email=a%40b.c&age=42&newsletter=on&topic=x&topic=y", form).text(),
              "a@b.c 42 yes 2");
    auto bad = client.post("/signup", "email=a&age=old&newsletter=maybe", form);
    EXPECT_EQ(bad.status(), 422);
    EXPECT_EQ(bad.json().at("errors").as_array().size(), 2u);
    EXPECT_EQ(client.post("/signup", "email=%zz", form).status(), 400);
    EXPECT_EQ(client.post("/signup", "email=a&age=1&newsletter=off", json_type).status(), 415);
}
