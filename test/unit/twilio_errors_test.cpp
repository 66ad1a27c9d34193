// Twilio error bodies {code, message, more_info, status} and our messages for them.
#include <gtest/gtest.h>

#include "twilio/errors.hpp"

namespace nw::twilio {
namespace {

TEST(TwilioErrors, ParsesTwilioShape)
{
    TwilioError e = ParseTwilioError(
        400,
        R"({"code": 21422, "message": "PhoneNumber is not available", "more_info": "https://www.twilio.com/docs/errors/21422", "status": 400})");
    EXPECT_EQ(e.httpStatus, 400);
    EXPECT_EQ(e.twilioCode, 21422);
    EXPECT_EQ(e.message, "PhoneNumber is not available");
    EXPECT_EQ(e.moreInfo, "https://www.twilio.com/docs/errors/21422");
    EXPECT_EQ(FormatTwilioError(e),
              "HTTP 400, Twilio error 21422 (phone number not available): PhoneNumber is not available");
}

TEST(TwilioErrors, KnownCodesHaveClearMeanings)
{
    EXPECT_EQ(MeaningOf(21422), "phone number not available");
    EXPECT_EQ(MeaningOf(21421), "invalid phone number");
    EXPECT_NE(MeaningOf(20003).find("authentication failed"), std::string_view::npos);
    EXPECT_EQ(MeaningOf(20429), "too many concurrent requests");
    EXPECT_EQ(MeaningOf(20404), "resource not found");
    EXPECT_EQ(MeaningOf(12345), "");
}

TEST(TwilioErrors, UnreadableBodiesGiveCodeZero)
{
    for (const char *body :
         {"", "<html>Bad Gateway</html>", "[1,2]", R"({"code":"abc"})", R"({"code":-5})", R"({"code": 1e99})"}) {
        TwilioError e = ParseTwilioError(502, body);
        EXPECT_EQ(e.twilioCode, 0) << body;
        EXPECT_EQ(e.httpStatus, 502);
    }
    EXPECT_EQ(FormatTwilioError(ParseTwilioError(502, "oops")), "HTTP 502");
}

TEST(TwilioErrors, CodeAsStringIsAccepted)
{
    EXPECT_EQ(ParseTwilioError(401, R"({"code":"20003"})").twilioCode, 20003);
}

TEST(TwilioErrors, MessagesAreSanitisedAndBounded)
{
    std::string long_text(1000, 'x');
    TwilioError e =
        ParseTwilioError(400, R"({"code":21421,"message":"bad\u0000\u001b[31m\nnumber )" + long_text + "\"}");
    EXPECT_EQ(e.message.find('\0'), std::string::npos);
    EXPECT_EQ(e.message.find('\x1b'), std::string::npos);
    EXPECT_EQ(e.message.find('\n'), std::string::npos);
    EXPECT_LE(e.message.size(), 300u);
    EXPECT_EQ(SanitizeText("a\tb\x01"
                           "c\xc3\xa9"),
              "a bc");
}

TEST(TwilioErrors, HttpErrorNamesTheOperation)
{
    Error e = HttpError("number release", 401, R"({"code":20003,"message":"Authenticate","status":401})");
    EXPECT_EQ(e.kind, ErrorKind::HttpStatus);
    EXPECT_EQ(e.httpStatus, 401);
    EXPECT_EQ(e.twilioCode, 20003);
    EXPECT_EQ(e.message.rfind("number release failed: HTTP 401, Twilio error 20003 (authentication failed", 0), 0u)
        << e.message;
}

}  // namespace
}  // namespace nw::twilio
