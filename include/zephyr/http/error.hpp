// zephyr/http/error.hpp — the exception a handler throws to answer with an error status.
//
// `detail` is shown to the client in an RFC 9457 problem+json body; `internal` only goes to the log.
//
//     if (!user) throw zephyr::http::HttpError{status::not_found, "user not found"};
//     throw HttpError{status::service_unavailable, "try again later", "db pool exhausted after 5s"};
#pragma once

#include <zephyr/http/headers.hpp>
#include <zephyr/http/status.hpp>

#include <exception>
#include <string>
#include <vector>

namespace zephyr::http {

/// An error with an HTTP status, raised by handlers, extractors and layers and turned into a response by the
/// framework's error mapping (problem+json with `title`, `status` and `detail`).
class HttpError : public std::exception {
public:
    /// `detail` is sent to the client; `internal` is logged and never sent.
    explicit HttpError(http::status s, std::string detail = {}, std::string internal = {})
        : status_{s}, detail_{std::move(detail)}, internal_{std::move(internal)} {}

    http::status status() const noexcept { return status_; }
    const std::string& detail() const noexcept { return detail_; }
    const std::string& internal() const noexcept { return internal_; }
    /// Extra headers for the error response (for example `Allow` on a 405 or `Retry-After` on a 503).
    http::headers& headers() noexcept { return headers_; }
    const http::headers& headers() const noexcept { return headers_; }

    /// One failing input field: sent as `{"path": ..., "message": ...}` in the problem body's `errors` list.
    struct field_error {
        std::string path;
        std::string message;
    };
    /// Every failing field of a rejected request (a validation error lists them all).
    std::vector<field_error>& errors() noexcept { return errors_; }
    const std::vector<field_error>& errors() const noexcept { return errors_; }

    const char* what() const noexcept override { return detail_.empty() ? "HTTP error" : detail_.c_str(); }

private:
    http::status status_;
    std::string detail_;
    std::string internal_;
    http::headers headers_;
    std::vector<field_error> errors_;
};

}  // namespace zephyr::http
