// Parsing of Twilio's success bodies, exact-number matching and paging URIs.
#include <gtest/gtest.h>

#include "twilio/parse.hpp"

namespace nw::twilio {
namespace {

constexpr const char *kAccount = "AC00000000000000000000000000000000";
constexpr const char *kSidA = "PN11111111111111111111111111111111";
constexpr const char *kSidB = "PN22222222222222222222222222222222";

TEST(TwilioParse, AvailableNumbersWithEitherCapabilityCase)
{
    auto r = ParseAvailableNumbers(R"({
    "available_phone_numbers": [
      {"friendly_name": "(415) 555-0100", "phone_number": "+14155550100", "locality": "San Francisco",
       "region": "CA", "iso_country": "US", "latitude": "37.774900", "longitude": -122.4194,
       "postal_code": null, "capabilities": {"voice": true, "sms": true, "mms": false, "fax": false}},
      {"friendly_name": "(604) 555-0101", "phone_number": "+16045550101", "locality": null,
       "region": "BC", "iso_country": "CA", "capabilities": {"voice": false, "SMS": true, "MMS": true}},
      {"phone_number": "not-a-number"},
      {"phone_number": null},
      "garbage"
    ],
    "next_page_uri": null, "uri": "/x"})");
    ASSERT_TRUE(r.IsOk()) << r.error().message;
    ASSERT_EQ(r.value().size(), 2u);
    const AvailableNumber &a = r.value()[0];
    EXPECT_EQ(a.phoneNumber, "+14155550100");
    EXPECT_EQ(a.friendlyName, "(415) 555-0100");
    EXPECT_EQ(a.locality, "San Francisco");
    EXPECT_EQ(a.region, "CA");
    EXPECT_EQ(a.isoCountry, "US");
    EXPECT_TRUE(a.capabilities.voice);
    EXPECT_TRUE(a.capabilities.sms);
    EXPECT_FALSE(a.capabilities.mms);
    const AvailableNumber &b = r.value()[1];
    EXPECT_EQ(b.locality, "");
    EXPECT_FALSE(b.capabilities.voice);
    EXPECT_TRUE(b.capabilities.sms);
    EXPECT_TRUE(b.capabilities.mms);
}

TEST(TwilioParse, EmptySearchIsNotAnError)
{
    auto r = ParseAvailableNumbers(R"({"available_phone_numbers": []})");
    ASSERT_TRUE(r.IsOk());
    EXPECT_TRUE(r.value().empty());
}

TEST(TwilioParse, UnreadableSearchBodies)
{
    for (const char *body : {"", "<html>", "[]", R"({"available_phone_numbers": {}})", R"({"numbers": []})"}) {
        auto r = ParseAvailableNumbers(body);
        ASSERT_FALSE(r.IsOk()) << body;
        EXPECT_EQ(r.error().kind, ErrorKind::BadResponse);
    }
}

TEST(TwilioParse, OwnedNumber)
{
    auto r = ParseOwnedNumber(std::string(R"({"sid": ")") + kSidA +
                              R"(", "phone_number": "+14155550100", "friendly_name": "row-id", "status": "in-use"})");
    ASSERT_TRUE(r.IsOk()) << r.error().message;
    EXPECT_EQ(r.value().sid, kSidA);
    EXPECT_EQ(r.value().phoneNumber, "+14155550100");
    EXPECT_EQ(r.value().friendlyName, "row-id");
}

TEST(TwilioParse, OwnedNumberNeedsSidAndNumber)
{
    EXPECT_FALSE(ParseOwnedNumber(R"({"sid": "PN123", "phone_number": "+14155550100"})").IsOk());
    EXPECT_FALSE(ParseOwnedNumber(std::string(R"({"sid": ")") + kSidA + R"("})").IsOk());
    EXPECT_FALSE(ParseOwnedNumber("{\"sid\": \"PN").IsOk());
    EXPECT_FALSE(ParseOwnedNumber("").IsOk());
}

TEST(TwilioParse, OwnedPageWithNextPage)
{
    std::string body = std::string(R"({"incoming_phone_numbers": [
      {"sid": ")") + kSidA +
                       R"(", "phone_number": "+141555501001", "friendly_name": "a"},
      {"sid": ")" + kSidB +
                       R"(", "phone_number": "+14155550100", "friendly_name": "b"}],
    "next_page_uri": "/2010-04-01/Accounts/AC00000000000000000000000000000000/IncomingPhoneNumbers.json?Page=1",
    "page": 0, "page_size": 2})";
    auto r = ParseOwnedPage(body);
    ASSERT_TRUE(r.IsOk()) << r.error().message;
    ASSERT_EQ(r.value().numbers.size(), 2u);
    ASSERT_TRUE(r.value().nextPageUri);
    EXPECT_EQ(*r.value().nextPageUri,
              "/2010-04-01/Accounts/AC00000000000000000000000000000000/IncomingPhoneNumbers.json?Page=1");
}

TEST(TwilioParse, OwnedPageLastPage)
{
    for (const char *tail : {R"(, "next_page_uri": null)", R"(, "next_page_uri": "")", ""}) {
        auto r = ParseOwnedPage(std::string(R"({"incoming_phone_numbers": [])") + tail + "}");
        ASSERT_TRUE(r.IsOk()) << tail;
        EXPECT_FALSE(r.value().nextPageUri);
    }
}

TEST(TwilioParse, OwnedPageRejectsPartialInventories)
{
    EXPECT_FALSE(
        ParseOwnedPage(R"({"incoming_phone_numbers": [{"sid": "PNx", "phone_number": "+14155550100"}]})").IsOk());
    EXPECT_FALSE(ParseOwnedPage(R"({"incoming_phone_numbers": [], "next_page_uri": 5})").IsOk());
    EXPECT_FALSE(ParseOwnedPage(R"({"incoming_phone_numbers": null})").IsOk());
    EXPECT_FALSE(ParseOwnedPage("not json").IsOk());
}

TEST(TwilioParse, FindExactIgnoresPartialMatches)
{
    std::vector<OwnedNumber> page = {{kSidA, "+141555501001", "x"}, {kSidB, "+14155550100", "y"}};
    auto hit = FindExact(page, "+14155550100");
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->sid, kSidB);
    EXPECT_FALSE(FindExact(page, "+1415555010"));
    EXPECT_FALSE(FindExact(page, "14155550100"));
    EXPECT_FALSE(FindExact({}, "+14155550100"));
}

TEST(TwilioParse, NextPageUriMustStayInTheAccount)
{
    EXPECT_TRUE(IsSafeNextPageUri(
        "/2010-04-01/Accounts/AC00000000000000000000000000000000/IncomingPhoneNumbers.json?PageSize=3&Page=1",
        kAccount));
    EXPECT_FALSE(
        IsSafeNextPageUri("https://evil.example/2010-04-01/Accounts/AC00000000000000000000000000000000/x", kAccount));
    EXPECT_FALSE(IsSafeNextPageUri("//evil.example/x", kAccount));
    EXPECT_FALSE(IsSafeNextPageUri("/2010-04-01/Accounts/AC11111111111111111111111111111111/x", kAccount));
    EXPECT_FALSE(IsSafeNextPageUri("/2010-04-01/Accounts/AC00000000000000000000000000000000/../../x", kAccount));
    EXPECT_FALSE(IsSafeNextPageUri("/2010-04-01/Accounts/AC00000000000000000000000000000000/a b", kAccount));
    EXPECT_FALSE(IsSafeNextPageUri("/2010-04-01/Accounts/AC00000000000000000000000000000000/a\r\nHost: x", kAccount));
}

}  // namespace
}  // namespace nw::twilio
