// Which numbers the shim sells (shim/phone).
#include <gtest/gtest.h>

#include "phone/phone.hpp"

namespace {

const std::vector<std::string> kUsCa = {"US", "CA"};

TEST(ShimPhone, LocalNumbersOfAllowedCountries)
{
    std::string country;
    EXPECT_EQ(nw::phone::Classify("+14155552671", kUsCa, &country), nw::phone::Verdict::kSupported);
    EXPECT_EQ(country, "US");
    EXPECT_EQ(nw::phone::Classify("+16135550123", kUsCa, &country), nw::phone::Verdict::kSupported);
    EXPECT_EQ(country, "CA");
}

TEST(ShimPhone, RefusesTollFreeForeignAndMalformed)
{
    EXPECT_EQ(nw::phone::Classify("+18005550100", kUsCa, nullptr), nw::phone::Verdict::kUnsupported);
    EXPECT_EQ(nw::phone::Classify("+442071838750", kUsCa, nullptr), nw::phone::Verdict::kUnsupported);
    EXPECT_EQ(nw::phone::Classify("+16135550123", {"US"}, nullptr), nw::phone::Verdict::kUnsupported);
    EXPECT_EQ(nw::phone::Classify("14155552671", kUsCa, nullptr), nw::phone::Verdict::kInvalid);
    EXPECT_EQ(nw::phone::Classify("+1 415 555 2671", kUsCa, nullptr), nw::phone::Verdict::kInvalid);
}

}  // namespace
