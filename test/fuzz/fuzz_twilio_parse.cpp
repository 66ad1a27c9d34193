// libFuzzer target: shim/twilio/parse.hpp and errors.hpp on a response body.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "twilio/encoding.hpp"
#include "twilio/errors.hpp"
#include "twilio/parse.hpp"

namespace {
void Fail(const char *what) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
}
bool Printable(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c > 0x7e) return false;
    return true;
}
const char kAccount[] = "AC0123456789abcdef0123456789abcdef";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    using namespace nw::twilio;
    const std::string_view body(reinterpret_cast<const char *>(data), size);

    if (auto r = parseAvailableNumbers(body); r.isOk()) {
        for (const auto &n : r.value())
            if (!isValidE164(n.phoneNumber)) Fail("parseAvailableNumbers returned a non-E.164 number");
    }
    if (auto r = parseOwnedNumber(body); r.isOk()) {
        if (!isValidNumberSid(r.value().sid)) Fail("parseOwnedNumber returned a bad sid");
        if (!isValidE164(r.value().phoneNumber)) Fail("parseOwnedNumber returned a non-E.164 number");
    }
    if (auto r = parseOwnedPage(body); r.isOk()) {
        for (const auto &n : r.value().numbers) (void)findExact(r.value().numbers, n.phoneNumber);
        if (r.value().nextPageUri) (void)isSafeNextPageUri(*r.value().nextPageUri, kAccount);
    }
    (void)isSafeNextPageUri(body, kAccount);

    for (int status : {400, 404, 429, 500}) {
        TwilioError e = parseTwilioError(status, body);
        if (e.httpStatus != status) Fail("parseTwilioError lost the status");
        if (!Printable(e.message) || e.message.size() > 300) Fail("parseTwilioError message not sanitised");
        (void)meaningOf(e.twilioCode);
        (void)formatTwilioError(e);
        Error err = httpError("fuzz", status, body);
        (void)toString(err.kind);
    }
    const std::string s = sanitizeText(body);
    if (!Printable(s) || s.size() > 300) Fail("sanitizeText output not printable/bounded");
    const std::string s10 = sanitizeText(body, 10);
    if (!Printable(s10) || s10.size() > 10) Fail("sanitizeText(maxLen=10) output not bounded");
    return 0;
}
