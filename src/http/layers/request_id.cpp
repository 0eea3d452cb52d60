#include <zephyr/http/layers/request_id.hpp>

#include <random>

namespace zephyr::http::layers {
namespace {

bool acceptable_id(std::string_view v) {
    if (v.empty() || v.size() > 128) return false;
    for (unsigned char c : v)
        if (c <= 0x20 || c >= 0x7F) return false;
    return true;
}

}  // namespace

std::string make_request_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char hex[] = "0123456789abcdef";
    std::string id(32, '0');
    for (int half = 0; half < 2; ++half) {
        std::uint64_t r = rng();
        for (int i = 0; i < 16; ++i) {
            id[static_cast<std::size_t>(half * 16 + i)] = hex[r & 15];
            r >>= 4;
        }
    }
    return id;
}

Task<Response> request_id::operator()(Request& req, Next next) const {
    std::string id;
    if (options_.trust_incoming)
        if (auto incoming = req.header(options_.header); incoming && acceptable_id(*incoming)) id = *incoming;
    if (id.empty()) id = make_request_id();
    req.extensions().insert(http::request_id{id});
    Response res = co_await next(req);
    res.headers().set(options_.header, id);
    co_return res;
}

}  // namespace zephyr::http::layers
