#include "http/serialize.hpp"

#include <charconv>
#include <ctime>

namespace zephyr::http::detail {

std::string_view http_date() noexcept {
    thread_local char buf[32];
    thread_local std::time_t last = 0;
    thread_local std::size_t len = 0;
    std::time_t now = std::time(nullptr);
    if (now != last) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        last = now;
    }
    return {buf, len};
}

void serialize_head(std::string& out, const Response& res, std::optional<std::uint64_t> content_length,
                    bool keep_alive, bool chunked, std::string_view server_name, int version_minor) {
    const int code = to_int(res.status());
    char num[24];
    out += "HTTP/1.1 ";
    out.append(num, std::to_chars(num, num + sizeof num, code).ptr);
    out += ' ';
    out += reason_phrase(res.status());
    out += "\r\n";
    if (!server_name.empty()) {
        out += "Server: ";
        out += server_name;
        out += "\r\n";
    }
    out += "Date: ";
    out += http_date();
    out += "\r\n";
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
