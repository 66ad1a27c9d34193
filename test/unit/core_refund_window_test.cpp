// The refund-window boundary (core/refund_window.*).
#include <gtest/gtest.h>

#include "core/refund_window.hpp"

namespace {

constexpr std::int64_t kSecond = 1000000;
constexpr std::int64_t kDay = 86400 * kSecond;

TEST(RefundWindow, ExactlyThirtyDaysIsEligible)
{
    const nw::RefundVerdict v = nw::EvaluateRefund(true, true, 30 * kDay, 30);
    EXPECT_TRUE(v.eligible);
    EXPECT_EQ(v.reason, nw::RefundReason::kWithinWindow);
    EXPECT_EQ(v.days_since_purchase, 30);
}

TEST(RefundWindow, FractionsOfASecondAreTruncated)
{
    EXPECT_TRUE(nw::EvaluateRefund(true, true, 30 * kDay + kSecond - 1, 30).eligible);
}

TEST(RefundWindow, OneSecondMoreIsNot)
{
    const nw::RefundVerdict v = nw::EvaluateRefund(true, true, 30 * kDay + kSecond, 30);
    EXPECT_FALSE(v.eligible);
    EXPECT_EQ(v.reason, nw::RefundReason::kWindowPassed);
    EXPECT_STREQ(nw::RefundReasonName(v.reason), "window_passed");
}

TEST(RefundWindow, NotActiveOrNeverPurchased)
{
    const nw::RefundVerdict released = nw::EvaluateRefund(false, true, kDay, 30);
    EXPECT_FALSE(released.eligible);
    EXPECT_EQ(released.reason, nw::RefundReason::kNotActive);
    EXPECT_EQ(released.days_since_purchase, 1);
    const nw::RefundVerdict pending = nw::EvaluateRefund(false, false, 0, 30);
    EXPECT_EQ(pending.days_since_purchase, -1);
    EXPECT_STREQ(nw::RefundReasonName(pending.reason), "not_active");
}

TEST(RefundWindow, ZeroDayWindowAndTimesBeforePurchase)
{
    EXPECT_TRUE(nw::EvaluateRefund(true, true, 0, 0).eligible);
    EXPECT_FALSE(nw::EvaluateRefund(true, true, kSecond, 0).eligible);
    const nw::RefundVerdict before = nw::EvaluateRefund(true, true, -kDay, 30);
    EXPECT_TRUE(before.eligible);
    EXPECT_EQ(before.days_since_purchase, 0);
}

}  // namespace
