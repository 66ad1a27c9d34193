// When and how long to wait before trying a Twilio request again.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace nw::twilio {

struct RetryPolicy {
    int maxAttempts = 4;     // GET and DELETE: attempts in all (safe to repeat)
    int buyMaxAttempts = 4;  // POST buy: attempts in all, and only after a 429
    long baseDelayMs = 250;  // backoff: base * 2^(retry-1), with jitter
    long maxDelayMs = 4000;
    long maxRetryAfterMs = 10000;  // a Retry-After longer than this is capped
    long minAttemptMs = 1000;      // do not start an attempt with less time than this left
};

// The wait before retry number `retry` (1 = the first retry). A Retry-After in
// seconds wins (capped at maxRetryAfterMs); otherwise exponential backoff with
// "equal jitter": half fixed, half random. `random` is any uniformly drawn value.
long RetryDelayMs(const RetryPolicy &policy, int retry, std::optional<long> retryAfterSeconds, std::uint32_t random);

// A Retry-After header value in delta-seconds ("3"). An HTTP-date or anything
// else gives nullopt (the caller then falls back to backoff). Huge values saturate.
std::optional<long> ParseRetryAfter(std::string_view value);

// A uniformly random value from a per-thread generator.
std::uint32_t RandomJitter();

}  // namespace nw::twilio
