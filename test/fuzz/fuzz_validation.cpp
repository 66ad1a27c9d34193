// libFuzzer target: extension/core/validation.cpp input rules.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "validation.hpp"

static void Fail(const char *what, std::string_view in) {
    std::fprintf(stderr, "invariant violated: %s (input %zu bytes)\n", what, in.size());
    std::abort();
}

static void CheckAmount(std::string_view text, bool allow_negative) {
    nw::Cents cents = 0;
    nw::Refusal r = nw::ParseAmount(text, allow_negative, &cents);
    if (r.refused) {
        if (r.message.empty()) Fail("refusal without message", text);
        return;
    }
    if (cents == 0) Fail("accepted zero amount", text);
    if (!allow_negative && cents < 0) Fail("accepted negative amount", text);
    if (cents > nw::kMaxAmountCents || cents < -nw::kMaxAmountCents) Fail("amount out of range", text);
    const std::string formatted = nw::FormatCents(cents);
    nw::Cents again = 0;
    nw::Refusal r2 = nw::ParseAmount(formatted, allow_negative, &again);
    if (r2.refused) Fail("FormatCents output refused by ParseAmount", text);
    if (again != cents) Fail("FormatCents/ParseAmount round trip changed the value", text);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view in(reinterpret_cast<const char *>(data), size);

    CheckAmount(in, false);
    CheckAmount(in, true);

    if (nw::IsE164(in)) {
        if (in.size() < 9 || in.size() > 16 || in[0] != '+' || in[1] == '0') Fail("IsE164 accepted bad shape", in);
        for (size_t i = 1; i < in.size(); ++i)
            if (in[i] < '0' || in[i] > '9') Fail("IsE164 accepted non-digit", in);
    }
    if (nw::IsIdempotencyKey(in)) {
        if (in.empty() || in.size() > 255) Fail("IsIdempotencyKey accepted bad length", in);
        for (unsigned char c : in)
            if (c < 0x20 || c > 0x7e) Fail("IsIdempotencyKey accepted non-printable", in);
    }
    if (nw::IsDisplayName(in)) {
        for (unsigned char c : in)
            if (c < 0x20 || c == 0x7f) Fail("IsDisplayName accepted control char", in);
        size_t code_points = 0;
        for (unsigned char c : in)
            if ((c & 0xC0) != 0x80) ++code_points;
        if (code_points > 64) Fail("IsDisplayName accepted > 64 code points", in);
    }
    (void)nw::StartsWithReservedPrefix(in);
    if (nw::IsUuid(in)) {
        if (in.size() != 36) Fail("IsUuid accepted wrong length", in);
        for (size_t i = 0; i < in.size(); ++i) {
            const char c = in[i];
            const bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
            if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                Fail("IsUuid accepted non-canonical text", in);
        }
    }
    return 0;
}
