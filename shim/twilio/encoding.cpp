#include "twilio/encoding.hpp"

namespace nw::twilio {
namespace {

// ASCII-only checks: std::isalnum and friends depend on the locale.
bool IsDigit(char c)
{
    return c >= '0' && c <= '9';
}
bool IsHex(char c)
{
    return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool IsAlnum(char c)
{
    return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool HasPrefixAndHex32(std::string_view s, std::string_view prefix)
{
    if (s.size() != prefix.size() + 32 || s.substr(0, prefix.size()) != prefix)
        return false;
    for (char c : s.substr(prefix.size())) {
        if (!IsHex(c))
            return false;
    }
    return true;
}

}  // namespace

bool IsValidNumberSid(std::string_view sid)
{
    return HasPrefixAndHex32(sid, "PN");
}
bool IsValidAccountSid(std::string_view sid)
{
    return HasPrefixAndHex32(sid, "AC");
}
bool IsValidApiKeySid(std::string_view sid)
{
    return HasPrefixAndHex32(sid, "SK");
}

bool IsValidE164(std::string_view number)
{
    if (number.size() < 9 || number.size() > 16 || number[0] != '+' || number[1] == '0')
        return false;
    for (char c : number.substr(1)) {
        if (!IsDigit(c))
            return false;
    }
    return true;
}

bool IsValidCountry(std::string_view country)
{
    return country.size() == 2 && country[0] >= 'A' && country[0] <= 'Z' && country[1] >= 'A' && country[1] <= 'Z';
}

bool IsValidAreaCode(std::string_view areaCode)
{
    return areaCode.size() == 3 && IsDigit(areaCode[0]) && IsDigit(areaCode[1]) && IsDigit(areaCode[2]) &&
           areaCode[0] >= '2';
}

bool IsValidContains(std::string_view pattern)
{
    if (pattern.size() < 2 || pattern.size() > 16)
        return false;
    for (char c : pattern) {
        bool ok = IsAlnum(c) || c == '*' || c == '%' || c == '+' || c == '$';
        if (!ok)
            return false;
    }
    return true;
}

std::string PercentEncode(std::string_view value)
{
    static const char *kHex = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size() * 3);
    for (char c : value) {
        unsigned char u = static_cast<unsigned char>(c);
        if (IsAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 0x0f]);
        }
    }
    return out;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>> &fields)
{
    std::string out;
    for (const auto &[key, value] : fields) {
        if (!out.empty())
            out.push_back('&');
        out += PercentEncode(key);
        out.push_back('=');
        out += PercentEncode(value);
    }
    return out;
}

}  // namespace nw::twilio
