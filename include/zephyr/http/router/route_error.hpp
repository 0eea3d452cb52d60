// zephyr/http/router/route_error.hpp — the error for malformed or conflicting routes.
//
// Thrown while routes are registered, so the mistake surfaces before the server listens.
//
//     try { app.get("/a/{", handler); } catch (const zephyr::http::route_error& e) { std::cerr << e.what(); }
#pragma once

#include <stdexcept>

namespace zephyr::http {

/// A pattern that is malformed, conflicts with another route, or does not fit its handler.
class route_error : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

}  // namespace zephyr::http
