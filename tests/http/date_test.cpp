// HTTP dates: IMF-fixdate in GMT, and back.
#include <zephyr/http/date.hpp>

#include <gtest/gtest.h>

TEST(date, formats_and_parses_imf_fixdate) {
    EXPECT_EQ(zephyr::http::to_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(zephyr::http::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), std::optional<std::time_t>{784111777});
    EXPECT_FALSE(zephyr::http::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
    EXPECT_FALSE(zephyr::http::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT trailing"));
    EXPECT_FALSE(zephyr::http::parse_http_date(""));
}
