// Client behaviour over a scripted transport: retries, deadlines, paging, secrets.
#include <gtest/gtest.h>

#include <deque>
#include <mutex>

#include "twilio/client.hpp"

namespace nw::twilio {
namespace {

constexpr const char *kAccount = "AC00000000000000000000000000000000";
constexpr const char *kToken = "super-secret-token-value";
constexpr const char *kSid = "PN0123456789abcdef0123456789abcdef";

// Answers requests from a queue and records what was asked.
struct Script {
    std::deque<HttpResponse> answers;
    std::vector<HttpRequest> requests;
    std::mutex mu;

    Transport transport()
    {
        return [this](const HttpRequest &req) {
            std::lock_guard<std::mutex> lock(mu);
            requests.push_back(req);
            if (answers.empty()) {
                HttpResponse r;
                r.failure = TransportFailure::Other;
                r.failureMessage = "script exhausted";
                return r;
            }
            HttpResponse r = answers.front();
            answers.pop_front();
            return r;
        };
    }
    void add(long status, std::string body = "", std::optional<long> retryAfter = std::nullopt)
    {
        HttpResponse r;
        r.status = status;
        r.body = std::move(body);
        r.retryAfterSeconds = retryAfter;
        answers.push_back(r);
    }
    void fail(TransportFailure f)
    {
        HttpResponse r;
        r.failure = f;
        r.failureMessage = "Timeout was reached";
        answers.push_back(r);
    }
};

Config TestConfig()
{
    Config c;
    c.accountSid = kAccount;
    c.authToken = kToken;
    c.voiceUrl = "https://example.com/voice";
    c.smsUrl = "https://example.com/sms";
    c.retry.baseDelayMs = 1;
    c.retry.maxDelayMs = 2;
    c.retry.maxRetryAfterMs = 2000;
    c.retry.minAttemptMs = 50;
    return c;
}

std::string OwnedJson(const std::string &sid, const std::string &number, const std::string &name = "row")
{
    return R"({"sid":")" + sid + R"(","phone_number":")" + number + R"(","friendly_name":")" + name + R"("})";
}

std::string PageJson(const std::vector<std::string> &items, const std::string &next)
{
    std::string body = R"({"incoming_phone_numbers":[)";
    for (size_t i = 0; i < items.size(); ++i)
        body += (i ? "," : "") + items[i];
    body += R"(],"next_page_uri":)" + (next.empty() ? std::string("null") : "\"" + next + "\"") + "}";
    return body;
}

TEST(TwilioClient, ConfigValidation)
{
    Config c = TestConfig();
    EXPECT_FALSE(ValidateConfig(c));
    c.apiBase = "http://api.twilio.com";
    EXPECT_TRUE(ValidateConfig(c));  // no clear-text credentials over a network
    c.apiBase = "http://127.0.0.1:8089";
    EXPECT_FALSE(ValidateConfig(c));
    c.apiBase = "https://user:pw@api.twilio.com";
    EXPECT_TRUE(ValidateConfig(c));
    c = TestConfig();
    c.authToken.clear();
    EXPECT_TRUE(ValidateConfig(c));
    c.apiKeySid = "SK00000000000000000000000000000000";
    c.apiKeySecret = "s";
    EXPECT_FALSE(ValidateConfig(c));
    c.accountSid = "AC123";
    auto msg = ValidateConfig(c);
    ASSERT_TRUE(msg);
    EXPECT_NE(msg->find("account SID"), std::string::npos);
    c = TestConfig();
    c.accountSid = "bad";
    EXPECT_EQ(ValidateConfig(c)->find(kToken), std::string::npos);
    EXPECT_THROW(Client{c}, std::invalid_argument);
}

TEST(TwilioClient, BuySendsFormEncodedFieldsAndParsesTheNumber)
{
    Script s;
    s.add(201, OwnedJson(kSid, "+14155550100", "row-1"));
    Client client(TestConfig(), s.transport());
    BuyOutcome o = client.buy("+14155550100", "row-1");
    ASSERT_TRUE(std::holds_alternative<Bought>(o)) << describe(o);
    ASSERT_EQ(s.requests.size(), 1u);
    const HttpRequest &req = s.requests[0];
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.url, "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/"
                       "IncomingPhoneNumbers.json");
    EXPECT_EQ(req.body, "PhoneNumber=%2B14155550100&FriendlyName=row-1&VoiceUrl=https%3A%2F%2Fexample.com%2Fvoice"
                        "&SmsUrl=https%3A%2F%2Fexample.com%2Fsms");
    EXPECT_EQ(req.url.find(kToken), std::string::npos);
}

TEST(TwilioClient, BuyIsNeverRetriedAfterAServerError)
{
    Script s;
    s.add(500, R"({"code":20500,"message":"Internal Server Error"})");
    s.add(201, OwnedJson(kSid, "+14155550100"));
    Client client(TestConfig(), s.transport());
    BuyOutcome o = client.buy("+14155550100", "row-1");
    EXPECT_TRUE(std::holds_alternative<Unknown>(o));
    EXPECT_EQ(s.requests.size(), 1u);
}

TEST(TwilioClient, BuyIsNeverRetriedAfterATimeout)
{
    Script s;
    s.fail(TransportFailure::Timeout);
    Client client(TestConfig(), s.transport());
    EXPECT_TRUE(std::holds_alternative<Unknown>(client.buy("+14155550100", "row-1")));
    EXPECT_EQ(s.requests.size(), 1u);
}

TEST(TwilioClient, BuyRetriesTooManyRequests)
{
    Script s;
    s.add(429, R"({"code":20429,"message":"Too Many Requests"})");
    s.add(429, R"({"code":20429,"message":"Too Many Requests"})", 0L);
    s.add(201, OwnedJson(kSid, "+14155550100"));
    Client client(TestConfig(), s.transport());
    EXPECT_TRUE(std::holds_alternative<Bought>(client.buy("+14155550100", "row-1")));
    EXPECT_EQ(s.requests.size(), 3u);
}

TEST(TwilioClient, BuyGivesUpOnTooManyRequestsAfterTheLastAttempt)
{
    Script s;
    for (int i = 0; i < 10; ++i)
        s.add(429, R"({"code":20429})");
    Config c = TestConfig();
    c.retry.buyMaxAttempts = 3;
    Client client(c, s.transport());
    BuyOutcome o = client.buy("+14155550100", "row-1");
    auto *r = std::get_if<RateLimited>(&o);
    ASSERT_TRUE(r) << describe(o);
    EXPECT_EQ(r->attempts, 3);
    EXPECT_EQ(r->twilioCode, 20429);
    EXPECT_EQ(s.requests.size(), 3u);
}

TEST(TwilioClient, BuyHonoursTheDeadlineWhenRetryAfterIsLong)
{
    Script s;
    for (int i = 0; i < 10; ++i)
        s.add(429, R"({"code":20429})", 2L);  // 2 s each
    Client client(TestConfig(), s.transport());
    auto start = Clock::now();
    BuyOutcome o = client.buy("+14155550100", "row-1", start + std::chrono::milliseconds(1500));
    auto elapsed = Clock::now() - start;
    auto *r = std::get_if<RateLimited>(&o);
    ASSERT_TRUE(r) << describe(o);
    EXPECT_EQ(s.requests.size(), 1u);  // waiting 2 s would pass the deadline
    EXPECT_EQ(r->retryAfterSeconds, 2L);
    EXPECT_LT(elapsed, std::chrono::milliseconds(1500));
}

TEST(TwilioClient, BuyShrinksItsTimeoutToTheDeadline)
{
    Script s;
    s.add(201, OwnedJson(kSid, "+14155550100"));
    Client client(TestConfig(), s.transport());
    client.buy("+14155550100", "row-1", Clock::now() + std::chrono::milliseconds(800));
    ASSERT_EQ(s.requests.size(), 1u);
    EXPECT_LE(s.requests[0].timeoutMs, 800);
    EXPECT_GE(s.requests[0].timeoutMs, 50);
    EXPECT_LE(s.requests[0].connectTimeoutMs, s.requests[0].timeoutMs);
}

TEST(TwilioClient, BuyPastTheDeadlineIsNotSent)
{
    Script s;
    Client client(TestConfig(), s.transport());
    BuyOutcome o = client.buy("+14155550100", "row-1", Clock::now());
    auto *r = std::get_if<RateLimited>(&o);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->attempts, 0);
    EXPECT_TRUE(s.requests.empty());
}

TEST(TwilioClient, BuyRejectsBadInputWithoutSending)
{
    Script s;
    Client client(TestConfig(), s.transport());
    EXPECT_TRUE(std::holds_alternative<Refused>(client.buy("14155550100", "x")));
    EXPECT_TRUE(std::holds_alternative<Refused>(client.buy("+14155550100", std::string(65, 'x'))));
    EXPECT_TRUE(s.requests.empty());
}

TEST(TwilioClient, SearchBuildsTheQueryAndRetriesServerErrors)
{
    Script s;
    s.add(503, "");
    s.fail(TransportFailure::ConnectionLost);
    s.add(200, R"({"available_phone_numbers":[{"phone_number":"+14155550100","capabilities":{"SMS":true}}]})");
    Client client(TestConfig(), s.transport());
    auto r = client.search("US", std::string("415"), std::string("+1415*55"), 5);
    ASSERT_TRUE(r.IsOk()) << r.error().message;
    ASSERT_EQ(r.value().size(), 1u);
    EXPECT_TRUE(r.value()[0].capabilities.sms);
    ASSERT_EQ(s.requests.size(), 3u);
    EXPECT_EQ(s.requests[0].method, "GET");
    EXPECT_EQ(s.requests[0].url,
              "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/AvailablePhoneNumbers/US/"
              "Local.json?AreaCode=415&Contains=%2B1415%2A55&PageSize=5");
}

TEST(TwilioClient, SearchRejectsBadInput)
{
    Script s;
    Client client(TestConfig(), s.transport());
    EXPECT_EQ(client.search("us", std::nullopt, std::nullopt, 5).error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(client.search("US", std::string("41"), std::nullopt, 5).error().kind, ErrorKind::InvalidArgument);
    EXPECT_EQ(client.search("US", std::nullopt, std::string("a&b"), 5).error().kind, ErrorKind::InvalidArgument);
    EXPECT_TRUE(s.requests.empty());
}

TEST(TwilioClient, AuthFailureIsNotRetriedAndIsExplained)
{
    Script s;
    s.add(401, R"({"code":20003,"message":"Authenticate","status":401})");
    Client client(TestConfig(), s.transport());
    auto r = client.ListOwned();
    ASSERT_FALSE(r.IsOk());
    EXPECT_EQ(r.error().kind, ErrorKind::HttpStatus);
    EXPECT_EQ(r.error().twilioCode, 20003);
    EXPECT_NE(r.error().message.find("authentication failed"), std::string::npos);
    EXPECT_EQ(r.error().message.find(kToken), std::string::npos);
    EXPECT_EQ(s.requests.size(), 1u);
}

TEST(TwilioClient, FindOwnedFollowsPagesAndComparesExactly)
{
    const std::string next = "/2010-04-01/Accounts/AC00000000000000000000000000000000/IncomingPhoneNumbers.json?"
                             "PhoneNumber=%2B14155550100&Page=1";
    Script s;
    s.add(200, PageJson({OwnedJson("PN11111111111111111111111111111111", "+141555501001")}, next));
    s.add(200, PageJson({OwnedJson(kSid, "+14155550100", "row-7")}, ""));
    Client client(TestConfig(), s.transport());
    auto r = client.FindOwned("+14155550100");
    ASSERT_TRUE(r.IsOk()) << r.error().message;
    ASSERT_TRUE(r.value());
    EXPECT_EQ(r.value()->sid, kSid);
    EXPECT_EQ(r.value()->friendlyName, "row-7");
    ASSERT_EQ(s.requests.size(), 2u);
    EXPECT_NE(s.requests[0].url.find("PhoneNumber=%2B14155550100"), std::string::npos);
    EXPECT_EQ(s.requests[1].url, "https://api.twilio.com" + next);
}

TEST(TwilioClient, FindOwnedNotFoundVersusCannotTell)
{
    Script s;
    s.add(200, PageJson({OwnedJson(kSid, "+141555501009")}, ""));
    s.add(500, "");
    s.add(500, "");
    s.add(500, "");
    s.add(500, "");
    Client client(TestConfig(), s.transport());
    auto notFound = client.FindOwned("+14155550100");
    ASSERT_TRUE(notFound.IsOk());
    EXPECT_FALSE(notFound.value());
    auto unknown = client.FindOwned("+14155550100");
    ASSERT_FALSE(unknown.IsOk());
    EXPECT_EQ(unknown.error().httpStatus, 500);
    EXPECT_EQ(s.requests.size(), 5u);  // 1 + 4 attempts
}

TEST(TwilioClient, ListOwnedRefusesForeignNextPage)
{
    Script s;
    s.add(200, PageJson({OwnedJson(kSid, "+14155550100")}, "https://evil.example/steal"));
    Client client(TestConfig(), s.transport());
    auto r = client.ListOwned();
    ASSERT_FALSE(r.IsOk());
    EXPECT_EQ(r.error().kind, ErrorKind::BadResponse);
    EXPECT_EQ(s.requests.size(), 1u);
}

TEST(TwilioClient, ListOwnedStopsAtMaxPages)
{
    const std::string next = "/2010-04-01/Accounts/AC00000000000000000000000000000000/IncomingPhoneNumbers.json?Page=1";
    Script s;
    for (int i = 0; i < 5; ++i)
        s.add(200, PageJson({}, next));
    Config c = TestConfig();
    c.maxPages = 3;
    Client client(c, s.transport());
    auto r = client.ListOwned();
    ASSERT_FALSE(r.IsOk());
    EXPECT_EQ(s.requests.size(), 3u);
}

TEST(TwilioClient, ReleaseOutcomes)
{
    Script s;
    s.add(204);
    s.add(404, R"({"code":20404,"message":"not found","status":404})");
    s.fail(TransportFailure::Timeout);
    s.add(204);
    s.add(401, R"({"code":20003})");
    Client client(TestConfig(), s.transport());
    auto a = client.release(kSid);
    ASSERT_TRUE(a.IsOk());
    EXPECT_EQ(a.value(), ReleaseOutcome::Released);
    EXPECT_EQ(s.requests[0].method, "DELETE");
    EXPECT_EQ(s.requests[0].url, "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/"
                                 "IncomingPhoneNumbers/PN0123456789abcdef0123456789abcdef.json");
    auto b = client.release(kSid);
    ASSERT_TRUE(b.IsOk());
    EXPECT_EQ(b.value(), ReleaseOutcome::NotFound);
    auto c = client.release(kSid);  // a timeout, then 204 on the retry
    ASSERT_TRUE(c.IsOk());
    EXPECT_EQ(c.value(), ReleaseOutcome::Released);
    auto d = client.release(kSid);
    ASSERT_FALSE(d.IsOk());
    EXPECT_EQ(d.error().twilioCode, 20003);
}

TEST(TwilioClient, ReleaseValidatesTheSidBeforeBuildingAUrl)
{
    Script s;
    Client client(TestConfig(), s.transport());
    for (const char *sid : {"", "PN123", "../../Accounts", "PN0123456789abcdef0123456789abcdeg"}) {
        auto r = client.release(sid);
        ASSERT_FALSE(r.IsOk());
        EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
    }
    EXPECT_TRUE(s.requests.empty());
}

}  // namespace
}  // namespace nw::twilio
