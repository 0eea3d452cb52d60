#include <zephyr/http/date.hpp>

namespace zephyr::http {

namespace {
constexpr const char* imf_fixdate = "%a, %d %b %Y %H:%M:%S GMT";
}

std::string to_http_date(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    return {buf, std::strftime(buf, sizeof buf, imf_fixdate, &tm)};
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
    std::tm tm{};
    std::string copy{text};
    const char* end = strptime(copy.c_str(), imf_fixdate, &tm);
    if (end == nullptr || *end != '\0') return std::nullopt;
    return timegm(&tm);
}

}  // namespace zephyr::http
