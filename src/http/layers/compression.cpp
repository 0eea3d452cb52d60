#include <zephyr/http/layers/compression.hpp>

#include <brotli/encode.h>
#include <zlib.h>

#include <charconv>
#include <stdexcept>

namespace zephyr::http {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// q-value of one Accept-Encoding item, 1.0 when absent; -1 for a malformed one (ignored).
double quality(std::string_view params) {
    while (!params.empty()) {
        auto semi = params.find(';');
        std::string_view p = trim(params.substr(0, semi));
        params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
        if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            double q = 0;
            auto v = p.substr(2);
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), q);
            if (ec != std::errc{} || end != v.data() + v.size() || q < 0 || q > 1) return -1;
            return q;
        }
    }
    return 1.0;
}

bool already_compressed(std::string_view type) {
    auto semi = type.find(';');
    type = trim(type.substr(0, semi));
    if (type.starts_with("image/")) return !iequals(type, "image/svg+xml");
    if (type.starts_with("video/") || type.starts_with("audio/") || type.starts_with("font/woff")) return true;
    for (std::string_view t : {"application/zip", "application/gzip", "application/x-gzip", "application/x-bzip2",
                               "application/x-7z-compressed", "application/x-xz", "application/zstd",
                               "application/octet-stream", "application/pdf"})
        if (iequals(type, t)) return true;
    return false;
}

}  // namespace

content_coding negotiate_coding(std::string_view accept, bool gzip_enabled, bool brotli_enabled) noexcept {
    double q_gzip = -1, q_br = -1, q_any = -1;
    while (!accept.empty()) {
        auto comma = accept.find(',');
        std::string_view item = trim(accept.substr(0, comma));
        accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
        auto semi = item.find(';');
        std::string_view coding = trim(item.substr(0, semi));
        double q = semi == std::string_view::npos ? 1.0 : quality(item.substr(semi + 1));
        if (q < 0) continue;
        if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) q_gzip = q;
        else if (iequals(coding, "br")) q_br = q;
        else if (coding == "*") q_any = q;
    }
    if (q_gzip < 0) q_gzip = q_any;
    if (q_br < 0) q_br = q_any;
    if (!gzip_enabled) q_gzip = -1;
    if (!brotli_enabled) q_br = -1;
    if (q_br > 0 && q_br >= q_gzip) return content_coding::br;
    if (q_gzip > 0) return content_coding::gzip;
    return content_coding::identity;
}

std::string gzip_compress(std::string_view data, int level) {
    z_stream zs{};
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error{"gzip: deflateInit2 failed"};
    std::string out;
    out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    int rc = deflate(&zs, Z_FINISH);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    if (rc != Z_STREAM_END) throw std::runtime_error{"gzip: deflate did not finish"};
    return out;
}

std::string brotli_compress(std::string_view data, int quality) {
    std::string out;
    std::size_t size = BrotliEncoderMaxCompressedSize(data.size());
    if (size == 0) size = data.size() + 1024;
    out.resize(size);
    if (!BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, data.size(),
                               reinterpret_cast<const std::uint8_t*>(data.data()), &size,
                               reinterpret_cast<std::uint8_t*>(out.data())))
        throw std::runtime_error{"brotli: compression failed"};
    out.resize(size);
    return out;
}

namespace layers {

Task<Response> compression::operator()(Request& req, Next next) const {
    Response res = co_await next(req);
    if (res.file() || res.stream() || status_forbids_body(res.status())) co_return res;
    if (res.body().size() < options_.min_size || res.headers().contains("Content-Encoding")) co_return res;
    if (auto cc = res.headers().get("Cache-Control"); cc && has_token(*cc, "no-transform")) co_return res;
    if (auto type = res.headers().get("Content-Type"); type && already_compressed(*type)) co_return res;

    bool varies = false;
    for (auto v : res.headers().get_all("Vary")) varies = varies || has_token(v, "Accept-Encoding") || v == "*";
    if (!varies) res.headers().append("Vary", "Accept-Encoding");
    auto accept = req.header("Accept-Encoding");
    if (!accept) co_return res;
    content_coding coding = negotiate_coding(*accept, options_.gzip, options_.brotli);
    if (coding == content_coding::identity) co_return res;

    std::string packed = coding == content_coding::br ? brotli_compress(res.body(), options_.brotli_quality)
                                                      : gzip_compress(res.body(), options_.gzip_level);
    if (packed.size() >= res.body().size()) co_return res;
    res.body() = std::move(packed);
    res.headers().set("Content-Encoding", coding == content_coding::br ? "br" : "gzip");
    // A strong validator no longer matches the transformed bytes.
    if (auto etag = res.headers().get("ETag"); etag && !etag->starts_with("W/"))
        res.headers().set("ETag", "W/" + std::string{*etag});
    co_return res;
}

}  // namespace layers
}  // namespace zephyr::http
