#include <zephyr/http/extract/body_stream.hpp>

#include "http/file_sink.hpp"

#include <fmt/format.h>

#include <charconv>
#include <vector>

namespace zephyr::http {

std::optional<std::uint64_t> BodyStream::content_length() const noexcept {
    auto v = req_->header("Content-Length");
    if (!v) return std::nullopt;
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc{} || end != v->data() + v->size()) return std::nullopt;
    return n;
}

Task<std::string> BodyStream::read_all(std::size_t max) {
    std::string out;
    if (auto n = content_length(); n && *n <= max) out.reserve(static_cast<std::size_t>(*n));
    char buf[16 * 1024];
    while (true) {
        std::size_t n = co_await req_->read_body_some(buf);
        if (n == 0) break;
        if (out.size() + n > max)
            throw HttpError{status::payload_too_large, fmt::format("the request body is larger than {} bytes", max)};
        out.append(buf, n);
    }
    co_return out;
}

Task<std::uint64_t> BodyStream::save_to(std::filesystem::path path, std::uint64_t max) {
    detail::file_sink file{std::move(path)};
    std::vector<char> buf(64 * 1024);
    while (true) {
        std::size_t n = co_await req_->read_body_some(buf);
        if (n == 0) break;
        if (file.size() + n > max)
            throw HttpError{status::payload_too_large, fmt::format("the request body is larger than {} bytes", max)};
        file.write({buf.data(), n});
    }
    file.keep();
    co_return file.size();
}

}  // namespace zephyr::http
