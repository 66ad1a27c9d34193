// See phone.hpp.
#include "phone/phone.hpp"

#include <algorithm>

#include <phonenumbers/phonenumberutil.h>

#include "core/validation.hpp"

namespace nw::phone {

Verdict Classify(const std::string &e164, const std::vector<std::string> &countries, std::string *country)
{
    if (!IsE164(e164))
        return Verdict::kInvalid;
    using i18n::phonenumbers::PhoneNumber;
    using i18n::phonenumbers::PhoneNumberUtil;
    const PhoneNumberUtil *util = PhoneNumberUtil::GetInstance();
    PhoneNumber number;
    if (util->Parse(e164, "ZZ", &number) != PhoneNumberUtil::NO_PARSING_ERROR || !util->IsValidNumber(number))
        return Verdict::kUnsupported;
    std::string region;
    util->GetRegionCodeForNumber(number, &region);
    if (country)
        *country = region;
    if (std::find(countries.begin(), countries.end(), region) == countries.end())
        return Verdict::kUnsupported;
    switch (util->GetNumberType(number)) {
    case PhoneNumberUtil::FIXED_LINE:
    case PhoneNumberUtil::MOBILE:
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE:
        return Verdict::kSupported;
    default:
        return Verdict::kUnsupported;
    }
}

}  // namespace nw::phone
