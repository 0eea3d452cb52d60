// zephyr/http/static_files.hpp — serving a directory.
//
// A handler for a catch-all route: the last path parameter names a file under the root. Paths that climb
// out of the root (`..`, symlinks pointing outside unless allowed) are 404; files get ETag and Last-Modified
// with 304 for matching conditional requests, single byte ranges (206, 416), a Content-Type from the
// extension, and a precompressed `.br` or `.gz` sibling when the client accepts it. The body is sent with
// sendfile on plain TCP.
//
//     app.get("/static/{*path}", zephyr::http::static_files("public", {.max_age = std::chrono::hours{1}}));
#pragma once

#include <zephyr/http/request.hpp>
#include <zephyr/http/response.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace zephyr::http {

struct static_options {
    std::string index = "index.html";              ///< Served for a directory; "" to answer 404 instead.
    std::optional<std::chrono::seconds> max_age{};  ///< Cache-Control: public, max-age=N when set.
    bool precompressed = true;                      ///< Look for file.br / file.gz siblings.
    bool follow_symlinks_outside = false;           ///< Allow symlinks that resolve outside the root.
};

/// The handler: `Response operator()(Request&) const`. Throws std::invalid_argument at construction when
/// `root` is not a directory.
class static_files {
public:
    explicit static_files(const std::filesystem::path& root, static_options options = {});
    Response operator()(Request& req) const;

private:
    std::filesystem::path root_;
    static_options options_;
};

}  // namespace zephyr::http
