// Unit tests of the constant-time comparison and the ADMIN_API_KEY bearer.
#include <gtest/gtest.h>

#include "auth/internal.hpp"

namespace nw::auth {
namespace {

const std::string kSecret(40, 's');
const std::string kAdminKey = "adm_9f8e7d6c5b4a39281706f5e4d3c2b1a0";

VerifierConfig admin_config()
{
    VerifierConfig c;
    c.hs256_secret = kSecret;
    c.admin_api_key = kAdminKey;
    return c;
}

TEST(AuthConstantTime, EqualOnlyForIdenticalInputs)
{
    EXPECT_TRUE(detail::constant_time_equal("abc", "abc"));
    EXPECT_FALSE(detail::constant_time_equal("abc", "abd"));
    EXPECT_FALSE(detail::constant_time_equal("abc", "abcd"));  // prefix
    EXPECT_FALSE(detail::constant_time_equal("", "a"));
    EXPECT_TRUE(detail::constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
    EXPECT_FALSE(detail::constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(AuthConstantTime, DigestIsSha256)
{
    // SHA-256("abc"), FIPS 180-2 appendix B.1.
    const auto d = detail::sha256("abc");
    EXPECT_EQ(d[0], 0xba);
    EXPECT_EQ(d[1], 0x78);
    EXPECT_EQ(d[31], 0xad);
}

TEST(AuthAdminKey, ExactKeyIsServicePrincipal)
{
    const Verifier v(admin_config());
    EXPECT_TRUE(v.admin_key_enabled());
    const auto result = v.authenticate("Bearer " + kAdminKey);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.principal->kind, Principal::Kind::Service);
    EXPECT_EQ(result.principal->role, "service_role");
    EXPECT_TRUE(result.principal->user_id.empty());
}

TEST(AuthAdminKey, NearMissesAreRefused)
{
    const Verifier v(admin_config());
    std::string last_changed = kAdminKey;
    last_changed.back() = 'x';
    // Not a JWT either, so each falls through to JWT parsing and fails there.
    EXPECT_EQ(v.authenticate("Bearer " + last_changed).failure, Failure::Malformed);
    EXPECT_EQ(v.authenticate("Bearer " + kAdminKey.substr(0, kAdminKey.size() - 1)).failure, Failure::Malformed);
    EXPECT_EQ(v.authenticate("Bearer " + kAdminKey + "0").failure, Failure::Malformed);
    EXPECT_EQ(v.authenticate("Basic " + kAdminKey).failure, Failure::BadScheme);
    // verify_token() is for JWTs only: the admin key is not accepted there.
    EXPECT_FALSE(v.verify_token(kAdminKey).ok());
}

TEST(AuthAdminKey, DisabledWhenEmpty)
{
    VerifierConfig c;
    c.hs256_secret = kSecret;
    const Verifier v(c);
    EXPECT_FALSE(v.admin_key_enabled());
    EXPECT_FALSE(v.authenticate("Bearer " + kAdminKey).ok());
}

TEST(AuthAdminKey, UnsendableKeyRejectedAtConstruction)
{
    VerifierConfig c = admin_config();
    c.admin_api_key = "has a space";
    try {
        const Verifier v(c);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError &e) {
        EXPECT_EQ(std::string(e.what()).find("has a space"), std::string::npos);  // value not echoed
        EXPECT_NE(std::string(e.what()).find("ADMIN_API_KEY"), std::string::npos);
    }
}

}  // namespace
}  // namespace nw::auth
