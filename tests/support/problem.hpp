// Shared assertion: a response is an RFC 9457 problem+json body with the given status.
#pragma once

#include <zephyr/testing.hpp>

#include <gtest/gtest.h>

namespace zephyr::test_support {

inline void expect_problem(const zephyr::testing::TestResponse& r, int status) {
    EXPECT_EQ(r.status(), status);
    EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
    auto j = r.json();
    ASSERT_TRUE(j.is_object()) << r.text();
    EXPECT_EQ(j.at("status").to_number<int>(), status);
    EXPECT_FALSE(j.at("title").as_string().empty());
}

}  // namespace zephyr::test_support
