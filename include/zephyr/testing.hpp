// zephyr/testing.hpp — testing an app in-process or over a real socket with one response API.
//
// testing::Client runs requests through the app without a socket or thread; testing::Server starts the
// real server on 127.0.0.1 with a free port. Both return testing::TestResponse, so a test switches level by
// changing one line.
//
//     zephyr::testing::Client client{app};
//     EXPECT_EQ(client.get("/twice/21").text(), "42");
//     zephyr::testing::Server server{app};
//     EXPECT_EQ(server.get("/twice/21").status(), 200);
#pragma once

#include <zephyr/app.hpp>
#include <zephyr/core/task.hpp>
#include <zephyr/http/headers.hpp>
#include <zephyr/http/response.hpp>
#include <zephyr/http/server.hpp>
#include <zephyr/json/json.hpp>

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zephyr::testing {

/// A response as a test sees it.
class TestResponse {
public:
    TestResponse() = default;
    TestResponse(int status, http::headers headers, std::string body)
        : status_{status}, headers_{std::move(headers)}, body_{std::move(body)} {}
    /// From an in-process Response (its text body).
    explicit TestResponse(const http::Response& r);

    int status() const noexcept { return status_; }
    const std::string& text() const noexcept { return body_; }
    const http::headers& headers() const noexcept { return headers_; }
    /// The first value of header `name`, or "" when absent.
    std::string header(std::string_view name) const { return std::string{headers_.get(name).value_or("")}; }
    bool has_header(std::string_view name) const noexcept { return headers_.contains(name); }
    /// The body parsed as JSON. Throws std::runtime_error naming the problem when it is not JSON.
    boost::json::value json() const;

private:
    int status_ = 0;
    http::headers headers_;
    std::string body_;
};

/// Extra request parts for Client and Server calls.
struct request_options {
    std::vector<std::pair<std::string, std::string>> headers{};
    std::string body{};
};

/// A multipart/form-data body for post_multipart(): fields and files in order, with a boundary that does not
/// occur in any of them.
///
///     client.post_multipart("/upload", testing::multipart{}.field("title", "cat").file("photo", "cat.jpg",
///                                                                                    "image/jpeg", bytes));
class multipart {
public:
    /// Adds a form field.
    multipart& field(std::string name, std::string value);
    /// Adds a file input's part.
    multipart& file(std::string name, std::string filename, std::string content_type, std::string bytes);
    /// The Content-Type to send, with the boundary.
    std::string content_type() const;
    /// The encoded body.
    std::string body() const;

private:
    struct part {
        std::string name, value;
        std::optional<std::string> filename, content_type;
    };
    std::string boundary() const;
    std::vector<part> parts_;
};

/// An application/x-www-form-urlencoded body from name/value pairs.
std::string form_body(const std::vector<std::pair<std::string, std::string>>& fields);

class WebSocketClient;             // zephyr/testing/websocket.hpp
struct websocket_client_options;  // zephyr/testing/websocket.hpp

namespace detail {
/// The request helpers Client and Server share, each built on the class's own request(method, target, options).
template <class Self>
class request_helpers {
public:
    TestResponse get(std::string_view target, request_options o = {}) { return send("GET", target, std::move(o)); }
    TestResponse post(std::string_view target, std::string body, request_options o = {}) {
        o.body = std::move(body);
        return send("POST", target, std::move(o));
    }
    /// POST of an urlencoded form.
    TestResponse post_form(std::string_view target, const std::vector<std::pair<std::string, std::string>>& fields,
                           request_options o = {}) {
        o.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        return post(target, form_body(fields), std::move(o));
    }
    /// POST of a multipart/form-data body.
    TestResponse post_multipart(std::string_view target, const multipart& mp, request_options o = {}) {
        o.headers.emplace_back("Content-Type", mp.content_type());
        return post(target, mp.body(), std::move(o));
    }
    /// A request whose body is `value` as JSON (a boost::json::value or a described struct), sent as
    /// application/json: `client.post_json("/users", new_user{"ada"})`.
    template <class T>
    TestResponse post_json(std::string_view target, const T& value, request_options o = {}) {
        return send_json("POST", target, value, std::move(o));
    }
    template <class T>
    TestResponse send_json(std::string_view method, std::string_view target, const T& value, request_options o = {}) {
        o.headers.emplace_back("Content-Type", "application/json");
        o.body = json::to_string(value);
        return send(method, target, std::move(o));
    }

private:
    TestResponse send(std::string_view method, std::string_view target, request_options o) {
        return static_cast<Self&>(*this).request(method, target, std::move(o));
    }
};
}  // namespace detail

/// In-process client: same parser, router, layers and error handling as the server, no socket. Like a
/// browser it keeps the cookies responses set (Set-Cookie; Max-Age=0 or a past Expires deletes) and sends
/// them with later requests, unless a request sets its own Cookie header.
class Client : public detail::request_helpers<Client> {
public:
    explicit Client(App& app, http::server_limits limits = {}) : app_{app}, limits_{limits} {}

    TestResponse head(std::string_view target, request_options o = {}) { return request("HEAD", target, std::move(o)); }
    TestResponse del(std::string_view target, request_options o = {}) { return request("DELETE", target, std::move(o)); }
    TestResponse options(std::string_view target, request_options o = {}) {
        return request("OPTIONS", target, std::move(o));
    }
    TestResponse put(std::string_view target, std::string body, request_options o = {}) {
        o.body = std::move(body);
        return request("PUT", target, std::move(o));
    }
    TestResponse patch(std::string_view target, std::string body, request_options o = {}) {
        o.body = std::move(body);
        return request("PATCH", target, std::move(o));
    }
    template <class T>
    TestResponse put_json(std::string_view target, const T& value, request_options o = {}) {
        return send_json("PUT", target, value, std::move(o));
    }
    template <class T>
    TestResponse patch_json(std::string_view target, const T& value, request_options o = {}) {
        return send_json("PATCH", target, value, std::move(o));
    }
    /// Any method. Adds Host and, for a body, Content-Length unless given.
    TestResponse request(std::string_view method, std::string_view target, request_options o = {});
    /// Raw request bytes, exactly as given (no cookies added).
    TestResponse raw(std::string_view bytes);
    /// A WebSocket session with the client's cookies. A WebSocket needs a socket: this serves the app on a free
    /// loopback port for as long as the returned client lives (see zephyr/testing/websocket.hpp).
    WebSocketClient websocket(std::string_view target);
    WebSocketClient websocket(std::string_view target, websocket_client_options o);

    /// The cookies the client holds, by name.
    const std::vector<std::pair<std::string, std::string>>& cookies() const noexcept { return cookies_; }
    /// Sets or replaces a cookie, as if a response had set it.
    void set_cookie(std::string name, std::string value);
    /// Forgets every cookie.
    void clear_cookies() noexcept { cookies_.clear(); }

private:
    void remember_cookies(const TestResponse& r);
    /// Adds a Cookie header with the jar's cookies, unless `headers` has one already.
    void send_cookies(std::vector<std::pair<std::string, std::string>>& headers) const;

    App& app_;
    http::server_limits limits_;
    std::vector<std::pair<std::string, std::string>> cookies_;
};

/// The serialized request Client and Server send for a call.
std::string build_request(std::string_view method, std::string_view target, const request_options& o,
                          bool close_connection);

/// A raw, blocking connection to a testing::Server, for wire-level tests.
class Connection {
public:
    Connection(std::uint16_t port, std::chrono::milliseconds timeout);
    ~Connection();
    Connection(Connection&&) noexcept;

    /// Sends bytes as they are. Throws std::runtime_error when the server has closed the connection.
    void write(std::string_view bytes);
    /// Reads one response (an interim 1xx counts as one). `head_request` says the response has no body.
    /// Throws std::runtime_error on a timeout or when the connection closes first.
    TestResponse read_response(bool head_request = false);
    /// Reads until the server closes the connection; returns everything read.
    std::string read_until_close();
    /// True when the server has closed the connection (a read returns end of stream within `wait`).
    bool closed_by_server(std::chrono::milliseconds wait = std::chrono::milliseconds{2000});
    /// Closes the client side.
    void close();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

/// The real server on 127.0.0.1 and a free port, serving `app` from background threads until destroyed.
class Server : public detail::request_helpers<Server> {
public:
    explicit Server(App& app, http::server_config config = test_config());
    ~Server();

    std::uint16_t port() const noexcept;
    std::string url(std::string_view path = "/") const;
    /// Opens a raw connection.
    Connection connect(std::chrono::milliseconds timeout = std::chrono::milliseconds{5000}) const;
    /// Opens a WebSocket session (see zephyr/testing/websocket.hpp).
    WebSocketClient websocket(std::string_view target) const;
    WebSocketClient websocket(std::string_view target, websocket_client_options o) const;

    /// One request on a new connection.
    TestResponse request(std::string_view method, std::string_view target, request_options o = {});

    /// Graceful shutdown now (the destructor does it otherwise).
    void stop();
    http::Server& server() noexcept { return *server_; }

    /// The configuration tests start from: 127.0.0.1, port 0, one thread, server defaults otherwise.
    static http::server_config test_config();

private:
    std::unique_ptr<http::Server> server_;
};

/// Runs a coroutine to completion on a fresh event loop; rethrows what it throws.
void run_task(Task<void> task);

}  // namespace zephyr::testing

/// A gtest test whose body is a coroutine: `ZEPHYR_TEST(suite, name) { co_await ...; EXPECT_...; }`.
/// Use EXPECT_* (ASSERT_* returns, which a coroutine cannot); `co_return` ends the test early.
#define ZEPHYR_TEST(suite, name)                                                   \
    static ::zephyr::Task<void> zephyr_test_body_##suite##_##name();               \
    TEST(suite, name) { ::zephyr::testing::run_task(zephyr_test_body_##suite##_##name()); } \
    static ::zephyr::Task<void> zephyr_test_body_##suite##_##name()

#include <zephyr/testing/websocket.hpp>
