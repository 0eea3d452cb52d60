// zephyr/http/layers/compression.hpp — gzip and brotli response compression.
//
// Negotiated from Accept-Encoding (q-values honoured, brotli preferred on a tie). Skipped for bodies below
// `min_size`, for responses that already have a Content-Encoding, for types that are already compressed
// (images other than SVG, audio, video, archives, fonts), for `Cache-Control: no-transform`, and for file
// and streamed bodies. Adds `Vary: Accept-Encoding` whenever the choice depended on the request.
//
//     app.layers(zephyr::layers::compression({.min_size = 512}));
#pragma once

#include <zephyr/http/layers/layer.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace zephyr::http {

enum class content_coding { identity, gzip, br };

/// The coding to use for an Accept-Encoding value, among those enabled.
content_coding negotiate_coding(std::string_view accept_encoding, bool gzip_enabled, bool brotli_enabled) noexcept;

/// gzip (RFC 1952) at `level` 1-9. Throws std::runtime_error if zlib fails.
std::string gzip_compress(std::string_view data, int level = 6);
/// Brotli at `quality` 0-11. Throws std::runtime_error if the encoder fails.
std::string brotli_compress(std::string_view data, int quality = 4);

namespace layers {

struct compression_options {
    std::size_t min_size = 1024;  ///< Smaller bodies are sent as they are.
    int gzip_level = 6;
    int brotli_quality = 4;  ///< 4 is fast enough for dynamic responses; 11 is for precompressed assets.
    bool gzip = true;
    bool brotli = true;
};

class compression {
public:
    explicit compression(compression_options o = {}) : options_{o} {}
    Task<Response> operator()(Request& req, Next next) const;

private:
    compression_options options_;
};

}  // namespace layers
}  // namespace zephyr::http
