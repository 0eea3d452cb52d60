// Request-head parsing: the in-place parser the server runs on every request.
#include "http/parser.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

namespace {

namespace detail = zephyr::http::detail;

constexpr std::string_view small_get = "GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n";

constexpr std::string_view browser_get =
    "GET /static/app/main.8f2c1e.js?v=3 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Referer: https://www.example.com/products/42?ref=home\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=2b1e6f0c9a7d4e3b8f5a1c2d; theme=dark; _ga=GA1.2.1234567890.1700000000\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "If-None-Match: \"5f3c-1a2b3c4d\"\r\n"
    "\r\n";

// The request wrk sends in the TechEmpower pipelined plaintext test.
constexpr std::string_view te_request =
    "GET /plaintext HTTP/1.1\r\n"
    "Host: localhost:8080\r\n"
    "Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

void parse_one(benchmark::State& state, std::string_view req) {
    detail::parser_limits limits;
    detail::request_head head;
    zephyr::http::header_view headers;
    detail::parse_error err;
    for (auto _ : state) {
        std::size_t scan = 0;
        auto st = detail::parse_request_head(req, limits, head, headers, err, scan);
        benchmark::DoNotOptimize(st);
        benchmark::DoNotOptimize(head);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * req.size()));
    state.SetItemsProcessed(state.iterations());
}

void BM_ParseSmallGet(benchmark::State& state) { parse_one(state, small_get); }
void BM_ParseBrowserGet(benchmark::State& state) { parse_one(state, browser_get); }

// 16 pipelined requests in one buffer, parsed one after the other as the server does after one read.
void BM_ParsePipelined16(benchmark::State& state) {
    std::string batch;
    for (int i = 0; i < 16; ++i) batch += te_request;
    detail::parser_limits limits;
    detail::request_head head;
    zephyr::http::header_view headers;
    detail::parse_error err;
    for (auto _ : state) {
        std::string_view rest = batch;
        while (!rest.empty()) {
            std::size_t scan = 0;
            auto st = detail::parse_request_head(rest, limits, head, headers, err, scan);
            if (st != detail::parse_status::complete) {
                state.SkipWithError("pipelined batch did not parse");
                return;
            }
            rest.remove_prefix(head.size);
        }
        benchmark::DoNotOptimize(head);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * batch.size()));
    state.SetItemsProcessed(state.iterations() * 16);
}

}  // namespace

BENCHMARK(BM_ParseSmallGet);
BENCHMARK(BM_ParseBrowserGet);
BENCHMARK(BM_ParsePipelined16);
