// Input rules of docs/sql-api.md; see validation.hpp.
#include "core/validation.hpp"

#include <array>
#include <cctype>
#include "core/cpp_only.hpp"

namespace nw {
namespace {

bool IsDigit(char c)
{
    return c >= '0' && c <= '9';
}

// Counts UTF-8 code points; returns false on malformed UTF-8 or a control character.
bool CountCodePoints(std::string_view text, std::size_t *count, bool allow_newlines) noexcept
{
    std::size_t n = 0;
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t len = 0;
        if (c < 0x80) {
            const bool newline = (c == '\n' || c == '\r' || c == '\t');
            if ((c < 0x20 && !(allow_newlines && newline)) || c == 0x7f)
                return false;
            len = 1;
        } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
            len = 2;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
        } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
            len = 4;
        } else {
            return false;
        }
        if (i + len > text.size())
            return false;
        for (std::size_t k = 1; k < len; ++k)
            if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80)
                return false;
        // Strict UTF-8: no over-long 3- and 4-byte forms, no surrogates, nothing above U+10FFFF.
        const auto second = len > 1 ? static_cast<unsigned char>(text[i + 1]) : 0;
        if ((c == 0xE0 && second < 0xA0) || (c == 0xED && second > 0x9F) || (c == 0xF0 && second < 0x90) ||
            (c == 0xF4 && second > 0x8F))
            return false;
        i += len;
        ++n;
    }
    *count = n;
    return true;
}

}  // namespace

Refusal ParseAmount(std::string_view text, bool allow_negative, Cents *out)
{
    std::size_t i = 0;
    bool negative = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
        negative = text[i] == '-';
        ++i;
    }
    Cents whole = 0;
    std::size_t int_digits = 0;
    for (; i < text.size() && IsDigit(text[i]); ++i, ++int_digits) {
        if (whole > kMaxAmountCents / 100)
            return {true, "amount must be below 1000000000000"};
        whole = whole * 10 + (text[i] - '0');
    }
    Cents fraction = 0;
    std::size_t frac_digits = 0;
    if (i < text.size() && text[i] == '.') {
        ++i;
        for (; i < text.size() && IsDigit(text[i]); ++i, ++frac_digits) {
            // PostgreSQL may print trailing zeros ("8.000"); only non-zero digits count.
            if (frac_digits >= 2) {
                if (text[i] != '0')
                    return {true, "amount must have at most two decimal places"};
                continue;
            }
            fraction = fraction * 10 + (text[i] - '0');
        }
        if (frac_digits == 1)
            fraction *= 10;
    }
    if (i != text.size() || (int_digits == 0 && frac_digits == 0))
        return {true, "amount must be a finite decimal number"};
    if (whole >= kMaxAmountCents / 100 + 1)
        return {true, "amount must be below 1000000000000"};
    const Cents cents = whole * 100 + fraction;
    if (cents == 0)
        return {true, allow_negative ? "amount must not be zero" : "amount must be greater than zero"};
    if (negative && !allow_negative)
        return {true, "amount must be greater than zero"};
    *out = negative ? -cents : cents;
    return {};
}

std::string FormatCents(Cents cents)
{
    const bool negative = cents < 0;
    // Amounts are bounded by kMaxAmountCents, so negation cannot overflow.
    const Cents magnitude = negative ? -cents : cents;
    std::string out = std::to_string(magnitude / 100);
    const int frac = static_cast<int>(magnitude % 100);
    out += '.';
    out += static_cast<char>('0' + frac / 10);
    out += static_cast<char>('0' + frac % 10);
    return negative ? "-" + out : out;
}

bool IsCurrency(std::string_view text) noexcept
{
    return text == "USD" || text == "INR";
}

bool IsE164(std::string_view text) noexcept
{
    if (text.size() < 9 || text.size() > 16 || text[0] != '+' || text[1] == '0')
        return false;
    for (std::size_t i = 1; i < text.size(); ++i)
        if (!IsDigit(text[i]))
            return false;
    return true;
}

bool IsIdempotencyKey(std::string_view text) noexcept
{
    if (text.empty() || text.size() > 255)
        return false;
    for (char c : text)
        if (c < 0x20 || c > 0x7e)
            return false;
    return true;
}

bool IsDisplayName(std::string_view text) noexcept
{
    std::size_t n = 0;
    return CountCodePoints(text, &n, false) && n <= 64;
}

bool IsFreeText(std::string_view text, std::size_t max_chars) noexcept
{
    std::size_t n = 0;
    return CountCodePoints(text, &n, true) && n <= max_chars;
}

bool StartsWithReservedPrefix(std::string_view text) noexcept
{
    static constexpr std::array<std::string_view, 4> kPrefixes = {
        "phone number purchase:", "refund:", "reversal:", "renewal:"};
    std::size_t start = 0;
    while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start])))
        ++start;
    const std::string_view rest = text.substr(start);
    for (std::string_view prefix : kPrefixes) {
        if (rest.size() < prefix.size())
            continue;
        bool same = true;
        for (std::size_t i = 0; i < prefix.size() && same; ++i)
            same = std::tolower(static_cast<unsigned char>(rest[i])) == prefix[i];
        if (same)
            return true;
    }
    return false;
}

bool IsProviderSid(std::string_view text) noexcept
{
    if (text.size() < 2 || text.size() > 64)
        return false;
    for (char c : text)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
            return false;
    return true;
}

bool IsUuid(std::string_view text) noexcept
{
    if (text.size() != 36)
        return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!(IsDigit(c) || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

bool IsOperatorReason(std::string_view text)
{
    std::size_t n = 0;
    if (!CountCodePoints(text, &n, true) || n == 0 || n > kMaxReasonChars)
        return false;
    return text.find_first_not_of(" \t\r\n") != std::string_view::npos;
}

bool IsAuditActor(std::string_view text)
{
    std::size_t n = 0;
    return CountCodePoints(text, &n, false) && n >= 1 && n <= kMaxActorChars;
}

bool IsRequestId(std::string_view text)
{
    if (text.empty() || text.size() > kMaxRequestIdChars)
        return false;
    for (const char c : text) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == ':' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

}  // namespace nw
