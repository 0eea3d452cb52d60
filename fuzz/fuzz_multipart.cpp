// Fuzzes multipart_parser. The input's first line is the boundary (a Content-Type parameter value, checked
// with multipart_boundary()), the rest the body. The body is parsed once from a single buffer and once fed in
// pieces of random size; both must report the same parts, headers, data and outcome. File names found in
// Content-Disposition fields must come out of safe_filename() as one harmless path component.
#include "fuzz_check.hpp"

#include <zephyr/http/error.hpp>
#include <zephyr/http/multipart.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace zephyr::http;

struct transcript {
    std::vector<std::vector<std::pair<std::string, std::string>>> headers;
    std::vector<std::string> data;
    std::vector<bool> ended;
    bool done = false;
    int error = 0;
    std::string message;
    bool operator==(const transcript&) const = default;
};

multipart_limits fuzz_limits() {
    multipart_limits l;
    l.max_parts = 16;
    l.max_header_bytes = 256;
    return l;
}

// Drains the parser's events into `t`; false once it is done or failed.
bool drain(multipart_parser& p, transcript& t, std::string_view delimiter) {
    while (true) {
        switch (p.next()) {
            case multipart_parser::event::need_more: return true;
            case multipart_parser::event::part_begin: {
                FUZZ_CHECK(t.ended.empty() || t.ended.back());
                auto& h = t.headers.emplace_back();
                for (const auto& [k, v] : p.part_headers()) {
                    FUZZ_CHECK(!k.empty());
                    h.emplace_back(k, v);
                }
                t.data.emplace_back();
                t.ended.push_back(false);
                FUZZ_CHECK(p.parts() == t.headers.size());
                break;
            }
            case multipart_parser::event::data:
                FUZZ_CHECK(!t.ended.empty() && !t.ended.back());
                FUZZ_CHECK(!p.data().empty());
                t.data.back() += p.data();
                break;
            case multipart_parser::event::part_end:
                FUZZ_CHECK(!t.ended.empty() && !t.ended.back());
                FUZZ_CHECK(t.data.back().find(delimiter) == std::string::npos);
                t.ended.back() = true;
                break;
            case multipart_parser::event::done:
                FUZZ_CHECK(t.ended.empty() || t.ended.back());
                FUZZ_CHECK(p.next() == multipart_parser::event::done);
                t.done = true;
                return false;
            case multipart_parser::event::error:
                t.error = to_int(p.error_status());
                t.message = p.error_message();
                FUZZ_CHECK(t.error == 400 || t.error == 413);
                FUZZ_CHECK(!t.message.empty());
                FUZZ_CHECK(p.next() == multipart_parser::event::error);
                return false;
        }
    }
}

void check_filename(std::string_view header_value) {
    auto cd = parse_content_disposition(header_value);
    if (!cd || !cd->filename) return;
    std::string safe = safe_filename(*cd->filename);
    FUZZ_CHECK(safe.size() <= 255);
    FUZZ_CHECK(safe.find_first_of("/\\:") == std::string::npos);
    FUZZ_CHECK(safe.empty() || (safe.front() != '.' && safe.front() != ' '));
    for (unsigned char c : safe) FUZZ_CHECK(c >= 0x20 && c != 0x7F);
    FUZZ_CHECK(safe_filename(safe) == safe);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input{reinterpret_cast<const char*>(data), size};
    auto nl = input.find('\n');
    if (nl == std::string_view::npos || nl > 100) return 0;
    std::string boundary;
    try {
        boundary = multipart_boundary("multipart/form-data; boundary=" + std::string{input.substr(0, nl)});
    } catch (const HttpError& e) {
        FUZZ_CHECK(to_int(e.status()) == 400);
        return 0;
    }
    FUZZ_CHECK(!boundary.empty() && boundary.size() <= 70);
    const std::string_view body = input.substr(nl + 1);
    const std::string delimiter = "\r\n--" + boundary;

    transcript whole;
    {
        multipart_parser p{boundary, fuzz_limits()};
        p.feed(body);
        if (drain(p, whole, delimiter)) {
            p.finish();
            FUZZ_CHECK(!drain(p, whole, delimiter));
        }
        FUZZ_CHECK(whole.done != (whole.error != 0));
    }

    transcript pieces;
    {
        multipart_parser p{boundary, fuzz_limits()};
        zephyr_fuzz::input_rng rng{input};
        std::size_t pos = 0;
        bool more = true;
        while (more && pos < body.size()) {
            const std::size_t n = std::min(body.size() - pos, rng.between(0, 24));
            if (rng.between(0, 1) == 0) {
                p.feed(body.substr(pos, n));
            } else {  // the zero-copy way
                auto space = p.prepare(n);
                FUZZ_CHECK(space.size() >= n);
                std::copy_n(body.data() + pos, n, space.data());
                p.commit(n);
            }
            pos += n;
            more = drain(p, pieces, delimiter);
        }
        if (more) {
            p.finish();
            FUZZ_CHECK(!drain(p, pieces, delimiter));
        }
    }

    FUZZ_CHECK(whole == pieces);
    for (const auto& h : whole.headers)
        for (const auto& [k, v] : h)
            if (iequals(k, "content-disposition")) check_filename(v);
    return 0;
}
