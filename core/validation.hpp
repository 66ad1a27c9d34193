// Input rules of docs/sql-api.md "Input", as pure C++ (no PostgreSQL headers), so the
// extension and the shim apply exactly the same checks and the unit tests can
// reach them without a server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nw {

// Money is integer minor units (cents, paise); never a double.
using Cents = std::int64_t;

// Amounts must be below 10^12 (docs/sql-api.md), so at most 10^14 - 1 minor units.
constexpr Cents kMaxAmountCents = 100000000000000LL - 1;

// Why a value was refused; the message is in PostgreSQL's errmsg style.
struct Refusal {
    bool refused = false;
    std::string message;
};

// Parses a decimal amount as PostgreSQL prints a numeric ("8", "8.5", "-1.00",
// "NaN"). Accepts only finite values > 0 (or != 0 when allow_negative) with at
// most two decimals and an absolute value below 10^12.
Refusal ParseAmount(std::string_view text, bool allow_negative, Cents *out);

// "8.00", "-0.10": the contract's money text.
std::string FormatCents(Cents cents);

// The predicates below only read their argument and allocate nothing, so they
// are noexcept: glue code may call them without RunGuarded, and NW_NOTHROW
// (core/guard.hpp) turns that promise into a compile-time check at each call.

// "USD" or "INR", exactly.
bool IsCurrency(std::string_view text) noexcept;

// E.164: '+', 8 to 15 digits, no leading 0.
bool IsE164(std::string_view text) noexcept;

// Idempotency keys: 1 to 255 printable ASCII characters.
bool IsIdempotencyKey(std::string_view text) noexcept;

// Display names: at most 64 characters (UTF-8 code points), no control characters.
bool IsDisplayName(std::string_view text) noexcept;

// Free text a caller may attach (credit descriptions, failure reasons, notes):
// at most max_chars code points, valid UTF-8, no NUL.
bool IsFreeText(std::string_view text, std::size_t max_chars) noexcept;

// The ledger's reserved description prefixes (the seed's), compared without
// case and after leading blanks, so "  refund: x" is refused too.
bool StartsWithReservedPrefix(std::string_view text) noexcept;

// A provider sid: 2 to 64 characters of [A-Za-z0-9_-] (Twilio's are PN + 32 hex).
bool IsProviderSid(std::string_view text) noexcept;

// Canonical lower-case 8-4-4-4-12 hex UUID text.
bool IsUuid(std::string_view text) noexcept;

// An operator action's reason: 1 to kMaxReasonChars code points of valid
// UTF-8 (newlines allowed, other control characters not), not blank.
constexpr std::size_t kMaxReasonChars = 500;
bool IsOperatorReason(std::string_view text);

// Who did an audited action (number_wallet.actor): 1 to kMaxActorChars code
// points of valid UTF-8 without control characters ("service", "admin-key",
// or an operator's "<sub> (<email>)").
constexpr std::size_t kMaxActorChars = 320;
bool IsAuditActor(std::string_view text);

// A request id (X-Request-Id, number_wallet.request_id): 1 to kMaxRequestIdChars
// characters of [A-Za-z0-9._:-].
constexpr std::size_t kMaxRequestIdChars = 128;
bool IsRequestId(std::string_view text);

}  // namespace nw
