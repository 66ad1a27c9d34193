// Turning one HTTP exchange of a purchase into a BuyOutcome. Pure: no I/O.
#pragma once

#include <string_view>

#include "twilio/http.hpp"
#include "twilio/types.hpp"

namespace nw::twilio {

// Classifies the answer to one POST IncomingPhoneNumbers.json for `requestedNumber`:
//   2xx with a readable body for that number → Bought
//   2xx otherwise                            → Unknown (Twilio may have bought it)
//   429                                      → RateLimited (attempts = 1; the caller may retry)
//   other 4xx                                → Refused (with Twilio's code and message)
//   5xx, 1xx, 3xx                            → Unknown
//   timeout / connection lost / other        → Unknown
//   request never sent (resolve/connect/TLS) → Refused with httpStatus 0
BuyOutcome ClassifyBuyResponse(const HttpResponse &response, std::string_view requestedNumber);

}  // namespace nw::twilio
