// The NW005 detail text, a contract between the extension (which writes it) and
// the shim (which turns it into Retry-After): core/rate_limit_detail.*.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "http/reply.hpp"
#include "core/rate_limit_detail.hpp"

namespace {

TEST(RateLimitDetail, WritesTheContractText)
{
    EXPECT_STREQ(nw::RetryAfterDetail(42).text, "Retry after 42 seconds.");
    EXPECT_STREQ(nw::RetryAfterDetail(1).text, "Retry after 1 seconds.");
    EXPECT_STREQ(nw::RetryAfterDetail(0).text, "Retry after 0 seconds.");
    EXPECT_STREQ(nw::RetryAfterDetail(-5).text, "Retry after 0 seconds.");
    EXPECT_EQ(nw::FormatRetryAfterDetail(3600), "Retry after 3600 seconds.");
    const auto max = nw::RetryAfterDetail(std::numeric_limits<std::int64_t>::max());
    EXPECT_STREQ(max.text, "Retry after 9223372036854775807 seconds.");
    EXPECT_LT(std::strlen(max.text), sizeof max.text);
}

TEST(RateLimitDetail, RoundTrips)
{
    for (const std::int64_t s : {0LL, 1LL, 9LL, 10LL, 59LL, 3600LL, 86400LL, 999999999999999999LL}) {
        const auto parsed = nw::ParseRetryAfterDetail(nw::FormatRetryAfterDetail(s));
        ASSERT_TRUE(parsed.has_value()) << s;
        EXPECT_EQ(*parsed, s);
    }
}

TEST(RateLimitDetail, RefusesMalformedDetails)
{
    for (const char *bad :
         {"", "Retry after  seconds.", "Retry after seconds.", "Retry after 5 seconds", "retry after 5 seconds.",
          "Retry after 5 seconds. ", " Retry after 5 seconds.", "Retry after -5 seconds.", "Retry after +5 seconds.",
          "Retry after 05 seconds.", "Retry after 5.0 seconds.", "Retry after 5 5 seconds.", "Retry after x seconds.",
          "Retry after 5 minutes.", "Retry after 5 seconds. Retry after 6 seconds.", "Please: Retry after 5 seconds.",
          "Retry after 1234567890123456789 seconds.", "Retry after 99999999999999999999 seconds."})
        EXPECT_FALSE(nw::ParseRetryAfterDetail(bad).has_value()) << '"' << bad << '"';
    EXPECT_FALSE(nw::ParseRetryAfterDetail(std::string_view("Retry after 5\0 seconds.", 23)).has_value());
}

std::string RetryAfterHeader(const nw::http::Reply &reply)
{
    for (const auto &[name, value] : reply.headers)
        if (name == "Retry-After")
            return value;
    return "<none>";
}

TEST(RateLimitDetail, TheShimAnswers429WithRetryAfterFromTheDetail)
{
    nw::db::Error e{"NW005", "purchase rate limit exceeded", nw::FormatRetryAfterDetail(1800)};
    nw::http::Reply reply = nw::http::FromDbError(e);
    EXPECT_EQ(reply.status, 429);
    EXPECT_EQ(reply.body["code"], "RATE_LIMITED");
    EXPECT_EQ(RetryAfterHeader(reply), "1800");
    // A detail outside the contract gives no header rather than a wrong one.
    e.detail = "Retry after 99999999999999999999 seconds.";
    EXPECT_EQ(RetryAfterHeader(nw::http::FromDbError(e)), "<none>");
    e.detail = "Retry after 12 seconds. Ask again later.";
    EXPECT_EQ(RetryAfterHeader(nw::http::FromDbError(e)), "<none>");
}

}  // namespace
