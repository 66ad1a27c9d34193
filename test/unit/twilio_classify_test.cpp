// Classification of one purchase exchange into Bought / Refused / RateLimited / Unknown.
#include <gtest/gtest.h>

#include "twilio/classify.hpp"

namespace nw::twilio {
namespace {

constexpr const char *kNumber = "+14155550100";
constexpr const char *kSid = "PN0123456789abcdef0123456789abcdef";

HttpResponse answer(long status, std::string body)
{
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

HttpResponse failure(TransportFailure f)
{
    HttpResponse r;
    r.failure = f;
    r.failureMessage = "Timeout was reached";
    return r;
}

std::string BoughtBody(const std::string &number)
{
    return std::string(R"({"sid":")") + kSid + R"(","phone_number":")" + number +
           R"(","friendly_name":"row-1","status":"in-use"})";
}

TEST(TwilioClassify, CreatedIsBought)
{
    BuyOutcome o = ClassifyBuyResponse(answer(201, BoughtBody(kNumber)), kNumber);
    auto *b = std::get_if<Bought>(&o);
    ASSERT_TRUE(b) << describe(o);
    EXPECT_EQ(b->sid, kSid);
    EXPECT_EQ(b->phoneNumber, kNumber);
    EXPECT_EQ(b->friendlyName, "row-1");
    EXPECT_FALSE(DefinitelyNotBought(o));
}

TEST(TwilioClassify, UnreadableSuccessIsUnknown)
{
    for (const char *body :
         {"", "{\"sid\": \"PN", "<html>ok</html>", R"({"sid":"PN1","phone_number":"+14155550100"})"}) {
        BuyOutcome o = ClassifyBuyResponse(answer(201, body), kNumber);
        EXPECT_TRUE(std::holds_alternative<Unknown>(o)) << body;
        EXPECT_FALSE(DefinitelyNotBought(o));
    }
}

TEST(TwilioClassify, SuccessForAnotherNumberIsUnknown)
{
    BuyOutcome o = ClassifyBuyResponse(answer(201, BoughtBody("+14155550199")), kNumber);
    EXPECT_TRUE(std::holds_alternative<Unknown>(o));
}

TEST(TwilioClassify, DefiniteRefusals)
{
    struct Case {
        long status;
        int code;
    };
    for (Case c : {Case{400, 21422}, Case{400, 21421}, Case{401, 20003}, Case{404, 20404}, Case{403, 20403}}) {
        std::string body =
            R"({"code":)" + std::to_string(c.code) + R"(,"message":"no","status":)" + std::to_string(c.status) + "}";
        BuyOutcome o = ClassifyBuyResponse(answer(c.status, body), kNumber);
        auto *r = std::get_if<Refused>(&o);
        ASSERT_TRUE(r) << describe(o);
        EXPECT_EQ(r->httpStatus, c.status);
        EXPECT_EQ(r->twilioCode, c.code);
        EXPECT_TRUE(DefinitelyNotBought(o));
    }
}

TEST(TwilioClassify, RefusalWithoutJsonKeepsTheStatus)
{
    BuyOutcome o = ClassifyBuyResponse(answer(400, "Bad Request"), kNumber);
    auto *r = std::get_if<Refused>(&o);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->httpStatus, 400);
    EXPECT_EQ(r->twilioCode, 0);
}

TEST(TwilioClassify, TooManyRequestsIsRateLimited)
{
    HttpResponse resp = answer(429, R"({"code":20429,"message":"Too Many Requests","status":429})");
    resp.retryAfterSeconds = 2;
    BuyOutcome o = ClassifyBuyResponse(resp, kNumber);
    auto *r = std::get_if<RateLimited>(&o);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->twilioCode, 20429);
    EXPECT_EQ(r->retryAfterSeconds, 2L);
    EXPECT_TRUE(DefinitelyNotBought(o));
}

TEST(TwilioClassify, ServerErrorsAndRedirectsAreUnknown)
{
    for (long status : {500L, 502L, 503L, 504L, 302L, 100L}) {
        BuyOutcome o = ClassifyBuyResponse(answer(status, R"({"code":20500,"message":"Internal"})"), kNumber);
        EXPECT_TRUE(std::holds_alternative<Unknown>(o)) << status;
    }
}

TEST(TwilioClassify, TransportFailures)
{
    EXPECT_TRUE(std::holds_alternative<Unknown>(ClassifyBuyResponse(failure(TransportFailure::Timeout), kNumber)));
    EXPECT_TRUE(
        std::holds_alternative<Unknown>(ClassifyBuyResponse(failure(TransportFailure::ConnectionLost), kNumber)));
    EXPECT_TRUE(std::holds_alternative<Unknown>(ClassifyBuyResponse(failure(TransportFailure::Other), kNumber)));
    // Never reached Twilio (DNS, refused connection, TLS): definitely not bought.
    BuyOutcome o = ClassifyBuyResponse(failure(TransportFailure::NotSent), kNumber);
    auto *r = std::get_if<Refused>(&o);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->httpStatus, 0);
}

}  // namespace
}  // namespace nw::twilio
