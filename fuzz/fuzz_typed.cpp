// Fuzzes typed decoding: JSON text into a nested described struct, and urlencoded text into the same struct
// the way Query<T> and Form<T> read it. Whatever decodes must encode and decode again to the same JSON.
#include "fuzz_check.hpp"

#include <zephyr/http/extract/json.hpp>
#include <zephyr/json/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

enum class color { red, green, blue };
BOOST_DESCRIBE_ENUM(color, red, green, blue)

struct line {
    std::string sku;
    std::uint8_t qty = 0;
    std::optional<double> price;
};
BOOST_DESCRIBE_STRUCT(line, (), (sku, qty, price))

struct order {
    std::int64_t id = 0;
    bool paid = false;
    color tint = color::red;
    std::vector<line> lines;
    std::map<std::string, int> tags;
    std::optional<std::chrono::system_clock::time_point> at;
    std::vector<std::string> notes;
};
BOOST_DESCRIBE_STRUCT(order, (), (id, paid, tint, lines, tags, at, notes))

void round_trip(const order& o) {
    std::string once = zephyr::json::to_string(o);
    order again = zephyr::json::parse<order>(once);  // must not throw: we wrote it
    FUZZ_CHECK(zephyr::json::to_string(again) == once);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text{reinterpret_cast<const char*>(data), size};
    try {
        round_trip(zephyr::json::parse<order>(text));
    } catch (const zephyr::json::decode_error& e) {
        FUZZ_CHECK(!e.errors.empty());
        for (const auto& f : e.errors) FUZZ_CHECK(f.path.starts_with("body"));
    }
    try {
        auto pairs = zephyr::http::parse_urlencoded(text);
        order o = zephyr::json::from_value<order>(zephyr::http::detail::pairs_object(pairs),
                                                  zephyr::json::decode_options{.root = "query", .text_values = true});
        round_trip(o);
    } catch (const zephyr::json::decode_error& e) {
        for (const auto& f : e.errors) FUZZ_CHECK(f.path.starts_with("query"));
    } catch (const zephyr::http::HttpError& e) {
        FUZZ_CHECK(zephyr::http::to_int(e.status()) == 400);
    }
    return 0;
}
