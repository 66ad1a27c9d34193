// libFuzzer target: core/validation.cpp, the input rules shared by the
// extension and the shim (money, E.164, idempotency keys, display names, free
// text, reserved prefixes, provider sids, uuids, currencies).
// Invariants:
//  * ParseAmount agrees with an independent reference parser (accept/refuse and
//    value); accepted amounts are non-zero, in range, and FormatCents re-formats
//    them to text that ParseAmount reads back as the same cents;
//  * each predicate accepts only what its documented shape allows.
#include <string>

#include "fuzz_common.hpp"
#include "core/validation.hpp"

using fuzz::Fail;

namespace {

// Reference: [+-]? digits* ( '.' digits* )?, at least one digit overall, digits
// after the second decimal all '0', |value| < 10^12, non-zero, sign allowed.
bool ReferenceAmount(std::string_view t, bool allow_negative, nw::Cents *out)
{
    std::size_t i = 0;
    bool neg = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-'))
        neg = t[i++] == '-';
    std::string whole, frac;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9')
        whole.push_back(t[i++]);
    bool dot = false;
    if (i < t.size() && t[i] == '.') {
        dot = true;
        ++i;
        while (i < t.size() && t[i] >= '0' && t[i] <= '9')
            frac.push_back(t[i++]);
    }
    (void) dot;
    if (i != t.size() || (whole.empty() && frac.empty()))
        return false;
    for (std::size_t k = 2; k < frac.size(); ++k)
        if (frac[k] != '0')
            return false;
    std::size_t z = 0;
    while (z < whole.size() && whole[z] == '0')
        ++z;
    whole = whole.substr(z);
    if (whole.size() > 12)
        return false;
    nw::Cents w = 0;
    for (char c : whole)
        w = w * 10 + (c - '0');
    nw::Cents f = 0;
    if (frac.size() >= 1)
        f += (frac[0] - '0') * 10;
    if (frac.size() >= 2)
        f += frac[1] - '0';
    const nw::Cents cents = w * 100 + f;
    if (cents == 0)
        return false;
    if (neg && !allow_negative)
        return false;
    *out = neg ? -cents : cents;
    return true;
}

void CheckAmount(std::string_view text, bool allow_negative)
{
    nw::Cents cents = 0, ref = 0;
    const nw::Refusal r = nw::ParseAmount(text, allow_negative, &cents);
    const bool ref_ok = ReferenceAmount(text, allow_negative, &ref);
    if (r.refused != !ref_ok)
        Fail(r.refused ? "ParseAmount refused a valid amount" : "ParseAmount accepted an invalid amount", text);
    if (r.refused) {
        if (r.message.empty())
            Fail("refusal without message", text);
        return;
    }
    if (cents != ref)
        Fail("ParseAmount value differs from the reference", text);
    if (cents == 0)
        Fail("accepted zero amount", text);
    if (!allow_negative && cents < 0)
        Fail("accepted negative amount", text);
    if (cents > nw::kMaxAmountCents || cents < -nw::kMaxAmountCents)
        Fail("amount out of range", text);
    const std::string formatted = nw::FormatCents(cents);
    nw::Cents again = 0;
    if (nw::ParseAmount(formatted, allow_negative, &again).refused)
        Fail("FormatCents output refused by ParseAmount", text);
    if (again != cents)
        Fail("FormatCents/ParseAmount round trip changed the value", text);
    if (formatted.size() < 4 || formatted[formatted.size() - 3] != '.')
        Fail("FormatCents not two decimals", formatted);
}

std::size_t CodePoints(std::string_view s)
{
    std::size_t n = 0;
    for (unsigned char c : s)
        n += (c & 0xC0) != 0x80;
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view in = fuzz::AsView(data, size);

    CheckAmount(in, false);
    CheckAmount(in, true);

    if (nw::IsE164(in)) {
        if (in.size() < 9 || in.size() > 16 || in[0] != '+' || in[1] == '0')
            Fail("IsE164 accepted bad shape", in);
        for (size_t i = 1; i < in.size(); ++i)
            if (in[i] < '0' || in[i] > '9')
                Fail("IsE164 accepted non-digit", in);
    }
    if (nw::IsIdempotencyKey(in) && (in.empty() || in.size() > 255 || !fuzz::PrintableAscii(in)))
        Fail("IsIdempotencyKey accepted a bad key", in);
    if (nw::IsDisplayName(in)) {
        for (unsigned char c : in)
            if (c < 0x20 || c == 0x7f)
                Fail("IsDisplayName accepted a control char", in);
        if (CodePoints(in) > 64)
            Fail("IsDisplayName accepted > 64 code points", in);
    }
    for (std::size_t max : {0u, 1u, 10u, 500u}) {
        if (nw::IsFreeText(in, max)) {
            if (CodePoints(in) > max)
                Fail("IsFreeText accepted too many code points", in);
            if (in.find('\0') != std::string_view::npos)
                Fail("IsFreeText accepted NUL", in);
        }
    }
    if (nw::StartsWithReservedPrefix(in)) {
        std::string lower;
        for (unsigned char c : in)
            lower.push_back(static_cast<char>(std::tolower(c)));
        if (lower.find(':') == std::string::npos)
            Fail("reserved prefix without ':'", in);
    }
    if (nw::IsProviderSid(in)) {
        if (in.size() < 2 || in.size() > 64)
            Fail("IsProviderSid length", in);
        for (unsigned char c : in)
            if (!(std::isalnum(c) || c == '_' || c == '-'))
                Fail("IsProviderSid character", in);
    }
    if (nw::IsCurrency(in) && in != "USD" && in != "INR")
        Fail("IsCurrency accepted something else", in);
    if (nw::IsUuid(in)) {
        if (in.size() != 36)
            Fail("IsUuid accepted wrong length", in);
        for (size_t i = 0; i < in.size(); ++i) {
            const char c = in[i];
            const bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
            if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                Fail("IsUuid accepted non-canonical text", in);
        }
    }
    return 0;
}
