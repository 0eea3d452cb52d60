// Dependency injection: app-scoped and request-scoped services, overrides, and the start-up check.
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>

using namespace zephyr;
using zephyr::testing::Client;

namespace {

struct greeting_store {
    virtual ~greeting_store() = default;
    virtual std::string greet(const std::string& who) { return "hello " + who; }
};
struct fake_store : greeting_store {
    std::string greet(const std::string& who) override { return "fake " + who; }
};

std::atomic<int> made{0};
struct per_request {
    int serial = ++made;
};

// [services]
App& make_app(App& app) {
    app.provide(std::make_shared<greeting_store>());
    app.provide<per_request>([](Request&) { return per_request{}; });
    app.get("/hi/{name}", [](Path<std::string> name, Inject<greeting_store> store) { return store->greet(*name); });
    // Two injections of the same request-scoped type see one value.
    app.get("/serial", [](Inject<per_request> a, Inject<per_request> b) {
        return std::to_string(a->serial) + (a->serial == b->serial ? " same" : " different");
    });
    return app;
}
// [services]

}  // namespace

TEST(services, app_scoped_instance_is_injected) {
    App app;
    Client client{make_app(app)};
    EXPECT_EQ(client.get("/hi/ada").text(), "hello ada");
}

TEST(services, request_scoped_factory_runs_once_per_request) {
    App app;
    Client client{make_app(app)};
    int before = made;
    EXPECT_EQ(client.get("/serial").text(), std::to_string(before + 1) + " same");
    EXPECT_EQ(client.get("/serial").text(), std::to_string(before + 2) + " same");
}

TEST(services, override_replaces_a_provider_for_tests) {
    App app;
    make_app(app);
    // [override]
    app.override(std::static_pointer_cast<greeting_store>(std::make_shared<fake_store>()));
    // [override]
    Client client{app};
    EXPECT_EQ(client.get("/hi/ada").text(), "fake ada");
}

TEST(services, providing_twice_is_an_error) {
    App app;
    app.provide(std::make_shared<greeting_store>());
    EXPECT_THROW(app.provide(std::make_shared<greeting_store>()), std::logic_error);
}

TEST(services, a_missing_provider_fails_at_startup_naming_route_and_type) {
    App app;
    app.get("/hi/{name}", [](Path<std::string> name, Inject<greeting_store> store) { return store->greet(*name); });
    try {
        zephyr::testing::Server server{app};
        ADD_FAILURE() << "the server should refuse to start";
    } catch (const std::logic_error& e) {
        std::string what = e.what();
        EXPECT_NE(what.find("GET /hi/{name}"), std::string::npos) << what;
        EXPECT_NE(what.find("greeting_store"), std::string::npos) << what;
    }
}

TEST(services, providing_after_serving_is_an_error) {
    App app;
    Client client{make_app(app)};
    EXPECT_EQ(client.get("/hi/x").status(), 200);
    EXPECT_THROW(app.override(std::make_shared<greeting_store>()), std::logic_error);
}
