// Streamed request bodies over real sockets: large uploads written to disk without holding the body, route body
// limits, the body timeout, clients that go away, pipelining after a streamed body, and 100-continue.
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include "support/problem.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

using namespace std::chrono_literals;
using zephyr::App;
using zephyr::BodyStream;
using zephyr::Multipart;
using zephyr::Request;
using zephyr::Task;
using zephyr::testing::Connection;
using zephyr::testing::Server;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t mib = 1024 * 1024;
const std::string boundary = "----zephyr-upload-test-7f3a9c";

class sha256 {
public:
    sha256() : ctx_{EVP_MD_CTX_new(), EVP_MD_CTX_free} { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
    void update(std::string_view data) { EVP_DigestUpdate(ctx_.get(), data.data(), data.size()); }
    std::string hex() {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_DigestFinal_ex(ctx_.get(), md, &len);
        std::string out;
        for (unsigned i = 0; i < len; ++i) out += fmt_byte(md[i]);
        return out;
    }

private:
    static std::string fmt_byte(unsigned char b) {
        static constexpr char digits[] = "0123456789abcdef";
        return {digits[b >> 4], digits[b & 15]};
    }
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx_;
};

std::string file_sha256(const fs::path& p) {
    std::ifstream in{p, std::ios::binary};
    sha256 h;
    std::string buf(64 * 1024, '\0');
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        h.update({buf.data(), static_cast<std::size_t>(in.gcount())});
    }
    return h.hex();
}

// Pseudo-random bytes, generated into one reused buffer (so the client holds no copy of the body either).
class byte_source {
public:
    void fill(std::string& buf) {
        for (char& c : buf) {
            state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
            c = static_cast<char>(state_ >> 56);
        }
    }

private:
    std::uint64_t state_ = 42;
};

// The process's peak resident set since the last reset, in bytes; nothing when it cannot be read.
std::optional<std::uint64_t> peak_rss() {
    std::ifstream in{"/proc/self/status"};
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    return std::nullopt;
}

bool reset_peak_rss() {
    std::ofstream out{"/proc/self/clear_refs"};
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

struct temp_dir {
    fs::path path;
    explicit temp_dir(const std::string& name)
        : path{fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()))} {
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::size_t count() const {
        std::size_t n = 0;
        for ([[maybe_unused]] const auto& e : fs::directory_iterator{path}) ++n;
        return n;
    }
};

std::string file_part_head(std::string_view filename) {
    return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + std::string{filename} +
           "\"\r\nContent-Type: application/octet-stream\r\n\r\n";
}
const std::string closing = "\r\n--" + boundary + "--\r\n";

std::string post_head(std::string_view target, std::uint64_t length, std::string_view extra = {}) {
    return "POST " + std::string{target} + " HTTP/1.1\r\nHost: t\r\nContent-Type: multipart/form-data; boundary=" +
           boundary + "\r\nContent-Length: " + std::to_string(length) + "\r\n" + std::string{extra} + "\r\n";
}

bool wait_until(auto&& condition, std::chrono::milliseconds limit = 5000ms) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (condition()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return condition();
}

void echo_routes(App& app) {
    app.get("/", [] { return "root"; });
    app.post("/count", [](BodyStream body) -> Task<std::string> {
        std::uint64_t total = 0;
        char buf[4096];
        while (std::size_t n = co_await body.read_some(buf)) total += n;
        co_return std::to_string(total);
    });
    app.post("/ignore", [](BodyStream) { return "ignored"; });
    app.post("/guarded", [](Request& req, BodyStream body) -> Task<zephyr::Response> {
        if (!req.header("Authorization")) throw zephyr::HttpError{zephyr::status::unauthorized, "who are you?"};
        std::string all = co_await body.read_all(1024);
        co_return zephyr::Response::text(all);
    });
}

}  // namespace

TEST(upload, twenty_mib_upload_is_written_to_disk_without_holding_the_body) {
    temp_dir dir{"zephyr-upload-big"};
    App app;
    std::atomic<std::size_t> body_in_memory{12345};
    std::atomic<bool> streamed{false};
    app.post("/upload", [&](Request& req, Multipart form) -> Task<std::string> {
        body_in_memory = req.body().size();
        streamed = req.body_streamed();
        std::uint64_t total = 0;
        while (auto part = co_await form.next())
            if (part->is_file()) total += co_await part->save_to(dir.path / part->safe_filename());
        co_return std::to_string(total);
    }, {.max_body = 64 * mib});
    Server server{app};  // the server's own limit stays at its default of 8 MiB
    ASSERT_EQ(Server::test_config().limits.max_body, 8 * mib);

    const std::uint64_t file_size = 20 * mib;
    const std::string part_head = file_part_head("../../big.bin");
    Connection c = server.connect(60s);
    const bool measured = reset_peak_rss();
    const auto before = peak_rss();
    c.write(post_head("/upload", part_head.size() + file_size + closing.size()) + part_head);
    sha256 sent;
    byte_source bytes;
    std::string chunk(64 * 1024, '\0');
    for (std::uint64_t done = 0; done < file_size; done += chunk.size()) {
        bytes.fill(chunk);
        sent.update(chunk);
        c.write(chunk);
    }
    c.write(closing);
    auto res = c.read_response();
    const auto after = peak_rss();

    EXPECT_EQ(res.status(), 200) << res.text();
    EXPECT_EQ(res.text(), std::to_string(file_size));
    EXPECT_TRUE(streamed);
    EXPECT_EQ(body_in_memory, 0u);
    ASSERT_TRUE(fs::exists(dir.path / "big.bin"));
    EXPECT_EQ(fs::file_size(dir.path / "big.bin"), file_size);
    EXPECT_EQ(file_sha256(dir.path / "big.bin"), sent.hex());
    if (measured && before && after) {
        // Client and server share this process; neither may have held the 20 MiB body.
        EXPECT_LT(*after - *before, 10 * mib) << "peak RSS grew by " << (*after - *before) / 1024 << " KiB";
    }
    // The connection carries on.
    c.write("GET /nothing HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(c.read_response().status(), 404);
}

TEST(upload, a_body_over_the_route_limit_is_refused_before_it_is_read) {
    App app;
    app.post("/upload", [](Multipart form) -> Task<std::string> {
        co_await form.collect();
        co_return "read";
    }, {.max_body = 1 * mib});
    Server server{app};
    Connection c = server.connect();
    c.write(post_head("/upload", 2 * mib, "Expect: 100-continue\r\n"));
    auto res = c.read_response();
    zephyr::test_support::expect_problem(res, 413);
    EXPECT_EQ(res.json().at("detail").as_string(), "the request body is larger than 1048576 bytes");
    EXPECT_EQ(res.header("Connection"), "close");
    EXPECT_TRUE(c.closed_by_server());
}

TEST(upload, a_chunked_body_over_the_route_limit_is_413_when_it_gets_there) {
    App app;
    echo_routes(app);
    app.post("/small", [](BodyStream body) -> Task<std::string> {
        co_return std::to_string((co_await body.read_all(1 << 20)).size());
    }, {.max_body = 1000});
    Server server{app};
    Connection c = server.connect();
    c.write("POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" "3e8\r\n" + std::string(1000, 'a') +
            "\r\n1\r\nb\r\n0\r\n\r\n");
    auto res = c.read_response();
    zephyr::test_support::expect_problem(res, 413);
    EXPECT_EQ(res.json().at("detail").as_string(), "the request body is larger than 1000 bytes");
    EXPECT_TRUE(c.closed_by_server());

    Connection ok = server.connect();
    ok.write("POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" "3e8\r\n" + std::string(1000, 'a') +
             "\r\n0\r\n\r\n");
    EXPECT_EQ(ok.read_response().text(), "1000");
}

TEST(upload, a_client_that_stops_sending_gets_408) {
    App app;
    echo_routes(app);
    auto config = Server::test_config();
    config.timeouts.body = 300ms;
    Server server{app, config};
    Connection c = server.connect();
    c.write("POST /count HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789");
    auto start = std::chrono::steady_clock::now();
    auto res = c.read_response();
    zephyr::test_support::expect_problem(res, 408);
    EXPECT_EQ(res.json().at("detail").as_string(), "the request body was not received in time");
    EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
    EXPECT_TRUE(c.closed_by_server());
}

TEST(upload, a_client_that_disconnects_mid_upload_leaves_no_temporary_file) {
    temp_dir dir{"zephyr-upload-gone"};
    App app;
    std::atomic<bool> finished{false};
    std::atomic<int> outcome{0};  // 1 = completed, 2 = failed
    app.post("/upload", [&](Multipart form) -> Task<std::string> {
        zephyr::http::multipart_limits limits;
        limits.spool_threshold = 64 * 1024;
        limits.temp_dir = dir.path;
        try {
            auto f = co_await form.collect(limits);
            outcome = 1;
        } catch (...) {
            outcome = 2;
            finished = true;
            throw;
        }
        finished = true;
        co_return "done";
    }, {.max_body = 64 * mib});
    Server server{app};
    {
        Connection c = server.connect();
        const std::string head = file_part_head("gone.bin");
        c.write(post_head("/upload", head.size() + 10 * mib + closing.size()) + head);
        std::string chunk(64 * 1024, 'g');
        for (int i = 0; i < 32; ++i) c.write(chunk);  // 2 MiB of 10
        EXPECT_TRUE(wait_until([&] { return dir.count() == 1; })) << "the upload was not spooled to a file";
        c.close();
    }
    EXPECT_TRUE(wait_until([&] { return finished.load(); }));
    EXPECT_EQ(outcome, 2);
    EXPECT_TRUE(wait_until([&] { return dir.count() == 0; })) << "a temporary file was left behind";
}

TEST(upload, pipelined_requests_after_a_streamed_body_are_answered) {
    App app;
    echo_routes(app);
    Server server{app};
    Connection c = server.connect();
    // Read whole, left unread (small: drained), chunked, each followed by another request in the same write.
    c.write("POST /count HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: t\r\n\r\n"
            "POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 7\r\n\r\nignoredGET / HTTP/1.1\r\nHost: t\r\n\r\n"
            "POST /count HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
            "GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(c.read_response().text(), "5");
    EXPECT_EQ(c.read_response().text(), "root");
    auto ignored = c.read_response();
    EXPECT_EQ(ignored.text(), "ignored");
    EXPECT_NE(ignored.header("Connection"), "close");
    EXPECT_EQ(c.read_response().text(), "root");
    EXPECT_EQ(c.read_response().text(), "5");
    EXPECT_EQ(c.read_response().text(), "root");

    // A body arriving after the head, in pieces.
    c.write("POST /count HTTP/1.1\r\nHost: t\r\nContent-Length: 300000\r\n\r\n");
    std::string piece(100000, 'p');
    for (int i = 0; i < 3; ++i) c.write(piece);
    c.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(c.read_response().text(), "300000");
    EXPECT_EQ(c.read_response().text(), "root");
}

TEST(upload, a_large_unread_body_closes_the_connection_after_the_response) {
    App app;
    echo_routes(app);
    Server server{app};
    Connection c = server.connect();
    c.write("POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 4000000\r\n\r\n" + std::string(100000, 'x'));
    auto res = c.read_response();
    EXPECT_EQ(res.text(), "ignored");
    EXPECT_EQ(res.header("Connection"), "close");
    EXPECT_TRUE(c.closed_by_server());
}

TEST(upload, expect_100_continue_is_answered_when_the_handler_reads) {
    App app;
    echo_routes(app);
    Server server{app};
    Connection c = server.connect();
    c.write("POST /guarded HTTP/1.1\r\nHost: t\r\nAuthorization: yes\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    EXPECT_EQ(c.read_response().status(), 100);
    c.write("data");
    auto res = c.read_response();
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(res.text(), "data");

    // A handler that refuses without reading answers at once, with no 100, and closes: the client has not
    // sent the body and will not.
    Connection refused = server.connect();
    refused.write("POST /guarded HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    auto no = refused.read_response();
    zephyr::test_support::expect_problem(no, 401);
    EXPECT_EQ(no.header("Connection"), "close");
    EXPECT_TRUE(refused.closed_by_server());
}

TEST(upload, route_max_body_raises_the_limit_for_a_buffered_body_too) {
    App app;
    app.post("/big", [](zephyr::Body b) { return std::to_string(b->size()); }, {.max_body = 16 * mib});
    app.post("/default", [](zephyr::Body b) { return std::to_string(b->size()); });
    Server server{app};
    std::string body(9 * mib, 'b');
    EXPECT_EQ(server.post("/big", body).text(), std::to_string(9 * mib));
    EXPECT_EQ(server.post("/default", body).status(), 413);
}
