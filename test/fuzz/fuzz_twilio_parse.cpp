// libFuzzer target: everything that reads a Twilio response (shim/twilio/parse.hpp,
// errors.hpp, classify.hpp, retry.hpp's ParseRetryAfter) on a fuzzed body.
// The first byte picks the HTTP status (and the requested number) for
// ClassifyBuyResponse; the whole input is also used as the body everywhere.
// Invariants: only valid E.164 numbers / PN sids come out of the parsers; text
// from Twilio reaches logs sanitised (printable ASCII, bounded); a purchase is
// reported Bought only for a 2xx naming exactly the requested number; 4xx other
// than 429 is Refused, 429 RateLimited, 5xx Unknown (never "definitely not bought");
// next_page_uri is followed only under this account.
#include <string>

#include "fuzz_common.hpp"
#include "twilio/classify.hpp"
#include "twilio/encoding.hpp"
#include "twilio/errors.hpp"
#include "twilio/parse.hpp"
#include "twilio/retry.hpp"

using fuzz::Fail;
using fuzz::PrintableAscii;

namespace {
const char kAccount[] = "AC0123456789abcdef0123456789abcdef";
const char kRequested[] = "+14155550100";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace nw::twilio;
    const std::string_view body = fuzz::AsView(data, size);

    if (auto r = ParseAvailableNumbers(body); r.IsOk()) {
        for (const auto &n : r.value())
            if (!IsValidE164(n.phoneNumber))
                Fail("ParseAvailableNumbers returned a non-E.164 number", body);
    }
    if (auto r = ParseOwnedNumber(body); r.IsOk()) {
        if (!IsValidNumberSid(r.value().sid))
            Fail("ParseOwnedNumber returned a bad sid", body);
        if (!IsValidE164(r.value().phoneNumber))
            Fail("ParseOwnedNumber returned a non-E.164 number", body);
    }
    if (auto r = ParseOwnedPage(body); r.IsOk()) {
        for (const auto &n : r.value().numbers) {
            if (!IsValidNumberSid(n.sid) || !IsValidE164(n.phoneNumber))
                Fail("ParseOwnedPage returned a bad entry", body);
            const auto found = FindExact(r.value().numbers, n.phoneNumber);
            if (!found || found->phoneNumber != n.phoneNumber)
                Fail("FindExact missed a listed number", body);
        }
        if (const auto &next = r.value().nextPageUri) {
            if (next->empty())
                Fail("ParseOwnedPage returned an empty next_page_uri", body);
            if (IsSafeNextPageUri(*next, kAccount)) {
                const std::string prefix = std::string("/2010-04-01/Accounts/") + kAccount + "/";
                if (next->rfind(prefix, 0) != 0 || next->find("/..") != std::string::npos || !PrintableAscii(*next) ||
                    next->find_first_of(" #\\") != std::string::npos)
                    Fail("IsSafeNextPageUri accepted an unsafe uri", *next);
            }
        }
    }
    if (IsSafeNextPageUri(body, kAccount) && (body.find("/..") != std::string_view::npos || !PrintableAscii(body)))
        Fail("IsSafeNextPageUri accepted an unsafe uri", body);

    for (int status : {400, 404, 429, 500}) {
        TwilioError e = ParseTwilioError(status, body);
        if (e.httpStatus != status)
            Fail("ParseTwilioError lost the status", body);
        if (e.twilioCode < 0 || e.twilioCode >= 1000000)
            Fail("ParseTwilioError code out of range", body);
        if (!PrintableAscii(e.message) || e.message.size() > 300)
            Fail("ParseTwilioError message not sanitised", body);
        if (!PrintableAscii(e.moreInfo) || e.moreInfo.size() > 200)
            Fail("ParseTwilioError more_info not sanitised", body);
        (void) MeaningOf(e.twilioCode);
        if (!PrintableAscii(FormatTwilioError(e)))
            Fail("FormatTwilioError output not printable", body);
        Error err = HttpError("fuzz", status, body);
        if (err.kind != ErrorKind::HttpStatus || err.httpStatus != status)
            Fail("HttpError kind/status", body);
        (void) ToString(err.kind);
    }
    const std::string s = SanitizeText(body);
    if (!PrintableAscii(s) || s.size() > 300)
        Fail("SanitizeText output not printable/bounded", body);
    const std::string s10 = SanitizeText(body, 10);
    if (!PrintableAscii(s10) || s10.size() > 10)
        Fail("SanitizeText(maxLen=10) output not bounded", body);

    // Retry-After header values.
    if (const auto ra = ParseRetryAfter(body)) {
        if (*ra < 0 || *ra > 86400L * 365)
            Fail("ParseRetryAfter out of range", body);
        RetryPolicy policy;
        const long d = RetryDelayMs(policy, 1, ra, 12345u);
        if (d < 0 || d > policy.maxRetryAfterMs)
            Fail("RetryDelayMs out of range", body);
    }

    // One purchase exchange. The status comes from the first byte.
    static const long kStatuses[] = {200, 201, 202, 204, 299, 301, 400, 401, 404, 409, 429, 500, 502, 503, 100, 0};
    HttpResponse resp;
    resp.status = kStatuses[size ? data[0] % 16 : 0];
    resp.body.assign(body.data(), body.size());
    if (size > 1 && data[1] % 4 == 0)
        resp.retryAfterSeconds = data[1];
    const BuyOutcome out = ClassifyBuyResponse(resp, kRequested);
    if (const auto *b = std::get_if<Bought>(&out)) {
        if (resp.status < 200 || resp.status >= 300)
            Fail("Bought from a non-2xx answer", body);
        if (b->phoneNumber != kRequested)
            Fail("Bought a number that was not requested", body);
        if (!IsValidNumberSid(b->sid))
            Fail("Bought with an invalid sid", body);
    }
    if (resp.status >= 500 && DefinitelyNotBought(out))
        Fail("a 5xx was taken as definitely not bought", body);
    if (resp.status >= 200 && resp.status < 300 && DefinitelyNotBought(out))
        Fail("a 2xx was taken as not bought", body);
    if (resp.status == 429 && !std::holds_alternative<RateLimited>(out))
        Fail("429 not RateLimited", body);
    if (resp.status >= 400 && resp.status < 500 && resp.status != 429 && !std::holds_alternative<Refused>(out))
        Fail("4xx not Refused", body);
    (void) describe(out);

    // Encoders used for URLs sent to Twilio: percent-encoding leaves only unreserved characters.
    const std::string pe = PercentEncode(body);
    for (char c : pe)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~' || c == '%'))
            Fail("PercentEncode left a reserved character", body);
    (void) IsValidCountry(body);
    (void) IsValidAreaCode(body);
    (void) IsValidContains(body);
    (void) IsValidAccountSid(body);
    (void) IsValidApiKeySid(body);
    return 0;
}
