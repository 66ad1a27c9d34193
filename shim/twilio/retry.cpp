#include "twilio/retry.hpp"

#include <algorithm>
#include <random>

namespace nw::twilio {

long RetryDelayMs(const RetryPolicy &policy, int retry, std::optional<long> retryAfterSeconds, std::uint32_t random)
{
    if (retryAfterSeconds && *retryAfterSeconds > 0) {
        long capSeconds = policy.maxRetryAfterMs / 1000;
        if (*retryAfterSeconds >= capSeconds)
            return policy.maxRetryAfterMs;
        return *retryAfterSeconds * 1000;
    }
    long delay = std::max<long>(policy.baseDelayMs, 1);
    for (int i = 1; i < retry && delay < policy.maxDelayMs; ++i)
        delay *= 2;
    delay = std::min(delay, policy.maxDelayMs);
    long half = delay / 2;
    return half + static_cast<long>(random % static_cast<std::uint32_t>(delay - half + 1));
}

std::optional<long> ParseRetryAfter(std::string_view value)
{
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
    while (!value.empty() &&
           (value.back() == ' ' || value.back() == '\t' || value.back() == '\r' || value.back() == '\n')) {
        value.remove_suffix(1);
    }
    if (value.empty() || value.size() > 18) {
        if (value.size() > 18 && value.find_first_not_of("0123456789") == std::string_view::npos) {
            return 86400L * 365;  // absurdly large: saturate, the policy caps it anyway
        }
        return std::nullopt;
    }
    long seconds = 0;
    for (char c : value) {
        if (c < '0' || c > '9')
            return std::nullopt;
        seconds = seconds * 10 + (c - '0');
    }
    return std::min(seconds, 86400L * 365);
}

std::uint32_t RandomJitter()
{
    thread_local std::mt19937 gen{std::random_device{}()};
    return static_cast<std::uint32_t>(gen());
}

}  // namespace nw::twilio
