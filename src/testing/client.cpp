#include <zephyr/http/in_process.hpp>
#include <zephyr/testing.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <fmt/format.h>

#include <stdexcept>

namespace zephyr::testing {

TestResponse::TestResponse(const http::Response& r)
    : status_{http::to_int(r.status())}, headers_{r.headers()}, body_{r.body()} {}

boost::json::value TestResponse::json() const {
    boost::system::error_code ec;
    auto v = boost::json::parse(body_, ec);
    if (ec)
        throw std::runtime_error{fmt::format("response body is not JSON ({}): {:.200}", ec.message(), body_)};
    return v;
}

std::string build_request(std::string_view method, std::string_view target, const request_options& o,
                          bool close_connection) {
    std::string raw = fmt::format("{} {} HTTP/1.1\r\n", method, target);
    bool has_host = false, has_length = false, has_te = false;
    for (const auto& [k, v] : o.headers) {
        has_host = has_host || http::iequals(k, "host");
        has_length = has_length || http::iequals(k, "content-length");
        has_te = has_te || http::iequals(k, "transfer-encoding");
        raw += fmt::format("{}: {}\r\n", k, v);
    }
    if (!has_host) raw += "Host: localhost\r\n";
    if (!has_length && !has_te && (!o.body.empty() || method == "POST" || method == "PUT" || method == "PATCH"))
        raw += fmt::format("Content-Length: {}\r\n", o.body.size());
    if (close_connection) raw += "Connection: close\r\n";
    raw += "\r\n";
    raw += o.body;
    return raw;
}

TestResponse Client::request(std::string_view method, std::string_view target, request_options o) {
    return raw(build_request(method, target, o, false));
}

TestResponse Client::raw(std::string_view bytes) {
    return TestResponse{http::handle_in_process(app_, bytes, limits_)};
}

void run_task(Task<void> task) {
    boost::asio::io_context ioc{1};
    std::exception_ptr error;
    boost::asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e) { error = e; });
    ioc.run();
    if (error) std::rethrow_exception(error);
}

}  // namespace zephyr::testing
