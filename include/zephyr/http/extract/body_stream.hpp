// zephyr/http/extract/body_stream.hpp — the request body read while it arrives.
//
// A handler that takes `BodyStream` runs as soon as the request head is in, before the body is read: it reads
// the body in pieces, so an upload of any size (up to the route's max_body) never sits in memory whole. On
// other routes the server reads the whole body first (into Request::body()); testing::Client always does.
//
//     app.put("/files/{name}", [](zephyr::Path<std::string> name, zephyr::BodyStream body) -> zephyr::Task<int> {
//         co_await body.save_to("uploads/" + zephyr::http::safe_filename(*name));
//         co_return 201;
//     }, {.max_body = 1ull << 30});
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/http/extract/extractor.hpp>
#include <zephyr/http/request.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <span>
#include <string>

namespace zephyr::http {

/// The request body as a stream. A body extractor (the last parameter) that streams: the handler runs before
/// the body is read. Reads throw HttpError 408 (the client stopped sending for longer than the body timeout),
/// 413 (a chunked body grew past the route's max_body) or 400 (the connection closed before the end); the
/// declared Content-Length is checked against max_body before the handler runs. Whatever the handler leaves
/// unread is read and dropped when small; otherwise the connection closes after the response.
class BodyStream {
public:
    static constexpr bool consumes_body = true;
    static constexpr bool streams_body = true;

    static BodyStream extract(Request& req) { return BodyStream{req}; }

    /// The declared Content-Length, or nothing for a chunked body (or none at all).
    std::optional<std::uint64_t> content_length() const noexcept;

    /// Reads the next bytes into `buf`; returns how many, 0 at the end of the body.
    Task<std::size_t> read_some(std::span<char> buf) { return req_->read_body_some(buf); }

    /// Reads the rest of the body into a string. Throws HttpError 413 when it is longer than `max` bytes.
    Task<std::string> read_all(std::size_t max);

    /// Writes the rest of the body to the file `path` and returns its size. The data goes to a hidden
    /// ".NAME.zephyr-XXXXXX" next to `path`, renamed to `path` (replacing any file there) once complete, so
    /// nobody sees a partial file. Throws HttpError 413 when the body is longer than `max` bytes, and
    /// std::system_error when the file cannot be written; then, as when a read fails, the partial file is
    /// removed and `path` is left as it was. Writes block the thread: fine for local disks.
    Task<std::uint64_t> save_to(std::filesystem::path path,
                                std::uint64_t max = std::numeric_limits<std::uint64_t>::max());

    /// The request this body belongs to.
    Request& request() const noexcept { return *req_; }

private:
    explicit BodyStream(Request& req) noexcept : req_{&req} {}
    Request* req_;
};

}  // namespace zephyr::http
