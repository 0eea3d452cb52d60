// Routing: patterns, parameters, priorities, groups, methods, automatic HEAD/OPTIONS/404/405, registration
// errors, names and url_for, and the handler result types.
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <gtest/gtest.h>

#include "support/problem.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace http = zephyr::http;
using zephyr::App;
using zephyr::Request;
using zephyr::Response;
using zephyr::Task;
using zephyr::testing::Client;
using zephyr::testing::TestResponse;

// The message of the route_error thrown by `f`, or a failure when it throws nothing or something else.
template <class F>
std::string route_error_message(F&& f) {
    try {
        f();
    } catch (const http::route_error& e) {
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "expected route_error, got another exception: " << e.what();
        return {};
    }
    ADD_FAILURE() << "expected route_error, nothing was thrown";
    return {};
}

// The comma-separated tokens of an Allow header, as a set.
std::set<std::string> allow_set(std::string_view allow) {
    std::set<std::string> out;
    while (!allow.empty()) {
        auto comma = allow.find(',');
        std::string_view item = allow.substr(0, comma);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!item.empty()) out.emplace(item);
        if (comma == std::string_view::npos) break;
        allow.remove_prefix(comma + 1);
    }
    return out;
}

using zephyr::test_support::expect_problem;

std::string echo_param(Request& req, std::string_view name) { return std::string{req.param(name)}; }

}  // namespace

// ---- matching ------------------------------------------------------------------------------------------

TEST(router, static_routes) {
    App app;
    app.get("/", [] { return "root"; });
    app.get("/about", [] { return "about"; });
    app.get("/a/b/c", [] { return "abc"; });
    Client client{app};
    EXPECT_EQ(client.get("/").text(), "root");
    EXPECT_EQ(client.get("/about").text(), "about");
    EXPECT_EQ(client.get("/a/b/c").text(), "abc");
    EXPECT_EQ(client.get("/a/b").status(), 404);
    EXPECT_EQ(client.get("/a/b/c/d").status(), 404);
    EXPECT_EQ(client.get("/abou").status(), 404);
    EXPECT_EQ(client.get("/About").status(), 404);  // paths are case-sensitive
}

TEST(router, query_string_does_not_affect_matching) {
    App app;
    app.get("/search", [](Request& req) { return std::string{req.path()} + "|" + std::string{req.query_string()}; });
    Client client{app};
    auto r = client.get("/search?q=x&y=1");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.text(), "/search|q=x&y=1");
}

TEST(router, plain_parameter) {
    App app;
    app.get("/users/{id}", [](Request& req) { return echo_param(req, "id"); });
    app.get("/users/{id}/posts/{post}",
            [](Request& req) { return echo_param(req, "id") + "," + echo_param(req, "post"); });
    Client client{app};
    EXPECT_EQ(client.get("/users/42").text(), "42");
    EXPECT_EQ(client.get("/users/alice").text(), "alice");
    EXPECT_EQ(client.get("/users/7/posts/9").text(), "7,9");
    EXPECT_EQ(client.get("/users/").status(), 404);  // a parameter never matches an empty segment
    EXPECT_EQ(client.get("/users/a/b").status(), 404);
}

TEST(router, params_are_listed_in_pattern_order) {
    App app;
    app.get("/{a}/x/{b}/{c:int}", [](Request& req) {
        std::string out;
        for (const auto& p : req.params()) out += std::string{p.name} + "=" + p.value + ";";
        return out;
    });
    Client client{app};
    EXPECT_EQ(client.get("/one/x/two/3").text(), "a=one;b=two;c=3;");
}

TEST(router, int_parameter) {
    App app;
    app.get("/twice/{n:int}", [](Request& req) { return std::to_string(req.param<long long>("n") * 2); });
    Client client{app};
    EXPECT_EQ(client.get("/twice/21").text(), "42");
    EXPECT_EQ(client.get("/twice/-5").text(), "-10");
    EXPECT_EQ(client.get("/twice/0").text(), "0");
    EXPECT_EQ(client.get("/twice/x").status(), 404);
    EXPECT_EQ(client.get("/twice/12a").status(), 404);
    EXPECT_EQ(client.get("/twice/-").status(), 404);
    EXPECT_EQ(client.get("/twice/1.5").status(), 404);
    // "+5" is not what req.param<int>() converts, so it must not match (rather than match and fail with 400).
    EXPECT_EQ(client.get("/twice/+5").status(), 404);
}

TEST(router, int_parameter_out_of_range_is_400) {
    App app;
    app.get("/n/{n:int}", [](Request& req) { return std::to_string(req.param<int>("n")); });
    Client client{app};
    auto r = client.get("/n/99999999999999999999");
    expect_problem(r, 400);
    EXPECT_NE(r.json().at("detail").as_string().find("'n'"), boost::json::string::npos);
}

TEST(router, params_are_percent_decoded) {
    App app;
    app.get("/files/{name}", [](Request& req) { return echo_param(req, "name"); });
    Client client{app};
    EXPECT_EQ(client.get("/files/a%20b").text(), "a b");
    EXPECT_EQ(client.get("/files/a%2Fb").text(), "a/b");  // an encoded slash stays inside one segment
    EXPECT_EQ(client.get("/files/%C3%A9t%C3%A9").text(), "\xC3\xA9t\xC3\xA9");
    EXPECT_EQ(client.get("/files/a+b").text(), "a+b");  // '+' is only a space in query strings
}

TEST(router, percent_encoded_static_segment_matches) {
    App app;
    app.get("/caf\xC3\xA9", [] { return "cafe"; });
    Client client{app};
    EXPECT_EQ(client.get("/caf%C3%A9").text(), "cafe");
    EXPECT_EQ(client.get("/caf%c3%a9").text(), "cafe");
}

TEST(router, malformed_percent_encoding_in_param_is_400) {
    App app;
    app.get("/files/{name}", [](Request& req) { return echo_param(req, "name"); });
    Client client{app};
    auto r = client.get("/files/a%zzb");
    expect_problem(r, 400);
    EXPECT_NE(r.json().at("detail").as_string().find("name"), boost::json::string::npos);
    expect_problem(client.get("/files/abc%"), 400);
    expect_problem(client.get("/files/abc%4"), 400);
}

TEST(router, catch_all) {
    App app;
    app.get("/static/{*path}", [](Request& req) { return "[" + echo_param(req, "path") + "]"; });
    Client client{app};
    EXPECT_EQ(client.get("/static/site.css").text(), "[site.css]");
    EXPECT_EQ(client.get("/static/css/deep/site.css").text(), "[css/deep/site.css]");
    EXPECT_EQ(client.get("/static/").text(), "[]");
    EXPECT_EQ(client.get("/static/a%20b/c").text(), "[a b/c]");
    EXPECT_EQ(client.get("/other/x").status(), 404);
}

TEST(router, root_catch_all) {
    App app;
    app.get("/{*rest}", [](Request& req) { return "[" + echo_param(req, "rest") + "]"; });
    app.get("/exact", [] { return "exact"; });
    Client client{app};
    EXPECT_EQ(client.get("/exact").text(), "exact");
    EXPECT_EQ(client.get("/anything/at/all").text(), "[anything/at/all]");
    EXPECT_EQ(client.get("/").text(), "[]");
}

TEST(router, static_beats_param_beats_catch_all) {
    App app;
    app.get("/users/new", [] { return "static"; });
    app.get("/users/{id}", [](Request& req) { return "param " + echo_param(req, "id"); });
    app.get("/users/{*rest}", [](Request& req) { return "catch-all " + echo_param(req, "rest"); });
    Client client{app};
    EXPECT_EQ(client.get("/users/new").text(), "static");
    EXPECT_EQ(client.get("/users/5").text(), "param 5");
    EXPECT_EQ(client.get("/users/5/x/y").text(), "catch-all 5/x/y");
}

TEST(router, registration_order_does_not_change_priority) {
    App app;
    app.get("/users/{*rest}", [](Request& req) { return "catch-all " + echo_param(req, "rest"); });
    app.get("/users/{id}", [](Request& req) { return "param " + echo_param(req, "id"); });
    app.get("/users/new", [] { return "static"; });
    Client client{app};
    EXPECT_EQ(client.get("/users/new").text(), "static");
    EXPECT_EQ(client.get("/users/5").text(), "param 5");
    EXPECT_EQ(client.get("/users/5/6").text(), "catch-all 5/6");
}

TEST(router, backtracks_from_static_to_param) {
    App app;
    app.get("/users/new", [] { return "new form"; });
    app.get("/users/{id}/edit", [](Request& req) { return "edit " + echo_param(req, "id"); });
    Client client{app};
    EXPECT_EQ(client.get("/users/new").text(), "new form");
    EXPECT_EQ(client.get("/users/new/edit").text(), "edit new");
    EXPECT_EQ(client.get("/users/3/edit").text(), "edit 3");
    EXPECT_EQ(client.get("/users/3").status(), 404);
}

TEST(router, backtracks_from_param_to_catch_all) {
    App app;
    app.get("/a/{x}/b", [](Request& req) { return "param " + echo_param(req, "x"); });
    app.get("/a/{*rest}", [](Request& req) { return "rest " + echo_param(req, "rest"); });
    Client client{app};
    EXPECT_EQ(client.get("/a/1/b").text(), "param 1");
    EXPECT_EQ(client.get("/a/1/c").text(), "rest 1/c");
    EXPECT_EQ(client.get("/a/1").text(), "rest 1");
}

TEST(router, int_param_falls_back_to_catch_all) {
    App app;
    app.get("/n/{id:int}", [](Request& req) { return "int " + echo_param(req, "id"); });
    app.get("/n/{*rest}", [](Request& req) { return "rest " + echo_param(req, "rest"); });
    Client client{app};
    EXPECT_EQ(client.get("/n/12").text(), "int 12");
    EXPECT_EQ(client.get("/n/abc").text(), "rest abc");
}

TEST(router, route_info_is_visible_to_handlers) {
    App app;
    app.get("/users/{id}", [](Request& req) { return req.route()->pattern + "|" + req.route()->name; },
            {.name = "users.show"});
    app.get("/plain", [](Request& req) { return req.route()->pattern + "|" + req.route()->name; });
    Client client{app};
    EXPECT_EQ(client.get("/users/1").text(), "/users/{id}|users.show");
    EXPECT_EQ(client.get("/plain").text(), "/plain|");
}

// ---- groups ----------------------------------------------------------------------------------------------

TEST(router, groups_prefix_their_routes) {
    App app;
    auto& api = app.group("/api");
    api.get("/items", [] { return "items"; });
    api.get("/", [] { return "api root"; });
    api.get("/items/{id:int}", [](Request& req) { return "item " + echo_param(req, "id"); });
    auto& v1 = api.group("/v1");
    v1.get("/status", [] { return "v1 status"; });
    auto& users = v1.group("/users/{uid}");
    users.get("/posts", [](Request& req) { return "posts of " + echo_param(req, "uid"); });

    EXPECT_EQ(api.prefix(), "/api");
    EXPECT_EQ(v1.prefix(), "/api/v1");
    EXPECT_EQ(app.prefix(), "");

    Client client{app};
    EXPECT_EQ(client.get("/api/items").text(), "items");
    EXPECT_EQ(client.get("/api").text(), "api root");
    EXPECT_EQ(client.get("/api/items/4").text(), "item 4");
    EXPECT_EQ(client.get("/api/v1/status").text(), "v1 status");
    EXPECT_EQ(client.get("/api/v1/users/bob/posts").text(), "posts of bob");
    EXPECT_EQ(client.get("/items").status(), 404);
    EXPECT_EQ(client.get("/v1/status").status(), 404);
}

TEST(router, route_reports_full_pattern_and_methods) {
    App app;
    auto& api = app.group("/api");
    auto& r = api.route({http::method::get, http::method::post}, "/things/{id}", [] { return "x"; });
    EXPECT_EQ(r.pattern(), "/api/things/{id}");
    EXPECT_EQ(r.methods(), (std::vector<http::method>{http::method::get, http::method::post}));
}

TEST(router, malformed_group_prefix_throws) {
    App app;
    EXPECT_THROW(app.group("api"), http::route_error);
    EXPECT_THROW(app.group("/api/"), http::route_error);
    EXPECT_THROW(app.group(""), http::route_error);
    EXPECT_THROW(app.group("/a{b"), http::route_error);
}

// ---- methods ---------------------------------------------------------------------------------------------

TEST(router, every_verb) {
    App app;
    app.get("/r", [] { return "get"; });
    app.post("/r", [](Request& req) { return "post " + req.body(); });
    app.put("/r", [](Request& req) { return "put " + req.body(); });
    app.patch("/r", [](Request& req) { return "patch " + req.body(); });
    app.del("/r", [] { return "delete"; });
    app.options("/r", [] { return "options"; });
    app.route(http::method::trace, "/r", [] { return "trace"; });
    Client client{app};
    EXPECT_EQ(client.get("/r").text(), "get");
    EXPECT_EQ(client.post("/r", "a").text(), "post a");
    EXPECT_EQ(client.put("/r", "b").text(), "put b");
    EXPECT_EQ(client.patch("/r", "c").text(), "patch c");
    EXPECT_EQ(client.del("/r").text(), "delete");
    EXPECT_EQ(client.options("/r").text(), "options");
    EXPECT_EQ(client.request("TRACE", "/r").text(), "trace");
}

TEST(router, method_list_shares_one_handler) {
    App app;
    app.route({http::method::get, http::method::post}, "/form",
              [](Request& req) { return std::string{req.method_name()}; });
    Client client{app};
    EXPECT_EQ(client.get("/form").text(), "GET");
    EXPECT_EQ(client.post("/form", "").text(), "POST");
    auto r = client.put("/form", "");
    EXPECT_EQ(r.status(), 405);
    EXPECT_EQ(allow_set(r.header("Allow")), (std::set<std::string>{"GET", "HEAD", "POST", "OPTIONS"}));
}

TEST(router, head_is_answered_from_get) {
    App app;
    int calls = 0;
    app.get("/h", [&calls] {
        ++calls;
        Response r = Response::text("hello world");
        r.headers().set("X-Custom", "yes");
        return r;
    });
    Client client{app};
    auto r = client.head("/h");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.text(), "");
    EXPECT_EQ(r.header("Content-Length"), "11");
    EXPECT_EQ(r.header("X-Custom"), "yes");
    EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(calls, 1);
}

TEST(router, head_of_param_and_async_route) {
    App app;
    app.get("/p/{x}", [](Request& req) -> Task<std::string> { co_return "value=" + std::string{req.param("x")}; });
    Client client{app};
    auto get = client.get("/p/abc");
    auto head = client.head("/p/abc");
    EXPECT_EQ(head.status(), 200);
    EXPECT_TRUE(head.text().empty());
    EXPECT_EQ(head.header("Content-Length"), std::to_string(get.text().size()));
}

TEST(router, head_without_get_is_405) {
    App app;
    app.post("/only-post", [] { return "x"; });
    Client client{app};
    auto r = client.head("/only-post");
    EXPECT_EQ(r.status(), 405);
    EXPECT_EQ(allow_set(r.header("Allow")), (std::set<std::string>{"POST", "OPTIONS"}));
}

TEST(router, explicit_head_route_wins_over_get) {
    App app;
    app.get("/x", [] { return "from get"; });
    app.route(http::method::head, "/x", [] {
        Response r{http::status::ok};
        r.headers().set("X-From", "head");
        return r;
    });
    Client client{app};
    auto r = client.head("/x");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.header("X-From"), "head");
    EXPECT_EQ(client.get("/x").text(), "from get");
}

TEST(router, not_found_is_problem_json) {
    App app;
    app.get("/exists", [] { return "x"; });
    Client client{app};
    auto r = client.get("/missing");
    expect_problem(r, 404);
    EXPECT_EQ(r.json().at("title").as_string(), "Not Found");
    EXPECT_TRUE(r.json().as_object().contains("detail"));
    expect_problem(client.post("/missing", "x"), 404);
}

TEST(router, empty_app_answers_404) {
    App app;
    Client client{app};
    expect_problem(client.get("/"), 404);
}

TEST(router, method_not_allowed_lists_allowed_methods) {
    App app;
    app.get("/thing", [] { return "get"; });
    app.post("/thing", [] { return "post"; });
    app.del("/thing", [] { return "delete"; });
    Client client{app};
    auto r = client.put("/thing", "x");
    expect_problem(r, 405);
    EXPECT_EQ(allow_set(r.header("Allow")), (std::set<std::string>{"GET", "HEAD", "POST", "DELETE", "OPTIONS"}));
    EXPECT_NE(r.json().at("detail").as_string().find("PUT"), boost::json::string::npos);
}

TEST(router, method_not_allowed_on_param_route) {
    App app;
    app.put("/docs/{id}", [] { return "put"; });
    Client client{app};
    auto r = client.get("/docs/7");
    EXPECT_EQ(r.status(), 405);
    EXPECT_EQ(allow_set(r.header("Allow")), (std::set<std::string>{"PUT", "OPTIONS"}));
}

TEST(router, automatic_options) {
    App app;
    app.get("/thing", [] { return "get"; });
    app.patch("/thing", [] { return "patch"; });
    Client client{app};
    auto r = client.options("/thing");
    EXPECT_EQ(r.status(), 204);
    EXPECT_TRUE(r.text().empty());
    EXPECT_EQ(allow_set(r.header("Allow")), (std::set<std::string>{"GET", "HEAD", "PATCH", "OPTIONS"}));
    EXPECT_EQ(client.options("/nothing-here").status(), 404);
}

TEST(router, explicit_options_route_wins) {
    App app;
    app.get("/cors", [] { return "get"; });
    app.options("/cors", [] {
        Response r{http::status::ok};
        r.headers().set("Access-Control-Allow-Origin", "*");
        return r;
    });
    Client client{app};
    auto r = client.options("/cors");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "*");
    EXPECT_FALSE(r.has_header("Allow"));
}

TEST(router, extension_method) {
    App app;
    app.get("/dav", [] { return "x"; });
    Client client{app};
    auto r = client.request("PROPFIND", "/dav");
    EXPECT_EQ(r.status(), 405);
    EXPECT_EQ(allow_set(r.header("Allow")), (std::set<std::string>{"GET", "HEAD", "OPTIONS"}));
    EXPECT_EQ(client.request("PROPFIND", "/nowhere").status(), 404);
}

TEST(router, method_other_cannot_be_routed) {
    App app;
    EXPECT_THROW(app.route(http::method::other, "/x", [] { return "x"; }), http::route_error);
    EXPECT_THROW(app.route(std::initializer_list<http::method>{}, "/x", [] { return "x"; }), http::route_error);
}

// ---- registration errors ---------------------------------------------------------------------------------

TEST(router, same_method_and_path_conflict_names_both_routes) {
    App app;
    app.route({http::method::get, http::method::post}, "/dup", [] { return "a"; });
    std::string msg = route_error_message([&] { app.get("/dup", [] { return "b"; }); });
    EXPECT_NE(msg.find("GET|POST /dup"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'GET /dup'"), std::string::npos) << msg;
    // The first route still answers; the rejected one was not registered.
    Client client{app};
    EXPECT_EQ(client.get("/dup").text(), "a");
}

TEST(router, conflict_detected_through_groups) {
    App app;
    app.get("/api/x", [] { return "a"; });
    auto& api = app.group("/api");
    std::string msg = route_error_message([&] { api.get("/x", [] { return "b"; }); });
    EXPECT_NE(msg.find("/api/x"), std::string::npos) << msg;
}

TEST(router, different_methods_on_same_path_do_not_conflict) {
    App app;
    app.get("/x", [] { return "get"; });
    EXPECT_NO_THROW(app.post("/x", [] { return "post"; }));
}

TEST(router, param_name_clash_names_both_routes) {
    App app;
    app.get("/u/{id}", [] { return "a"; });
    std::string msg = route_error_message([&] { app.post("/u/{name}/x", [] { return "b"; }); });
    EXPECT_NE(msg.find("GET /u/{id}"), std::string::npos) << msg;
    EXPECT_NE(msg.find("POST /u/{name}/x"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'id'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'name'"), std::string::npos) << msg;
}

TEST(router, int_vs_plain_param_clash_names_both_routes) {
    App app;
    app.get("/n/{id:int}", [] { return "a"; });
    std::string msg = route_error_message([&] { app.post("/n/{id}", [] { return "b"; }); });
    EXPECT_NE(msg.find("GET /n/{id:int}"), std::string::npos) << msg;
    EXPECT_NE(msg.find("POST /n/{id}"), std::string::npos) << msg;

    App other;
    other.get("/n/{id}", [] { return "a"; });
    std::string msg2 = route_error_message([&] { other.post("/n/{id:int}/more", [] { return "b"; }); });
    EXPECT_NE(msg2.find("GET /n/{id}"), std::string::npos) << msg2;
    EXPECT_NE(msg2.find("POST /n/{id:int}/more"), std::string::npos) << msg2;
}

TEST(router, catch_all_name_clash_names_both_routes) {
    App app;
    app.get("/s/{*path}", [] { return "a"; });
    std::string msg = route_error_message([&] { app.post("/s/{*rest}", [] { return "b"; }); });
    EXPECT_NE(msg.find("GET /s/{*path}"), std::string::npos) << msg;
    EXPECT_NE(msg.find("POST /s/{*rest}"), std::string::npos) << msg;
}

TEST(router, rejected_route_leaves_the_app_usable) {
    App app;
    app.get("/u/{id}", [](Request& req) { return echo_param(req, "id"); });
    EXPECT_THROW(app.get("/u/{name}/x", [] { return "b"; }), http::route_error);
    app.get("/u/{id}/x", [](Request& req) { return "x of " + echo_param(req, "id"); });
    Client client{app};
    EXPECT_EQ(client.get("/u/1").text(), "1");
    EXPECT_EQ(client.get("/u/1/x").text(), "x of 1");
}

struct malformed_case {
    const char* pattern;
    const char* hint;  // a fragment the message must contain
};

TEST(router, malformed_patterns_throw_helpful_route_errors) {
    const malformed_case cases[] = {
        {"users", "starts with '/'"},
        {"", "starts with '/'"},
        {"/users/{id", "{id"},
        {"/users/{id/x}", "{id"},
        {"/files/file.{ext}", "whole segment"},
        {"/files/pre{x}", "whole segment"},
        {"/a/{*rest}/b", "last"},
        {"/a/{*rest}/", "last"},
        {"/a/{x}/{x}", "twice"},
        {"/a/{x}/b/{x:int}", "twice"},
        {"/u/{id:uuid}", "uuid"},
        {"/u/{}", "parameter name"},
        {"/u/{1abc}", "parameter name"},
        {"/u/{a-b}", "parameter name"},
        {"/u/{*}", "parameter name"},
        {"/u/{*p:int}", "no type"},
        {"/a?b", "whole segment"},
    };
    for (const auto& c : cases) {
        App app;
        std::string msg = route_error_message([&] { app.get(c.pattern, [] { return "x"; }); });
        EXPECT_NE(msg.find(c.hint), std::string::npos) << "pattern '" << c.pattern << "': " << msg;
        EXPECT_NE(msg.find(std::string{"'"} + c.pattern + "'"), std::string::npos)
            << "the message should quote the pattern '" << c.pattern << "': " << msg;
    }
}

TEST(router, route_error_is_a_logic_error) {
    App app;
    EXPECT_THROW(app.get("nope", [] { return "x"; }), std::logic_error);
}

// ---- names and url_for -----------------------------------------------------------------------------------

TEST(router, url_for_fills_params) {
    App app;
    app.get("/users/{id}", [] { return "x"; }, {.name = "users.show"});
    app.get("/", [] { return "x"; }, {.name = "home"});
    app.get("/about", [] { return "x"; }).name("about");
    auto& api = app.group("/api");
    api.get("/items/{id:int}/tags/{tag}", [] { return "x"; }, {.name = "api.tag"});

    EXPECT_EQ(app.url_for("users.show", {{"id", "42"}}), "/users/42");
    EXPECT_EQ(app.url_for("home"), "/");
    EXPECT_EQ(app.url_for("about"), "/about");
    EXPECT_EQ(app.url_for("api.tag", {{"tag", "red"}, {"id", "7"}}), "/api/items/7/tags/red");
    app.get("/docs/", [] { return "x"; }, {.name = "docs"});
    EXPECT_EQ(app.url_for("docs"), "/docs/");
    api.get("/", [] { return "x"; }, {.name = "api.root"});
    EXPECT_EQ(app.url_for("api.root"), "/api");
}

TEST(router, url_for_percent_encodes_params) {
    App app;
    app.get("/users/{id}", [] { return "x"; }, {.name = "users.show"});
    EXPECT_EQ(app.url_for("users.show", {{"id", "a b/c?d"}}), "/users/a%20b%2Fc%3Fd");
    EXPECT_EQ(app.url_for("users.show", {{"id", "\xC3\xA9"}}), "/users/%C3%A9");
}

TEST(router, url_for_round_trips_through_the_router) {
    App app;
    app.get("/users/{id}", [](Request& req) { return echo_param(req, "id"); }, {.name = "users.show"});
    std::string url = app.url_for("users.show", {{"id", "odd / value%"}});
    Client client{app};
    EXPECT_EQ(client.get(url).text(), "odd / value%");
}

TEST(router, url_for_catch_all_keeps_slashes) {
    App app;
    app.get("/static/{*path}", [] { return "x"; }, {.name = "static"});
    EXPECT_EQ(app.url_for("static", {{"path", "css/a b.css"}}), "/static/css/a%20b.css");
}

TEST(router, url_for_extra_params_become_query) {
    App app;
    app.get("/users/{id}", [] { return "x"; }, {.name = "users.show"});
    EXPECT_EQ(app.url_for("users.show", {{"id", "5"}, {"page", "2"}, {"q", "x y&z"}}),
              "/users/5?page=2&q=x%20y%26z");
    app.get("/", [] { return "x"; }, {.name = "home"});
    EXPECT_EQ(app.url_for("home", {{"a", "1"}}), "/?a=1");
}

TEST(router, url_for_errors) {
    App app;
    app.get("/users/{id}", [] { return "x"; }, {.name = "users.show"});
    app.get("/n/{n:int}", [] { return "x"; }, {.name = "n"});
    EXPECT_THROW(app.url_for("users.show"), std::invalid_argument);
    EXPECT_THROW(app.url_for("users.show", {{"other", "1"}}), std::invalid_argument);
    EXPECT_THROW(app.url_for("nope"), std::invalid_argument);
    EXPECT_THROW(app.url_for("n", {{"n", "x"}}), std::invalid_argument);
    EXPECT_THROW(app.url_for("n", {{"n", ""}}), std::invalid_argument);
    EXPECT_EQ(app.url_for("n", {{"n", "-3"}}), "/n/-3");
    EXPECT_THROW(app.url_for("n", {{"n", "+3"}}), std::invalid_argument);
    try {
        app.url_for("users.show");
        ADD_FAILURE() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string{e.what()}.find("'id'"), std::string::npos) << e.what();
    }
}

TEST(router, duplicate_route_names_throw) {
    App app;
    app.get("/a", [] { return "a"; }, {.name = "same"});
    EXPECT_THROW(app.get("/b", [] { return "b"; }, {.name = "same"}), http::route_error);
    auto& c = app.get("/c", [] { return "c"; });
    EXPECT_THROW(c.name("same"), http::route_error);
    EXPECT_EQ(app.url_for("same"), "/a");
    EXPECT_NO_THROW(c.name("other"));
    EXPECT_EQ(app.url_for("other"), "/c");
}

TEST(router, duplicate_name_in_options_does_not_register_the_route) {
    App app;
    app.get("/a", [] { return "a"; }, {.name = "same"});
    std::string msg = route_error_message([&] { app.get("/b", [] { return "b"; }, {.name = "same"}); });
    EXPECT_NE(msg.find("/a"), std::string::npos) << msg;
    EXPECT_NE(msg.find("/b"), std::string::npos) << msg;
    // The route was rejected as a whole: it can be registered again with another name.
    EXPECT_NO_THROW(app.get("/b", [] { return "b"; }, {.name = "b"}));
    EXPECT_EQ(app.url_for("b"), "/b");
}

TEST(router, renaming_a_route_frees_the_old_name) {
    App app;
    auto& r = app.get("/a", [] { return "a"; }, {.name = "first"});
    r.name("second");
    EXPECT_THROW(app.url_for("first"), std::invalid_argument);
    EXPECT_EQ(app.url_for("second"), "/a");
    EXPECT_NO_THROW(app.get("/b", [] { return "b"; }, {.name = "first"}));
}

// ---- freezing --------------------------------------------------------------------------------------------

TEST(router, changes_after_serving_throw_logic_error) {
    App app;
    auto& api = app.group("/api");
    auto& r = app.get("/", [] { return "x"; });
    Client client{app};
    ASSERT_EQ(client.get("/").status(), 200);
    auto noop = [](Request& req, zephyr::Next next) -> Task<Response> { co_return co_await next(req); };
    EXPECT_THROW(app.get("/late", [] { return "x"; }), std::logic_error);
    EXPECT_THROW(api.get("/late", [] { return "x"; }), std::logic_error);
    EXPECT_THROW(app.layers(noop), std::logic_error);
    EXPECT_THROW(api.layers(noop), std::logic_error);
    EXPECT_THROW(r.layers(noop), std::logic_error);
    EXPECT_THROW(app.group("/late"), std::logic_error);
    EXPECT_THROW(r.name("late"), std::logic_error);
    EXPECT_THROW(app.url_for("late"), std::invalid_argument);
    EXPECT_EQ(client.get("/late").status(), 404);
}

// ---- request data ----------------------------------------------------------------------------------------

TEST(router, typed_param_conversion_failure_is_400) {
    App app;
    app.get("/n/{n}", [](Request& req) { return std::to_string(req.param<int>("n")); });
    app.get("/f/{x}", [](Request& req) { return std::to_string(req.param<double>("x")); });
    app.get("/b/{x}", [](Request& req) { return req.param<bool>("x") ? "yes" : "no"; });
    Client client{app};
    EXPECT_EQ(client.get("/n/12").text(), "12");
    auto r = client.get("/n/abc");
    expect_problem(r, 400);
    EXPECT_EQ(r.json().at("detail").as_string(), "path parameter 'n': expected an integer");
    expect_problem(client.get("/n/1.5"), 400);
    EXPECT_EQ(client.get("/f/1.5").text(), std::to_string(1.5));
    auto rf = client.get("/f/x");
    expect_problem(rf, 400);
    EXPECT_EQ(rf.json().at("detail").as_string(), "path parameter 'x': expected a number");
    EXPECT_EQ(client.get("/b/true").text(), "yes");
    EXPECT_EQ(client.get("/b/0").text(), "no");
    expect_problem(client.get("/b/maybe"), 400);
}

TEST(router, unknown_param_name_is_a_server_error) {
    App app;
    app.get("/n/{n}", [](Request& req) { return std::string{req.param("typo")}; });
    Client client{app};
    expect_problem(client.get("/n/1"), 500);
}

TEST(router, query_params) {
    App app;
    app.get("/q", [](Request& req) {
        std::string out;
        for (const auto& v : req.query_all("tag")) out += v + ",";
        out += "|" + req.query("x").value_or("none");
        out += "|" + req.query("missing").value_or("none");
        out += "|" + std::to_string(req.query_params().size());
        return out;
    });
    Client client{app};
    EXPECT_EQ(client.get("/q?tag=a&tag=b%20c&x=1+2&tag=d").text(), "a,b c,d,|1 2|none|4");
    EXPECT_EQ(client.get("/q").text(), "|none|none|0");
    EXPECT_EQ(client.get("/q?x=&tag").text(), "," "||none|2");
    auto bad = client.get("/q?x=%zz");
    expect_problem(bad, 400);
}

// ---- handler results -------------------------------------------------------------------------------------

TEST(router, handler_result_types) {
    App app;
    app.get("/string", [] { return std::string{"string"}; });
    app.get("/cstr", [] { return "cstr"; });
    app.get("/view", [] { return std::string_view{"view"}; });
    app.get("/response", [] { return Response::html("<p>hi</p>", http::status::accepted); });
    app.get("/status", [] { return http::status::no_content; });
    app.get("/pair", [] { return std::pair{http::status::created, std::string{"made"}}; });
    app.get("/task-string", []() -> Task<std::string> { co_return "task"; });
    app.get("/task-response", [](Request& req) -> Task<Response> {
        co_return Response::text("async " + std::string{req.path()}, http::status::accepted);
    });
    app.get("/task-status", []() -> Task<http::status> { co_return http::status::gone; });
    app.get("/task-pair", []() -> Task<std::pair<http::status, std::string>> {
        co_return std::pair{http::status::conflict, std::string{"clash"}};
    });
    Client client{app};

    auto s = client.get("/string");
    EXPECT_EQ(s.status(), 200);
    EXPECT_EQ(s.text(), "string");
    EXPECT_EQ(s.header("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(client.get("/cstr").text(), "cstr");
    EXPECT_EQ(client.get("/view").text(), "view");
    auto r = client.get("/response");
    EXPECT_EQ(r.status(), 202);
    EXPECT_EQ(r.text(), "<p>hi</p>");
    EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
    auto st = client.get("/status");
    EXPECT_EQ(st.status(), 204);
    EXPECT_TRUE(st.text().empty());
    auto p = client.get("/pair");
    EXPECT_EQ(p.status(), 201);
    EXPECT_EQ(p.text(), "made");
    EXPECT_EQ(client.get("/task-string").text(), "task");
    auto tr = client.get("/task-response");
    EXPECT_EQ(tr.status(), 202);
    EXPECT_EQ(tr.text(), "async /task-response");
    EXPECT_EQ(client.get("/task-status").status(), 410);
    auto tp = client.get("/task-pair");
    EXPECT_EQ(tp.status(), 409);
    EXPECT_EQ(tp.text(), "clash");
}

TEST(router, handlers_may_be_free_functions_and_stateful_objects) {
    struct counter {
        int n = 0;
        std::string operator()() { return std::to_string(++n); }
    };
    App app;
    app.get("/count", counter{});
    app.get("/fn", +[](Request& req) { return std::string{req.path()}; });
    Client client{app};
    EXPECT_EQ(client.get("/count").text(), "1");
    EXPECT_EQ(client.get("/count").text(), "2");
    EXPECT_EQ(client.get("/fn").text(), "/fn");
}

TEST(router, request_body_and_headers_reach_the_handler) {
    App app;
    app.post("/echo", [](Request& req) {
        return std::string{req.header("x-token").value_or("-")} + ":" + req.body();
    });
    Client client{app};
    auto r = client.post("/echo", "payload", {.headers = {{"X-Token", "t1"}}});
    EXPECT_EQ(r.text(), "t1:payload");
}
