// A route's own input (http/request_input.hpp): the JSON body, optional string
// fields and the limit parameter each answer 400 INVALID_REQUEST when wrong,
// the same for the user and the operator routes.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "http/request_input.hpp"

namespace nw::http {
namespace {

using nlohmann::json;

httplib::Request WithBody(const std::string &body)
{
    httplib::Request req;
    req.body = body;
    return req;
}

httplib::Request WithLimit(const std::string &limit)
{
    httplib::Request req;
    req.params.emplace("limit", limit);
    return req;
}

void ExpectInvalid(const std::optional<Reply> &reply, const std::string &message)
{
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->status, 400);
    EXPECT_EQ(reply->body.value("code", ""), "INVALID_REQUEST");
    EXPECT_EQ(reply->body.value("error", ""), message);
}

TEST(RequestInput, ParseBodyTakesAJsonObject)
{
    json body;
    EXPECT_FALSE(ParseBody(WithBody(R"({"amount":"5.00","extra":1})"), &body).has_value());
    EXPECT_EQ(body["amount"], "5.00");
}

TEST(RequestInput, ParseBodyRefusesAnythingButAnObject)
{
    for (const char *text : {"", "[]", "\"text\"", "5", "{", "null"}) {
        json body;
        ExpectInvalid(ParseBody(WithBody(text), &body), "the body must be a JSON object");
    }
}

TEST(RequestInput, OptionalStringLeavesAbsentAndNullEmpty)
{
    const json body = {{"present", "x"}, {"nothing", nullptr}};
    std::optional<std::string> out;
    EXPECT_FALSE(OptionalString(body, "missing", &out).has_value());
    EXPECT_FALSE(out.has_value());
    EXPECT_FALSE(OptionalString(body, "nothing", &out).has_value());
    EXPECT_FALSE(out.has_value());
    EXPECT_FALSE(OptionalString(body, "present", &out).has_value());
    EXPECT_EQ(out, "x");
}

TEST(RequestInput, OptionalStringRefusesANumber)
{
    std::optional<std::string> out;
    ExpectInvalid(OptionalString(json{{"amount", 5}}, "amount", &out), "amount must be a string");
    EXPECT_FALSE(out.has_value());
}

TEST(RequestInput, IsDigitsBoundsLengthAndCharacters)
{
    EXPECT_TRUE(IsDigits("0", 1));
    EXPECT_TRUE(IsDigits("1234", 4));
    EXPECT_FALSE(IsDigits("12345", 4));
    EXPECT_FALSE(IsDigits("", 4));
    EXPECT_FALSE(IsDigits("-1", 4));
    EXPECT_FALSE(IsDigits("1 ", 4));
}

TEST(RequestInput, LimitParamDefaultsAndBounds)
{
    int limit = 0;
    EXPECT_FALSE(LimitParam(httplib::Request(), 20, 50, &limit).has_value());
    EXPECT_EQ(limit, 20);
    EXPECT_FALSE(LimitParam(WithLimit("50"), 20, 50, &limit).has_value());
    EXPECT_EQ(limit, 50);
    for (const char *bad : {"0", "51", "", "-1", "1.5", "99999", "abc"})
        ExpectInvalid(LimitParam(WithLimit(bad), 20, 50, &limit), "limit must be an integer from 1 to 50");
}

}  // namespace
}  // namespace nw::http
