// The TechEmpower plaintext and JSON tests, as their rules require: /plaintext answers "Hello, World!" as
// text/plain, /json serializes {"message":"Hello, World!"} for every request, here through Json<T> and a
// described struct. /json-by-hand does the same with Boost.JSON directly, so the bench shows what the typed
// path costs.
#include <zephyr/zephyr.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <string>

struct message {
    std::string message;
};
BOOST_DESCRIBE_STRUCT(message, (), (message))

int main(int argc, char** argv) {
    zephyr::App app;
    app.get("/plaintext", [] { return zephyr::Response::text("Hello, World!"); });
    app.get("/json", []() -> zephyr::Json<message> { return message{"Hello, World!"}; });
    app.get("/json-by-hand", [] {
        boost::json::object o;
        o["message"] = "Hello, World!";
        return zephyr::Response::json(boost::json::serialize(o));
    });
    return app.run(argc, argv);
}
