#include "twilio/classify.hpp"

#include "twilio/errors.hpp"
#include "twilio/parse.hpp"

namespace nw::twilio {

BuyOutcome ClassifyBuyResponse(const HttpResponse &response, std::string_view requestedNumber)
{
    switch (response.failure) {
    case TransportFailure::None:
        break;
    case TransportFailure::NotSent:
        return Refused{0, 0, "could not reach Twilio, nothing was sent: " + response.failureMessage};
    case TransportFailure::Timeout:
        return Unknown{"no answer from Twilio in time; the number may have been bought: " + response.failureMessage};
    case TransportFailure::ConnectionLost:
        return Unknown{"connection to Twilio lost; the number may have been bought: " + response.failureMessage};
    case TransportFailure::Other:
        return Unknown{"request to Twilio failed; the number may have been bought: " + response.failureMessage};
    }

    const int status = static_cast<int>(response.status);
    if (status >= 200 && status < 300) {
        Result<OwnedNumber> parsed = ParseOwnedNumber(response.body);
        if (!parsed.IsOk()) {
            return Unknown{"Twilio answered HTTP " + std::to_string(status) + " with an unreadable body (" +
                           parsed.error().message + ")"};
        }
        const OwnedNumber &n = parsed.value();
        if (n.phoneNumber != requestedNumber) {
            // Should never happen; do not claim a number we did not ask for.
            return Unknown{"Twilio answered HTTP " + std::to_string(status) + " for another number (" + n.phoneNumber +
                           ")"};
        }
        return Bought{n.sid, n.phoneNumber, n.friendlyName};
    }

    if (status == 429) {
        TwilioError te = ParseTwilioError(status, response.body);
        RateLimited r;
        r.httpStatus = status;
        r.twilioCode = te.twilioCode;
        r.attempts = 1;
        r.retryAfterSeconds = response.retryAfterSeconds;
        r.message = "Twilio is rate limiting purchases: " + FormatTwilioError(te);
        return r;
    }

    if (status >= 400 && status < 500) {
        TwilioError te = ParseTwilioError(status, response.body);
        return Refused{status, te.twilioCode, "Twilio refused the purchase: " + FormatTwilioError(te)};
    }

    TwilioError te = ParseTwilioError(status, response.body);
    return Unknown{"Twilio answered " + FormatTwilioError(te) + "; the number may have been bought"};
}

}  // namespace nw::twilio
