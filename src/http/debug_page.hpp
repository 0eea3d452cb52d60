// Development error pages (see debug_page.cpp). Private to the library.
#pragma once

#include <zephyr/http/request.hpp>
#include <zephyr/http/response.hpp>

#include <exception>
#include <optional>

namespace zephyr::http::detail {

/// From now on every throw records its stack, for debug_error_page(). Called when an app turns debug on.
void enable_throw_traces() noexcept;

/// The development error response for an unhandled exception: an HTML page (exception, request, symbolized
/// stack with source lines) for browsers, problem+json with the exception and stack for other clients.
/// Nothing when the page itself cannot be built.
std::optional<Response> debug_error_page(const Request& req, std::exception_ptr e) noexcept;

}  // namespace zephyr::http::detail
