// Unit tests of the claim rules (evaluate_claims), independent of signatures.
#include <gtest/gtest.h>

#include "auth/internal.hpp"

namespace nw::auth::detail {
namespace {

using nlohmann::json;

constexpr std::int64_t kNow = 1'700'000'000;
const char *const kUser = "6f1b0c52-3d3e-4d7a-9c55-2b8f1e4a9d10";

ClaimRules rules(std::string issuer = "")
{
    ClaimRules r;
    r.expected_issuer = std::move(issuer);
    r.now = kNow;
    r.leeway = 30;
    return r;
}

json user_claims()
{
    return json{
        {"sub", kUser}, {"aud", "authenticated"}, {"role", "authenticated"}, {"exp", kNow + 3600}, {"iat", kNow - 10}};
}

Failure failure_of(const json &claims, bool legacy = true, const ClaimRules &r = rules())
{
    return evaluate_claims(claims, legacy, r).failure;
}

TEST(AuthClaims, AcceptsUserToken)
{
    const auto result = evaluate_claims(user_claims(), false, rules());
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.principal->kind, Principal::Kind::User);
    EXPECT_EQ(result.principal->user_id, kUser);
    EXPECT_EQ(result.principal->role, "authenticated");
    EXPECT_FALSE(result.principal->anonymous);
}

TEST(AuthClaims, ExpiryHasThirtySecondLeeway)
{
    auto c = user_claims();
    c["exp"] = kNow - 29;
    EXPECT_TRUE(evaluate_claims(c, true, rules()).ok());
    c["exp"] = kNow - 30;
    EXPECT_EQ(failure_of(c), Failure::Expired);
    c["exp"] = kNow - 31;
    EXPECT_EQ(failure_of(c), Failure::Expired);
}

TEST(AuthClaims, ExpIsRequiredAndNumeric)
{
    auto c = user_claims();
    c.erase("exp");
    EXPECT_EQ(failure_of(c), Failure::MissingExpiry);
    c["exp"] = std::to_string(kNow + 3600);
    EXPECT_EQ(failure_of(c), Failure::BadClaims);
    c["exp"] = true;
    EXPECT_EQ(failure_of(c), Failure::BadClaims);
    c["exp"] = static_cast<double>(kNow) + 60.5;  // fractional NumericDate is legal
    EXPECT_TRUE(evaluate_claims(c, true, rules()).ok());
}

TEST(AuthClaims, NbfAndIatHonoured)
{
    auto c = user_claims();
    c["nbf"] = kNow + 31;
    EXPECT_EQ(failure_of(c), Failure::NotYetValid);
    c["nbf"] = kNow + 30;  // within leeway
    EXPECT_TRUE(evaluate_claims(c, true, rules()).ok());
    c["nbf"] = "soon";
    EXPECT_EQ(failure_of(c), Failure::BadClaims);
    c.erase("nbf");
    c["iat"] = kNow + 120;
    EXPECT_EQ(failure_of(c), Failure::IssuedInFuture);
}

TEST(AuthClaims, AudienceMustBeOrContainAuthenticated)
{
    auto c = user_claims();
    c["aud"] = "anon";
    EXPECT_EQ(failure_of(c), Failure::BadAudience);
    c["aud"] = json::array({"other", "authenticated"});
    EXPECT_TRUE(evaluate_claims(c, true, rules()).ok());
    c["aud"] = json::array({"other"});
    EXPECT_EQ(failure_of(c), Failure::BadAudience);
    c.erase("aud");
    EXPECT_EQ(failure_of(c), Failure::BadAudience);
}

TEST(AuthClaims, SubjectMustBeUuid)
{
    auto c = user_claims();
    c.erase("sub");
    EXPECT_EQ(failure_of(c), Failure::BadSubject);
    c["sub"] = "user-42";
    EXPECT_EQ(failure_of(c), Failure::BadSubject);
    c["sub"] = 42;
    EXPECT_EQ(failure_of(c), Failure::BadSubject);
    c["sub"] = "6F1B0C52-3D3E-4D7A-9C55-2B8F1E4A9D10";
    const auto result = evaluate_claims(c, true, rules());
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.principal->user_id, kUser);
}

TEST(AuthClaims, IssuerCheckedOnlyWhenConfigured)
{
    const std::string iss = "https://ref.supabase.co/auth/v1";
    auto c = user_claims();
    EXPECT_EQ(failure_of(c, false, rules(iss)), Failure::BadIssuer);  // missing
    c["iss"] = "https://evil.example/auth/v1";
    EXPECT_EQ(failure_of(c, false, rules(iss)), Failure::BadIssuer);
    EXPECT_TRUE(evaluate_claims(c, false, rules()).ok());  // not configured: not checked
    c["iss"] = iss;
    EXPECT_TRUE(evaluate_claims(c, false, rules(iss)).ok());
}

TEST(AuthClaims, AnonymousFlag)
{
    auto c = user_claims();
    c["is_anonymous"] = true;
    auto result = evaluate_claims(c, true, rules());
    ASSERT_TRUE(result.ok());
    EXPECT_TRUE(result.principal->anonymous);
    c["is_anonymous"] = false;
    result = evaluate_claims(c, true, rules());
    ASSERT_TRUE(result.ok());
    EXPECT_FALSE(result.principal->anonymous);
    c["is_anonymous"] = "true";
    EXPECT_EQ(failure_of(c), Failure::BadClaims);
}

TEST(AuthClaims, ServiceRoleOnlyWithLegacySecret)
{
    const json service{
        {"iss", "supabase"}, {"ref", "abc"}, {"role", "service_role"}, {"iat", kNow - 100}, {"exp", kNow + 3600}};
    const auto result = evaluate_claims(service, true, rules("https://ref.supabase.co/auth/v1"));
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.principal->kind, Principal::Kind::Service);
    EXPECT_TRUE(result.principal->user_id.empty());
    EXPECT_EQ(failure_of(service, false), Failure::RoleNotAllowed);

    auto other_iss = service;
    other_iss["iss"] = "https://evil.example";
    EXPECT_EQ(failure_of(other_iss), Failure::BadIssuer);

    auto user_with_service_role = user_claims();
    user_with_service_role["role"] = "service_role";
    EXPECT_EQ(failure_of(user_with_service_role, false), Failure::RoleNotAllowed);
}

TEST(AuthClaims, ServiceTokenStillNeedsValidTimes)
{
    const json expired{{"iss", "supabase"}, {"role", "service_role"}, {"exp", kNow - 3600}};
    EXPECT_EQ(failure_of(expired), Failure::Expired);
    const json no_exp{{"iss", "supabase"}, {"role", "service_role"}};
    EXPECT_EQ(failure_of(no_exp), Failure::MissingExpiry);
}

TEST(AuthClaims, AnonKeyIsNotAUser)
{
    const json anon_key{{"iss", "supabase"}, {"role", "anon"}, {"exp", kNow + 3600}};
    EXPECT_EQ(failure_of(anon_key), Failure::BadAudience);
}

TEST(AuthClaims, RoleMustBeAString)
{
    auto c = user_claims();
    c["role"] = json::array({"service_role"});
    EXPECT_EQ(failure_of(c), Failure::BadClaims);
}

}  // namespace
}  // namespace nw::auth::detail

namespace nw::auth::detail {
namespace {

// The shim caches a verified token until accept_until: exactly when
// check_times would start refusing it (now >= exp + leeway).
TEST(AuthClaims, AcceptUntilIsExpiryPlusLeeway)
{
    ClaimRules r;
    r.now = 1'700'000'000;
    r.leeway = 30;
    json claims{{"sub", "6f1b0c52-3d3e-4d7a-9c55-2b8f1e4a9d10"}, {"aud", "authenticated"}, {"exp", r.now + 100}};
    auto result = evaluate_claims(claims, false, r);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.principal->accept_until, r.now + 130);
    claims["exp"] = static_cast<double>(r.now) + 100.5;
    EXPECT_EQ(evaluate_claims(claims, false, r).principal->accept_until, r.now + 131);
    r.now += 130;
    claims["exp"] = r.now - 30;
    EXPECT_EQ(evaluate_claims(claims, false, r).failure, Failure::Expired);
}

}  // namespace
}  // namespace nw::auth::detail
