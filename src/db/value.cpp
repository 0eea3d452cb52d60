#include <zephyr/db/value.hpp>
#include <zephyr/db/error.hpp>

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <ctime>

namespace zephyr::db {

std::string Value::describe() const {
    switch (kind_) {
        case kind::null: return "NULL";
        case kind::boolean: return int_ ? "TRUE" : "FALSE";
        case kind::integer: return std::to_string(int_);
        case kind::real: return fmt::format("{}", real_);
        case kind::text: {
            std::string out = "'";
            for (char c : text_.substr(0, 100)) {
                out += c;
                if (c == '\'') out += '\'';
            }
            if (text_.size() > 100) out += "...";
            return out + "'";
        }
        case kind::blob: return fmt::format("<{} bytes>", text_.size());
        case kind::timestamp: return fmt::format("'{}'", format_timestamp(int_));  // not "'" + ...: GCC 12 -Wrestrict
    }
    return "?";
}

namespace {
std::int64_t days_since_epoch(int y, int m, int d) noexcept {
    using namespace std::chrono;
    return sys_days{year{y} / month{static_cast<unsigned>(m)} / day{static_cast<unsigned>(d)}}
        .time_since_epoch()
        .count();
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) noexcept {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = s[pos + i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    out = v;
    return true;
}
}  // namespace

std::string format_timestamp(std::int64_t micros) {
    using namespace std::chrono;
    const sys_time<microseconds> t{microseconds{micros}};
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss hms{t - day};
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                       hms.minutes().count(), hms.seconds().count(), hms.subseconds().count());
}

std::optional<std::int64_t> parse_timestamp(std::string_view s) noexcept {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
    if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
        !digits(s, 8, 2, d))
        return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
    std::size_t pos = 10;
    std::int64_t frac = 0;
    if (pos < s.size()) {
        if ((s[pos] != ' ' && s[pos] != 'T') || !digits(s, pos + 1, 2, h) || s.size() < pos + 9 ||
            s[pos + 3] != ':' || !digits(s, pos + 4, 2, mi) || s[pos + 6] != ':' || !digits(s, pos + 7, 2, sec))
            return std::nullopt;
        if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
        pos += 9;
        if (pos < s.size() && s[pos] == '.') {
            ++pos;
            int n = 0;
            while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
                if (n < 6) frac = frac * 10 + (s[pos] - '0');
                ++n;
                ++pos;
            }
            if (n == 0) return std::nullopt;
            for (; n < 6; ++n) frac *= 10;
        }
    }
    std::int64_t offset = 0;
    if (pos < s.size()) {
        if (s[pos] == 'Z' || s[pos] == 'z') {
            ++pos;
        } else if (s[pos] == '+' || s[pos] == '-') {
            const int sign = s[pos] == '-' ? -1 : 1;
            int oh = 0, om = 0;
            if (!digits(s, pos + 1, 2, oh)) return std::nullopt;
            pos += 3;
            if (pos < s.size() && s[pos] == ':') ++pos;
            if (pos < s.size()) {
                if (!digits(s, pos, 2, om)) return std::nullopt;
                pos += 2;
            }
            offset = sign * (oh * 3600 + om * 60);
        }
    }
    if (pos != s.size()) return std::nullopt;
    const std::int64_t seconds = days_since_epoch(y, mo, d) * 86400 +
                                 h * 3600 + mi * 60 + sec - offset;
    return seconds * 1'000'000 + frac;
}

std::size_t Row::index_of(std::string_view name) const {
    const std::size_t n = size();
    for (std::size_t i = 0; i < n; ++i)
        if (this->name(i) == name) return i;
    throw Error{errc::bad_result, fmt::format("the result has no column '{}'", name)};
}

void Row::fail(std::size_t column, std::string_view problem) const {
    throw Error{errc::bad_result, fmt::format("column {} ('{}'): {}", column, column < size() ? name(column) : "?",
                                              problem)};
}

namespace detail {
void out_of_range(const Row& row, std::size_t column, std::int64_t v, std::string_view type) {
    row.fail(column, fmt::format("{} does not fit {}", v, type));
}
void bad_enum(const Row& row, std::size_t column, std::string_view text) {
    row.fail(column, fmt::format("'{}' is not a value of the enum", text.substr(0, 100)));
}
void bad_timestamp(const Row& row, std::size_t column, std::string_view text) {
    row.fail(column, fmt::format("'{}' is not a timestamp (YYYY-MM-DD HH:MM:SS)", text.substr(0, 100)));
}
void unsigned_too_large(std::uint64_t v) {
    throw Error{errc::misuse, fmt::format("parameter {} does not fit a signed 64-bit integer", v)};
}
}  // namespace detail

}  // namespace zephyr::db
