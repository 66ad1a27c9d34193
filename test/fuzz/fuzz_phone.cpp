// libFuzzer target: shim/phone/phone.cpp Classify (libphonenumber) on fuzzed text,
// against several country lists (first byte picks one).
// Invariants: anything that is not strict E.164 is kInvalid (libphonenumber is
// never even asked); kSupported only for a number whose region is in the list,
// and the classification is deterministic and independent of the list order.
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "phone/phone.hpp"
#include "core/validation.hpp"

using fuzz::Fail;
using nw::phone::Verdict;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const std::vector<std::vector<std::string>> kLists = {
        {"US", "CA"}, {"CA", "US"}, {"GB"}, {"IN", "US"}, {}, {"DE", "FR", "GB", "IN", "US", "CA", "AU", "JP"}};
    const std::vector<std::string> &countries = kLists[data[0] % kLists.size()];
    const std::string e164(reinterpret_cast<const char *>(data) + 1, size - 1);

    std::string region = "untouched";
    const Verdict v = nw::phone::Classify(e164, countries, &region);
    if (!nw::IsE164(e164)) {
        if (v != Verdict::kInvalid)
            Fail("non-E.164 text not classified kInvalid", e164);
        if (region != "untouched")
            Fail("region set for invalid input", e164);
        return 0;
    }
    if (v == Verdict::kInvalid)
        Fail("E.164 text classified kInvalid", e164);
    if (v == Verdict::kSupported) {
        bool listed = false;
        for (const auto &c : countries)
            listed = listed || c == region;
        if (!listed)
            Fail("kSupported for a region outside the list", e164 + " " + region);
    }
    std::string region2;
    std::vector<std::string> reversed(countries.rbegin(), countries.rend());
    if (nw::phone::Classify(e164, reversed, &region2) != v)
        Fail("verdict depends on country list order", e164);
    if (nw::phone::Classify(e164, countries, nullptr) != v)
        Fail("verdict depends on the region out-parameter", e164);
    return 0;
}
