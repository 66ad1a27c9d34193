// Operators (docs/http-api.md "Operators"): the app_metadata flag, the actor
// recorded for a request, and the operator routes' metric templates.
#include <gtest/gtest.h>

#include "auth/internal.hpp"
#include "http/admin_routes.hpp"
#include "core/validation.hpp"

namespace nw::auth::detail {
namespace {

using nlohmann::json;

constexpr std::int64_t kNow = 1'700'000'000;
const char *const kUser = "6f1b0c52-3d3e-4d7a-9c55-2b8f1e4a9d10";

ClaimRules Rules()
{
    ClaimRules r;
    r.now = kNow;
    r.leeway = 30;
    return r;
}

json UserClaims()
{
    return json{{"sub", kUser}, {"aud", "authenticated"}, {"role", "authenticated"}, {"exp", kNow + 3600}};
}

Principal PrincipalOf(const json &claims)
{
    const auto result = evaluate_claims(claims, false, Rules());
    EXPECT_TRUE(result.ok());
    return result.ok() ? *result.principal : Principal{};
}

TEST(AuthOperator, FlagInAppMetadataMakesAnOperator)
{
    auto c = UserClaims();
    c["app_metadata"] = {{"provider", "email"}, {"number_wallet_operator", true}};
    const Principal p = PrincipalOf(c);
    EXPECT_TRUE(p.is_operator);
    EXPECT_TRUE(p.is_admin());
    EXPECT_FALSE(p.is_service());
    EXPECT_EQ(p.user_id, kUser);
}

TEST(AuthOperator, OnlyJsonTrueCounts)
{
    for (const json &value : {json(false), json("true"), json(1), json(nullptr), json::array({true}), json::object()}) {
        auto c = UserClaims();
        c["app_metadata"] = {{"number_wallet_operator", value}};
        EXPECT_FALSE(PrincipalOf(c).is_operator) << value.dump();
    }
}

TEST(AuthOperator, FlagOutsideAppMetadataCountsForNothing)
{
    auto c = UserClaims();
    c["number_wallet_operator"] = true;  // top level: anyone's own claim
    EXPECT_FALSE(PrincipalOf(c).is_operator);
    c = UserClaims();
    c["user_metadata"] = {{"number_wallet_operator", true}};  // user_metadata is writable by the user
    EXPECT_FALSE(PrincipalOf(c).is_operator);
    c = UserClaims();
    c["app_metadata"] = "number_wallet_operator";
    EXPECT_FALSE(PrincipalOf(c).is_operator);
    EXPECT_FALSE(PrincipalOf(UserClaims()).is_admin());
}

TEST(AuthOperator, AnonymousUsersAreNeverOperators)
{
    auto c = UserClaims();
    c["is_anonymous"] = true;
    c["app_metadata"] = {{"number_wallet_operator", true}};
    EXPECT_FALSE(PrincipalOf(c).is_operator);
}

TEST(AuthOperator, OperatorClaimParsesAPayload)
{
    EXPECT_TRUE(OperatorClaim(R"({"app_metadata":{"number_wallet_operator":true}})"));
    EXPECT_FALSE(OperatorClaim(R"({"app_metadata":{"number_wallet_operator":"true"}})"));
    EXPECT_FALSE(OperatorClaim(R"({"app_metadata":{}})"));
    EXPECT_FALSE(OperatorClaim("not json"));
    EXPECT_FALSE(OperatorClaim("[]"));
}

TEST(AuthOperator, ActorIsSubAndEmailOrTheServiceKind)
{
    auto c = UserClaims();
    c["app_metadata"] = {{"number_wallet_operator", true}};
    EXPECT_EQ(ActorOf(PrincipalOf(c)), kUser);
    c["email"] = "ops@example.com";
    EXPECT_EQ(ActorOf(PrincipalOf(c)), std::string(kUser) + " (ops@example.com)");
    // An email that cannot be recorded is left out, never passed on.
    c["email"] = "evil\n@example.com";
    EXPECT_EQ(ActorOf(PrincipalOf(c)), kUser);
    c["email"] = std::string(300, 'a') + "@example.com";
    EXPECT_EQ(ActorOf(PrincipalOf(c)), kUser);
    c["email"] = 42;
    EXPECT_EQ(ActorOf(PrincipalOf(c)), kUser);

    Principal service;
    service.kind = Principal::Kind::Service;
    EXPECT_EQ(ActorOf(service), "service");
    service.admin_key = true;
    EXPECT_EQ(ActorOf(service), "admin-key");
    EXPECT_TRUE(service.is_admin());
}

TEST(AuthOperator, ServiceTokensStayServices)
{
    json c = {{"role", "service_role"}, {"iss", "supabase"}, {"exp", kNow + 3600}};
    const auto result = evaluate_claims(c, true, Rules());
    ASSERT_TRUE(result.ok());
    EXPECT_TRUE(result.principal->is_service());
    EXPECT_FALSE(result.principal->admin_key);
    EXPECT_EQ(ActorOf(*result.principal), "service");
}

TEST(CoreAudit, ReasonIsOneToFiveHundredCharacters)
{
    EXPECT_TRUE(IsOperatorReason("x"));
    EXPECT_TRUE(IsOperatorReason("line one\nline two"));
    EXPECT_TRUE(IsOperatorReason(std::string(500, 'r')));
    std::string accents;
    for (int i = 0; i < 500; ++i)
        accents += "\xc3\xa9";  // é: 500 characters, 1000 bytes
    EXPECT_TRUE(IsOperatorReason(accents));
    EXPECT_FALSE(IsOperatorReason(accents + "\xc3\xa9"));
    EXPECT_FALSE(IsOperatorReason(std::string(501, 'r')));
    EXPECT_FALSE(IsOperatorReason(""));
    EXPECT_FALSE(IsOperatorReason(" \n\t "));
    EXPECT_FALSE(IsOperatorReason("bell\x07"));
    EXPECT_FALSE(IsOperatorReason("bad \xff utf-8"));
}

TEST(CoreAudit, RequestIdsArePlainTokens)
{
    EXPECT_TRUE(IsRequestId("6f1b0c52-3d3e-4d7a-9c55-2b8f1e4a9d10"));
    EXPECT_TRUE(IsRequestId("req-0001.a:b_c"));
    EXPECT_TRUE(IsRequestId(std::string(kMaxRequestIdChars, 'a')));
    EXPECT_FALSE(IsRequestId(std::string(kMaxRequestIdChars + 1, 'a')));
    EXPECT_FALSE(IsRequestId(""));
    EXPECT_FALSE(IsRequestId("has space"));
    EXPECT_FALSE(IsRequestId("semi;colon"));
    EXPECT_FALSE(IsRequestId("new\nline"));
}

TEST(CoreAudit, ActorsAreOneLineOfText)
{
    EXPECT_TRUE(IsAuditActor("service"));
    EXPECT_TRUE(IsAuditActor("6f1b0c52-3d3e-4d7a-9c55-2b8f1e4a9d10 (ops@example.com)"));
    EXPECT_TRUE(IsAuditActor(std::string(kMaxActorChars, 'a')));
    EXPECT_FALSE(IsAuditActor(std::string(kMaxActorChars + 1, 'a')));
    EXPECT_FALSE(IsAuditActor(""));
    EXPECT_FALSE(IsAuditActor("two\nlines"));
}

TEST(AdminRoutes, TemplatesAreAFixedSet)
{
    using nw::http::AdminRouteTemplate;
    EXPECT_STREQ(AdminRouteTemplate("/api/admin/audit"), "/api/admin/audit");
    EXPECT_STREQ(AdminRouteTemplate("/api/admin/numbers"), "/api/admin/numbers");
    EXPECT_STREQ(AdminRouteTemplate("/api/admin/numbers/abc/fail"), "/api/admin/numbers/{id}/fail");
    EXPECT_STREQ(AdminRouteTemplate("/api/admin/numbers/abc/confirm"), "/api/admin/numbers/{id}/confirm");
    EXPECT_STREQ(AdminRouteTemplate("/api/admin/numbers/abc/release"), "/api/admin/numbers/{id}/release");
    EXPECT_STREQ(AdminRouteTemplate("/api/admin/wallets/u/adjust"), "/api/admin/wallets/{userId}/adjust");
    EXPECT_STREQ(AdminRouteTemplate("/api/admin/discrepancies/7/resolve"), "/api/admin/discrepancies/{id}/resolve");
    EXPECT_STREQ(AdminRouteTemplate("/api/admin/users/u"), "/api/admin/users/{userId}");
    EXPECT_EQ(AdminRouteTemplate("/api/admin/users/u/x"), nullptr);
    EXPECT_EQ(AdminRouteTemplate("/api/admin/numbers/a/b/fail"), nullptr);
    EXPECT_EQ(AdminRouteTemplate("/api/admin/numbers//fail"), nullptr);
    EXPECT_EQ(AdminRouteTemplate("/api/admin/whatever"), nullptr);
}

}  // namespace
}  // namespace nw::auth::detail
