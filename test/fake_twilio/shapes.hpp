// Twilio's JSON shapes (REST API 2010-04-01) for the fake's answers.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "state.hpp"

namespace fake_twilio {

// {code, message, more_info, status}
nlohmann::json ErrorBody(int httpStatus, int code, const std::string &message);
// One IncomingPhoneNumber resource.
nlohmann::json OwnedJson(const Owned &o, const std::string &accountSid);
// One AvailablePhoneNumbers entry (latitude/longitude as strings, as in Twilio's example).
nlohmann::json AvailableJson(const Listing &l);
// Capabilities, with "SMS"/"MMS" or "sms"/"mms" keys.
nlohmann::json CapabilitiesJson(bool upperCaseKeys);
// The message Twilio gives for an error code we emit.
std::string MessageFor(int code);

}  // namespace fake_twilio
