// Fuzzes percent-decoding, percent-encoding and application/x-www-form-urlencoded parsing, directly and
// through Request's target and query accessors.
#include "fuzz_check.hpp"

#include <zephyr/http/error.hpp>
#include <zephyr/http/request.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace zephyr::http;

bool is_unreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

void check_encoding(std::string_view raw) {
    for (bool keep_slash : {false, true}) {
        std::string enc = percent_encode(raw, keep_slash);
        for (std::size_t i = 0; i < enc.size(); ++i) {
            char c = enc[i];
            if (c == '%') {
                FUZZ_CHECK(i + 2 < enc.size());
                i += 2;
            } else {
                FUZZ_CHECK(is_unreserved(c) || (keep_slash && c == '/'));
            }
        }
        auto back = percent_decode(enc);
        FUZZ_CHECK(back && *back == raw);
        auto back_plus = percent_decode(enc, true);  // '+' is always encoded, so this agrees
        FUZZ_CHECK(back_plus && *back_plus == raw);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input{reinterpret_cast<const char*>(data), size};

    check_encoding(input);
    for (bool plus : {false, true}) {
        if (auto dec = percent_decode(input, plus)) {
            FUZZ_CHECK(dec->size() <= input.size());
            check_encoding(*dec);
        } else {
            FUZZ_CHECK(input.find('%') != std::string_view::npos);
        }
    }

    // Form parsing: either pairs that survive re-encoding, or HttpError 400 with a detail.
    try {
        auto pairs = parse_urlencoded(input);
        std::string again;
        for (const auto& [k, v] : pairs) {
            if (!again.empty()) again += '&';
            again += percent_encode(k) + "=" + percent_encode(v);
        }
        FUZZ_CHECK(parse_urlencoded(again) == pairs);
    } catch (const HttpError& e) {
        FUZZ_CHECK(e.status() == status::bad_request && !e.detail().empty());
    }

    // Through a Request, as a handler sees a target.
    Request req;
    req.set_target(input);
    FUZZ_CHECK(req.target() == input);
    FUZZ_CHECK(zephyr_fuzz::inside(req.query_string(), input) || req.query_string().empty());
    FUZZ_CHECK(zephyr_fuzz::inside(req.path(), input) || req.path() == "/");
    try {
        const auto& params = req.query_params();
        auto first = req.query("q");
        auto all = req.query_all("q");
        FUZZ_CHECK(first.has_value() == !all.empty());
        if (first) FUZZ_CHECK(*first == all.front());
        FUZZ_CHECK(params.size() <= req.query_string().size());
    } catch (const HttpError& e) {
        FUZZ_CHECK(e.status() == status::bad_request);
    }
    return 0;
}
