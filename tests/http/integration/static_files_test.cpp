// Static files over a real socket: ranges and whole files sent with sendfile.
#include <zephyr/http/static_files.hpp>
#include <zephyr/testing.hpp>
#include <zephyr/zephyr.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

TEST(static_files_socket, ranges_and_whole_files_with_sendfile) {
    fs::path dir = fs::temp_directory_path() / ("zephyr-static-socket-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::string big(300 * 1024, 'q');
    big[1000] = 'A';
    std::ofstream{dir / "big.bin", std::ios::binary} << big;

    zephyr::App app;
    app.get("/static/{*path}", zephyr::http::static_files(dir));
    zephyr::testing::Server server{app};
    auto c = server.connect();
    c.write("GET /static/big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=1000-200999\r\n\r\n");
    auto r = c.read_response();
    EXPECT_EQ(r.status(), 206);
    EXPECT_EQ(r.header("Content-Length"), "200000");
    EXPECT_EQ(r.text(), big.substr(1000, 200000));
    c.write("GET /static/big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(c.read_response().text(), big);
    c.write("GET /static/../big.bin HTTP/1.1\r\nHost: t\r\n\r\n");
    EXPECT_EQ(c.read_response().status(), 404);
    fs::remove_all(dir);
}
