// zephyr/http/server.hpp — the HTTP/1.1 server: limits, timeouts, TLS and graceful shutdown.
//
// One io_context and one acceptor per thread on the same port (SO_REUSEPORT), one coroutine per connection.
// Most applications never touch this directly: App::run() builds a Server from App::config().
//
//     zephyr::App app;
//     app.config().threads = 4;
//     app.config().limits.max_body = 1 << 20;                      // 413 above 1 MiB
//     app.config().timeouts.idle = std::chrono::seconds{30};
//     app.config().tls = {.cert_file = "cert.pem", .key_file = "key.pem"};
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace zephyr::http {

class Router;

/// Sizes the server refuses to exceed. Each has the status it answers with.
struct server_limits {
    std::size_t max_request_line = 8 * 1024;   ///< 414 URI Too Long above this.
    std::size_t max_header_bytes = 16 * 1024;  ///< 431 above this many bytes of header fields.
    std::size_t max_headers = 100;             ///< 431 above this many header fields.
    std::uint64_t max_body = 8 * 1024 * 1024;  ///< 413 Content Too Large, before the body is read.
    std::size_t max_connections = 100000;      ///< Per thread; new connections wait in the backlog beyond it.
};

/// How long the server waits. A connection that exceeds one is answered (where the RFC says so) and closed.
struct server_timeouts {
    std::chrono::milliseconds header{10'000};  ///< From a request's first byte to its last header: 408 after.
    std::chrono::milliseconds body{30'000};    ///< Between two reads of a request body: 408 after.
    std::chrono::milliseconds idle{60'000};    ///< A keep-alive connection with no request: closed after.
    std::chrono::milliseconds write{30'000};   ///< A client that stops reading the response: closed after.
    std::chrono::milliseconds drain{10'000};   ///< Graceful shutdown: in-flight requests get this long.
};

/// A certificate chain and private key in PEM files; set to serve HTTPS.
struct tls_config {
    std::string cert_file{};
    std::string key_file{};
};

/// Everything the server needs to listen.
struct server_config {
    std::string host = "127.0.0.1";  ///< Address to bind; "0.0.0.0" or "::" for every interface.
    std::uint16_t port = 8080;       ///< 0 picks a free port (see Server::port()).
    unsigned threads = 0;            ///< Event-loop threads; 0 means one per core.
    server_limits limits;
    server_timeouts timeouts;
    std::optional<tls_config> tls;
    std::string server_name = "Zephyr";  ///< The Server header; empty to leave it out.
};

/// A running server. Construct, start(), and later stop() (or run(), which does both around SIGINT/SIGTERM).
class Server {
public:
    /// Serves the routes of `router` (normally an App) with `config`. The router must outlive the server.
    Server(Router& router, server_config config);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds and starts the event-loop threads; returns once the server accepts connections. Throws
    /// std::system_error when the address cannot be bound, and std::runtime_error for unusable TLS files.
    void start();
    /// The bound port (useful after binding port 0).
    std::uint16_t port() const noexcept;
    /// Graceful shutdown: stops accepting, closes idle connections, lets in-flight requests finish for up to
    /// `timeouts.drain`, then closes whatever remains and joins the threads. Safe to call more than once and
    /// from any thread other than the server's own.
    void stop();
    /// Blocks until the server has stopped.
    void wait();
    /// start(), then wait for SIGINT or SIGTERM and stop() gracefully.
    void run();
    /// Open connections across all threads.
    std::size_t connection_count() const noexcept;

    struct impl;  // the implementation, private to the library

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace zephyr::http
