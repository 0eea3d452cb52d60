// HTTPS: the same server behind OpenSSL, with a throwaway self-signed certificate made by the openssl CLI.
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

struct self_signed {
    fs::path dir = fs::temp_directory_path() / ("zephyr-tls-" + std::to_string(::getpid()));
    fs::path cert = dir / "cert.pem";
    fs::path key = dir / "key.pem";
    self_signed() {
        fs::create_directories(dir);
        std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " +
                          key.string() + " -out " + cert.string() + " 2>/dev/null";
        if (std::system(cmd.c_str()) != 0) throw std::runtime_error{"openssl could not make a certificate"};
    }
    ~self_signed() { fs::remove_all(dir); }
};

std::string https_get(std::uint16_t port, const std::string& request) {
    asio::io_context ioc;
    asio::ssl::context ctx{asio::ssl::context::tls_client};
    ctx.set_verify_mode(asio::ssl::verify_none);  // self-signed for the test
    asio::ssl::stream<asio::ip::tcp::socket> s{ioc, ctx};
    s.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    s.handshake(asio::ssl::stream_base::client);
    asio::write(s, asio::buffer(request));
    std::string out;
    boost::system::error_code ec;
    char buf[4096];
    while (true) {
        std::size_t n = s.read_some(asio::buffer(buf), ec);
        out.append(buf, n);
        if (ec) break;
    }
    return out;
}

}  // namespace

TEST(tls, serves_https_with_keep_alive_and_close) {
    self_signed certs;
    zephyr::App app;
    app.get("/", [] { return "secure hello"; });
    app.post("/echo", [](zephyr::Request& req) { return req.body(); });
    auto cfg = zephyr::testing::Server::test_config();
    cfg.tls = zephyr::http::tls_config{certs.cert.string(), certs.key.string()};
    zephyr::testing::Server server{app, cfg};

    std::string out = https_get(server.port(),
                                "GET / HTTP/1.1\r\nHost: t\r\n\r\n"
                                "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nConnection: close\r\n\r\nping");
    EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\r\n")) << out;
    EXPECT_NE(out.find("\r\n\r\nsecure hello"), std::string::npos) << out;
    EXPECT_TRUE(out.ends_with("\r\n\r\nping")) << out;
}

TEST(tls, plain_http_on_a_tls_port_is_dropped_and_the_server_lives_on) {
    self_signed certs;
    zephyr::App app;
    app.get("/", [] { return "secure hello"; });
    auto cfg = zephyr::testing::Server::test_config();
    cfg.tls = zephyr::http::tls_config{certs.cert.string(), certs.key.string()};
    zephyr::testing::Server server{app, cfg};
    auto c = server.connect();
    c.write("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_TRUE(c.closed_by_server());
    EXPECT_NE(https_get(server.port(), "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").find("secure hello"),
              std::string::npos);
}

TEST(tls, unusable_certificate_files_fail_at_start_with_their_names) {
    zephyr::App app;
    app.get("/", [] { return "x"; });
    auto cfg = zephyr::testing::Server::test_config();
    cfg.tls = zephyr::http::tls_config{"/nonexistent/cert.pem", "/nonexistent/key.pem"};
    zephyr::http::Server server{app, cfg};
    try {
        server.start();
        ADD_FAILURE() << "start() should throw";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string{e.what()}.find("/nonexistent/cert.pem"), std::string::npos) << e.what();
    }
}
