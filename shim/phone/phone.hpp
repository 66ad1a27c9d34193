// Which phone numbers the shim sells: local numbers (fixed line or mobile, not
// toll-free or premium) of the configured countries, decided by libphonenumber.
#pragma once

#include <string>
#include <vector>

namespace nw::phone {

enum class Verdict { kSupported, kInvalid, kUnsupported };

// kInvalid: not E.164 at all (400 INVALID_REQUEST). kUnsupported: a real number
// outside the allowed countries or not a local number (400 UNSUPPORTED_NUMBER).
Verdict Classify(const std::string &e164, const std::vector<std::string> &countries, std::string *country);

}  // namespace nw::phone
