// Fuzzes chunked_decoder: the input is a chunked body (and whatever follows it). It is decoded once from a
// single buffer and once fed in pieces of random size; both must end the same way with the same data.
#include "fuzz_check.hpp"
#include "http/parser.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace zephyr::http;
using namespace zephyr::http::detail;

constexpr std::uint64_t max_body = 4096;

parser_limits fuzz_limits() {
    parser_limits l;
    l.max_chunk_line = 64;
    l.max_trailer_bytes = 256;
    return l;
}

struct decoded {
    chunked_decoder::result r = chunked_decoder::result::need_more;
    std::size_t consumed = 0;  // meaningful when done
    std::string body;
    status code = status::ok;
    std::string message;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input{reinterpret_cast<const char*>(data), size};
    const parser_limits limits = fuzz_limits();

    decoded whole;
    {
        chunked_decoder dec;
        parse_error err;
        whole.r = dec.feed(input, whole.consumed, whole.body, max_body, limits, err);
        FUZZ_CHECK(whole.body.size() <= max_body);
        FUZZ_CHECK(dec.done() == (whole.r == chunked_decoder::result::done));
        if (whole.r == chunked_decoder::result::error) {
            whole.code = err.code;
            whole.message = std::string{err.message};
            const int c = to_int(err.code);
            FUZZ_CHECK(c == 400 || c == 413 || c == 431);
        } else {
            FUZZ_CHECK(whole.consumed <= size);
            if (whole.r == chunked_decoder::result::need_more) FUZZ_CHECK(whole.consumed == size);
            if (whole.r == chunked_decoder::result::done) {
                // A finished decoder takes nothing more.
                std::size_t more = 1;
                std::string extra;
                FUZZ_CHECK(dec.feed("0\r\n\r\n", more, extra, max_body, limits, err) == chunked_decoder::result::done);
                FUZZ_CHECK(more == 0 && extra.empty());
                FUZZ_CHECK(whole.body.size() <= whole.consumed);
            }
        }
    }

    decoded pieces;
    {
        chunked_decoder dec;
        parse_error err;
        zephyr_fuzz::input_rng rng{input};
        std::size_t pos = 0;
        while (true) {
            const std::size_t n = std::min(size - pos, rng.between(0, 32));
            std::size_t used = 0;
            auto r = dec.feed(input.substr(pos, n), used, pieces.body, max_body, limits, err);
            pieces.r = r;
            if (r == chunked_decoder::result::error) {
                pieces.code = err.code;
                pieces.message = std::string{err.message};
                break;
            }
            FUZZ_CHECK(used <= n);
            if (r == chunked_decoder::result::done) {
                pieces.consumed = pos + used;
                break;
            }
            FUZZ_CHECK(used == n);
            pos += n;
            if (pos == size) {
                pieces.consumed = size;
                break;
            }
        }
    }

    FUZZ_CHECK(whole.r == pieces.r);
    FUZZ_CHECK(whole.code == pieces.code && whole.message == pieces.message);
    if (whole.r != chunked_decoder::result::error) FUZZ_CHECK(whole.consumed == pieces.consumed);
    // The decoder is a byte-at-a-time state machine, so even on an error both ways appended the same data.
    FUZZ_CHECK(whole.body == pieces.body);
    return 0;
}
