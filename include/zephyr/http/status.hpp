// zephyr/http/status.hpp — HTTP status codes.
//
// A scoped enum with every code of RFC 9110 plus the common extensions; any other number in 100..599 can be
// cast to it too.
//
//     res.set_status(zephyr::http::status::created);
//     int code = zephyr::http::to_int(zephyr::http::status::not_found);   // 404
#pragma once

#include <cstdint>
#include <string_view>

namespace zephyr::http {

/// An HTTP status code.
enum class status : std::uint16_t {
    continue_ = 100,
    switching_protocols = 101,
    ok = 200,
    created = 201,
    accepted = 202,
    non_authoritative_information = 203,
    no_content = 204,
    reset_content = 205,
    partial_content = 206,
    multiple_choices = 300,
    moved_permanently = 301,
    found = 302,
    see_other = 303,
    not_modified = 304,
    temporary_redirect = 307,
    permanent_redirect = 308,
    bad_request = 400,
    unauthorized = 401,
    payment_required = 402,
    forbidden = 403,
    not_found = 404,
    method_not_allowed = 405,
    not_acceptable = 406,
    proxy_authentication_required = 407,
    request_timeout = 408,
    conflict = 409,
    gone = 410,
    length_required = 411,
    precondition_failed = 412,
    payload_too_large = 413,
    uri_too_long = 414,
    unsupported_media_type = 415,
    range_not_satisfiable = 416,
    expectation_failed = 417,
    misdirected_request = 421,
    unprocessable_content = 422,
    locked = 423,
    failed_dependency = 424,
    too_early = 425,
    upgrade_required = 426,
    precondition_required = 428,
    too_many_requests = 429,
    request_header_fields_too_large = 431,
    unavailable_for_legal_reasons = 451,
    internal_server_error = 500,
    not_implemented = 501,
    bad_gateway = 502,
    service_unavailable = 503,
    gateway_timeout = 504,
    http_version_not_supported = 505,
};

/// The numeric value of a status.
constexpr int to_int(status s) noexcept { return static_cast<int>(s); }

/// The standard reason phrase ("Not Found"), or "Unknown" for a code without one.
std::string_view reason_phrase(status s) noexcept;

/// True for codes whose responses never carry a body (1xx, 204, 304).
constexpr bool status_forbids_body(status s) noexcept {
    int c = to_int(s);
    return (c >= 100 && c < 200) || c == 204 || c == 304;
}

}  // namespace zephyr::http
