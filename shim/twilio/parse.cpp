#include "twilio/parse.hpp"

#include <nlohmann/json.hpp>

#include "twilio/encoding.hpp"

namespace nw::twilio {
namespace {

using nlohmann::json;

Error badResponse(std::string message) {
  Error e;
  e.kind = ErrorKind::BadResponse;
  e.message = std::move(message);
  return e;
}

// Twilio marks most fields nullable: a missing or non-string field reads as "".
std::string stringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::string lowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

Capabilities parseCapabilities(const json& obj) {
  Capabilities caps;
  auto it = obj.find("capabilities");
  if (it == obj.end() || !it->is_object()) return caps;
  // Keys arrive as "sms"/"mms" or "SMS"/"MMS" depending on the source.
  for (const auto& [key, value] : it->items()) {
    if (!value.is_boolean()) continue;
    std::string k = lowerAscii(key);
    bool v = value.get<bool>();
    if (k == "voice") caps.voice = v;
    else if (k == "sms") caps.sms = v;
    else if (k == "mms") caps.mms = v;
  }
  return caps;
}

std::optional<OwnedNumber> ownedFromJson(const json& obj) {
  if (!obj.is_object()) return std::nullopt;
  OwnedNumber n;
  n.sid = stringField(obj, "sid");
  n.phoneNumber = stringField(obj, "phone_number");
  n.friendlyName = stringField(obj, "friendly_name");
  if (!isValidNumberSid(n.sid) || !isValidE164(n.phoneNumber)) return std::nullopt;
  return n;
}

}  // namespace

Result<std::vector<AvailableNumber>> parseAvailableNumbers(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return badResponse("search response is not a JSON object");
  auto list = j.find("available_phone_numbers");
  if (list == j.end() || !list->is_array()) {
    return badResponse("search response has no available_phone_numbers array");
  }
  std::vector<AvailableNumber> out;
  for (const json& item : *list) {
    if (!item.is_object()) continue;
    AvailableNumber n;
    n.phoneNumber = stringField(item, "phone_number");
    if (!isValidE164(n.phoneNumber)) continue;  // nothing we could sell
    n.friendlyName = stringField(item, "friendly_name");
    n.locality = stringField(item, "locality");
    n.region = stringField(item, "region");
    n.isoCountry = stringField(item, "iso_country");
    n.capabilities = parseCapabilities(item);
    out.push_back(std::move(n));
  }
  return out;
}

Result<OwnedNumber> parseOwnedNumber(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) return badResponse("phone number response is not valid JSON");
  auto n = ownedFromJson(j);
  if (!n) return badResponse("phone number response lacks a valid sid or phone_number");
  return *n;
}

Result<OwnedPage> parseOwnedPage(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return badResponse("phone number list is not a JSON object");
  auto list = j.find("incoming_phone_numbers");
  if (list == j.end() || !list->is_array()) {
    return badResponse("phone number list has no incoming_phone_numbers array");
  }
  OwnedPage page;
  for (const json& item : *list) {
    auto n = ownedFromJson(item);
    if (!n) return badResponse("phone number list has an entry without a valid sid or phone_number");
    page.numbers.push_back(std::move(*n));
  }
  auto next = j.find("next_page_uri");
  if (next != j.end() && next->is_string() && !next->get_ref<const std::string&>().empty()) {
    page.nextPageUri = next->get<std::string>();
  } else if (next != j.end() && !next->is_null() && !next->is_string()) {
    return badResponse("phone number list has a next_page_uri that is not a string");
  }
  return page;
}

std::optional<OwnedNumber> findExact(const std::vector<OwnedNumber>& numbers, std::string_view e164) {
  for (const auto& n : numbers) {
    if (n.phoneNumber == e164) return n;
  }
  return std::nullopt;
}

bool isSafeNextPageUri(std::string_view uri, std::string_view accountSid) {
  std::string prefix = "/2010-04-01/Accounts/" + std::string(accountSid) + "/";
  if (uri.size() > 2048 || uri.substr(0, prefix.size()) != prefix) return false;
  for (char c : uri) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '#' || c == '\\') return false;
  }
  // No path traversal out of the account ("/../").
  return uri.find("/..") == std::string_view::npos;
}

}  // namespace nw::twilio
