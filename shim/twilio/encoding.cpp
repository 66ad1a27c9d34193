#include "twilio/encoding.hpp"

namespace nw::twilio {
namespace {

// ASCII-only checks: std::isalnum and friends depend on the locale.
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool isAlnum(char c) { return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool hasPrefixAndHex32(std::string_view s, std::string_view prefix) {
  if (s.size() != prefix.size() + 32 || s.substr(0, prefix.size()) != prefix) return false;
  for (char c : s.substr(prefix.size())) {
    if (!isHex(c)) return false;
  }
  return true;
}

}  // namespace

bool isValidNumberSid(std::string_view sid) { return hasPrefixAndHex32(sid, "PN"); }
bool isValidAccountSid(std::string_view sid) { return hasPrefixAndHex32(sid, "AC"); }
bool isValidApiKeySid(std::string_view sid) { return hasPrefixAndHex32(sid, "SK"); }

bool isValidE164(std::string_view number) {
  if (number.size() < 9 || number.size() > 16 || number[0] != '+' || number[1] == '0') return false;
  for (char c : number.substr(1)) {
    if (!isDigit(c)) return false;
  }
  return true;
}

bool isValidCountry(std::string_view country) {
  return country.size() == 2 && country[0] >= 'A' && country[0] <= 'Z' && country[1] >= 'A' &&
         country[1] <= 'Z';
}

bool isValidAreaCode(std::string_view areaCode) {
  return areaCode.size() == 3 && isDigit(areaCode[0]) && isDigit(areaCode[1]) && isDigit(areaCode[2]) &&
         areaCode[0] >= '2';
}

bool isValidContains(std::string_view pattern) {
  if (pattern.size() < 2 || pattern.size() > 16) return false;
  for (char c : pattern) {
    bool ok = isAlnum(c) || c == '*' || c == '%' || c == '+' || c == '$';
    if (!ok) return false;
  }
  return true;
}

std::string percentEncode(std::string_view value) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (char c : value) {
    unsigned char u = static_cast<unsigned char>(c);
    if (isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0x0f]);
    }
  }
  return out;
}

std::string formEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [key, value] : fields) {
    if (!out.empty()) out.push_back('&');
    out += percentEncode(key);
    out.push_back('=');
    out += percentEncode(value);
  }
  return out;
}

}  // namespace nw::twilio
