#include <zephyr/json/rfc3339.hpp>

#include <gtest/gtest.h>

#include <chrono>

namespace {

using namespace std::chrono;
using zephyr::json::format_rfc3339;
using zephyr::json::parse_rfc3339;

system_clock::time_point utc(int y, unsigned mo, unsigned d, int h, int mi, int s) {
    return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

TEST(rfc3339, parses_utc) {
    EXPECT_EQ(parse_rfc3339("2024-05-01T12:34:56Z"), utc(2024, 5, 1, 12, 34, 56));
    EXPECT_EQ(parse_rfc3339("2024-05-01t12:34:56z"), utc(2024, 5, 1, 12, 34, 56));
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), system_clock::time_point{});
}

TEST(rfc3339, parses_fractional_seconds) {
    EXPECT_EQ(parse_rfc3339("2024-05-01T12:34:56.5Z"), utc(2024, 5, 1, 12, 34, 56) + milliseconds{500});
    EXPECT_EQ(parse_rfc3339("2024-05-01T12:34:56.123456789Z"), utc(2024, 5, 1, 12, 34, 56) + nanoseconds{123456789});
    // Digits beyond nanoseconds are dropped, not rounded.
    EXPECT_EQ(parse_rfc3339("2024-05-01T12:34:56.1234567899Z"), utc(2024, 5, 1, 12, 34, 56) + nanoseconds{123456789});
}

TEST(rfc3339, applies_offsets) {
    EXPECT_EQ(parse_rfc3339("2024-05-01T14:34:56+02:00"), utc(2024, 5, 1, 12, 34, 56));
    EXPECT_EQ(parse_rfc3339("2024-05-01T07:04:56-05:30"), utc(2024, 5, 1, 12, 34, 56));
    EXPECT_EQ(parse_rfc3339("2024-01-01T01:00:00+02:00"), utc(2023, 12, 31, 23, 0, 0));  // crosses a year
    EXPECT_EQ(parse_rfc3339("2024-05-01T12:34:56-00:00"), utc(2024, 5, 1, 12, 34, 56));
}

TEST(rfc3339, leap_day_and_leap_second) {
    EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), utc(2024, 2, 29, 0, 0, 0));
    EXPECT_EQ(parse_rfc3339("2016-12-31T23:59:60Z"), utc(2017, 1, 1, 0, 0, 0));
}

TEST(rfc3339, rejects_malformed_text) {
    for (const char* bad :
         {"", "2024-05-01", "2024-05-01T12:34:56", "2024-05-01 12:34:56Z", "2024-5-01T12:34:56Z", "2024-05-01T12:34Z",
          "2024-05-01T12:34:56.Z", "2024-05-01T12:34:56+0200", "2024-05-01T12:34:56+02", "2024-05-01T12:34:56Z ",
          " 2024-05-01T12:34:56Z", "2024-05-01T12:34:56ZZ", "2024-05-01T12:34:56+02:00:00", "２024-05-01T12:34:56Z",
          "2024-05-01T12:34:56.12a4Z", "abcd-ef-ghTij:kl:mnZ"}) {
        EXPECT_EQ(parse_rfc3339(bad), std::nullopt) << bad;
    }
}

TEST(rfc3339, rejects_impossible_dates_and_times) {
    for (const char* bad :
         {"2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "2024-04-31T00:00:00Z",
          "2024-05-00T00:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T12:60:00Z", "2024-05-01T12:00:61Z",
          "2024-05-01T12:00:00+24:00", "2024-05-01T12:00:00+02:60"}) {
        EXPECT_EQ(parse_rfc3339(bad), std::nullopt) << bad;
    }
}

TEST(rfc3339, rejects_what_the_clock_cannot_hold) {
    EXPECT_EQ(parse_rfc3339("9999-12-31T23:59:59Z"), std::nullopt);
    EXPECT_EQ(parse_rfc3339("0001-01-01T00:00:00Z"), std::nullopt);
    EXPECT_NE(parse_rfc3339("2262-01-01T00:00:00Z"), std::nullopt);
    EXPECT_NE(parse_rfc3339("1678-01-01T00:00:00Z"), std::nullopt);
}

TEST(rfc3339, formats_utc_with_milliseconds_only_when_present) {
    EXPECT_EQ(format_rfc3339(utc(2024, 5, 1, 12, 34, 56)), "2024-05-01T12:34:56Z");
    EXPECT_EQ(format_rfc3339(utc(2024, 5, 1, 12, 34, 56) + milliseconds{7}), "2024-05-01T12:34:56.007Z");
    EXPECT_EQ(format_rfc3339(utc(2024, 5, 1, 12, 34, 56) + microseconds{999}), "2024-05-01T12:34:56Z");
    EXPECT_EQ(format_rfc3339(system_clock::time_point{}), "1970-01-01T00:00:00Z");
    // Before the epoch, truncation goes toward the past, so the date stays right.
    EXPECT_EQ(format_rfc3339(system_clock::time_point{} - milliseconds{1}), "1969-12-31T23:59:59.999Z");
}

TEST(rfc3339, round_trips_at_millisecond_precision) {
    const auto t = utc(2031, 7, 4, 3, 2, 1) + milliseconds{250};
    EXPECT_EQ(parse_rfc3339(format_rfc3339(t)), t);
    EXPECT_EQ(parse_rfc3339(format_rfc3339(utc(1900, 1, 1, 0, 0, 0))), utc(1900, 1, 1, 0, 0, 0));
}

}  // namespace
