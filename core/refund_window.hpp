// The refund-window rule of docs/sql-api.md, as pure arithmetic on whole seconds, so
// refund_quote and release_number share one evaluation and the boundary
// (exactly N days eligible, N days + 1 s not) is unit-tested.
#pragma once

#include <cstdint>

namespace nw {

enum class RefundReason { kWithinWindow, kWindowPassed, kNotActive };

struct RefundVerdict {
    bool eligible;
    RefundReason reason;
    // Whole days elapsed since the purchase, or -1 when there is no purchase date.
    std::int64_t days_since_purchase;
};

constexpr std::int64_t kSecondsPerDay = 86400;

// microseconds_elapsed: now - purchase_date (may be negative: a quote for a
// time before the purchase is within the window).
RefundVerdict EvaluateRefund(bool is_active, bool has_purchase_date, std::int64_t microseconds_elapsed,
                             int window_days);

const char *RefundReasonName(RefundReason reason);

}  // namespace nw
