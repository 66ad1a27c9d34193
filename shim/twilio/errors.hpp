// Twilio's JSON error body {code, message, more_info, status} and clear messages for it.
#pragma once

#include <string>
#include <string_view>

#include "twilio/types.hpp"

namespace nw::twilio {

// Well-known Twilio error codes (https://www.twilio.com/docs/api/errors/<code>).
namespace code {
constexpr int kAuthenticationFailed = 20003;
constexpr int kNotFound = 20404;
constexpr int kTooManyRequests = 20429;
constexpr int kInvalidPhoneNumber = 21421;
constexpr int kNumberNotAvailable = 21422;
}  // namespace code

struct TwilioError {
    int httpStatus = 0;
    int twilioCode = 0;   // 0 when the body had no usable "code"
    std::string message;  // Twilio's own text, sanitised and bounded; may be empty
    std::string moreInfo;
};

// Parses an error response. Never fails: an unreadable body gives code 0 and an
// empty message. Twilio's text is stripped of control characters and cut short.
TwilioError ParseTwilioError(int httpStatus, std::string_view body);

// Our wording for a known code ("phone number not available"), or "" if unknown.
std::string_view MeaningOf(int twilioCode);

// "HTTP 400, Twilio error 21422 (phone number not available): <twilio text>".
std::string FormatTwilioError(const TwilioError &error);

// Keeps printable ASCII only and at most maxLen characters: text from the network
// goes into our logs and error bodies.
std::string SanitizeText(std::string_view text, std::size_t maxLen = 300);

// An Error of kind HttpStatus built from a response.
Error HttpError(std::string_view what, int httpStatus, std::string_view body);

}  // namespace nw::twilio
