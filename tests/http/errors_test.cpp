// Error flow above the handler: Result<T>, app.on_error<E>() mappers, Scoped<T> services with finalisers.
#include "support/problem.hpp"

#include <zephyr/http/layers/timeout.hpp>
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <gtest/gtest.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

using namespace zephyr;
using zephyr::test_support::expect_problem;
using zephyr::testing::Client;

namespace {

struct user {
    int id = 0;
    std::string name;
};
BOOST_DESCRIBE_STRUCT(user, (), (id, name))

// ---- Result<T> -----------------------------------------------------------------------------------------------

TEST(result, value_is_sent_and_error_is_mapped_like_a_throw) {
    App app;
    // [result]
    app.get("/users/{id}", [](Path<int> id) -> Result<Json<user>> {
        if (*id != 7) {
            HttpError e{status::not_found, "no such user"};
            e.headers().set("X-Missing", std::to_string(*id));
            return e;
        }
        return user{7, "Ada"};
    });
    // [result]
    Client client{app};
    auto ok = client.get("/users/7");
    EXPECT_EQ(ok.status(), 200);
    EXPECT_EQ(ok.json().at("name").as_string(), "Ada");
    auto missing = client.get("/users/8");
    expect_problem(missing, 404);
    EXPECT_EQ(missing.json().at("detail").as_string(), "no such user");
    EXPECT_EQ(missing.header("X-Missing"), "8");
}

TEST(result, works_from_coroutines_and_with_created) {
    App app;
    app.post("/users", [](Json<user> u) -> Task<Result<Created<Json<user>>>> {
        if (u->name.empty()) co_return HttpError{status::conflict, "name taken"};
        co_return Created<Json<user>>{*u, "/users/" + std::to_string(u->id)};
    });
    Client client{app};
    const zephyr::testing::request_options json{.headers = {{"Content-Type", "application/json"}}};
    auto made = client.post("/users", R"({"id":3,"name":"Bo"})", json);
    EXPECT_EQ(made.status(), 201);
    EXPECT_EQ(made.header("Location"), "/users/3");
    expect_problem(client.post("/users", R"({"id":3,"name":""})", json), 409);
}

TEST(result, accessors) {
    Result<std::string> good = std::string{"x"};
    Result<std::string> bad = HttpError{status::gone, "gone"};
    EXPECT_TRUE(good.ok());
    EXPECT_EQ(*good, "x");
    EXPECT_FALSE(bad);
    EXPECT_EQ(bad.error().status(), status::gone);
    EXPECT_THROW(bad.value(), HttpError);
}

// ---- on_error ------------------------------------------------------------------------------------------------

// [on_error]
struct payment_declined : std::runtime_error {
    explicit payment_declined(std::string reason) : std::runtime_error{std::move(reason)} {}
};
struct out_of_stock : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void install_error_mappers(App& app) {
    app.on_error<payment_declined>([](const payment_declined& e) {
        return HttpError{status::payment_required, e.what(), "card declined by the bank"};
    });
    app.on_error<out_of_stock>([](const out_of_stock& e, const Request& req) {
        return Response::text(std::string{"sold out: "} + e.what() + " (" + std::string{req.path()} + ")",
                              status::conflict);
    });
}
// [on_error]

TEST(on_error, mappers_turn_user_exceptions_into_responses) {
    App app;
    install_error_mappers(app);
    app.get("/pay", []() -> std::string { throw payment_declined{"insufficient funds"}; });
    app.get("/buy", []() -> Task<std::string> {
        co_await boost::asio::this_coro::executor;
        throw out_of_stock{"blue mug"};
    });
    app.get("/other", []() -> std::string { throw std::logic_error{"bug"}; });
    Client client{app};

    auto pay = client.get("/pay");
    expect_problem(pay, 402);
    EXPECT_EQ(pay.json().at("detail").as_string(), "insufficient funds");
    EXPECT_EQ(pay.text().find("bank"), std::string::npos);  // internal text is logged, never sent

    auto buy = client.get("/buy");
    EXPECT_EQ(buy.status(), 409);
    EXPECT_EQ(buy.text(), "sold out: blue mug (/buy)");

    auto other = client.get("/other");
    expect_problem(other, 500);
    EXPECT_EQ(other.text().find("bug"), std::string::npos);
}

TEST(on_error, first_registered_mapper_wins_and_derived_types_match_a_base_mapper) {
    App app;
    app.on_error<std::runtime_error>([](const std::runtime_error&) { return HttpError{status::bad_gateway}; });
    app.on_error<payment_declined>([](const payment_declined&) { return HttpError{status::payment_required}; });
    app.get("/pay", []() -> std::string { throw payment_declined{"x"}; });
    Client client{app};
    EXPECT_EQ(client.get("/pay").status(), 502);
}

TEST(on_error, a_mapper_may_restyle_http_errors_and_a_failing_mapper_is_a_500) {
    App app;
    app.on_error<HttpError>([](const HttpError& e) {
        return Response::text("custom " + std::to_string(to_int(e.status())), e.status());
    });
    app.get("/nope", []() -> std::string { throw HttpError{status::forbidden}; });
    Client client{app};
    EXPECT_EQ(client.get("/nope").text(), "custom 403");
    EXPECT_EQ(client.get("/missing").text(), "custom 404");  // the router's 404 goes through the same mapping

    App broken;
    broken.on_error<std::runtime_error>([](const std::runtime_error&) -> Response { throw std::bad_alloc{}; });
    broken.get("/x", []() -> std::string { throw std::runtime_error{"x"}; });
    Client c2{broken};
    EXPECT_EQ(c2.get("/x").status(), 500);
}

TEST(on_error, validation_errors_raised_inside_a_handler_are_422) {
    App app;
    app.post("/raw", [](Request& req) { return json::parse<user>(req.body()).name; });
    Client client{app};
    auto r = client.post("/raw", R"({"id":"x"})");
    expect_problem(r, 422);
    EXPECT_EQ(r.json().at("errors").as_array().size(), 2u);
    expect_problem(client.post("/raw", "{"), 400);
}

TEST(on_error, cannot_be_added_while_serving) {
    App app;
    app.get("/", [] { return "x"; });
    Client client{app};
    client.get("/");
    EXPECT_THROW(app.on_error<std::runtime_error>([](const std::runtime_error&) { return HttpError{status::gone}; }),
                 std::logic_error);
}

// ---- Scoped<T> -----------------------------------------------------------------------------------------------

// [scoped]
// A unit of work that must be committed when the handler succeeds and rolled back when it throws.
struct unit_of_work {
    std::vector<std::string>* journal = nullptr;
    std::vector<std::string> pending;
    void add(std::string what) { pending.push_back(std::move(what)); }
};

void provide_unit_of_work(App& app, std::vector<std::string>& journal) {
    app.provide<unit_of_work>([&journal](Request&) {
        return Scoped<unit_of_work>{unit_of_work{&journal, {}},
                                    [](unit_of_work& w, const scope_outcome& o) -> Task<void> {
                                        co_await boost::asio::this_coro::executor;  // e.g. COMMIT over the network
                                        if (o.failed())
                                            w.journal->push_back("rollback");
                                        else
                                            for (auto& p : w.pending) w.journal->push_back("commit " + p);
                                    }};
    });
}
// [scoped]

TEST(scoped, finaliser_commits_after_success_and_rolls_back_after_a_throw) {
    App app;
    std::vector<std::string> journal;
    provide_unit_of_work(app, journal);
    // A plain (sync) handler: the route still goes through the coroutine path so the finaliser can await.
    app.post("/items/{name}", [](Path<std::string> name, Inject<unit_of_work> w) {
        w->add(*name);
        return "added";
    });
    app.post("/fail", [](Inject<unit_of_work> w) -> std::string {
        w->add("never");
        throw HttpError{status::conflict, "duplicate"};
    });
    Client client{app};
    EXPECT_EQ(client.post("/items/mug", "").text(), "added");
    EXPECT_EQ(journal, (std::vector<std::string>{"commit mug"}));
    expect_problem(client.post("/fail", ""), 409);
    EXPECT_EQ(journal, (std::vector<std::string>{"commit mug", "rollback"}));
}

TEST(scoped, an_extractor_rejecting_after_the_service_was_made_still_finalises) {
    App app;
    std::vector<std::string> journal;
    provide_unit_of_work(app, journal);
    app.post("/n", [](Inject<unit_of_work> w, Json<user> u) {
        w->add(u->name);
        return "ok";
    });
    Client client{app};
    auto r = client.post("/n", "not json", {.headers = {{"Content-Type", "application/json"}}});
    expect_problem(r, 400);
    EXPECT_EQ(journal, (std::vector<std::string>{"rollback"}));
}

TEST(scoped, a_failing_finaliser_replaces_the_response_and_others_still_run) {
    struct first {};
    struct second {};
    App app;
    std::vector<std::string> order;
    app.on_error<std::runtime_error>([](const std::runtime_error& e) { return HttpError{status::conflict, e.what()}; });
    app.provide<first>([&order](Request&) {
        return Scoped<first>{first{}, [&order](first&, const scope_outcome&) -> Task<void> {
                                 order.push_back("first");
                                 throw std::runtime_error{"commit failed: serialization failure"};
                                 co_return;
                             }};
    });
    app.provide<second>([&order](Request&) {
        return Scoped<second>{second{}, [&order](second&, const scope_outcome& o) -> Task<void> {
                                  order.push_back("second saw " + std::to_string(to_int(o.status)));
                                  co_return;
                              }};
    });
    app.get("/", [](Inject<first>, Inject<second>) { return "looks fine"; });
    Client client{app};
    auto r = client.get("/");
    expect_problem(r, 409);
    EXPECT_EQ(r.json().at("detail").as_string(), "commit failed: serialization failure");
    EXPECT_EQ(order, (std::vector<std::string>{"second saw 200", "first"}));  // newest first
}

TEST(scoped, finaliser_runs_when_a_timeout_cancels_the_handler) {
    App app;
    std::vector<std::string> journal;
    provide_unit_of_work(app, journal);
    app.get("/slow",
            [](Inject<unit_of_work> w) -> Task<std::string> {
                w->add("slow");
                boost::asio::steady_timer t{co_await boost::asio::this_coro::executor, std::chrono::seconds{5}};
                co_await t.async_wait(boost::asio::use_awaitable);
                co_return "late";
            })
        .layers(layers::timeout(std::chrono::milliseconds{50}));
    Client client{app};
    auto r = client.get("/slow");
    EXPECT_EQ(r.status(), 503);
    EXPECT_EQ(journal, (std::vector<std::string>{"rollback"}));
}

TEST(scoped, finaliser_runs_before_the_layers_see_the_response_over_a_real_socket) {
    App app;
    std::vector<std::string> journal;
    provide_unit_of_work(app, journal);
    // A layer outside the handler: by the time it gets the response, the unit of work is committed.
    app.layers([&journal](Request& req, Next next) -> Task<Response> {
        Response res = co_await next(req);
        res.headers().set("X-Journal", journal.empty() ? "-" : journal.back());
        co_return res;
    });
    app.get("/j/{name}", [&journal](Path<std::string> name, Inject<unit_of_work> w) {
        w->add(*name);
        return std::to_string(journal.size());
    });
    zephyr::testing::Server server{app};
    auto r = server.get("/j/a");
    EXPECT_EQ(r.text(), "0");
    EXPECT_EQ(r.header("X-Journal"), "commit a");
}

}  // namespace
