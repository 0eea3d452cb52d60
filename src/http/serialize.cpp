#include "http/serialize.hpp"

#include <zephyr/http/date.hpp>

#include <charconv>
#include <ctime>

namespace zephyr::http::detail {

namespace {

struct date_cache {
    std::time_t second = 0;
    char text[32]{};
    std::size_t len = 0;
};

const date_cache& current_date() noexcept {
    thread_local date_cache cache;
    std::time_t now = std::time(nullptr);
    if (now != cache.second) {
        std::string text = to_http_date(now);
        cache.len = text.copy(cache.text, sizeof cache.text);
        cache.second = now;
    }
    return cache;
}

}  // namespace

std::string_view http_date() noexcept {
    const date_cache& d = current_date();
    return {d.text, d.len};
}

namespace {

void append_status_server_date(std::string& out, status s, std::string_view server_name) {
    char num[24];
    out += "HTTP/1.1 ";
    out.append(num, std::to_chars(num, num + sizeof num, to_int(s)).ptr);
    out += ' ';
    out += reason_phrase(s);
    out += "\r\n";
    if (!server_name.empty()) {
        out += "Server: ";
        out += server_name;
        out += "\r\n";
    }
    out += "Date: ";
    out += http_date();
    out += "\r\n";
}

}  // namespace

void serialize_head(std::string& out, const Response& res, std::optional<std::uint64_t> content_length,
                    bool keep_alive, bool chunked, std::string_view server_name, int version_minor) {
    char num[24];
    if (res.status() == status::ok) {
        // "HTTP/1.1 200 OK", Server and Date change at most once a second: keep them as one block per thread.
        thread_local std::string block;
        thread_local std::string block_server;
        thread_local std::time_t block_second = -1;
        std::time_t second = current_date().second;
        if (second != block_second || block_server != server_name) {
            block.clear();
            append_status_server_date(block, status::ok, server_name);
            block_server = server_name;
            block_second = second;
        }
        out += block;
    } else {
        append_status_server_date(out, res.status(), server_name);
    }
    for (const auto& [name, value] : res.headers()) {
        if (iequals(name, "content-length") || iequals(name, "transfer-encoding") || iequals(name, "connection"))
            continue;
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    if (!status_forbids_body(res.status())) {
        if (chunked) {
            out += "Transfer-Encoding: chunked\r\n";
        } else if (content_length) {
            out += "Content-Length: ";
            out.append(num, std::to_chars(num, num + sizeof num, *content_length).ptr);
            out += "\r\n";
        }
    }
    if (!keep_alive)
        out += "Connection: close\r\n";
    else if (version_minor == 0)
        out += "Connection: keep-alive\r\n";
    out += "\r\n";
}

}  // namespace zephyr::http::detail
