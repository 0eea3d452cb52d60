// Static files: safe resolution, validators and 304, ranges, precompressed siblings, over both test levels.
#include <zephyr/http/static_files.hpp>
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace zephyr;
using zephyr::testing::Client;

namespace {

struct site {
    fs::path dir = fs::temp_directory_path() / ("zephyr-static-" + std::to_string(::getpid()));
    fs::path outside = dir.string() + "-outside";
    std::string app_js = "console.log('hello static');\n";
    site() {
        fs::create_directories(dir / "public" / "docs");
        fs::create_directories(outside);
        write(dir / "public" / "index.html", "<h1>home</h1>");
        write(dir / "public" / "app.js", app_js);
        write(dir / "public" / "app.js.br", "BROTLI-BYTES");
        write(dir / "public" / "app.js.gz", "GZIP-BYTES");
        write(dir / "public" / "docs" / "a b.txt", "spaced");
        write(dir / "secret.txt", "do not serve");
        write(outside / "x.txt", "outside");
        fs::create_symlink(outside / "x.txt", dir / "public" / "link.txt");
    }
    ~site() {
        fs::remove_all(dir);
        fs::remove_all(outside);
    }
    static void write(const fs::path& p, std::string_view text) { std::ofstream{p, std::ios::binary} << text; }
    fs::path root() const { return dir / "public"; }
};

}  // namespace

TEST(static_files, serves_files_with_type_and_validators) {
    site s;
    App app;
    app.get("/static/{*path}", http::static_files(s.root(), {.max_age = std::chrono::hours{1}}));
    Client client{app};
    auto r = client.get("/static/app.js");
    EXPECT_EQ(r.status(), 200);
    EXPECT_EQ(r.text(), s.app_js);
    EXPECT_EQ(r.header("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_FALSE(r.header("ETag").empty());
    EXPECT_TRUE(r.header("Last-Modified").ends_with("GMT"));
    EXPECT_EQ(r.header("Cache-Control"), "public, max-age=3600");
    EXPECT_EQ(r.header("Accept-Ranges"), "bytes");
    EXPECT_EQ(client.get("/static/").text(), "<h1>home</h1>");
    EXPECT_EQ(client.get("/static/docs/a%20b.txt").text(), "spaced");
}

TEST(static_files, refuses_to_leave_the_root) {
    site s;
    App app;
    app.get("/static/{*path}", http::static_files(s.root()));
    app.get("/loose/{*path}", http::static_files(s.root(), {.follow_symlinks_outside = true}));
    Client client{app};
    for (const char* bad : {"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/docs/../../secret.txt",
                            "/static/%2E%2E%2Fsecret.txt", "/static/link.txt", "/static/missing.txt",
                            "/static/a%00b", "/static/..%5csecret.txt"}) {
        auto r = client.get(bad);
        EXPECT_EQ(r.status(), 404) << bad;
        EXPECT_EQ(r.text().find("do not serve"), std::string::npos) << bad;
    }
    EXPECT_EQ(client.get("/loose/link.txt").text(), "outside");
    EXPECT_THROW(http::static_files(s.dir / "nope"), std::invalid_argument);
}

TEST(static_files, conditional_requests_get_304) {
    site s;
    App app;
    app.get("/static/{*path}", http::static_files(s.root()));
    Client client{app};
    auto first = client.get("/static/app.js");
    auto etag = first.header("ETag");
    auto again = client.get("/static/app.js", {.headers = {{"If-None-Match", etag}}});
    EXPECT_EQ(again.status(), 304);
    EXPECT_TRUE(again.text().empty());
    EXPECT_EQ(client.get("/static/app.js", {.headers = {{"If-None-Match", "\"other\", " + etag}}}).status(), 304);
    EXPECT_EQ(client.get("/static/app.js", {.headers = {{"If-None-Match", "\"other\""}}}).status(), 200);
    EXPECT_EQ(client.get("/static/app.js", {.headers = {{"If-Modified-Since", first.header("Last-Modified")}}}).status(),
              304);
    EXPECT_EQ(client.get("/static/app.js", {.headers = {{"If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"}}})
                  .status(),
              200);
    EXPECT_EQ(client.get("/static/app.js", {.headers = {{"If-Modified-Since", "garbage"}}}).status(), 200);
}

TEST(static_files, byte_ranges) {
    site s;
    App app;
    app.get("/static/{*path}", http::static_files(s.root()));
    Client client{app};
    const std::string& js = s.app_js;
    auto r = client.get("/static/app.js", {.headers = {{"Range", "bytes=0-6"}}});
    EXPECT_EQ(r.status(), 206);
    EXPECT_EQ(r.text(), js.substr(0, 7));
    EXPECT_EQ(r.header("Content-Range"), "bytes 0-6/" + std::to_string(js.size()));
    EXPECT_EQ(client.get("/static/app.js", {.headers = {{"Range", "bytes=-5"}}}).text(), js.substr(js.size() - 5));
    EXPECT_EQ(client.get("/static/app.js", {.headers = {{"Range", "bytes=8-"}}}).text(), js.substr(8));
    EXPECT_EQ(client.get("/static/app.js", {.headers = {{"Range", "bytes=3-100000"}}}).text(), js.substr(3));
    auto beyond = client.get("/static/app.js", {.headers = {{"Range", "bytes=5000-6000"}}});
    EXPECT_EQ(beyond.status(), 416);
    EXPECT_EQ(beyond.header("Content-Range"), "bytes */" + std::to_string(js.size()));
    // Ignored, per RFC 9110: several ranges, other units, garbage, a stale If-Range.
    for (const char* h : {"bytes=0-1,3-4", "items=0-1", "bytes=x-y", "bytes=5-2"})
        EXPECT_EQ(client.get("/static/app.js", {.headers = {{"Range", h}}}).status(), 200) << h;
    EXPECT_EQ(client.get("/static/app.js", {.headers = {{"Range", "bytes=0-1"}, {"If-Range", "\"stale\""}}}).status(), 200);
}

TEST(static_files, precompressed_siblings) {
    site s;
    App app;
    app.get("/static/{*path}", http::static_files(s.root()));
    Client client{app};
    auto br = client.get("/static/app.js", {.headers = {{"Accept-Encoding", "gzip, br"}}});
    EXPECT_EQ(br.text(), "BROTLI-BYTES");
    EXPECT_EQ(br.header("Content-Encoding"), "br");
    EXPECT_EQ(br.header("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(br.header("Vary"), "Accept-Encoding");
    auto gz = client.get("/static/app.js", {.headers = {{"Accept-Encoding", "gzip"}}});
    EXPECT_EQ(gz.text(), "GZIP-BYTES");
    EXPECT_NE(gz.header("ETag"), br.header("ETag"));
    auto plain = client.get("/static/app.js");
    EXPECT_EQ(plain.text(), s.app_js);
    EXPECT_FALSE(plain.has_header("Content-Encoding"));
}
