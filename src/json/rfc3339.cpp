#include <zephyr/json/rfc3339.hpp>

#include <cstdint>
#include <cstdio>

namespace zephyr::json {

namespace {

using std::chrono::system_clock;

// Reads exactly `n` digits at `pos`; false when there are fewer.
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) {
        return false;
    }
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

}  // namespace

std::optional<system_clock::time_point> parse_rfc3339(std::string_view s) noexcept {
    // date-time = full-date "T" full-time; positions are fixed up to the seconds.
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
        !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, hour) || s[13] != ':' ||
        !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second)) {
        return std::nullopt;
    }
    const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                                           std::chrono::day{static_cast<unsigned>(day)}};
    if (!date.ok() || hour > 23 || minute > 59 || second > 60) {
        return std::nullopt;
    }

    std::size_t pos = 19;
    std::int64_t nanos = 0;
    if (s[pos] == '.') {
        ++pos;
        const std::size_t first = pos;
        int kept = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (kept < 9) {
                nanos = nanos * 10 + (s[pos] - '0');
                ++kept;
            }
            ++pos;
        }
        if (pos == first) {
            return std::nullopt;
        }
        for (; kept < 9; ++kept) {
            nanos *= 10;
        }
    }

    std::int64_t offset = 0;  // seconds east of UTC
    if (pos >= s.size()) {
        return std::nullopt;
    }
    if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
        int oh = 0, om = 0;
        if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om) ||
            oh > 23 || om > 59) {
            return std::nullopt;
        }
        offset = (s[pos] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) {
        return std::nullopt;
    }

    const std::int64_t days = std::chrono::sys_days{date}.time_since_epoch().count();
    const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset;

    // system_clock counts nanoseconds in 64 bits here; refuse what it cannot hold rather than wrap around.
    using namespace std::chrono;
    constexpr auto max_seconds = duration_cast<std::chrono::seconds>(system_clock::duration::max()).count() - 1;
    constexpr auto min_seconds = duration_cast<std::chrono::seconds>(system_clock::duration::min()).count() + 1;
    if (seconds > max_seconds || seconds < min_seconds) {
        return std::nullopt;
    }
    return system_clock::time_point{duration_cast<system_clock::duration>(std::chrono::seconds{seconds}) +
                                    duration_cast<system_clock::duration>(nanoseconds{nanos})};
}

std::string format_rfc3339(system_clock::time_point t) {
    using namespace std::chrono;
    const auto ms = floor<milliseconds>(t);
    const auto day = floor<days>(ms);
    const year_month_day date{day};
    const hh_mm_ss time{ms - day};
    const auto millis = static_cast<int>(time.subseconds().count());

    char buf[40];
    int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(date.year()),
                          static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                          static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                          static_cast<int>(time.seconds().count()));
    if (millis != 0) {
        n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ".%03d", millis);
    }
    return std::string{buf, static_cast<std::size_t>(n)} + 'Z';
}

}  // namespace zephyr::json
