// The state the HTTP layer keeps between requests (http/limits.hpp): rate
// windows and the search cache are bounded in size, and what has expired
// leaves, so a stream of distinct users or queries cannot grow them forever.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "http/limits.hpp"
#include "http/routes.hpp"
#include "metrics/metrics.hpp"

namespace nw {
namespace {

using std::chrono::seconds;
const http::SteadyClock::time_point kT0 = http::SteadyClock::time_point() + std::chrono::hours(1000);

TEST(WindowLimiter, CountsPerKeyWithinAWindow)
{
    http::WindowLimiter limiter(seconds(60), 100);
    for (int i = 0; i < 3; ++i)
        EXPECT_TRUE(limiter.Allow("alice", 3, kT0 + seconds(i)));
    EXPECT_FALSE(limiter.Allow("alice", 3, kT0 + seconds(10)));
    EXPECT_TRUE(limiter.Allow("bob", 3, kT0 + seconds(10)));    // another key, its own window
    EXPECT_TRUE(limiter.Allow("alice", 3, kT0 + seconds(61)));  // a new window
}

TEST(WindowLimiter, EndedWindowsLeave)
{
    http::WindowLimiter limiter(seconds(60), 100000);
    for (int i = 0; i < 1000; ++i)
        limiter.Allow("user-" + std::to_string(i), 30, kT0);
    EXPECT_EQ(limiter.Size(), 1000u);
    // A minute later, the next request sweeps every window that ended.
    limiter.Allow("late", 30, kT0 + seconds(61));
    EXPECT_EQ(limiter.Size(), 1u);
}

TEST(WindowLimiter, NeverHoldsMoreThanItsBound)
{
    http::WindowLimiter limiter(seconds(60), 64);
    for (int i = 0; i < 10000; ++i) {
        limiter.Allow("user-" + std::to_string(i), 30, kT0 + std::chrono::milliseconds(i));
        ASSERT_LE(limiter.Size(), 64u);
    }
    // The newest windows stay (the oldest made room): a busy user keeps its count.
    for (int i = 0; i < 29; ++i)
        limiter.Allow("user-9999", 30, kT0 + seconds(20));
    EXPECT_FALSE(limiter.Allow("user-9999", 30, kT0 + seconds(20)));
}

TEST(SearchCache, KeepsAnswersForTheirTtl)
{
    http::SearchCache cache(seconds(30), 10);
    cache.Put("US|415||20", nlohmann::json::array({"+14155550100"}), kT0);
    ASSERT_TRUE(cache.Find("US|415||20", kT0 + seconds(29)));
    EXPECT_EQ(*cache.Find("US|415||20", kT0 + seconds(29)), nlohmann::json::array({"+14155550100"}));
    EXPECT_FALSE(cache.Find("US|415||20", kT0 + seconds(30)));
    EXPECT_EQ(cache.Size(), 0u);  // an expired entry found is dropped
    EXPECT_FALSE(cache.Find("CA|||20", kT0));
}

TEST(SearchCache, BoundedAndSwept)
{
    http::SearchCache cache(seconds(30), 100);
    for (int i = 0; i < 5000; ++i) {
        cache.Put("q" + std::to_string(i), nlohmann::json::array(), kT0 + std::chrono::milliseconds(i));
        ASSERT_LE(cache.Size(), 100u);
    }
    EXPECT_TRUE(cache.Find("q4999", kT0 + seconds(6)));  // the newest stay
    EXPECT_FALSE(cache.Find("q0", kT0 + seconds(6)));
    cache.Put("later", nlohmann::json::array(), kT0 + seconds(60));
    EXPECT_EQ(cache.Size(), 1u);
}

TEST(HttpMetricLabels, FromFixedSets)
{
    EXPECT_STREQ(metrics::MethodLabel("GET"), "GET");
    EXPECT_STREQ(metrics::MethodLabel("OPTIONS"), "OPTIONS");
    EXPECT_STREQ(metrics::MethodLabel("PRI"), "other");
    EXPECT_STREQ(metrics::MethodLabel("get"), "other");
    EXPECT_STREQ(metrics::MethodLabel("X\"}\n"), "other");
    EXPECT_EQ(metrics::StatusLabel(405), "405");
    EXPECT_EQ(metrics::StatusLabel(418), "4xx");
    EXPECT_EQ(metrics::StatusLabel(-1), "other");
    EXPECT_EQ(metrics::StatusLabel(99999), "other");
    EXPECT_EQ(metrics::HttpRequestLabels("other", 405), "route=\"other\",status=\"405\"");
}

TEST(HttpMetricLabels, RouteTemplates)
{
    EXPECT_STREQ(http::RouteTemplate("/api/health"), "/api/health");
    EXPECT_STREQ(http::RouteTemplate("/api/numbers"), "/api/numbers");
    EXPECT_STREQ(http::RouteTemplate("/api/numbers/available"), "/api/numbers/available");
    EXPECT_STREQ(http::RouteTemplate("/api/numbers/0b0c0d0e-0000-4000-8000-000000000001"), "/api/numbers/{id}");
    EXPECT_STREQ(http::RouteTemplate("/api/numbers/abc/release"), "/api/numbers/{id}/release");
    EXPECT_STREQ(http::RouteTemplate("/api/numbers/abc/def"), "other");
    EXPECT_STREQ(http::RouteTemplate("/api/numbers//release"), "other");
    EXPECT_STREQ(http::RouteTemplate("/random-" + std::to_string(12345)), "other");
    EXPECT_STREQ(http::RouteTemplate(""), "other");
    EXPECT_STREQ(http::RouteTemplate("/api/numbers/"), "other");
    EXPECT_STREQ(http::RouteTemplate("/api/admin/numbers/abc/fail"), "/api/admin/numbers/{id}/fail");
    EXPECT_STREQ(http::RouteTemplate("/api/admin/wallets/u1/adjust"), "/api/admin/wallets/{userId}/adjust");
    EXPECT_STREQ(http::RouteTemplate("/api/admin/users/u1"), "/api/admin/users/{userId}");
    EXPECT_STREQ(http::RouteTemplate("/api/admin/users/u1/x"), "other");
    EXPECT_STREQ(http::RouteTemplate("/metrics/"), "other");
    EXPECT_STREQ(http::RouteTemplate("/api/numbers/abc/refund-quote"), "/api/numbers/{id}/refund-quote");
    EXPECT_STREQ(http::RouteTemplate("/"), "/");
    EXPECT_STREQ(http::RouteTemplate("/admin"), "/admin");
    EXPECT_STREQ(http::RouteTemplate("/assets/anything-" + std::to_string(12345)), "/assets/{file}");
    EXPECT_STREQ(http::RouteTemplate("/api/config"), "/api/config");
    EXPECT_STREQ(http::RouteTemplate("/api/demo/session"), "/api/demo/session");
    EXPECT_STREQ(http::RouteTemplate("/admin/x"), "other");
}

}  // namespace
}  // namespace nw
