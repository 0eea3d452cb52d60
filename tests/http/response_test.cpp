// Responses: the helpers, file and stream bodies, header fields and cookies.
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace {

namespace http = zephyr::http;
namespace fs = std::filesystem;
using zephyr::App;
using zephyr::Request;
using zephyr::Response;
using zephyr::Task;
using zephyr::testing::Client;

std::string content_type(const Response& r) { return std::string{r.headers().get("Content-Type").value_or("")}; }

// A fresh directory under the system temporary directory, removed with everything in it at the end.
class temp_dir {
public:
    temp_dir() {
        path_ = fs::temp_directory_path() / ("zephyr_response_test_" + zephyr::layers::make_request_id());
        fs::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const fs::path& path() const noexcept { return path_; }
    fs::path write(const std::string& name, std::string_view content) const {
        fs::path p = path_ / name;
        fs::create_directories(p.parent_path());
        std::ofstream out{p, std::ios::binary};
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        return p;
    }

private:
    fs::path path_;
};

}  // namespace

// ---- helpers ---------------------------------------------------------------------------------------------

TEST(response, text_html_json) {
    Response t = Response::text("hi");
    EXPECT_EQ(t.status(), http::status::ok);
    EXPECT_EQ(t.body(), "hi");
    EXPECT_EQ(content_type(t), "text/plain; charset=utf-8");
    EXPECT_EQ(Response::text("made", http::status::created).status(), http::status::created);

    Response h = Response::html("<b>x</b>", http::status::accepted);
    EXPECT_EQ(h.status(), http::status::accepted);
    EXPECT_EQ(h.body(), "<b>x</b>");
    EXPECT_EQ(content_type(h), "text/html; charset=utf-8");

    Response j = Response::json(R"({"a":1})");
    EXPECT_EQ(j.body(), R"({"a":1})");
    EXPECT_EQ(content_type(j), "application/json");
    EXPECT_EQ(j.headers().get_all("Content-Type").size(), 1u);

    Response empty{http::status::no_content};
    EXPECT_EQ(empty.status(), http::status::no_content);
    EXPECT_TRUE(empty.body().empty());
    EXPECT_FALSE(empty.headers().contains("Content-Type"));
    EXPECT_EQ(Response{}.status(), http::status::ok);
}

TEST(response, helpers_through_the_client) {
    App app;
    app.get("/text", [] { return Response::text("plain"); });
    app.get("/html", [] { return Response::html("<h1>x</h1>"); });
    app.get("/json", [] { return Response::json(R"({"ok":true})", http::status::created); });
    Client client{app};
    auto t = client.get("/text");
    EXPECT_EQ(t.text(), "plain");
    EXPECT_EQ(t.header("content-type"), "text/plain; charset=utf-8");
    EXPECT_EQ(client.get("/html").header("Content-Type"), "text/html; charset=utf-8");
    auto j = client.get("/json");
    EXPECT_EQ(j.status(), 201);
    EXPECT_EQ(j.header("Content-Type"), "application/json");
    EXPECT_TRUE(j.json().at("ok").as_bool());
}

TEST(response, problem) {
    Response p = Response::problem(http::status::not_found, "no \"such\" user");
    EXPECT_EQ(p.status(), http::status::not_found);
    EXPECT_EQ(content_type(p), "application/problem+json");
    auto j = boost::json::parse(p.body()).as_object();
    EXPECT_EQ(j.at("type").as_string(), "about:blank");
    EXPECT_EQ(j.at("title").as_string(), "Not Found");
    EXPECT_EQ(j.at("status").to_number<int>(), 404);
    EXPECT_EQ(j.at("detail").as_string(), "no \"such\" user");

    Response bare = Response::problem(http::status::service_unavailable, "");
    auto jb = boost::json::parse(bare.body()).as_object();
    EXPECT_FALSE(jb.contains("detail"));
    EXPECT_EQ(jb.at("title").as_string(), "Service Unavailable");
    EXPECT_EQ(jb.at("status").to_number<int>(), 503);
}

TEST(response, redirect) {
    Response r = Response::redirect("/login?next=%2Fhome");
    EXPECT_EQ(r.status(), http::status::found);
    EXPECT_EQ(r.headers().get("Location").value_or(""), "/login?next=%2Fhome");
    EXPECT_TRUE(r.body().empty());
    EXPECT_EQ(Response::redirect("/x", http::status::moved_permanently).status(), http::status::moved_permanently);
    EXPECT_EQ(Response::redirect("/x", http::status::see_other).status(), http::status::see_other);

    App app;
    app.post("/go", [] { return Response::redirect("https://example.com/next", http::status::see_other); });
    Client client{app};
    auto c = client.post("/go", "");
    EXPECT_EQ(c.status(), 303);
    EXPECT_EQ(c.header("Location"), "https://example.com/next");
}

TEST(response, redirect_rejects_header_injection) {
    EXPECT_THROW(Response::redirect("/x\r\nSet-Cookie: admin=1"), std::invalid_argument);
    EXPECT_THROW(Response::redirect("/x\nSet-Cookie: admin=1"), std::invalid_argument);
}

TEST(response, to_response_conversions) {
    using http::to_response;
    EXPECT_EQ(to_response(std::string{"a"}).body(), "a");
    EXPECT_EQ(to_response("b").body(), "b");
    EXPECT_EQ(to_response(std::string_view{"c"}).body(), "c");
    EXPECT_EQ(to_response(http::status::gone).status(), http::status::gone);
    Response p = to_response(std::pair{http::status::created, std::string{"d"}});
    EXPECT_EQ(p.status(), http::status::created);
    EXPECT_EQ(p.body(), "d");
    EXPECT_EQ(content_type(p), "text/plain; charset=utf-8");
    static_assert(http::into_response<std::string>);
    static_assert(http::into_response<Response>);
    static_assert(!http::into_response<int>);
}

// ---- bodies ----------------------------------------------------------------------------------------------

TEST(response, set_body_and_body_kinds) {
    Response r = Response::text("old");
    r.set_body("new");
    EXPECT_EQ(r.body(), "new");
    EXPECT_EQ(content_type(r), "text/plain; charset=utf-8");
    r.set_body("{}", "application/json");
    EXPECT_EQ(content_type(r), "application/json");
    EXPECT_EQ(r.headers().get_all("Content-Type").size(), 1u);
    r.body() += " more";
    EXPECT_EQ(r.body(), "{} more");

    Response f = Response::file("somewhere/report.pdf");
    ASSERT_NE(f.file(), nullptr);
    EXPECT_EQ(f.file()->path, "somewhere/report.pdf");
    EXPECT_EQ(f.file()->offset, 0u);
    EXPECT_FALSE(f.file()->length.has_value());
    EXPECT_EQ(f.stream(), nullptr);
    const Response& cf = f;
    EXPECT_TRUE(cf.body().empty());
    f.body() = "now text";  // turns the file body into a text body
    EXPECT_EQ(f.file(), nullptr);
    EXPECT_EQ(f.body(), "now text");

    Response s = Response::stream([](http::body_writer&) -> Task<void> { co_return; });
    EXPECT_NE(s.stream(), nullptr);
    EXPECT_EQ(s.file(), nullptr);
    s.set_body("plain");
    EXPECT_EQ(s.stream(), nullptr);
    EXPECT_EQ(s.body(), "plain");
}

TEST(response, file_content_type_guessing) {
    temp_dir dir;
    struct file_case {
        const char* name;
        const char* content_type;
    };
    const file_case cases[] = {
        {"index.html", "text/html; charset=utf-8"},
        {"page.HTM", "text/html; charset=utf-8"},
        {"style.css", "text/css; charset=utf-8"},
        {"app.js", "text/javascript; charset=utf-8"},
        {"data.json", "application/json"},
        {"notes.txt", "text/plain; charset=utf-8"},
        {"logo.svg", "image/svg+xml"},
        {"pic.png", "image/png"},
        {"photo.JPG", "image/jpeg"},
        {"doc.pdf", "application/pdf"},
        {"archive.tar.gz", "application/gzip"},
        {"font.woff2", "font/woff2"},
        {"module.wasm", "application/wasm"},
        {"blob.bin", "application/octet-stream"},
        {"README", "application/octet-stream"},
        {"sub.dir/Makefile", "application/octet-stream"},
    };
    for (const auto& c : cases) dir.write(c.name, std::string{"content of "} + c.name);

    App app;
    std::string root = dir.path().string();
    app.get("/files/{*name}", [root](Request& req) { return Response::file(root + "/" + std::string{req.param("name")}); });
    app.get("/typed", [root] { return Response::file(root + "/README", "text/x-readme"); });
    Client client{app};
    for (const auto& c : cases) {
        auto r = client.get(std::string{"/files/"} + c.name);
        EXPECT_EQ(r.status(), 200) << c.name;
        EXPECT_EQ(r.header("Content-Type"), c.content_type) << c.name;
        EXPECT_EQ(r.text(), std::string{"content of "} + c.name) << c.name;
        EXPECT_EQ(Response::file(root + "/" + c.name).headers().get("Content-Type").value_or(""), c.content_type)
            << c.name;
    }
    auto typed = client.get("/typed");
    EXPECT_EQ(typed.header("Content-Type"), "text/x-readme");
    EXPECT_EQ(typed.headers().get_all("Content-Type").size(), 1u);
    EXPECT_EQ(typed.text(), "content of README");
}

TEST(response, file_binary_content_and_head) {
    temp_dir dir;
    std::string bytes;
    for (int i = 0; i < 4096; ++i) bytes += static_cast<char>(i % 256);
    fs::path p = dir.write("raw.bin", bytes);
    App app;
    app.get("/raw", [p] { return Response::file(p.string()); });
    Client client{app};
    auto r = client.get("/raw");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.text(), bytes);
    auto h = client.head("/raw");
    EXPECT_EQ(h.status(), 200);
    EXPECT_TRUE(h.text().empty());
    EXPECT_EQ(h.header("Content-Length"), "4096");
}

TEST(response, missing_file_is_404) {
    temp_dir dir;
    App app;
    std::string missing = (dir.path() / "nope.txt").string();
    app.get("/missing", [missing] { return Response::file(missing); });
    Client client{app};
    auto r = client.get("/missing");
    EXPECT_EQ(r.status(), 404);
    EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
}

TEST(response, stream_body_is_collected) {
    App app;
    app.get("/count", [] {
        return Response::stream([](http::body_writer& w) -> Task<void> {
            for (int i = 0; i < 3; ++i) co_await w.write(std::to_string(i) + "\n");
            co_await w.write("");
            co_await w.write("end");
        });
    });
    app.get("/csv", [] {
        return Response::stream([](http::body_writer& w) -> Task<void> { co_await w.write("a,b\n1,2\n"); },
                                "text/csv");
    });
    Client client{app};
    auto r = client.get("/count");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.text(), "0\n1\n2\nend");
    EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
    auto csv = client.get("/csv");
    EXPECT_EQ(csv.text(), "a,b\n1,2\n");
    EXPECT_EQ(csv.header("Content-Type"), "text/csv");
}

TEST(response, stream_from_async_handler_with_head) {
    App app;
    app.get("/s", []() -> Task<Response> {
        co_return Response::stream([](http::body_writer& w) -> Task<void> {
            co_await w.write("abc");
            co_await w.write("def");
        });
    });
    Client client{app};
    EXPECT_EQ(client.get("/s").text(), "abcdef");
    auto h = client.head("/s");
    EXPECT_TRUE(h.text().empty());
    EXPECT_EQ(h.header("Content-Length"), "6");
}

// ---- headers ---------------------------------------------------------------------------------------------

TEST(response, headers_are_case_insensitive) {
    http::headers h;
    h.set("X-Thing", "1");
    EXPECT_EQ(h.get("x-thing").value_or(""), "1");
    EXPECT_EQ(h.get("X-THING").value_or(""), "1");
    EXPECT_TRUE(h.contains("x-ThInG"));
    h.set("x-thing", "2");
    EXPECT_EQ(h.size(), 1u);
    EXPECT_EQ(h.get("X-Thing").value_or(""), "2");
    EXPECT_FALSE(h.get("X-Other").has_value());
}

TEST(response, headers_append_and_set_replace_all) {
    http::headers h;
    h.append("Vary", "Origin");
    h.append("vary", "Accept");
    h.add("VARY", "Cookie");
    h.set("Other", "x");
    EXPECT_EQ(h.get_all("Vary"), (std::vector<std::string_view>{"Origin", "Accept", "Cookie"}));
    h.set("Vary", "*");
    EXPECT_EQ(h.get_all("vary"), (std::vector<std::string_view>{"*"}));
    EXPECT_EQ(h.size(), 2u);
    // Order is kept: the replaced field stays where the first one was.
    EXPECT_EQ(h.begin()->first, "Vary");
    EXPECT_EQ(h.begin()->second, "*");
}

TEST(response, headers_remove) {
    http::headers h;
    h.set("A", "1");
    h.append("b", "2");
    h.append("B", "3");
    EXPECT_EQ(h.remove("B"), 2u);
    EXPECT_FALSE(h.contains("b"));
    EXPECT_EQ(h.remove("missing"), 0u);
    EXPECT_EQ(h.remove("a"), 1u);
    EXPECT_TRUE(h.empty());
}

TEST(response, headers_reject_injection) {
    http::headers h;
    EXPECT_THROW(h.set("X-A", "ok\r\nSet-Cookie: admin=1"), std::invalid_argument);
    EXPECT_THROW(h.set("X-A", "line\nbreak"), std::invalid_argument);
    EXPECT_THROW(h.set("X-A", "cr\ronly"), std::invalid_argument);
    EXPECT_THROW(h.set("X-A", std::string_view{"nul\0x", 5}), std::invalid_argument);
    EXPECT_THROW(h.append("X-A", "a\r\nb"), std::invalid_argument);
    EXPECT_THROW(h.set("Bad Name", "v"), std::invalid_argument);
    EXPECT_THROW(h.set("Bad:Name", "v"), std::invalid_argument);
    EXPECT_THROW(h.set("", "v"), std::invalid_argument);
    EXPECT_THROW(h.set("X-A\r\nInjected", "v"), std::invalid_argument);
    EXPECT_TRUE(h.empty()) << "a rejected field must not be stored";
    EXPECT_NO_THROW(h.set("X-A", "tabs\tand spaces are fine"));
    EXPECT_NO_THROW(h.set("X-Empty", ""));
}

TEST(response, content_type_arguments_reject_injection) {
    EXPECT_THROW((Response{http::status::ok, "x", "text/plain\r\nSet-Cookie: admin=1"}), std::invalid_argument);
    EXPECT_THROW(Response::file("a.txt", "text/plain\nX: y"), std::invalid_argument);
    EXPECT_THROW(Response::stream([](http::body_writer&) -> Task<void> { co_return; }, "a\r\nb"),
                 std::invalid_argument);
    EXPECT_EQ(content_type(Response{http::status::ok, "x", "text/csv"}), "text/csv");
}

TEST(response, header_injection_in_a_handler_is_a_500) {
    App app;
    app.get("/inject", [](Request& req) {
        Response r = Response::text("x");
        r.headers().set("X-Echo", std::string{req.query("v").value_or("")});
        return r;
    });
    Client client{app};
    auto r = client.get("/inject?v=a%0D%0AX-Injected:%201");
    EXPECT_EQ(r.status(), 500);
    EXPECT_FALSE(r.has_header("X-Injected"));
    EXPECT_EQ(client.get("/inject?v=fine").header("X-Echo"), "fine");
}

TEST(response, has_token_and_iequals) {
    EXPECT_TRUE(http::has_token("keep-alive, Close", "close"));
    EXPECT_TRUE(http::has_token(" gzip ,br", "br"));
    EXPECT_FALSE(http::has_token("gzipped", "gzip"));
    EXPECT_FALSE(http::has_token("", "x"));
    EXPECT_TRUE(http::iequals("Content-Type", "content-type"));
    EXPECT_FALSE(http::iequals("Content-Type", "content-typ"));
}

// ---- cookies ---------------------------------------------------------------------------------------------

TEST(response, set_cookie_adds_set_cookie_fields) {
    Response r = Response::text("x");
    r.set_cookie({.name = "session", .value = "abc123", .path = "/", .secure = true, .http_only = true,
                  .same_site = http::same_site::lax});
    r.set_cookie({.name = "theme", .value = "dark", .max_age = std::chrono::seconds{3600}});
    auto all = r.headers().get_all("Set-Cookie");
    ASSERT_EQ(all.size(), 2u);
    EXPECT_TRUE(all[0].starts_with("session=abc123")) << all[0];
    EXPECT_NE(all[0].find("Path=/"), std::string_view::npos) << all[0];
    EXPECT_NE(all[0].find("Secure"), std::string_view::npos) << all[0];
    EXPECT_NE(all[0].find("HttpOnly"), std::string_view::npos) << all[0];
    EXPECT_NE(all[0].find("SameSite=Lax"), std::string_view::npos) << all[0];
    EXPECT_TRUE(all[1].starts_with("theme=dark")) << all[1];
    EXPECT_NE(all[1].find("Max-Age=3600"), std::string_view::npos) << all[1];
}

TEST(response, set_cookie_rejects_invalid_cookies) {
    Response r;
    EXPECT_THROW(r.set_cookie({.name = "bad name", .value = "v"}), std::invalid_argument);
    EXPECT_THROW(r.set_cookie({.name = "n", .value = "a;b"}), std::invalid_argument);
    EXPECT_THROW(r.set_cookie({.name = "n", .value = "v\r\nX: y"}), std::invalid_argument);
    EXPECT_THROW(r.set_cookie({.name = "n", .value = "v", .same_site = http::same_site::none}), std::invalid_argument);
    EXPECT_FALSE(r.headers().contains("Set-Cookie"));
}

TEST(response, cookies_through_the_client) {
    App app;
    app.get("/login", [] {
        Response r = Response::redirect("/home", http::status::see_other);
        r.set_cookie({.name = "sid", .value = "s1", .http_only = true});
        r.set_cookie({.name = "flash", .value = "welcome"});
        return r;
    });
    app.get("/whoami", [](Request& req) { return std::string{req.cookie("sid").value_or("nobody")}; });
    Client client{app};
    auto r = client.get("/login");
    EXPECT_EQ(r.status(), 303);
    auto cookies = r.headers().get_all("Set-Cookie");
    ASSERT_EQ(cookies.size(), 2u);
    EXPECT_TRUE(cookies[0].starts_with("sid=s1"));
    EXPECT_TRUE(cookies[1].starts_with("flash=welcome"));
    EXPECT_EQ(client.get("/whoami", {.headers = {{"Cookie", "a=1; sid=xyz; b=2"}}}).text(), "xyz");
    EXPECT_EQ(client.get("/whoami").text(), "s1");  // the client keeps cookies like a browser
    Client fresh{app};
    EXPECT_EQ(fresh.get("/whoami").text(), "nobody");
}
