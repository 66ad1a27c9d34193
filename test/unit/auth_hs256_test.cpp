// End-to-end Verifier tests with HS256 tokens (Supabase's legacy secret),
// signed here with OpenSSL's HMAC, plus algorithm-confusion and parsing attacks.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "auth/internal.hpp"

namespace nw::auth {
namespace {

using detail::base64url_encode;
using nlohmann::json;

constexpr std::int64_t kNow = 1'700'000'000;
const std::string kSecret = "super-secret-jwt-token-with-at-least-32-characters-long";
const std::string kUrl = "https://abcdefgh.supabase.co";
const char *const kUser = "0b7c1e9a-5f2d-4c3b-8a61-7d9e2f4c6b80";

std::string hmac_sha256(const std::string &key, const std::string &data)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char *>(data.data()),
         data.size(), mac, &len);
    return std::string(reinterpret_cast<char *>(mac), len);
}

std::string sign_hs(const json &header, const json &payload, const std::string &key = kSecret)
{
    const std::string input = base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());
    return input + "." + base64url_encode(hmac_sha256(key, input));
}

json hs_header()
{
    return json{{"alg", "HS256"}, {"typ", "JWT"}};
}

json user_claims()
{
    return json{{"iss", kUrl + "/auth/v1"},
                {"sub", kUser},
                {"aud", "authenticated"},
                {"role", "authenticated"},
                {"exp", kNow + 3600},
                {"iat", kNow - 5},
                {"session_id", "5b2a0d6e-1f3c-4e8a-9d7b-3c6f1a2e4d90"},
                {"is_anonymous", false}};
}

VerifierConfig config(bool with_url = true)
{
    VerifierConfig c;
    c.hs256_secret = kSecret;
    if (with_url)
        c.supabase_url = kUrl;
    c.clock = [] { return kNow; };
    return c;
}

Failure failure_of(const std::string &token, const VerifierConfig &c = config())
{
    return Verifier(c).verify_token(token).failure;
}

// An RSA public key in PEM, the secret of the classic HS/RS confusion attack.
std::string rsa_public_pem()
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char *data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    EVP_PKEY_free(key);
    return pem;
}

TEST(AuthHs256, ValidUserToken)
{
    const Verifier v(config());
    const auto result = v.authenticate("Bearer " + sign_hs(hs_header(), user_claims()));
    ASSERT_TRUE(result.ok()) << to_string(result.failure);
    EXPECT_EQ(result.principal->kind, Principal::Kind::User);
    EXPECT_EQ(result.principal->user_id, kUser);
    EXPECT_FALSE(result.principal->anonymous);
    EXPECT_EQ(result.principal->role, "authenticated");
    EXPECT_EQ(v.expected_issuer(), kUrl + "/auth/v1");
}

TEST(AuthHs256, UpperCaseSubIsNormalised)
{
    auto claims = user_claims();
    claims["sub"] = "0B7C1E9A-5F2D-4C3B-8A61-7D9E2F4C6B80";
    const auto result = Verifier(config()).verify_token(sign_hs(hs_header(), claims));
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.principal->user_id, kUser);
}

TEST(AuthHs256, AlgNoneRefused)
{
    const auto unsigned_part =
        base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + base64url_encode(user_claims().dump());
    EXPECT_EQ(failure_of(unsigned_part + "."), Failure::Malformed);  // empty signature
    // Even with something in the signature slot, "none" (any case) is not an algorithm we run.
    EXPECT_EQ(failure_of(unsigned_part + "." + base64url_encode("x")), Failure::AlgorithmNotAllowed);
    const auto upper = base64url_encode(R"({"alg":"NONE"})") + "." + base64url_encode(user_claims().dump());
    EXPECT_EQ(failure_of(upper + "." + base64url_encode("x")), Failure::AlgorithmNotAllowed);
}

TEST(AuthHs256, OtherHmacAlgorithmsRefused)
{
    // A correctly computed HS512-labelled token is still refused: only HS256 is configured.
    const json header{{"alg", "HS512"}, {"typ", "JWT"}};
    EXPECT_EQ(failure_of(sign_hs(header, user_claims())), Failure::AlgorithmNotAllowed);
}

TEST(AuthHs256, KeyConfusionWithRsaPublicKeyRefused)
{
    // HS256 signed with the PEM of a public key: checked against the secret only.
    const std::string pem = rsa_public_pem();
    EXPECT_EQ(failure_of(sign_hs(hs_header(), user_claims(), pem)), Failure::BadSignature);
}

TEST(AuthHs256, Rs256TokenWhenOnlyHs256ConfiguredRefused)
{
    const json header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "k1"}};
    const std::string input = base64url_encode(header.dump()) + "." + base64url_encode(user_claims().dump());
    EXPECT_EQ(failure_of(input + "." + base64url_encode(std::string(256, 'x'))), Failure::AlgorithmNotAllowed);
}

TEST(AuthHs256, ExpiryLeeway)
{
    auto claims = user_claims();
    claims["exp"] = kNow - 20;  // expired, but within 30 s of skew
    EXPECT_TRUE(Verifier(config()).verify_token(sign_hs(hs_header(), claims)).ok());
    claims["exp"] = kNow - 31;
    EXPECT_EQ(failure_of(sign_hs(hs_header(), claims)), Failure::Expired);
    claims.erase("exp");
    EXPECT_EQ(failure_of(sign_hs(hs_header(), claims)), Failure::MissingExpiry);
}

TEST(AuthHs256, NotBeforeInFuture)
{
    auto claims = user_claims();
    claims["nbf"] = kNow + 120;
    EXPECT_EQ(failure_of(sign_hs(hs_header(), claims)), Failure::NotYetValid);
}

TEST(AuthHs256, AudienceRules)
{
    auto claims = user_claims();
    claims["aud"] = "anon";
    EXPECT_EQ(failure_of(sign_hs(hs_header(), claims)), Failure::BadAudience);
    claims["aud"] = json::array({"https://api.example", "authenticated"});
    EXPECT_TRUE(Verifier(config()).verify_token(sign_hs(hs_header(), claims)).ok());
}

TEST(AuthHs256, SubjectRules)
{
    auto claims = user_claims();
    claims.erase("sub");
    EXPECT_EQ(failure_of(sign_hs(hs_header(), claims)), Failure::BadSubject);
    claims["sub"] = "not-a-uuid";
    EXPECT_EQ(failure_of(sign_hs(hs_header(), claims)), Failure::BadSubject);
}

TEST(AuthHs256, IssuerCheckedWhenSupabaseUrlSet)
{
    auto claims = user_claims();
    claims["iss"] = "https://other.supabase.co/auth/v1";
    EXPECT_EQ(failure_of(sign_hs(hs_header(), claims)), Failure::BadIssuer);
    EXPECT_TRUE(Verifier(config(false)).verify_token(sign_hs(hs_header(), claims)).ok());
    // A trailing slash on SUPABASE_URL does not change the expected issuer.
    auto c = config();
    c.supabase_url = kUrl + "/";
    EXPECT_TRUE(Verifier(c).verify_token(sign_hs(hs_header(), user_claims())).ok());
}

TEST(AuthHs256, TamperedPayloadRefused)
{
    const std::string token = sign_hs(hs_header(), user_claims());
    auto claims = user_claims();
    claims["sub"] = "11111111-2222-4333-8444-555555555555";
    const std::size_t dot1 = token.find('.'), dot2 = token.rfind('.');
    const std::string forged = token.substr(0, dot1 + 1) + base64url_encode(claims.dump()) + token.substr(dot2);
    EXPECT_EQ(failure_of(forged), Failure::BadSignature);
}

TEST(AuthHs256, TamperedSignatureRefused)
{
    std::string token = sign_hs(hs_header(), user_claims());
    const std::size_t first_sig_char = token.rfind('.') + 1;
    token[first_sig_char] = token[first_sig_char] == 'A' ? 'B' : 'A';
    EXPECT_EQ(failure_of(token), Failure::BadSignature);
    // Signed with another secret of valid length.
    EXPECT_EQ(failure_of(sign_hs(hs_header(), user_claims(), std::string(32, 'z'))), Failure::BadSignature);
}

TEST(AuthHs256, OversizedTokenRefusedBeforeParsing)
{
    auto claims = user_claims();
    claims["padding"] = std::string(kMaxTokenBytes, 'p');
    const std::string token = sign_hs(hs_header(), claims);
    ASSERT_GT(token.size(), kMaxTokenBytes);
    EXPECT_EQ(failure_of(token), Failure::TokenTooLarge);
    EXPECT_EQ(Verifier(config()).authenticate("Bearer " + token).failure, Failure::TokenTooLarge);
}

TEST(AuthHs256, MalformedTokensRefused)
{
    const std::string good = sign_hs(hs_header(), user_claims());
    const std::string sig = good.substr(good.rfind('.'));
    EXPECT_EQ(failure_of("not-a-jwt"), Failure::Malformed);
    EXPECT_EQ(failure_of("a.b.c"), Failure::Malformed);  // decodes, but not JSON
    EXPECT_EQ(failure_of("%%%." + base64url_encode(user_claims().dump()) + sig), Failure::Malformed);
    EXPECT_EQ(failure_of(base64url_encode("{\"alg\":\"HS256\"") + "." + base64url_encode("{}") + sig),
              Failure::Malformed);
    // Header without alg, alg not a string, unknown crit extension, foreign typ.
    EXPECT_EQ(failure_of(sign_hs(json{{"typ", "JWT"}}, user_claims())), Failure::Malformed);
    EXPECT_EQ(failure_of(sign_hs(json{{"alg", 1}}, user_claims())), Failure::Malformed);
    EXPECT_EQ(failure_of(sign_hs(json{{"alg", "HS256"}, {"crit", {"exp"}}}, user_claims())), Failure::Malformed);
    EXPECT_EQ(failure_of(sign_hs(json{{"alg", "HS256"}, {"typ", "JWE"}}, user_claims())), Failure::Malformed);
}

TEST(AuthHs256, DuplicateClaimRefused)
{
    // A validly signed payload naming sub twice: parsers disagree on which wins.
    const std::string payload = std::string(R"({"sub":")") + kUser +
                                R"(","sub":"11111111-2222-4333-8444-555555555555","aud":"authenticated","exp":)" +
                                std::to_string(kNow + 3600) + "}";
    const std::string input = base64url_encode(hs_header().dump()) + "." + base64url_encode(payload);
    EXPECT_EQ(failure_of(input + "." + base64url_encode(hmac_sha256(kSecret, input))), Failure::Malformed);
}

TEST(AuthHs256, ServiceRoleTokenIsService)
{
    const json claims{{"iss", "supabase"},
                      {"ref", "abcdefgh"},
                      {"role", "service_role"},
                      {"iat", kNow - 86400},
                      {"exp", kNow + 315360000}};
    const auto result = Verifier(config()).authenticate("Bearer " + sign_hs(hs_header(), claims));
    ASSERT_TRUE(result.ok()) << to_string(result.failure);
    EXPECT_EQ(result.principal->kind, Principal::Kind::Service);
    EXPECT_TRUE(result.principal->is_service());
    EXPECT_TRUE(result.principal->user_id.empty());
}

TEST(AuthHs256, AnonKeyIsNotAUser)
{
    const json claims{{"iss", "supabase"}, {"ref", "abcdefgh"}, {"role", "anon"}, {"exp", kNow + 3600}};
    EXPECT_EQ(failure_of(sign_hs(hs_header(), claims)), Failure::BadAudience);
}

TEST(AuthHs256, AnonymousUserFlagged)
{
    auto claims = user_claims();
    claims["is_anonymous"] = true;
    const auto result = Verifier(config()).verify_token(sign_hs(hs_header(), claims));
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.principal->kind, Principal::Kind::User);
    EXPECT_TRUE(result.principal->anonymous);
}

TEST(AuthHs256, ShortSecretRejectedAtConstruction)
{
    auto c = config();
    c.hs256_secret = std::string(31, 'k');
    try {
        const Verifier v(c);
        FAIL() << "expected ConfigError";
    } catch (const ConfigError &e) {
        EXPECT_NE(std::string(e.what()).find("SUPABASE_JWT_SECRET"), std::string::npos);
        EXPECT_EQ(std::string(e.what()).find(c.hs256_secret), std::string::npos);
    }
    c.hs256_secret = std::string(32, 'k');
    EXPECT_NO_THROW(Verifier{c});
}

TEST(AuthHs256, NoKeyAtAllRejectedAtConstruction)
{
    VerifierConfig c;
    c.admin_api_key = "only-an-admin-key";
    EXPECT_THROW(Verifier{c}, ConfigError);
}

TEST(AuthHs256, FailureNamesNeverCarryTokenText)
{
    const Verifier v(config());
    const std::string token = sign_hs(hs_header(), json{{"sub", "x"}, {"exp", kNow + 60}});
    const auto result = v.authenticate("Bearer " + token);
    ASSERT_FALSE(result.ok());
    EXPECT_STREQ(to_string(result.failure), "bad_audience");
    EXPECT_STREQ(www_authenticate(result.failure), "Bearer error=\"invalid_token\"");
    EXPECT_STREQ(www_authenticate(v.authenticate("").failure), "Bearer");
    // Every failure name is a fixed snake_case word: no room for token or secret text.
    for (int f = static_cast<int>(Failure::None); f <= static_cast<int>(Failure::RoleNotAllowed); ++f) {
        const std::string name = to_string(static_cast<Failure>(f));
        EXPECT_NE(name, "unknown");
        EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string::npos) << name;
    }
}

}  // namespace
}  // namespace nw::auth
