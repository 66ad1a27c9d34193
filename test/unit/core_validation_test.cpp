// Input rules of docs/sql-api.md (core/validation.*).
#include <gtest/gtest.h>

#include "core/validation.hpp"

namespace {

nw::Cents Parse(const char *text, bool allow_negative = false)
{
    nw::Cents cents = -999;
    const nw::Refusal refusal = nw::ParseAmount(text, allow_negative, &cents);
    EXPECT_FALSE(refusal.refused) << text << ": " << refusal.message;
    return cents;
}

std::string Refused(const char *text, bool allow_negative = false)
{
    nw::Cents cents = 0;
    const nw::Refusal refusal = nw::ParseAmount(text, allow_negative, &cents);
    EXPECT_TRUE(refusal.refused) << text;
    return refusal.message;
}

TEST(ParseAmount, AcceptsPostgresNumericText)
{
    EXPECT_EQ(Parse("8"), 800);
    EXPECT_EQ(Parse("8.5"), 850);
    EXPECT_EQ(Parse("0.10"), 10);
    EXPECT_EQ(Parse("0.01"), 1);
    EXPECT_EQ(Parse("8.000"), 800);  // trailing zeros beyond two decimals are fine
    EXPECT_EQ(Parse("999999999999.99"), 99999999999999);
    EXPECT_EQ(Parse("-3.50", true), -350);
}

TEST(ParseAmount, RefusesWhatTheContractRefuses)
{
    EXPECT_EQ(Refused("NaN"), "amount must be a finite decimal number");
    EXPECT_EQ(Refused("Infinity"), "amount must be a finite decimal number");
    EXPECT_EQ(Refused("-1"), "amount must be greater than zero");
    EXPECT_EQ(Refused("0"), "amount must be greater than zero");
    EXPECT_EQ(Refused("0.00", true), "amount must not be zero");
    EXPECT_EQ(Refused("1.005"), "amount must have at most two decimal places");
    EXPECT_EQ(Refused("1000000000000"), "amount must be below 1000000000000");
    EXPECT_EQ(Refused("99999999999999999999999"), "amount must be below 1000000000000");
    Refused("");
    Refused(".");
    Refused("1e3");
    Refused("1,00");
    Refused(" 1");
}

TEST(FormatCents, TwoDecimals)
{
    EXPECT_EQ(nw::FormatCents(800), "8.00");
    EXPECT_EQ(nw::FormatCents(5), "0.05");
    EXPECT_EQ(nw::FormatCents(-10), "-0.10");
    EXPECT_EQ(nw::FormatCents(0), "0.00");
}

TEST(Validation, Currency)
{
    EXPECT_TRUE(nw::IsCurrency("USD"));
    EXPECT_TRUE(nw::IsCurrency("INR"));
    EXPECT_FALSE(nw::IsCurrency("usd"));
    EXPECT_FALSE(nw::IsCurrency("EUR"));
    EXPECT_FALSE(nw::IsCurrency("USD "));
}

TEST(Validation, E164)
{
    EXPECT_TRUE(nw::IsE164("+14155550100"));
    EXPECT_TRUE(nw::IsE164("+12345678"));         // 8 digits
    EXPECT_TRUE(nw::IsE164("+123456789012345"));  // 15 digits
    EXPECT_FALSE(nw::IsE164("+1234567"));         // 7 digits
    EXPECT_FALSE(nw::IsE164("+1234567890123456"));
    EXPECT_FALSE(nw::IsE164("+04155550100"));
    EXPECT_FALSE(nw::IsE164("14155550100"));
    EXPECT_FALSE(nw::IsE164("+1 415 555 0100"));
    EXPECT_FALSE(nw::IsE164("+1415555010a"));
    EXPECT_FALSE(nw::IsE164(""));
}

TEST(Validation, IdempotencyKey)
{
    EXPECT_TRUE(nw::IsIdempotencyKey("a"));
    EXPECT_TRUE(nw::IsIdempotencyKey(std::string(255, 'k')));
    EXPECT_FALSE(nw::IsIdempotencyKey(std::string(256, 'k')));
    EXPECT_FALSE(nw::IsIdempotencyKey(""));
    EXPECT_FALSE(nw::IsIdempotencyKey("tab\there"));
    EXPECT_FALSE(nw::IsIdempotencyKey("\xd0\xba"));
}

TEST(Validation, DisplayNameCountsCodePoints)
{
    std::string e_acute_64;
    for (int i = 0; i < 64; ++i)
        e_acute_64 += "\xc3\xa9";
    EXPECT_TRUE(nw::IsDisplayName(e_acute_64));
    EXPECT_FALSE(nw::IsDisplayName(e_acute_64 + "x"));
    EXPECT_FALSE(nw::IsDisplayName("bad\nname"));
    EXPECT_FALSE(nw::IsDisplayName("\xc3"));                          // truncated UTF-8
    EXPECT_FALSE(nw::IsDisplayName("\xc0\xaf"));                      // overlong encoding
    EXPECT_FALSE(nw::IsDisplayName("\xe0\x80\x80"));                  // overlong 3-byte form
    EXPECT_FALSE(nw::IsDisplayName("\xed\xa0\x80"));                  // a surrogate
    EXPECT_FALSE(nw::IsDisplayName("\xf4\x90\x80\x80"));              // above U+10FFFF
    EXPECT_TRUE(nw::IsDisplayName("\xe2\x82\xac \xf0\x9f\x93\x9e"));  // euro sign, telephone receiver
}

TEST(Validation, ReservedPrefixes)
{
    EXPECT_TRUE(nw::StartsWithReservedPrefix("Refund: x"));
    EXPECT_TRUE(nw::StartsWithReservedPrefix("  reversal: x"));
    EXPECT_TRUE(nw::StartsWithReservedPrefix("PHONE NUMBER PURCHASE: +1"));
    EXPECT_TRUE(nw::StartsWithReservedPrefix("Renewal:"));
    EXPECT_FALSE(nw::StartsWithReservedPrefix("Refunded by support"));
    EXPECT_FALSE(nw::StartsWithReservedPrefix("Top-up"));
}

TEST(Validation, ProviderSidAndUuid)
{
    EXPECT_TRUE(nw::IsProviderSid("PN0123456789abcdef0123456789abcdef"));
    EXPECT_FALSE(nw::IsProviderSid("P"));
    EXPECT_FALSE(nw::IsProviderSid("PN 1"));
    EXPECT_FALSE(nw::IsProviderSid("PN/../x"));
    EXPECT_TRUE(nw::IsUuid("00000000-0000-0000-0000-00000000a11c"));
    EXPECT_FALSE(nw::IsUuid("00000000-0000-0000-0000-00000000A11C"));
    EXPECT_FALSE(nw::IsUuid("00000000000000000000000000000000a11c"));
}

}  // namespace
