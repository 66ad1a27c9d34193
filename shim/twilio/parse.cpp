#include "twilio/parse.hpp"

#include <nlohmann/json.hpp>

#include "twilio/encoding.hpp"

namespace nw::twilio {
namespace {

using nlohmann::json;

Error BadResponse(std::string message)
{
    Error e;
    e.kind = ErrorKind::BadResponse;
    e.message = std::move(message);
    return e;
}

// Twilio marks most fields nullable: a missing or non-string field reads as "".
std::string StringField(const json &obj, const char *key)
{
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_string())
        return {};
    return it->get<std::string>();
}

std::string LowerAscii(std::string s)
{
    for (char &c : s) {
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    }
    return s;
}

Capabilities ParseCapabilities(const json &obj)
{
    Capabilities caps;
    auto it = obj.find("capabilities");
    if (it == obj.end() || !it->is_object())
        return caps;
    // Keys arrive as "sms"/"mms" or "SMS"/"MMS" depending on the source.
    for (const auto &[key, value] : it->items()) {
        if (!value.is_boolean())
            continue;
        std::string k = LowerAscii(key);
        bool v = value.get<bool>();
        if (k == "voice")
            caps.voice = v;
        else if (k == "sms")
            caps.sms = v;
        else if (k == "mms")
            caps.mms = v;
    }
    return caps;
}

std::optional<OwnedNumber> OwnedFromJson(const json &obj)
{
    if (!obj.is_object())
        return std::nullopt;
    OwnedNumber n;
    n.sid = StringField(obj, "sid");
    n.phoneNumber = StringField(obj, "phone_number");
    n.friendlyName = StringField(obj, "friendly_name");
    if (!IsValidNumberSid(n.sid) || !IsValidE164(n.phoneNumber))
        return std::nullopt;
    return n;
}

}  // namespace

Result<std::vector<AvailableNumber>> ParseAvailableNumbers(std::string_view body)
{
    json j = json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return BadResponse("search response is not a JSON object");
    auto list = j.find("available_phone_numbers");
    if (list == j.end() || !list->is_array()) {
        return BadResponse("search response has no available_phone_numbers array");
    }
    std::vector<AvailableNumber> out;
    for (const json &item : *list) {
        if (!item.is_object())
            continue;
        AvailableNumber n;
        n.phoneNumber = StringField(item, "phone_number");
        if (!IsValidE164(n.phoneNumber))
            continue;  // nothing we could sell
        n.friendlyName = StringField(item, "friendly_name");
        n.locality = StringField(item, "locality");
        n.region = StringField(item, "region");
        n.isoCountry = StringField(item, "iso_country");
        n.capabilities = ParseCapabilities(item);
        out.push_back(std::move(n));
    }
    return out;
}

Result<OwnedNumber> ParseOwnedNumber(std::string_view body)
{
    json j = json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded())
        return BadResponse("phone number response is not valid JSON");
    auto n = OwnedFromJson(j);
    if (!n)
        return BadResponse("phone number response lacks a valid sid or phone_number");
    return *n;
}

Result<OwnedPage> ParseOwnedPage(std::string_view body)
{
    json j = json::parse(body.begin(), body.end(), nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return BadResponse("phone number list is not a JSON object");
    auto list = j.find("incoming_phone_numbers");
    if (list == j.end() || !list->is_array()) {
        return BadResponse("phone number list has no incoming_phone_numbers array");
    }
    OwnedPage page;
    for (const json &item : *list) {
        auto n = OwnedFromJson(item);
        if (!n)
            return BadResponse("phone number list has an entry without a valid sid or phone_number");
        page.numbers.push_back(std::move(*n));
    }
    auto next = j.find("next_page_uri");
    if (next != j.end() && next->is_string() && !next->get_ref<const std::string &>().empty()) {
        page.nextPageUri = next->get<std::string>();
    } else if (next != j.end() && !next->is_null() && !next->is_string()) {
        return BadResponse("phone number list has a next_page_uri that is not a string");
    }
    return page;
}

std::optional<OwnedNumber> FindExact(const std::vector<OwnedNumber> &numbers, std::string_view e164)
{
    for (const auto &n : numbers) {
        if (n.phoneNumber == e164)
            return n;
    }
    return std::nullopt;
}

bool IsSafeNextPageUri(std::string_view uri, std::string_view accountSid)
{
    std::string prefix = "/2010-04-01/Accounts/" + std::string(accountSid) + "/";
    if (uri.size() > 2048 || uri.substr(0, prefix.size()) != prefix)
        return false;
    for (char c : uri) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '#' || c == '\\')
            return false;
    }
    // No path traversal out of the account ("/../").
    return uri.find("/..") == std::string_view::npos;
}

}  // namespace nw::twilio
