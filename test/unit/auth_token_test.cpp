// Unit tests of the auth module's parsing helpers: base64url, JSON objects,
// compact-JWS splitting, the Authorization header and UUID canonicalisation.
#include <gtest/gtest.h>

#include "auth/internal.hpp"

namespace nw::auth::detail {
namespace {

TEST(AuthBase64Url, RoundTripsAllLengths)
{
    const std::string bytes("\x00\xff\xfe\x10\x20\x7f\x80\xfb\xef", 9);
    for (std::size_t n = 0; n <= bytes.size(); ++n) {
        const std::string in = bytes.substr(0, n);
        const auto out = base64url_decode(base64url_encode(in));
        ASSERT_TRUE(out.has_value()) << n;
        EXPECT_EQ(*out, in) << n;
    }
    EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");  // url-safe alphabet, no padding
}

TEST(AuthBase64Url, RejectsNonCanonicalInput)
{
    EXPECT_FALSE(base64url_decode("QQ==").has_value());   // padding
    EXPECT_FALSE(base64url_decode("a+b/").has_value());   // standard alphabet
    EXPECT_FALSE(base64url_decode("QQ Q").has_value());   // whitespace
    EXPECT_FALSE(base64url_decode("QUJDR").has_value());  // length % 4 == 1
    EXPECT_FALSE(base64url_decode("QR").has_value());     // non-zero unused bits ("QQ" is canonical)
    EXPECT_EQ(base64url_decode("QQ").value(), "A");
    EXPECT_EQ(base64url_decode("").value(), "");
}

TEST(AuthJson, ParsesObjectsOnly)
{
    EXPECT_TRUE(parse_json_object(R"({"a":1,"b":{"c":[1,2]}})").has_value());
    EXPECT_FALSE(parse_json_object("[1,2]").has_value());
    EXPECT_FALSE(parse_json_object("\"text\"").has_value());
    EXPECT_FALSE(parse_json_object("{\"a\":1").has_value());
    EXPECT_FALSE(parse_json_object("{\"a\":1} trailing").has_value());
}

TEST(AuthJson, RejectsDuplicateNamesAtAnyDepth)
{
    EXPECT_FALSE(parse_json_object(R"({"sub":"a","sub":"b"})").has_value());
    EXPECT_FALSE(parse_json_object(R"({"x":{"k":1,"k":2}})").has_value());
    // The same name in sibling objects is fine.
    EXPECT_TRUE(parse_json_object(R"({"x":{"k":1},"y":{"k":2}})").has_value());
}

TEST(AuthJson, RejectsInvalidUtf8AndDeepNesting)
{
    EXPECT_FALSE(parse_json_object("{\"a\":\"\xc3\x28\"}").has_value());
    std::string deep = "{\"a\":";
    for (int i = 0; i < 40; ++i)
        deep += "[";
    for (int i = 0; i < 40; ++i)
        deep += "]";
    deep += "}";
    EXPECT_FALSE(parse_json_object(deep).has_value());
}

std::string seg(const std::string &json)
{
    return base64url_encode(json);
}

TEST(AuthSplitToken, AcceptsThreeSegments)
{
    const auto parts = split_token(seg(R"({"alg":"HS256"})") + "." + seg(R"({"sub":"x"})") + "." + seg("sig"));
    ASSERT_TRUE(parts.has_value());
    EXPECT_EQ(parts->header["alg"], "HS256");
    EXPECT_EQ(parts->payload["sub"], "x");
    EXPECT_EQ(parts->signature, "sig");
}

TEST(AuthSplitToken, RejectsWrongShapes)
{
    const std::string h = seg(R"({"alg":"HS256"})"), p = seg(R"({"sub":"x"})"), s = seg("sig");
    EXPECT_FALSE(split_token(h + "." + p).has_value());                      // two parts
    EXPECT_FALSE(split_token(h + "." + p + "." + s + "." + s).has_value());  // four parts
    EXPECT_FALSE(split_token(h + "." + p + ".").has_value());                // empty signature
    EXPECT_FALSE(split_token("." + p + "." + s).has_value());                // empty header
    EXPECT_FALSE(split_token(h + ".!!!." + s).has_value());                  // bad base64
    EXPECT_FALSE(split_token(seg("not json") + "." + p + "." + s).has_value());
    EXPECT_FALSE(split_token(h + "." + seg("[1]") + "." + s).has_value());  // payload not an object
}

TEST(AuthBearer, ExtractsCredential)
{
    std::string_view cred;
    EXPECT_EQ(parse_bearer("Bearer abc.def.ghi", cred), Failure::None);
    EXPECT_EQ(cred, "abc.def.ghi");
    EXPECT_EQ(parse_bearer("  bearer \t xyz  ", cred), Failure::None);  // scheme is case-insensitive
    EXPECT_EQ(cred, "xyz");
}

TEST(AuthBearer, RefusesOtherShapes)
{
    std::string_view cred;
    EXPECT_EQ(parse_bearer("", cred), Failure::MissingCredentials);
    EXPECT_EQ(parse_bearer("   ", cred), Failure::MissingCredentials);
    EXPECT_EQ(parse_bearer("Bearer   ", cred), Failure::MissingCredentials);
    EXPECT_EQ(parse_bearer("Bearer", cred), Failure::MissingCredentials);
    EXPECT_EQ(parse_bearer("Basic dXNlcjpwYXNz", cred), Failure::BadScheme);
    EXPECT_EQ(parse_bearer("abc.def.ghi", cred), Failure::BadScheme);
    EXPECT_EQ(parse_bearer("Bearer a b", cred), Failure::Malformed);
    EXPECT_EQ(parse_bearer("Bearer a\x01", cred), Failure::Malformed);
    EXPECT_EQ(parse_bearer("Bearer " + std::string(kMaxTokenBytes + 1, 'a'), cred), Failure::TokenTooLarge);
}

TEST(AuthUuid, CanonicalisesToLowerCase)
{
    EXPECT_EQ(canonical_uuid("3F2504E0-4F89-11D3-9A0C-0305E82C3301").value(), "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    EXPECT_FALSE(canonical_uuid("3f2504e04f8911d39a0c0305e82c3301").has_value());        // no hyphens
    EXPECT_FALSE(canonical_uuid("{3f2504e0-4f89-11d3-9a0c-0305e82c3301}").has_value());  // braces
    EXPECT_FALSE(canonical_uuid("3f2504e0-4f89-11d3-9a0c-0305e82c330g").has_value());    // non-hex
    EXPECT_FALSE(canonical_uuid("3f2504e0-4f89-11d3-9a0c0-305e82c3301").has_value());    // hyphen moved
    EXPECT_FALSE(canonical_uuid("").has_value());
}

}  // namespace
}  // namespace nw::auth::detail
