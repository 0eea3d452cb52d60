#include <zephyr/http/cookies.hpp>
#include <zephyr/http/request.hpp>

#include "http/parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace zephyr::http {
namespace {

bool is_unreserved(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= s.size()) return std::nullopt;
            int hi = detail::hex_digit(s[i + 1]), lo = detail::hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

std::string percent_encode(std::string_view s, bool keep_slash) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (unsigned char c : s) {
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 15];
        }
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> parse_urlencoded(std::string_view s) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!s.empty()) {
        auto amp = s.find('&');
        std::string_view item = s.substr(0, amp);
        s = amp == std::string_view::npos ? std::string_view{} : s.substr(amp + 1);
        if (item.empty()) continue;
        auto eq = item.find('=');
        std::string_view k = item.substr(0, eq);
        std::string_view v = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
        auto key = percent_decode(k, true);
        if (!key) throw HttpError{status::bad_request, "query string: malformed percent-encoding in a key"};
        auto value = percent_decode(v, true);
        if (!value)
            throw HttpError{status::bad_request,
                            fmt::format("query parameter '{}': malformed percent-encoding", *key)};
        out.emplace_back(std::move(*key), std::move(*value));
    }
    return out;
}

void Request::set_target(std::string_view target) noexcept {
    target_ = target;
    auto q = target.find('?');
    if (q == std::string_view::npos) {
        path_ = target;
        query_ = {};
    } else {
        path_ = target.substr(0, q);
        query_ = target.substr(q + 1);
    }
    // An absolute-form target ("http://host/path") routes on its path.
    if (!path_.empty() && path_.front() != '/' && path_ != "*") {
        auto scheme = path_.find("://");
        if (scheme != std::string_view::npos) {
            auto slash = path_.find('/', scheme + 3);
            path_ = slash == std::string_view::npos ? std::string_view{"/"} : path_.substr(slash);
        }
    }
    query_params_.reset();
}

void Request::reset() noexcept {
    method_ = http::method::get;
    method_name_ = "GET";
    target_ = path_ = "/";
    query_ = {};
    version_minor_ = 1;
    keep_alive_ = true;
    headers_.clear();
    if (body_.capacity() > 64 * 1024) std::string{}.swap(body_);
    body_.clear();
    body_read_ = 0;
    body_reader_ = nullptr;
    params_.clear();
    query_params_.reset();
    extensions_ = http::extensions{};
    route_ = nullptr;
    services_ = nullptr;
    remote_address_ = {};
}

Task<std::size_t> Request::read_body_some(std::span<char> buf) {
    if (body_reader_ != nullptr) co_return co_await body_reader_->read_some(buf);
    std::size_t n = std::min(buf.size(), body_.size() - body_read_);
    if (n > 0) std::memcpy(buf.data(), body_.data() + body_read_, n);
    body_read_ += n;
    co_return n;
}

std::string_view Request::param(std::string_view name) const {
    for (const auto& p : params_)
        if (p.name == name) return p.value;
    throw std::out_of_range{fmt::format("the route '{}' has no path parameter '{}'",
                                        route_ ? route_->pattern : std::string{"(none)"}, name)};
}

const std::vector<std::pair<std::string, std::string>>& Request::query_params() const {
    if (!query_params_) query_params_ = parse_urlencoded(query_);
    return *query_params_;
}

std::optional<std::string> Request::query(std::string_view key) const {
    for (const auto& [k, v] : query_params())
        if (k == key) return v;
    return std::nullopt;
}

std::vector<std::string> Request::query_all(std::string_view key) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : query_params())
        if (k == key) out.push_back(v);
    return out;
}

std::optional<std::string_view> Request::cookie(std::string_view name) const {
    for (const auto& [k, v] : headers_) {
        if (!iequals(k, "cookie")) continue;
        for (const auto& [n, val] : parse_cookie_header(v))
            if (n == name) return val;
    }
    return std::nullopt;
}

void Request::conversion_failed(std::string_view what, std::string_view name, std::string_view expected) {
    throw HttpError{status::bad_request, fmt::format("{} '{}': expected {}", what, name, expected)};
}

}  // namespace zephyr::http
