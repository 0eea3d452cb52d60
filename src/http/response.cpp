#include <zephyr/http/response.hpp>
#include <zephyr/http/websocket.hpp>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <utility>

namespace zephyr::http {
namespace {

const std::string empty_body;

}  // namespace

std::string_view content_type_for(std::string_view path) noexcept {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 28> types{{
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/markdown; charset=utf-8"},
        {".csv", "text/csv; charset=utf-8"},
        {".xml", "application/xml"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".webp", "image/webp"},
        {".avif", "image/avif"},
        {".ico", "image/x-icon"},
        {".pdf", "application/pdf"},
        {".zip", "application/zip"},
        {".gz", "application/gzip"},
        {".wasm", "application/wasm"},
        {".woff", "font/woff"},
        {".woff2", "font/woff2"},
        {".mp4", "video/mp4"},
        {".webm", "video/webm"},
        {".mp3", "audio/mpeg"},
        {".ogg", "audio/ogg"},
    }};
    auto dot = path.rfind('.');
    if (dot == std::string_view::npos) return "application/octet-stream";
    std::string_view ext = path.substr(dot);
    for (const auto& [e, t] : types)
        if (iequals(e, ext)) return t;
    return "application/octet-stream";
}


Response Response::problem(http::status s, std::string_view detail) {
    boost::json::object o;
    o["type"] = "about:blank";
    o["title"] = reason_phrase(s);
    o["status"] = to_int(s);
    if (!detail.empty()) o["detail"] = detail;
    return {s, boost::json::serialize(o), known_type{"application/problem+json"}};
}

Response Response::file(std::string path, std::string_view content_type) {
    Response r{status::ok};
    r.headers_.append("Content-Type", content_type.empty() ? content_type_for(path) : content_type);
    r.payload_ = file_body{std::move(path), 0, std::nullopt};
    return r;
}

Response Response::stream(stream_producer producer, std::string_view content_type) {
    Response r{status::ok};
    r.headers_.append("Content-Type", content_type);
    r.payload_ = std::move(producer);
    return r;
}

Response Response::redirect(std::string_view location, http::status s) {
    Response r{s};
    r.headers_.set("Location", location);
    return r;
}

Response Response::websocket(websocket_upgrade u) {
    Response r{status::switching_protocols};
    r.payload_ = std::make_shared<websocket_upgrade>(std::move(u));
    return r;
}

const std::string& Response::body() const noexcept {
    return std::holds_alternative<std::monostate>(payload_) ? body_ : empty_body;
}

std::string& Response::body() {
    payload_ = std::monostate{};
    return body_;
}

void Response::set_body(std::string text, std::string_view content_type) {
    payload_ = std::monostate{};
    body_ = std::move(text);
    if (!content_type.empty()) headers_.set("Content-Type", content_type);
}

}  // namespace zephyr::http
