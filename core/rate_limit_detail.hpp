// The detail text of the purchase rate limit (SQLSTATE NW005), a contract
// between the extension, which writes it, and the shim, which reads the wait
// out of it for the HTTP Retry-After header: "Retry after <N> seconds.", N a
// whole number of seconds written in decimal without sign or leading zeros.
// Pure C++ without PostgreSQL headers, allocation-free on the extension's side,
// and no exceptions: the extension calls it inside ereport().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nw {

// A detail text in a fixed buffer: trivially destructible, so it may be a
// temporary inside ereport(ERROR, ...), whose longjmp skips destructors.
struct RetryAfterDetailText {
    char text[48];
};

// "Retry after 42 seconds." (a negative wait is written as 0).
RetryAfterDetailText RetryAfterDetail(std::int64_t seconds) noexcept;

// The same text as a std::string (the shim and the tests).
std::string FormatRetryAfterDetail(std::int64_t seconds);

// The seconds of a detail text that is exactly what RetryAfterDetail writes;
// nullopt for anything else (other wording, a sign, leading zeros, spaces,
// trailing text, more digits than an int64 safely holds).
std::optional<std::int64_t> ParseRetryAfterDetail(std::string_view detail) noexcept;

}  // namespace nw
