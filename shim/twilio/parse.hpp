// Parsing of Twilio's JSON success bodies. Pure functions: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "twilio/types.hpp"

namespace nw::twilio {

// One page of IncomingPhoneNumbers.json.
struct OwnedPage {
    std::vector<OwnedNumber> numbers;
    std::optional<std::string> nextPageUri;  // relative, e.g. /2010-04-01/Accounts/AC…/IncomingPhoneNumbers.json?…
};

// Body of AvailablePhoneNumbers/{CC}/Local.json. Entries without a valid E.164
// phone_number are skipped; capability keys are matched case-insensitively.
Result<std::vector<AvailableNumber>> ParseAvailableNumbers(std::string_view body);

// Body of one IncomingPhoneNumber (the 201 of a purchase). Requires a valid PN sid
// and an E.164 phone_number.
Result<OwnedNumber> ParseOwnedNumber(std::string_view body);

// Body of IncomingPhoneNumbers.json (one page). Fails if any entry is unreadable:
// a partial inventory must not look like a complete one.
Result<OwnedPage> ParseOwnedPage(std::string_view body);

// Twilio's PhoneNumber filter matches partially, so pick the entry whose number is
// exactly the E.164 asked for.
std::optional<OwnedNumber> FindExact(const std::vector<OwnedNumber> &numbers, std::string_view e164);

// A next_page_uri is followed only if it is a relative path under this account's
// 2010-04-01 resources (never another host), with no characters that could break
// the URL.
bool IsSafeNextPageUri(std::string_view uri, std::string_view accountSid);

}  // namespace nw::twilio
