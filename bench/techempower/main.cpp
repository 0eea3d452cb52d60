// The TechEmpower plaintext and JSON tests, as their rules require: /plaintext answers "Hello, World!" as
// text/plain, /json serializes {"message":"Hello, World!"} for every request.
#include <zephyr/zephyr.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

int main(int argc, char** argv) {
    zephyr::App app;
    app.get("/plaintext", [] { return zephyr::Response::text("Hello, World!"); });
    app.get("/json", [] {
        boost::json::object o;
        o["message"] = "Hello, World!";
        return zephyr::Response::json(boost::json::serialize(o));
    });
    return app.run(argc, argv);
}
