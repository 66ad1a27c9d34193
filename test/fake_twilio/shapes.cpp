#include "shapes.hpp"

namespace fake_twilio {

nlohmann::json ErrorBody(int httpStatus, int code, const std::string &message)
{
    return {{"code", code},
            {"message", message},
            {"more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code)},
            {"status", httpStatus}};
}

std::string MessageFor(int code)
{
    switch (code) {
    case 20003:
        return "Authenticate";
    case 20404:
        return "The requested resource was not found";
    case 20429:
        return "Too Many Requests";
    case 20500:
        return "Internal Server Error";
    case 20503:
        return "Service Unavailable";
    case 21421:
        return "PhoneNumber is invalid";
    case 21422:
        return "PhoneNumber is not available";
    default:
        return "Error";
    }
}

nlohmann::json CapabilitiesJson(bool upperCaseKeys)
{
    if (upperCaseKeys)
        return {{"voice", true}, {"SMS", true}, {"MMS", false}, {"fax", false}};
    return {{"voice", true}, {"sms", true}, {"mms", true}, {"fax", false}};
}

nlohmann::json OwnedJson(const Owned &o, const std::string &accountSid)
{
    const std::string uri = "/2010-04-01/Accounts/" + accountSid + "/IncomingPhoneNumbers/" + o.sid + ".json";
    return {{"account_sid", accountSid},
            {"address_requirements", "none"},
            {"address_sid", nullptr},
            {"api_version", "2010-04-01"},
            {"beta", false},
            {"bundle_sid", nullptr},
            {"capabilities", CapabilitiesJson(o.listing.upperCaseKeys)},
            {"date_created", o.dateCreated},
            {"date_updated", o.dateCreated},
            {"emergency_status", "Inactive"},
            {"friendly_name", o.friendlyName},
            {"identity_sid", nullptr},
            {"origin", "twilio"},
            {"phone_number", o.listing.phoneNumber},
            {"sid", o.sid},
            {"sms_method", "POST"},
            {"sms_url", o.smsUrl},
            {"status", "in-use"},
            {"status_callback", ""},
            {"trunk_sid", nullptr},
            {"type", "local"},
            {"uri", uri},
            {"voice_caller_id_lookup", false},
            {"voice_method", "POST"},
            {"voice_url", o.voiceUrl}};
}

nlohmann::json AvailableJson(const Listing &l)
{
    return {{"address_requirements", "none"},
            {"beta", false},
            {"capabilities", CapabilitiesJson(l.upperCaseKeys)},
            {"friendly_name", l.friendlyName},
            {"iso_country", l.isoCountry},
            {"lata", nullptr},
            {"latitude", "37.774900"},
            {"locality", l.locality},
            {"longitude", "-122.419400"},
            {"phone_number", l.phoneNumber},
            {"postal_code", nullptr},
            {"rate_center", nullptr},
            {"region", l.region}};
}

}  // namespace fake_twilio
