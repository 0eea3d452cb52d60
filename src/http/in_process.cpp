#include <zephyr/http/in_process.hpp>
#include <zephyr/http/layers/error_boundary.hpp>
#include <zephyr/http/router/router.hpp>

#include "http/parser.hpp"
#include "http/router/route_table.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <optional>

namespace zephyr::http {
namespace {

class collecting_writer final : public body_writer {
public:
    explicit collecting_writer(std::string& out) : out_{out} {}
    Task<void> write(std::string_view data) override {
        out_.append(data);
        co_return;
    }

private:
    std::string& out_;
};

Response rejected(const detail::parse_error& err) {
    return Response{err.code, fmt::format("{}: {}\n", reason_phrase(err.code), err.message)};
}

Task<Response> answer(Router& app, std::string_view raw, const server_limits& limits) {
    detail::parser_limits pl;
    pl.max_request_line = limits.max_request_line;
    pl.max_header_bytes = limits.max_header_bytes;
    pl.max_headers = limits.max_headers;

    Request req;
    detail::request_head head;
    detail::parse_error err;
    std::size_t scan = 0;
    auto st = detail::parse_request_head(raw, pl, head, req.mutable_headers(), err, scan);
    if (st == detail::parse_status::incomplete)
        co_return rejected({status::bad_request, "incomplete request"});
    if (st == detail::parse_status::error) co_return rejected(err);

    req.set_method(head.method, head.method_name);
    req.set_target(head.target);
    req.set_version_minor(head.version_minor);
    req.set_keep_alive(head.keep_alive);

    // Routing first, as the server does: the route may set its own body limit. A streaming route reads the
    // body from memory here (Request::read_body_some()).
    auto& table = app.table();
    table.freeze();
    const detail::chain* ch = nullptr;
    std::optional<Response> failed;
    try {
        ch = &table.match(req);
    } catch (...) {
        failed.emplace(error_response(req, std::current_exception()));
    }
    const std::uint64_t max_body = ch != nullptr && ch->max_body ? *ch->max_body : limits.max_body;
    auto too_large = [&] {
        return Response::problem(status::payload_too_large, fmt::format("the request body is larger than {} bytes", max_body));
    };

    std::string_view rest = raw.substr(head.size);
    if (head.content_length) {
        if (*head.content_length > max_body) co_return too_large();
        if (rest.size() < *head.content_length) co_return rejected({status::bad_request, "incomplete request body"});
        req.body().assign(rest.substr(0, static_cast<std::size_t>(*head.content_length)));
    } else if (head.chunked) {
        detail::chunked_decoder dec;
        std::size_t used = 0;
        auto r = dec.feed(rest, used, req.body(), max_body, pl, err);
        if (r == detail::chunked_decoder::result::error)
            co_return err.code == status::payload_too_large ? too_large() : rejected(err);
        if (r != detail::chunked_decoder::result::done) co_return rejected({status::bad_request, "incomplete chunked body"});
    }

    Response res;
    if (ch != nullptr) {
        try {
            if (ch->sync())
                res = ch->run_sync(req);
            else
                res = co_await ch->run(req);
        } catch (...) {
            failed.emplace(error_response(req, std::current_exception()));
        }
    }
    if (failed) res = std::move(*failed);

    if (const stream_producer* p = res.stream()) {
        std::string body;
        collecting_writer w{body};
        co_await (*p)(w);
        res.body() = std::move(body);
    } else if (const file_body* f = res.file()) {
        std::ifstream in{f->path, std::ios::binary};
        if (!in) {
            res = Response::problem(status::not_found, "file not found");
        } else {
            std::string all{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
            auto off = static_cast<std::size_t>(std::min<std::uint64_t>(f->offset, all.size()));
            auto len = static_cast<std::size_t>(std::min<std::uint64_t>(f->length.value_or(all.size() - off), all.size() - off));
            res.body() = all.substr(off, len);
        }
    }
    if (req.method() == method::head) {
        res.headers().set("Content-Length", std::to_string(res.body().size()));
        res.body().clear();
    }
    co_return res;
}

}  // namespace

Response handle_in_process(Router& app, std::string_view raw_request, const server_limits& limits) {
    boost::asio::io_context ioc{1};
    std::optional<Response> result;
    std::exception_ptr error;
    boost::asio::co_spawn(ioc, answer(app, raw_request, limits), [&](std::exception_ptr e, Response r) {
        if (e) error = e;
        else result.emplace(std::move(r));
    });
    ioc.run();
    if (error) std::rethrow_exception(error);
    return std::move(*result);
}

}  // namespace zephyr::http
