// zephyr/zephyr.hpp — everything the common path needs, in one include.
//
//     #include <zephyr/zephyr.hpp>
//
//     int main() {
//         zephyr::App app;
//         app.get("/", [] { return "Hello, World!"; });
//         app.run();
//     }
#pragma once

#include <zephyr/config.hpp>
#include <zephyr/app.hpp>
#include <zephyr/core/task.hpp>
#include <zephyr/http/error.hpp>
#include <zephyr/http/extract.hpp>
#include <zephyr/http/layers/access_log.hpp>
#include <zephyr/http/layers/compression.hpp>
#include <zephyr/http/layers/error_boundary.hpp>
#include <zephyr/http/layers/layer.hpp>
#include <zephyr/http/layers/request_id.hpp>
#include <zephyr/http/layers/timeout.hpp>
#include <zephyr/http/multipart.hpp>
#include <zephyr/http/request.hpp>
#include <zephyr/http/response.hpp>
#include <zephyr/http/returns.hpp>
#include <zephyr/http/status.hpp>
#include <zephyr/view/templates.hpp>

namespace zephyr {

using http::Body;
using http::BodyStream;
using http::Cookie;
using http::Created;
using http::Ext;
using http::Form;
using http::Header;
using http::Html;
using http::HttpError;
using http::Inject;
using http::Json;
using http::Multipart;
using http::Path;
using http::Query;
using http::Next;
using http::NoContent;
using http::Redirect;
using http::Request;
using http::Response;
using http::Result;
using http::Route;
using http::Router;
using http::scope_outcome;
using http::Scoped;
using http::status;
using http::WebSocket;
namespace close_code = http::close_code;
namespace layers = http::layers;

}  // namespace zephyr
