// Input validation and URL/form encoding for requests to Twilio. Everything that
// goes into a URL is validated or percent-encoded here first.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nw::twilio {

// "PN" + 32 hex digits (an IncomingPhoneNumber sid).
bool IsValidNumberSid(std::string_view sid);
// "AC" + 32 hex digits.
bool IsValidAccountSid(std::string_view sid);
// "SK" + 32 hex digits (an API key sid).
bool IsValidApiKeySid(std::string_view sid);
// "+", 8 to 15 digits, no leading 0.
bool IsValidE164(std::string_view number);
// Two upper-case ASCII letters (ISO 3166-1 alpha-2).
bool IsValidCountry(std::string_view country);
// Three digits, not starting with 0 or 1 (a North American area code).
bool IsValidAreaCode(std::string_view areaCode);
// Twilio's Contains pattern: 2..16 of [0-9A-Za-z*%+$].
bool IsValidContains(std::string_view pattern);

// RFC 3986 percent-encoding of everything but unreserved characters, so "+"
// becomes "%2B" and " " becomes "%20" (valid in both query strings and form bodies).
std::string PercentEncode(std::string_view value);

// application/x-www-form-urlencoded body / query string: k1=v1&k2=v2, both sides encoded.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>> &fields);

}  // namespace nw::twilio
