// See refund_window.hpp.
#include "core/refund_window.hpp"
#include "core/cpp_only.hpp"

namespace nw {

RefundVerdict EvaluateRefund(bool is_active, bool has_purchase_date, std::int64_t microseconds_elapsed, int window_days)
{
    if (!has_purchase_date)
        return {false, RefundReason::kNotActive, -1};
    // Whole seconds, truncated toward zero: 30 days + 0.9 s still counts as 30 days.
    const std::int64_t seconds = microseconds_elapsed / 1000000;
    const std::int64_t days = seconds >= 0 ? seconds / kSecondsPerDay : 0;
    if (!is_active)
        return {false, RefundReason::kNotActive, days};
    if (seconds <= static_cast<std::int64_t>(window_days) * kSecondsPerDay)
        return {true, RefundReason::kWithinWindow, days};
    return {false, RefundReason::kWindowPassed, days};
}

const char *RefundReasonName(RefundReason reason)
{
    switch (reason) {
    case RefundReason::kWithinWindow:
        return "within_window";
    case RefundReason::kWindowPassed:
        return "window_passed";
    case RefundReason::kNotActive:
        return "not_active";
    }
    return "not_active";
}

}  // namespace nw
