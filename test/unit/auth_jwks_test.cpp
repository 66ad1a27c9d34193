// Verifier tests with asymmetric keys from a JWKS: keys are generated here with
// OpenSSL, published as JWK JSON, and tokens signed with the private halves
// (ES256 signatures converted from OpenSSL's DER to JWS's raw R||S).
#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "auth/internal.hpp"

namespace nw::auth {
namespace {

using detail::base64url_encode;
using nlohmann::json;

constexpr std::int64_t kNow = 1'700'000'000;
const std::string kUrl = "https://abcdefgh.supabase.co";
const std::string kSecret(48, 'q');
const char *const kUser = "c9d8e7f6-a5b4-4c3d-9e2f-1a0b9c8d7e6f";

struct PkeyFree {
    void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string bn_bytes(const BIGNUM *bn)
{
    std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char *>(out.data()));
    return out;
}

json ec_jwk(EVP_PKEY *key, const std::string &kid)
{
    unsigned char point[65];
    std::size_t len = 0;
    EXPECT_EQ(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len), 1);
    EXPECT_EQ(len, 65u);  // 0x04 || x || y
    const std::string raw(reinterpret_cast<char *>(point), len);
    return json{{"kty", "EC"},
                {"crv", "P-256"},
                {"alg", "ES256"},
                {"use", "sig"},
                {"kid", kid},
                {"key_ops", {"verify"}},
                {"x", base64url_encode(raw.substr(1, 32))},
                {"y", base64url_encode(raw.substr(33, 32))}};
}

json rsa_jwk(EVP_PKEY *key, const std::string &kid)
{
    BIGNUM *n = nullptr;
    BIGNUM *e = nullptr;
    EXPECT_EQ(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    EXPECT_EQ(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    json jwk{{"kty", "RSA"},
             {"alg", "RS256"},
             {"use", "sig"},
             {"kid", kid},
             {"n", base64url_encode(bn_bytes(n))},
             {"e", base64url_encode(bn_bytes(e))}};
    BN_free(n);
    BN_free(e);
    return jwk;
}

std::string public_pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char *data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    return pem;
}

// SHA-256 signature in OpenSSL's native form (DER for ECDSA, PKCS#1 v1.5 for RSA).
std::string native_signature(EVP_PKEY *key, const std::string &input)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
    EXPECT_EQ(EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char *>(input.data()), input.size()),
              1);
    std::string sig(len, '\0');
    EXPECT_EQ(EVP_DigestSign(ctx, reinterpret_cast<unsigned char *>(sig.data()), &len,
                             reinterpret_cast<const unsigned char *>(input.data()), input.size()),
              1);
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    return sig;
}

std::string der_to_raw(const std::string &der)
{
    const auto *p = reinterpret_cast<const unsigned char *>(der.data());
    ECDSA_SIG *sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    const BIGNUM *r = nullptr;
    const BIGNUM *s = nullptr;
    ECDSA_SIG_get0(sig, &r, &s);
    unsigned char raw[64];
    BN_bn2binpad(r, raw, 32);
    BN_bn2binpad(s, raw + 32, 32);
    ECDSA_SIG_free(sig);
    return std::string(reinterpret_cast<char *>(raw), 64);
}

std::string signing_input(const json &header, const json &payload)
{
    return base64url_encode(header.dump()) + "." + base64url_encode(payload.dump());
}

// alg "ES256" or "RS256"; kid omitted from the header when empty.
std::string sign(EVP_PKEY *key, const std::string &alg, const std::string &kid, const json &payload)
{
    json header{{"alg", alg}, {"typ", "JWT"}};
    if (!kid.empty())
        header["kid"] = kid;
    const std::string input = signing_input(header, payload);
    std::string sig = native_signature(key, input);
    if (alg == "ES256")
        sig = der_to_raw(sig);
    return input + "." + base64url_encode(sig);
}

std::string sign_hs(const std::string &secret, const json &header, const json &payload)
{
    const std::string input = signing_input(header, payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char *>(input.data()), input.size(), mac, &len);
    return input + "." + base64url_encode(std::string(reinterpret_cast<char *>(mac), len));
}

json user_claims()
{
    return json{{"iss", kUrl + "/auth/v1"}, {"sub", kUser},       {"aud", "authenticated"},
                {"role", "authenticated"},  {"exp", kNow + 3600}, {"iat", kNow}};
}

class AuthJwks : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        ec1_.reset(EVP_EC_gen("P-256"));
        ec2_.reset(EVP_EC_gen("P-256"));
        rsa_.reset(EVP_RSA_gen(2048));
    }
    static void TearDownTestSuite()
    {
        ec1_.reset();
        ec2_.reset();
        rsa_.reset();
    }

    static std::string jwks(std::initializer_list<json> keys)
    {
        json array = json::array();
        for (const auto &key : keys)
            array.push_back(key);
        return json{{"keys", array}}.dump();
    }

    static VerifierConfig config(const std::string &jwks_text, bool with_secret = false)
    {
        VerifierConfig c;
        c.jwks_json = jwks_text;
        if (with_secret)
            c.hs256_secret = kSecret;
        c.supabase_url = kUrl;
        c.clock = [] { return kNow; };
        return c;
    }

    static VerifierConfig standard(bool with_secret = false)
    {
        return config(jwks({ec_jwk(ec1_.get(), "ec-1"), ec_jwk(ec2_.get(), "ec-2"), rsa_jwk(rsa_.get(), "rsa-1")}),
                      with_secret);
    }

    static Key ec1_, ec2_, rsa_;
};

Key AuthJwks::ec1_, AuthJwks::ec2_, AuthJwks::rsa_;

TEST_F(AuthJwks, Es256TokenWithKid)
{
    const Verifier v(standard());
    EXPECT_EQ(v.jwks_summary().usable, 3u);
    const auto result = v.authenticate("Bearer " + sign(ec1_.get(), "ES256", "ec-1", user_claims()));
    ASSERT_TRUE(result.ok()) << to_string(result.failure);
    EXPECT_EQ(result.principal->kind, Principal::Kind::User);
    EXPECT_EQ(result.principal->user_id, kUser);
}

TEST_F(AuthJwks, Rs256TokenWithKid)
{
    const auto result = Verifier(standard()).verify_token(sign(rsa_.get(), "RS256", "rsa-1", user_claims()));
    ASSERT_TRUE(result.ok()) << to_string(result.failure);
    EXPECT_EQ(result.principal->user_id, kUser);
}

TEST_F(AuthJwks, NoKidTriesKeysOfTheTokenAlgorithm)
{
    const Verifier v(standard());
    EXPECT_TRUE(v.verify_token(sign(ec2_.get(), "ES256", "", user_claims())).ok());
    EXPECT_TRUE(v.verify_token(sign(rsa_.get(), "RS256", "", user_claims())).ok());
}

TEST_F(AuthJwks, KidPinsTheKey)
{
    const Verifier v(standard());
    // Signed by ec-2 but claiming ec-1: only ec-1 is tried.
    EXPECT_EQ(v.verify_token(sign(ec2_.get(), "ES256", "ec-1", user_claims())).failure, Failure::BadSignature);
    EXPECT_EQ(v.verify_token(sign(ec1_.get(), "ES256", "ec-9", user_claims())).failure, Failure::UnknownKey);
    // An RSA kid named in an ES256 token is not a key of that algorithm.
    EXPECT_EQ(v.verify_token(sign(ec1_.get(), "ES256", "rsa-1", user_claims())).failure, Failure::UnknownKey);
}

TEST_F(AuthJwks, AlgorithmMustHaveAConfiguredKey)
{
    const Verifier ec_only(config(jwks({ec_jwk(ec1_.get(), "ec-1")})));
    EXPECT_EQ(ec_only.verify_token(sign(rsa_.get(), "RS256", "rsa-1", user_claims())).failure,
              Failure::AlgorithmNotAllowed);
    // Without SUPABASE_JWT_SECRET, HS256 is off altogether.
    EXPECT_EQ(ec_only.verify_token(sign_hs(kSecret, json{{"alg", "HS256"}}, user_claims())).failure,
              Failure::AlgorithmNotAllowed);
}

TEST_F(AuthJwks, HsTokenKeyedWithPublicKeyPemRefused)
{
    // CVE-2015-9235 style: HMAC keyed with the published key's PEM (what a
    // naive libjwt call with that PEM would accept).
    const json header{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "rsa-1"}};
    const std::string rsa_forged = sign_hs(public_pem(rsa_.get()), header, user_claims());
    const std::string ec_forged =
        sign_hs(public_pem(ec1_.get()), json{{"alg", "HS256"}, {"kid", "ec-1"}}, user_claims());
    EXPECT_EQ(Verifier(standard(false)).verify_token(rsa_forged).failure, Failure::AlgorithmNotAllowed);
    EXPECT_EQ(Verifier(standard(false)).verify_token(ec_forged).failure, Failure::AlgorithmNotAllowed);
    EXPECT_EQ(Verifier(standard(true)).verify_token(rsa_forged).failure, Failure::BadSignature);
    EXPECT_EQ(Verifier(standard(true)).verify_token(ec_forged).failure, Failure::BadSignature);
}

TEST_F(AuthJwks, ServiceRoleSignedByJwksKeyIsNotService)
{
    const json claims{{"iss", "supabase"}, {"role", "service_role"}, {"exp", kNow + 3600}};
    const Verifier v(standard(true));
    const auto es = v.verify_token(sign(ec1_.get(), "ES256", "ec-1", claims));
    EXPECT_FALSE(es.ok());
    EXPECT_EQ(es.failure, Failure::RoleNotAllowed);
    // Even dressed as a complete user token.
    auto user_like = user_claims();
    user_like["role"] = "service_role";
    EXPECT_EQ(v.verify_token(sign(rsa_.get(), "RS256", "rsa-1", user_like)).failure, Failure::RoleNotAllowed);
    // The same claims under the legacy secret are the service role.
    const auto hs = v.verify_token(sign_hs(kSecret, json{{"alg", "HS256"}, {"typ", "JWT"}}, claims));
    ASSERT_TRUE(hs.ok());
    EXPECT_EQ(hs.principal->kind, Principal::Kind::Service);
}

TEST_F(AuthJwks, TamperedEs256Refused)
{
    const Verifier v(standard());
    std::string token = sign(ec1_.get(), "ES256", "ec-1", user_claims());
    const std::size_t sig_pos = token.rfind('.') + 1;
    std::string flipped = token;
    flipped[sig_pos + 3] = flipped[sig_pos + 3] == 'A' ? 'B' : 'A';
    EXPECT_EQ(v.verify_token(flipped).failure, Failure::BadSignature);

    auto claims = user_claims();
    claims["sub"] = "11111111-2222-4333-8444-555555555555";
    const std::string forged =
        token.substr(0, token.find('.') + 1) + base64url_encode(claims.dump()) + token.substr(token.rfind('.'));
    EXPECT_EQ(v.verify_token(forged).failure, Failure::BadSignature);
}

TEST_F(AuthJwks, DerEncodedEs256SignatureRefused)
{
    // JWS wants raw R||S; a DER signature over the same input is not valid.
    const json header{{"alg", "ES256"}, {"kid", "ec-1"}};
    const std::string input = signing_input(header, user_claims());
    const std::string der = native_signature(ec1_.get(), input);
    EXPECT_EQ(Verifier(standard()).verify_token(input + "." + base64url_encode(der)).failure, Failure::BadSignature);
}

TEST_F(AuthJwks, TamperedRs256PayloadRefused)
{
    const std::string token = sign(rsa_.get(), "RS256", "rsa-1", user_claims());
    auto claims = user_claims();
    claims["exp"] = kNow + 999999;
    const std::string forged =
        token.substr(0, token.find('.') + 1) + base64url_encode(claims.dump()) + token.substr(token.rfind('.'));
    EXPECT_EQ(Verifier(standard()).verify_token(forged).failure, Failure::BadSignature);
}

TEST_F(AuthJwks, ClaimRulesApplyToJwksTokens)
{
    const Verifier v(standard());
    auto claims = user_claims();
    claims["iss"] = "https://evil.example/auth/v1";
    EXPECT_EQ(v.verify_token(sign(ec1_.get(), "ES256", "ec-1", claims)).failure, Failure::BadIssuer);
    claims = user_claims();
    claims["exp"] = kNow - 60;
    EXPECT_EQ(v.verify_token(sign(ec1_.get(), "ES256", "ec-1", claims)).failure, Failure::Expired);
    claims = user_claims();
    claims["is_anonymous"] = true;
    const auto anon = v.verify_token(sign(ec1_.get(), "ES256", "ec-1", claims));
    ASSERT_TRUE(anon.ok());
    EXPECT_TRUE(anon.principal->anonymous);
}

TEST_F(AuthJwks, UnsupportedKeysAreSkipped)
{
    json enc = ec_jwk(ec1_.get(), "enc");
    enc["use"] = "enc";
    json no_verify = ec_jwk(ec1_.get(), "sign-only");
    no_verify["key_ops"] = json::array({"sign"});
    json p384 = ec_jwk(ec1_.get(), "p384");
    p384["crv"] = "P-384";
    json rs384 = rsa_jwk(rsa_.get(), "rs384");
    rs384["alg"] = "RS384";
    json ps256 = rsa_jwk(rsa_.get(), "ps256");
    ps256["alg"] = "PS256";
    json off_curve = ec_jwk(ec1_.get(), "off-curve");
    off_curve["y"] = base64url_encode(std::string(32, '\x01'));
    json short_x = ec_jwk(ec1_.get(), "short-x");
    short_x["x"] = base64url_encode(std::string(31, '\x01'));
    const json oct{{"kty", "oct"}, {"k", base64url_encode(kSecret)}, {"kid", "hmac"}};
    const json okp{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", base64url_encode(std::string(32, 'a'))}};
    Key small(EVP_RSA_gen(1024));
    const json weak = rsa_jwk(small.get(), "weak");
    const json good = ec_jwk(ec2_.get(), "good");

    const auto set =
        detail::parse_jwks(jwks({enc, no_verify, p384, rs384, ps256, off_curve, short_x, oct, okp, weak, good}));
    ASSERT_EQ(set.keys.size(), 1u);
    EXPECT_EQ(set.keys[0].kid.value(), "good");
    EXPECT_EQ(set.keys[0].alg, detail::Alg::ES256);
    EXPECT_EQ(set.skipped, 10u);

    // A token for a skipped key is not verifiable; the kept key still works.
    const Verifier v(config(jwks({enc, good})));
    EXPECT_EQ(v.verify_token(sign(ec1_.get(), "ES256", "enc", user_claims())).failure, Failure::UnknownKey);
    EXPECT_TRUE(v.verify_token(sign(ec2_.get(), "ES256", "good", user_claims())).ok());
}

TEST_F(AuthJwks, MalformedRsaKeysAreSkipped)
{
    const json good = rsa_jwk(rsa_.get(), "rsa-1");
    json even_n = good;
    std::string n = *detail::base64url_decode(good["n"].get<std::string>());
    n.back() = static_cast<char>(n.back() & ~1);
    even_n["n"] = base64url_encode(n);
    json e_one = good;
    e_one["e"] = base64url_encode(std::string(1, '\x01'));
    json e_even = good;
    e_even["e"] = base64url_encode(std::string(1, '\x04'));
    const auto set = detail::parse_jwks(jwks({even_n, e_one, e_even, good}));
    ASSERT_EQ(set.keys.size(), 1u);
    EXPECT_EQ(set.skipped, 3u);
}

TEST_F(AuthJwks, KeysWithoutOptionalMembersAreUsable)
{
    json bare = ec_jwk(ec1_.get(), "x");
    bare.erase("alg");
    bare.erase("use");
    bare.erase("key_ops");
    bare.erase("kid");
    const Verifier v(config(jwks({bare})));
    EXPECT_TRUE(v.verify_token(sign(ec1_.get(), "ES256", "", user_claims())).ok());
    // A kid in the token cannot match a key that has none.
    EXPECT_EQ(v.verify_token(sign(ec1_.get(), "ES256", "x", user_claims())).failure, Failure::UnknownKey);
}

TEST_F(AuthJwks, SingleJwkDocumentAccepted)
{
    const Verifier v(config(rsa_jwk(rsa_.get(), "rsa-1").dump()));
    EXPECT_TRUE(v.verify_token(sign(rsa_.get(), "RS256", "rsa-1", user_claims())).ok());
}

TEST_F(AuthJwks, BadDocumentsRejectedAtConstruction)
{
    EXPECT_THROW(Verifier{config("not json")}, ConfigError);
    EXPECT_THROW(Verifier{config(R"({"keys":{}})")}, ConfigError);
    EXPECT_THROW(Verifier{config(R"({"foo":[]})")}, ConfigError);
    // Valid but empty: fine with the legacy secret (Supabase's HS256-only projects), else nothing to verify with.
    EXPECT_THROW(Verifier{config(R"({"keys":[]})")}, ConfigError);
    EXPECT_NO_THROW(Verifier{config(R"({"keys":[]})", true)});
}

TEST_F(AuthJwks, ReplaceJwksRotatesKeys)
{
    Verifier v(config(jwks({ec_jwk(ec1_.get(), "ec-1")})));
    const std::string old_token = sign(ec1_.get(), "ES256", "ec-1", user_claims());
    const std::string new_token = sign(ec2_.get(), "ES256", "ec-2", user_claims());
    EXPECT_EQ(v.verify_token(new_token).failure, Failure::UnknownKey);

    const auto summary = v.replace_jwks(jwks({ec_jwk(ec2_.get(), "ec-2")}));
    EXPECT_EQ(summary.usable, 1u);
    EXPECT_TRUE(v.verify_token(new_token).ok());
    EXPECT_EQ(v.verify_token(old_token).failure, Failure::UnknownKey);

    // A broken or empty refresh keeps the current keys.
    EXPECT_THROW(v.replace_jwks("{"), ConfigError);
    EXPECT_THROW(v.replace_jwks(R"({"keys":[]})"), ConfigError);
    EXPECT_TRUE(v.verify_token(new_token).ok());
}

TEST_F(AuthJwks, VerifyWhileReplacingJwksIsSafe)
{
    Verifier v(standard());
    const std::string es = sign(ec1_.get(), "ES256", "ec-1", user_claims());
    const std::string rs = sign(rsa_.get(), "RS256", "rsa-1", user_claims());
    const std::string doc = jwks({ec_jwk(ec1_.get(), "ec-1"), rsa_jwk(rsa_.get(), "rsa-1")});
    std::atomic<int> accepted{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t) {
        readers.emplace_back([&] {
            for (int i = 0; i < 25; ++i)
                accepted += v.verify_token(i % 2 ? es : rs).ok() ? 1 : 0;
        });
    }
    for (int i = 0; i < 25; ++i)
        v.replace_jwks(doc);
    for (auto &r : readers)
        r.join();
    EXPECT_EQ(accepted.load(), 100);
}

}  // namespace
}  // namespace nw::auth
