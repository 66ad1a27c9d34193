// See rate_limit_detail.hpp.
#include "core/rate_limit_detail.hpp"
#include "core/cpp_only.hpp"

namespace nw {
namespace {

constexpr std::string_view kPrefix = "Retry after ";
constexpr std::string_view kSuffix = " seconds.";
// 18 digits always fit an int64 (its maximum has 19).
constexpr std::size_t kMaxDigits = 18;

}  // namespace

RetryAfterDetailText RetryAfterDetail(std::int64_t seconds) noexcept
{
    RetryAfterDetailText out{};
    std::size_t n = 0;
    for (const char c : kPrefix)
        out.text[n++] = c;
    // Digits backwards into a scratch buffer; an int64 has at most 19.
    char digits[20];
    std::size_t count = 0;
    std::uint64_t value = seconds > 0 ? static_cast<std::uint64_t>(seconds) : 0;
    do {
        digits[count++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    while (count > 0)
        out.text[n++] = digits[--count];
    for (const char c : kSuffix)
        out.text[n++] = c;
    out.text[n] = '\0';  // at most 12 + 19 + 9 + 1 = 41 bytes
    return out;
}

std::string FormatRetryAfterDetail(std::int64_t seconds)
{
    return RetryAfterDetail(seconds).text;
}

std::optional<std::int64_t> ParseRetryAfterDetail(std::string_view detail) noexcept
{
    if (detail.size() <= kPrefix.size() + kSuffix.size() || detail.substr(0, kPrefix.size()) != kPrefix ||
        detail.substr(detail.size() - kSuffix.size()) != kSuffix)
        return std::nullopt;
    const std::string_view digits = detail.substr(kPrefix.size(), detail.size() - kPrefix.size() - kSuffix.size());
    if (digits.empty() || digits.size() > kMaxDigits || (digits.size() > 1 && digits[0] == '0'))
        return std::nullopt;
    std::int64_t value = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return value;
}

}  // namespace nw
