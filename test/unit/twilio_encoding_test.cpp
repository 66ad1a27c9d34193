// Validation and URL/form encoding for requests to Twilio.
#include <gtest/gtest.h>

#include "twilio/encoding.hpp"

namespace nw::twilio {
namespace {

TEST(TwilioEncoding, PlusIsPercentEncoded)
{
    EXPECT_EQ(PercentEncode("+14155550100"), "%2B14155550100");
    EXPECT_EQ(PercentEncode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    EXPECT_EQ(PercentEncode("AZaz09-._~"), "AZaz09-._~");
}

TEST(TwilioEncoding, FormEncodesKeysAndValues)
{
    EXPECT_EQ(FormEncode({{"PhoneNumber", "+14155550100"},
                          {"FriendlyName", "3f9c1d2e-0000-4000-8000-000000000001"},
                          {"VoiceUrl", "https://example.com/voice?x=1&y=2"}}),
              "PhoneNumber=%2B14155550100&FriendlyName=3f9c1d2e-0000-4000-8000-000000000001"
              "&VoiceUrl=https%3A%2F%2Fexample.com%2Fvoice%3Fx%3D1%26y%3D2");
    EXPECT_EQ(FormEncode({}), "");
}

TEST(TwilioEncoding, NumberSid)
{
    EXPECT_TRUE(IsValidNumberSid("PN0123456789abcdef0123456789ABCDEF"));
    EXPECT_FALSE(IsValidNumberSid("PN0123456789abcdef0123456789ABCDE"));    // 31 hex
    EXPECT_FALSE(IsValidNumberSid("PN0123456789abcdef0123456789ABCDEF0"));  // 33 hex
    EXPECT_FALSE(IsValidNumberSid("AC0123456789abcdef0123456789ABCDEF"));
    EXPECT_FALSE(IsValidNumberSid("PN0123456789abcdef0123456789ABCDEG"));
    EXPECT_FALSE(IsValidNumberSid("PN../../0123456789abcdef0123456789"));
    EXPECT_FALSE(IsValidNumberSid(""));
}

TEST(TwilioEncoding, AccountAndKeySids)
{
    EXPECT_TRUE(IsValidAccountSid("AC00000000000000000000000000000000"));
    EXPECT_FALSE(IsValidAccountSid("SK00000000000000000000000000000000"));
    EXPECT_TRUE(IsValidApiKeySid("SKffffffffffffffffffffffffffffffff"));
}

TEST(TwilioEncoding, E164)
{
    EXPECT_TRUE(IsValidE164("+14155550100"));
    EXPECT_TRUE(IsValidE164("+12345678"));           // 8 digits
    EXPECT_TRUE(IsValidE164("+123456789012345"));    // 15 digits
    EXPECT_FALSE(IsValidE164("+1234567"));           // 7 digits
    EXPECT_FALSE(IsValidE164("+1234567890123456"));  // 16 digits
    EXPECT_FALSE(IsValidE164("14155550100"));
    EXPECT_FALSE(IsValidE164("+04155550100"));
    EXPECT_FALSE(IsValidE164("+1415555010a"));
    EXPECT_FALSE(IsValidE164(" +14155550100"));
}

TEST(TwilioEncoding, SearchInputs)
{
    EXPECT_TRUE(IsValidCountry("US"));
    EXPECT_FALSE(IsValidCountry("us"));
    EXPECT_FALSE(IsValidCountry("USA"));
    EXPECT_TRUE(IsValidAreaCode("415"));
    EXPECT_FALSE(IsValidAreaCode("015"));
    EXPECT_FALSE(IsValidAreaCode("41"));
    EXPECT_FALSE(IsValidAreaCode("4x5"));
    EXPECT_TRUE(IsValidContains("555"));
    EXPECT_TRUE(IsValidContains("+1415*5%$"));
    EXPECT_FALSE(IsValidContains("5"));
    EXPECT_FALSE(IsValidContains("55 5"));
    EXPECT_FALSE(IsValidContains("12345678901234567"));
}

}  // namespace
}  // namespace nw::twilio
