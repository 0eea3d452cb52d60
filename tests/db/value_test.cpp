#include <zephyr/db/error.hpp>
#include <zephyr/db/value.hpp>

#include <gtest/gtest.h>

using namespace zephyr::db;
using namespace std::chrono;

TEST(db_value, timestamps_round_trip_in_utc) {
    const std::int64_t t = 1'714'979'289'123'456;  // 2024-05-06 07:08:09.123456 UTC
    EXPECT_EQ(format_timestamp(t), "2024-05-06 07:08:09.123456");
    EXPECT_EQ(parse_timestamp("2024-05-06 07:08:09.123456"), t);
    EXPECT_EQ(parse_timestamp("2024-05-06T07:08:09.123456Z"), t);
    EXPECT_EQ(parse_timestamp("2024-05-06 09:08:09.123456+02"), t);
    EXPECT_EQ(parse_timestamp("2024-05-06 04:38:09.123456-02:30"), t);
    EXPECT_EQ(parse_timestamp("2024-05-06 07:08:09.1234567"), t);  // beyond microseconds: truncated
    EXPECT_EQ(parse_timestamp("2024-05-06"), 1'714'953'600'000'000);
    EXPECT_EQ(parse_timestamp("1969-12-31 23:59:59"), -1'000'000);
    EXPECT_EQ(format_timestamp(-1'000'000), "1969-12-31 23:59:59.000000");
}

TEST(db_value, malformed_timestamps_are_rejected) {
    for (const char* s : {"", "2024", "2024-13-01", "2024-05-06 25:00:00", "2024-05-06 07:08", "2024-05-06 07:08:09.",
                          "2024-05-06 07:08:09 junk", "2024/05/06", "2024-05-06 07:08:09+2x"})
        EXPECT_FALSE(parse_timestamp(s).has_value()) << s;
}

TEST(db_value, params_bind_by_type) {
    std::optional<int> none;
    auto p = make_params(1, 2.5, true, "text", std::string{"s"}, none, std::optional<std::int64_t>{7},
                         std::uint16_t{65535});
    ASSERT_EQ(p.size(), 8u);
    EXPECT_EQ(p[0].type(), Value::kind::integer);
    EXPECT_EQ(p[1].type(), Value::kind::real);
    EXPECT_EQ(p[2].type(), Value::kind::boolean);
    EXPECT_EQ(p[3].as_text(), "text");
    EXPECT_EQ(p[4].as_text(), "s");
    EXPECT_TRUE(p[5].is_null());
    EXPECT_EQ(p[6].as_int(), 7);
    EXPECT_EQ(p[7].as_int(), 65535);
    EXPECT_THROW(make_params(std::uint64_t{1} << 63), Error);
    EXPECT_EQ(Value{std::string{"it's"}}.describe(), "'it''s'");
}
