// Backoff delays and Retry-After parsing.
#include <gtest/gtest.h>

#include "twilio/retry.hpp"

namespace nw::twilio {
namespace {

TEST(TwilioRetry, ExponentialBackoffWithEqualJitter)
{
    RetryPolicy p;  // base 250, cap 4000
    EXPECT_EQ(RetryDelayMs(p, 1, std::nullopt, 0), 125);
    EXPECT_EQ(RetryDelayMs(p, 1, std::nullopt, 125), 250);  // 125 + 125 % 126
    EXPECT_EQ(RetryDelayMs(p, 2, std::nullopt, 0), 250);
    EXPECT_EQ(RetryDelayMs(p, 3, std::nullopt, 0), 500);
    EXPECT_EQ(RetryDelayMs(p, 10, std::nullopt, 0), 2000);  // capped at 4000, half fixed
    for (std::uint32_t r : {0u, 1u, 12345u, 0xffffffffu}) {
        long d = RetryDelayMs(p, 10, std::nullopt, r);
        EXPECT_GE(d, 2000);
        EXPECT_LE(d, 4000);
    }
}

TEST(TwilioRetry, RetryAfterWinsAndIsCapped)
{
    RetryPolicy p;
    EXPECT_EQ(RetryDelayMs(p, 1, 3L, 999), 3000);
    EXPECT_EQ(RetryDelayMs(p, 1, 3600L, 0), 10000);
    EXPECT_EQ(RetryDelayMs(p, 1, 0L, 0), 125);  // 0 means "now": fall back to backoff
}

TEST(TwilioRetry, ParsesDeltaSecondsOnly)
{
    EXPECT_EQ(ParseRetryAfter("1"), 1L);
    EXPECT_EQ(ParseRetryAfter(" 30\r\n"), 30L);
    EXPECT_EQ(ParseRetryAfter("0"), 0L);
    EXPECT_FALSE(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"));
    EXPECT_FALSE(ParseRetryAfter(""));
    EXPECT_FALSE(ParseRetryAfter("-1"));
    EXPECT_FALSE(ParseRetryAfter("1.5"));
    EXPECT_EQ(ParseRetryAfter("99999999999999999999999"), 86400L * 365);
}

}  // namespace
}  // namespace nw::twilio
