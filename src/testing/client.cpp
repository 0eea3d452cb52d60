#include <zephyr/http/date.hpp>
#include <zephyr/http/in_process.hpp>
#include <zephyr/testing.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <zephyr/json/json.hpp>

#include <fmt/format.h>

#include <charconv>
#include <ctime>
#include <stdexcept>

namespace zephyr::testing {

TestResponse::TestResponse(const http::Response& r)
    : status_{http::to_int(r.status())}, headers_{r.headers()}, body_{r.body()} {}

boost::json::value TestResponse::json() const {
    try {
        return json::parse_value(body_, "response body");
    } catch (const json::decode_error& e) {
        throw std::runtime_error{fmt::format("response body is not JSON ({}): {:.200}", e.what(), body_)};
    }
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

multipart& multipart::field(std::string name, std::string value) {
    parts_.push_back({std::move(name), std::move(value), std::nullopt, std::nullopt});
    return *this;
}

multipart& multipart::file(std::string name, std::string filename, std::string content_type, std::string bytes) {
    parts_.push_back({std::move(name), std::move(bytes), std::move(filename), std::move(content_type)});
    return *this;
}

std::string multipart::boundary() const {
    // Lengthen the boundary until no part contains it.
    std::string b = "zephyr-test-boundary";
    auto occurs = [&] {
        for (const auto& p : parts_)
            if (p.value.find(b) != std::string::npos || p.name.find(b) != std::string::npos) return true;
        return false;
    };
    for (int i = 0; occurs(); ++i) b += static_cast<char>('a' + i % 26);
    return b;
}

std::string multipart::content_type() const { return "multipart/form-data; boundary=" + boundary(); }

std::string multipart::body() const {
    const std::string b = boundary();
    std::string out;
    for (const auto& p : parts_) {
        out += "--" + b + "\r\n";
        out += "Content-Disposition: form-data; name=\"" + p.name + "\"";
        if (p.filename) out += "; filename=\"" + *p.filename + "\"";
        out += "\r\n";
        if (p.content_type) out += "Content-Type: " + *p.content_type + "\r\n";
        out += "\r\n";
        out += p.value;
        out += "\r\n";
    }
    out += "--" + b + "--\r\n";
    return out;
}

std::string form_body(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [k, v] : fields) {
        if (!out.empty()) out += '&';
        out += http::percent_encode(k) + "=" + http::percent_encode(v);
    }
    return out;
}

void Client::send_cookies(std::vector<std::pair<std::string, std::string>>& headers) const {
    bool has_cookie = false;
    for (const auto& [k, v] : headers) has_cookie = has_cookie || http::iequals(k, "cookie");
    if (!has_cookie && !cookies_.empty()) {
        std::string jar;
        for (const auto& [k, v] : cookies_) jar += (jar.empty() ? "" : "; ") + k + "=" + v;
        headers.emplace_back("Cookie", std::move(jar));
    }
}

TestResponse Client::request(std::string_view method, std::string_view target, request_options o) {
    send_cookies(o.headers);
    TestResponse r = raw(build_request(method, target, o, false));
    remember_cookies(r);
    return r;
}

void Client::set_cookie(std::string name, std::string value) {
    for (auto& [k, v] : cookies_)
        if (k == name) {
            v = std::move(value);
            return;
        }
    cookies_.emplace_back(std::move(name), std::move(value));
}

void Client::remember_cookies(const TestResponse& r) {
    for (auto line : r.headers().get_all("Set-Cookie")) {
        auto semi = line.find(';');
        std::string_view pair = line.substr(0, semi);
        auto eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0) continue;
        std::string name{pair.substr(0, eq)}, value{pair.substr(eq + 1)};
        // A cookie deleted by Max-Age=0 (or negative) or an Expires in the past leaves the jar.
        bool expired = false;
        std::string_view attrs = semi == std::string_view::npos ? std::string_view{} : line.substr(semi);
        if (auto m = attrs.find("Max-Age="); m != std::string_view::npos) {
            long age = 1;
            auto digits = attrs.substr(m + 8);
            std::from_chars(digits.data(), digits.data() + digits.size(), age);
            expired = age <= 0;
        }
        if (auto e = attrs.find("Expires="); e != std::string_view::npos && !expired) {
            std::string when{attrs.substr(e + 8, attrs.find(';', e) == std::string_view::npos
                                                     ? std::string_view::npos
                                                     : attrs.find(';', e) - e - 8)};
            if (auto t = http::parse_http_date(when)) expired = *t <= std::time(nullptr);
        }
        std::erase_if(cookies_, [&](const auto& c) { return c.first == name; });
        if (!expired) cookies_.emplace_back(std::move(name), std::move(value));
    }
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
