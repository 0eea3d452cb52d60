#include <zephyr/testing.hpp>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

namespace zephyr::testing {

struct Connection::impl {
    int fd = -1;
    std::chrono::milliseconds timeout;
    std::string buffer;  // bytes read but not yet consumed

    // Reads more bytes; false on end of stream. Throws on timeout or error.
    bool read_more(std::chrono::milliseconds wait) {
        pollfd p{fd, POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(wait.count()));
        if (r == 0) throw std::runtime_error{"timed out waiting for the server"};
        if (r < 0) throw std::runtime_error{fmt::format("poll: {}", std::strerror(errno))};
        char chunk[16384];
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n < 0) {
            if (errno == ECONNRESET) return false;
            throw std::runtime_error{fmt::format("recv: {}", std::strerror(errno))};
        }
        if (n == 0) return false;
        buffer.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    std::string take_line() {
        while (true) {
            auto pos = buffer.find("\r\n");
            if (pos != std::string::npos) {
                std::string line = buffer.substr(0, pos);
                buffer.erase(0, pos + 2);
                return line;
            }
            if (!read_more(timeout)) throw std::runtime_error{"connection closed before a complete response line"};
        }
    }

    std::string take(std::size_t n) {
        while (buffer.size() < n)
            if (!read_more(timeout)) throw std::runtime_error{"connection closed in the middle of a response body"};
        std::string out = buffer.substr(0, n);
        buffer.erase(0, n);
        return out;
    }
};

Connection::Connection(std::uint16_t port, std::chrono::milliseconds timeout) : impl_{std::make_unique<impl>()} {
    impl_->timeout = timeout;
    impl_->fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (impl_->fd < 0) throw std::runtime_error{fmt::format("socket: {}", std::strerror(errno))};
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(impl_->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        throw std::runtime_error{fmt::format("connect to 127.0.0.1:{}: {}", port, std::strerror(errno))};
    int one = 1;
    ::setsockopt(impl_->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

Connection::~Connection() {
    if (impl_) close();
}
Connection::Connection(Connection&&) noexcept = default;

void Connection::close() {
    if (impl_->fd >= 0) ::close(impl_->fd);
    impl_->fd = -1;
}

void Connection::write(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(impl_->fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error{fmt::format("send: {}", std::strerror(errno))};
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

TestResponse Connection::read_response(bool head_request) {
    std::string status_line = impl_->take_line();
    if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0)
        throw std::runtime_error{fmt::format("malformed status line '{}'", status_line)};
    int status = 0;
    std::from_chars(status_line.data() + 9, status_line.data() + 12, status);
    http::headers headers;
    while (true) {
        std::string line = impl_->take_line();
        if (line.empty()) break;
        auto colon = line.find(':');
        if (colon == std::string::npos) throw std::runtime_error{fmt::format("malformed header line '{}'", line)};
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        headers.add(line.substr(0, colon), value);
    }
    std::string body;
    bool no_body = head_request || (status >= 100 && status < 200) || status == 204 || status == 304;
    if (!no_body) {
        if (auto te = headers.get("Transfer-Encoding"); te && http::has_token(*te, "chunked")) {
            while (true) {
                std::string size_line = impl_->take_line();
                std::size_t size = 0;
                std::from_chars(size_line.data(), size_line.data() + size_line.size(), size, 16);
                if (size == 0) {
                    while (!impl_->take_line().empty()) {
                    }
                    break;
                }
                body += impl_->take(size);
                impl_->take(2);
            }
        } else if (auto cl = headers.get("Content-Length")) {
            std::size_t n = 0;
            std::from_chars(cl->data(), cl->data() + cl->size(), n);
            body = impl_->take(n);
        } else {
            while (impl_->read_more(impl_->timeout)) {
            }
            body = std::move(impl_->buffer);
            impl_->buffer.clear();
        }
    }
    return TestResponse{status, std::move(headers), std::move(body)};
}

std::string Connection::read_until_close() {
    while (impl_->read_more(impl_->timeout)) {
    }
    std::string out = std::move(impl_->buffer);
    impl_->buffer.clear();
    return out;
}

bool Connection::closed_by_server(std::chrono::milliseconds wait) {
    try {
        while (impl_->read_more(wait)) {
        }
        return true;
    } catch (const std::runtime_error&) {
        return false;
    }
}

http::server_config Server::test_config() {
    http::server_config c;
    c.host = "127.0.0.1";
    c.port = 0;
    c.threads = 1;
    return c;
}

Server::Server(App& app, http::server_config config) : server_{std::make_unique<http::Server>(app, std::move(config))} {
    server_->start();
}

Server::~Server() { stop(); }

void Server::stop() { server_->stop(); }

std::uint16_t Server::port() const noexcept { return server_->port(); }

std::string Server::url(std::string_view path) const { return fmt::format("http://127.0.0.1:{}{}", port(), path); }

Connection Server::connect(std::chrono::milliseconds timeout) const { return Connection{port(), timeout}; }

TestResponse Server::request(std::string_view method, std::string_view target, request_options o) {
    Connection c = connect();
    c.write(build_request(method, target, o, true));
    return c.read_response(method == "HEAD");
}

}  // namespace zephyr::testing
