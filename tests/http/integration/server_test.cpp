// The real server over real sockets: persistence, pipelining, framing, rejections, timeouts, hostile clients,
// streaming, files and graceful shutdown.
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

using namespace std::chrono_literals;
using zephyr::App;
using zephyr::Request;
using zephyr::Response;
using zephyr::Task;
using zephyr::testing::Connection;
using zephyr::testing::Server;

namespace {

Task<void> sleep_for(std::chrono::milliseconds d) {
    boost::asio::steady_timer t{co_await boost::asio::this_coro::executor, d};
    co_await t.async_wait(boost::asio::use_awaitable);
}

void make_app(App& app) {
    app.get("/", [] { return "Hello, World!"; });
    app.get("/path/{name}", [](Request& req) { return std::string{req.param("name")}; });
    app.post("/echo", [](Request& req) { return Response::text(req.body()); });
    app.get("/throw", []() -> std::string { throw std::runtime_error{"secret internals"}; });
    app.get("/slow", []() -> Task<std::string> {
        co_await sleep_for(300ms);
        co_return "slow done";
    });
    app.get("/stream", [] {
        return Response::stream([](zephyr::http::body_writer& w) -> Task<void> {
            for (int i = 0; i < 3; ++i) co_await w.write("part" + std::to_string(i) + ";");
        });
    });
    app.get("/big-stream", [] {
        return Response::stream([](zephyr::http::body_writer& w) -> Task<void> {
            std::string chunk(64 * 1024, 'x');
            for (int i = 0; i < 200; ++i) co_await w.write(chunk);
        });
    });
}

zephyr::http::server_config config_with(auto&& change) {
    auto c = Server::test_config();
    change(c);
    return c;
}

std::string head_of(std::string_view extra_headers = {}) {
    return "GET / HTTP/1.1\r\nHost: t\r\n" + std::string{extra_headers} + "\r\n";
}

}  // namespace

TEST(server, answers_with_date_server_and_content_length) {
    App app;
    make_app(app);
    Server server{app};
    auto res = server.get("/");
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(res.text(), "Hello, World!");
    EXPECT_EQ(res.header("Content-Length"), "13");
    EXPECT_EQ(res.header("Server"), "Zephyr");
    EXPECT_TRUE(res.header("Date").ends_with(" GMT")) << res.header("Date");
}

TEST(server, keeps_the_connection_alive_between_requests) {
    App app;
    make_app(app);
    Server server{app};
    Connection c = server.connect();
    for (int i = 0; i < 3; ++i) {
        c.write(head_of());
        auto res = c.read_response();
        EXPECT_EQ(res.status(), 200);
        EXPECT_FALSE(res.has_header("Connection"));
    }
}

TEST(server, answers_pipelined_requests_in_order) {
    App app;
    make_app(app);
    Server server{app};
    Connection c = server.connect();
    std::string batch;
    for (int i = 0; i < 20; ++i) batch += "GET /path/n" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n\r\n";
    c.write(batch);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(c.read_response().text(), "n" + std::to_string(i));
}

TEST(server, closes_after_connection_close) {
    App app;
    make_app(app);
    Server server{app};
    Connection c = server.connect();
    c.write(head_of("Connection: close\r\n"));
    auto res = c.read_response();
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(res.header("Connection"), "close");
    EXPECT_TRUE(c.closed_by_server());
}

TEST(server, http10_closes_by_default_and_keeps_alive_on_request) {
    App app;
    make_app(app);
    Server server{app};
    {
        Connection c = server.connect();
        c.write("GET / HTTP/1.0\r\n\r\n");
        EXPECT_EQ(c.read_response().header("Connection"), "close");
        EXPECT_TRUE(c.closed_by_server());
    }
    Connection c = server.connect();
    c.write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(c.read_response().header("Connection"), "keep-alive");
    c.write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_EQ(c.read_response().status(), 200);
}

TEST(server, reads_content_length_and_chunked_bodies) {
    App app;
    make_app(app);
    Server server{app};
    Connection c = server.connect();
    c.write("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_EQ(c.read_response().text(), "hello");
    c.write("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            "4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: ignored\r\n\r\n");
    auto res = c.read_response();
    EXPECT_EQ(res.text(), "Wikipedia");
    EXPECT_FALSE(res.has_header("X-Trailer"));
    // A large body arriving in pieces.
    std::string big(300 * 1024, 'z');
    c.write("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n");
    std::this_thread::sleep_for(20ms);
    c.write(big);
    EXPECT_EQ(c.read_response().text(), big);
}

TEST(server, chunked_body_arriving_in_pieces) {
    App app;
    make_app(app);
    Server server{app};
    Connection c = server.connect();
    c.write("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab");
    std::this_thread::sleep_for(20ms);
    c.write("c\r\n2\r\nde\r\n");
    std::this_thread::sleep_for(20ms);
    c.write("0\r\n\r\nGET /path/after HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(c.read_response().text(), "abcde");
    EXPECT_EQ(c.read_response().text(), "after");
}

TEST(server, sends_100_continue_before_reading_the_body) {
    App app;
    make_app(app);
    Server server{app};
    Connection c = server.connect();
    c.write("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    EXPECT_EQ(c.read_response().status(), 100);
    c.write("data");
    EXPECT_EQ(c.read_response().text(), "data");
}

TEST(server, rejects_a_body_over_the_limit_before_reading_it) {
    App app;
    make_app(app);
    Server server{app, config_with([](auto& c) { c.limits.max_body = 1000; })};
    Connection c = server.connect();
    c.write("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n");
    auto res = c.read_response();
    EXPECT_EQ(res.status(), 413);
    EXPECT_EQ(res.header("Connection"), "close");
    EXPECT_TRUE(c.closed_by_server());

    Connection chunked = server.connect();
    chunked.write("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
                  std::string(0x800, 'a') + "\r\n");
    EXPECT_EQ(chunked.read_response().status(), 413);
}

struct rejection {
    const char* name;
    std::string request;
    int status;
};

class server_rejects : public ::testing::TestWithParam<rejection> {};

TEST_P(server_rejects, with_status_and_closes) {
    App app;
    make_app(app);
    Server server{app, config_with([](auto& c) {
                      c.limits.max_request_line = 256;
                      c.limits.max_header_bytes = 1024;
                      c.limits.max_headers = 10;
                  })};
    Connection c = server.connect();
    c.write(GetParam().request);
    auto res = c.read_response();
    EXPECT_EQ(res.status(), GetParam().status) << res.text();
    EXPECT_FALSE(res.text().empty());
    EXPECT_EQ(res.header("Connection"), "close");
    EXPECT_TRUE(c.closed_by_server());
    // The server keeps serving other connections.
    EXPECT_EQ(server.get("/").status(), 200);
}

static std::string many_headers(int n) {
    std::string h;
    for (int i = 0; i < n; ++i) h += "X-H" + std::to_string(i) + ": v\r\n";
    return h;
}

INSTANTIATE_TEST_SUITE_P(
    rfc9112, server_rejects,
    ::testing::Values(
        rejection{"cl_and_te", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        rejection{"conflicting_cl", "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400},
        rejection{"unknown_te", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        rejection{"obs_fold", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n", 400},
        rejection{"bare_cr", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n", 400},
        rejection{"space_in_name", "GET / HTTP/1.1\r\nHost: t\r\nX A: b\r\n\r\n", 400},
        rejection{"space_before_colon", "GET / HTTP/1.1\r\nHost: t\r\nX-A : b\r\n\r\n", 400},
        rejection{"control_in_name", "GET / HTTP/1.1\r\nHost: t\r\nX\x01: b\r\n\r\n", 400},
        rejection{"bad_chunk_size", "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        rejection{"missing_host", "GET / HTTP/1.1\r\n\r\n", 400},
        rejection{"http2_version", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505},
        rejection{"long_request_line", "GET /" + std::string(400, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n", 414},
        rejection{"long_request_line_unterminated", "GET /" + std::string(400, 'a'), 414},
        rejection{"large_headers", "GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(2000, 'b') + "\r\n\r\n", 431},
        rejection{"too_many_headers", "GET / HTTP/1.1\r\nHost: t\r\n" + many_headers(20) + "\r\n", 431},
        rejection{"garbage", std::string{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15}, 400},
        rejection{"nul_in_target", std::string{"GET /a\0b HTTP/1.1\r\nHost: t\r\n\r\n", 30}, 400}),
    [](const auto& info) { return std::string{info.param.name}; });

TEST(server, answers_408_when_the_head_stalls) {
    App app;
    make_app(app);
    Server server{app, config_with([](auto& c) { c.timeouts.header = 200ms; })};
    Connection c = server.connect();
    c.write("GET / HTTP/1.1\r\nHost:");
    auto res = c.read_response();
    EXPECT_EQ(res.status(), 408);
    EXPECT_TRUE(c.closed_by_server());
}

TEST(server, slow_loris_dribbling_bytes_still_times_out) {
    App app;
    make_app(app);
    Server server{app, config_with([](auto& c) { c.timeouts.header = 300ms; })};
    Connection c = server.connect();
    auto start = std::chrono::steady_clock::now();
    std::string dribble = "GET / HTTP/1.1\r\nHost: t\r\n";
    bool rejected = false;
    for (int i = 0; i < 200 && !rejected; ++i) {
        try {
            c.write(i < static_cast<int>(dribble.size()) ? dribble.substr(static_cast<std::size_t>(i), 1) : "X");
        } catch (const std::runtime_error&) {
            rejected = true;  // the server closed first
        }
        if (c.closed_by_server(50ms)) rejected = true;
    }
    EXPECT_TRUE(rejected);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(server, body_timeout_answers_408) {
    App app;
    make_app(app);
    Server server{app, config_with([](auto& c) { c.timeouts.body = 200ms; })};
    Connection c = server.connect();
    c.write("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab");
    EXPECT_EQ(c.read_response().status(), 408);
}

TEST(server, closes_idle_keep_alive_connections) {
    App app;
    make_app(app);
    Server server{app, config_with([](auto& c) { c.timeouts.idle = 200ms; })};
    Connection c = server.connect();
    c.write(head_of());
    EXPECT_EQ(c.read_response().status(), 200);
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.closed_by_server(3000ms));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(server, survives_clients_that_vanish) {
    App app;
    make_app(app);
    Server server{app};
    for (int i = 0; i < 20; ++i) {
        Connection mid_request = server.connect();
        mid_request.write("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc");
        mid_request.close();
        Connection mid_response = server.connect();
        mid_response.write("GET /big-stream HTTP/1.1\r\nHost: t\r\n\r\n");
        mid_response.close();  // 12.8 MB are on their way to nobody
    }
    EXPECT_EQ(server.get("/").text(), "Hello, World!");
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (server.server().connection_count() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    EXPECT_EQ(server.server().connection_count(), 0u);
}

TEST(server, closes_a_connection_whose_client_stops_reading) {
    App app;
    make_app(app);
    Server server{app, config_with([](auto& c) { c.timeouts.write = 300ms; })};
    Connection stuck = server.connect();
    stuck.write("GET /big-stream HTTP/1.1\r\nHost: t\r\n\r\n");  // 12.8 MB, never read
    auto deadline = std::chrono::steady_clock::now() + 5s;
    std::this_thread::sleep_for(100ms);
    while (server.server().connection_count() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
    EXPECT_EQ(server.server().connection_count(), 0u);
    EXPECT_EQ(server.get("/").status(), 200);
}

TEST(server, waits_at_the_connection_limit) {
    App app;
    make_app(app);
    Server server{app, config_with([](auto& c) { c.limits.max_connections = 2; })};
    Connection a = server.connect(), b = server.connect();
    a.write(head_of());
    b.write(head_of());
    EXPECT_EQ(a.read_response().status(), 200);
    EXPECT_EQ(b.read_response().status(), 200);
    Connection waiting = server.connect(300ms);  // the kernel completes the handshake; the server does not accept
    waiting.write(head_of());
    EXPECT_THROW(waiting.read_response(), std::runtime_error);
    a.close();
    EXPECT_EQ(waiting.read_response().status(), 200);
}

TEST(server, a_throwing_handler_gets_500_and_the_connection_lives_on) {
    App app;
    make_app(app);
    Server server{app};
    Connection c = server.connect();
    c.write("GET /throw HTTP/1.1\r\nHost: t\r\n\r\n");
    auto res = c.read_response();
    EXPECT_EQ(res.status(), 500);
    EXPECT_EQ(res.header("Content-Type"), "application/problem+json");
    EXPECT_EQ(res.text().find("secret internals"), std::string::npos);
    c.write(head_of());
    EXPECT_EQ(c.read_response().status(), 200);
}

TEST(server, streams_chunked_bodies_and_close_delimited_for_http10) {
    App app;
    make_app(app);
    Server server{app};
    Connection c = server.connect();
    c.write("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n");
    auto res = c.read_response();
    EXPECT_EQ(res.header("Transfer-Encoding"), "chunked");
    EXPECT_EQ(res.text(), "part0;part1;part2;");
    c.write(head_of());  // the connection is still usable after the last chunk
    EXPECT_EQ(c.read_response().status(), 200);

    Connection old = server.connect();
    old.write("GET /stream HTTP/1.0\r\n\r\n");
    std::string all = old.read_until_close();
    EXPECT_NE(all.find("Connection: close"), std::string::npos);
    EXPECT_EQ(all.find("Transfer-Encoding"), std::string::npos);
    EXPECT_TRUE(all.ends_with("\r\n\r\npart0;part1;part2;"));
}

TEST(server, sends_files_and_404_for_missing_ones) {
    auto dir = std::filesystem::temp_directory_path() / ("zephyr-file-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::string content(200 * 1024, '\0');
    for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i % 26);
    std::ofstream{dir / "data.txt", std::ios::binary} << content;

    App app;
    app.get("/file", [&] { return Response::file((dir / "data.txt").string()); });
    app.get("/missing", [&] { return Response::file((dir / "nope.txt").string()); });
    Server server{app};
    Connection c = server.connect();
    c.write("GET /file HTTP/1.1\r\nHost: t\r\n\r\n");
    auto res = c.read_response();
    EXPECT_EQ(res.text(), content);
    EXPECT_EQ(res.header("Content-Type"), "text/plain; charset=utf-8");
    c.write("HEAD /file HTTP/1.1\r\nHost: t\r\n\r\n");
    auto head = c.read_response(true);
    EXPECT_EQ(head.header("Content-Length"), std::to_string(content.size()));
    c.write("GET /missing HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(c.read_response().status(), 404);
    std::filesystem::remove_all(dir);
}

TEST(server, head_has_the_get_length_and_no_body) {
    App app;
    make_app(app);
    Server server{app};
    Connection c = server.connect();
    c.write("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n");
    auto res = c.read_response(true);
    EXPECT_EQ(res.header("Content-Length"), "13");
    c.write(head_of());  // no stray body bytes precede the next response
    EXPECT_EQ(c.read_response().text(), "Hello, World!");
}

TEST(server, graceful_shutdown_finishes_in_flight_requests) {
    App app;
    make_app(app);
    Server server{app};
    Connection idle = server.connect();
    idle.write(head_of());
    EXPECT_EQ(idle.read_response().status(), 200);

    Connection busy = server.connect();
    busy.write("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
    std::this_thread::sleep_for(50ms);  // the handler is now waiting
    auto stopped = std::async(std::launch::async, [&] { server.stop(); });

    auto res = busy.read_response();
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(res.text(), "slow done");
    EXPECT_EQ(res.header("Connection"), "close");
    EXPECT_TRUE(idle.closed_by_server());
    EXPECT_EQ(stopped.wait_for(5s), std::future_status::ready);
    EXPECT_THROW(server.connect(), std::runtime_error);
}

TEST(server, drain_deadline_bounds_shutdown) {
    App app;
    app.get("/forever", []() -> Task<std::string> {
        co_await sleep_for(std::chrono::hours{1});
        co_return "never";
    });
    Server server{app, config_with([](auto& c) { c.timeouts.drain = 200ms; })};
    Connection c = server.connect();
    c.write("GET /forever HTTP/1.1\r\nHost: t\r\n\r\n");
    std::this_thread::sleep_for(50ms);
    auto start = std::chrono::steady_clock::now();
    server.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(server, serves_from_several_threads) {
    App app;
    make_app(app);
    Server server{app, config_with([](auto& c) { c.threads = 2; })};
    std::vector<Connection> conns;
    for (int i = 0; i < 16; ++i) conns.push_back(server.connect());
    for (auto& c : conns) c.write(head_of());
    for (auto& c : conns) EXPECT_EQ(c.read_response().status(), 200);
}

TEST(server, refuses_to_start_on_a_port_another_server_listens_on) {
    App app;
    make_app(app);
    Server first{app};
    auto cfg = Server::test_config();
    cfg.port = first.port();
    zephyr::http::Server second{app, cfg};
    EXPECT_THROW(second.start(), std::system_error);
    EXPECT_EQ(first.get("/").status(), 200);
}

TEST(server, refuses_to_start_on_a_port_in_use) {
    App other;
    make_app(other);
    auto cfg = Server::test_config();
    // A port held by a socket without SO_REUSEPORT is refused with a clear error.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    cfg.port = ntohs(addr.sin_port);
    zephyr::http::Server blocked{other, cfg};
    try {
        blocked.start();
        ADD_FAILURE() << "start() should have thrown";
    } catch (const std::system_error& e) {
        EXPECT_NE(std::string{e.what()}.find("cannot listen on 127.0.0.1:"), std::string::npos) << e.what();
    }
    ::close(fd);
}

// 10,000 client sockets and 10,000 server sockets do not fit one process's descriptor limit here, so the
// clients live in a forked child (forked before the server starts any thread).
TEST(server, holds_ten_thousand_keep_alive_connections) {
    constexpr int n = 10'000;
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < n + 500) GTEST_SKIP() << "needs " << n + 500 << " file descriptors, have " << rl.rlim_cur;

    int to_child[2], to_parent[2];
    ASSERT_EQ(::pipe(to_child), 0);
    ASSERT_EQ(::pipe(to_parent), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        std::uint16_t port = 0;
        if (::read(to_child[0], &port, sizeof port) != sizeof port) ::_exit(2);
        int ok = 0;
        try {
            std::vector<Connection> conns;
            conns.reserve(n);
            for (int i = 0; i < n; ++i) conns.emplace_back(port, 20s);
            for (auto& c : conns) c.write(head_of());
            for (auto& c : conns) ok += c.read_response().status() == 200;
            if (::write(to_parent[1], &ok, sizeof ok) != sizeof ok) ::_exit(3);
            char done = 0;
            if (::read(to_child[0], &done, 1) != 1) ::_exit(4);  // hold the connections until told
            for (int i = 0; i < n; i += 997) {  // still open and usable
                conns[static_cast<std::size_t>(i)].write(head_of());
                if (conns[static_cast<std::size_t>(i)].read_response().status() != 200) ::_exit(5);
            }
        } catch (...) {
            ::_exit(6);
        }
        ::_exit(0);
    }

    App app;
    make_app(app);
    Server server{app};
    std::uint16_t port = server.port();
    ASSERT_EQ(::write(to_child[1], &port, sizeof port), static_cast<ssize_t>(sizeof port));
    int ok = -1;
    ASSERT_EQ(::read(to_parent[0], &ok, sizeof ok), static_cast<ssize_t>(sizeof ok));
    EXPECT_EQ(ok, n);
    EXPECT_EQ(server.server().connection_count(), static_cast<std::size_t>(n));
    char go = 1;
    ASSERT_EQ(::write(to_child[1], &go, 1), 1);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
    for (int fd : {to_child[0], to_child[1], to_parent[0], to_parent[1]}) ::close(fd);
}
