// Validation and URL/form encoding for requests to Twilio.
#include <gtest/gtest.h>

#include "twilio/encoding.hpp"

namespace nw::twilio {
namespace {

TEST(TwilioEncoding, PlusIsPercentEncoded) {
  EXPECT_EQ(percentEncode("+14155550100"), "%2B14155550100");
  EXPECT_EQ(percentEncode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(percentEncode("AZaz09-._~"), "AZaz09-._~");
}

TEST(TwilioEncoding, FormEncodesKeysAndValues) {
  EXPECT_EQ(formEncode({{"PhoneNumber", "+14155550100"},
                        {"FriendlyName", "3f9c1d2e-0000-4000-8000-000000000001"},
                        {"VoiceUrl", "https://example.com/voice?x=1&y=2"}}),
            "PhoneNumber=%2B14155550100&FriendlyName=3f9c1d2e-0000-4000-8000-000000000001"
            "&VoiceUrl=https%3A%2F%2Fexample.com%2Fvoice%3Fx%3D1%26y%3D2");
  EXPECT_EQ(formEncode({}), "");
}

TEST(TwilioEncoding, NumberSid) {
  EXPECT_TRUE(isValidNumberSid("PN0123456789abcdef0123456789ABCDEF"));
  EXPECT_FALSE(isValidNumberSid("PN0123456789abcdef0123456789ABCDE"));     // 31 hex
  EXPECT_FALSE(isValidNumberSid("PN0123456789abcdef0123456789ABCDEF0"));   // 33 hex
  EXPECT_FALSE(isValidNumberSid("AC0123456789abcdef0123456789ABCDEF"));
  EXPECT_FALSE(isValidNumberSid("PN0123456789abcdef0123456789ABCDEG"));
  EXPECT_FALSE(isValidNumberSid("PN../../0123456789abcdef0123456789"));
  EXPECT_FALSE(isValidNumberSid(""));
}

TEST(TwilioEncoding, AccountAndKeySids) {
  EXPECT_TRUE(isValidAccountSid("AC00000000000000000000000000000000"));
  EXPECT_FALSE(isValidAccountSid("SK00000000000000000000000000000000"));
  EXPECT_TRUE(isValidApiKeySid("SKffffffffffffffffffffffffffffffff"));
}

TEST(TwilioEncoding, E164) {
  EXPECT_TRUE(isValidE164("+14155550100"));
  EXPECT_TRUE(isValidE164("+12345678"));          // 8 digits
  EXPECT_TRUE(isValidE164("+123456789012345"));   // 15 digits
  EXPECT_FALSE(isValidE164("+1234567"));          // 7 digits
  EXPECT_FALSE(isValidE164("+1234567890123456"));  // 16 digits
  EXPECT_FALSE(isValidE164("14155550100"));
  EXPECT_FALSE(isValidE164("+04155550100"));
  EXPECT_FALSE(isValidE164("+1415555010a"));
  EXPECT_FALSE(isValidE164(" +14155550100"));
}

TEST(TwilioEncoding, SearchInputs) {
  EXPECT_TRUE(isValidCountry("US"));
  EXPECT_FALSE(isValidCountry("us"));
  EXPECT_FALSE(isValidCountry("USA"));
  EXPECT_TRUE(isValidAreaCode("415"));
  EXPECT_FALSE(isValidAreaCode("015"));
  EXPECT_FALSE(isValidAreaCode("41"));
  EXPECT_FALSE(isValidAreaCode("4x5"));
  EXPECT_TRUE(isValidContains("555"));
  EXPECT_TRUE(isValidContains("+1415*5%$"));
  EXPECT_FALSE(isValidContains("5"));
  EXPECT_FALSE(isValidContains("55 5"));
  EXPECT_FALSE(isValidContains("12345678901234567"));
}

}  // namespace
}  // namespace nw::twilio
