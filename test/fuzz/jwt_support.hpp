// JWT helpers for the fuzz targets: fixed keys (fuzz_keys.hpp) as EVP_PKEYs and
// JWKs, token signing, and INDEPENDENT oracles (OpenSSL directly, nlohmann for
// claims) that decide whether a token the Verifier accepted deserved it.
#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "auth/auth.hpp"
#include "auth/internal.hpp"
#include "fuzz_common.hpp"
#include "fuzz_keys.hpp"

namespace fuzzjwt {

using nlohmann::json;

constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::int64_t kLeeway = 30;
inline const std::string kSecret = "fuzz-hs256-secret-0123456789abcdefghijklmnopqrstuvwxyz";
inline const std::string kWrongSecret = "fuzz-WRONG-secret-ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210";
inline const std::string kAdminKey = "fuzz-admin-key-abcdefghijklmnopqrstuvwxyz0123456789";
inline const std::string kUrl = "https://fuzz.supabase.co";
inline const std::string kIssuer = kUrl + "/auth/v1";
inline const char *const kUserId = "c9d8e7f6-a5b4-4c3d-9e2f-1a0b9c8d7e6f";

inline EVP_PKEY *LoadKey(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (!key)
        fuzz::Fail("could not load a fixed fuzz key");
    return key;
}

struct Keys {
    EVP_PKEY *ec = LoadKey(fuzzkeys::kEC1);  // in the JWKS as kid "ec-1"
    EVP_PKEY *ec_wrong = LoadKey(fuzzkeys::kEC2);
    EVP_PKEY *rsa = LoadKey(fuzzkeys::kRSA1);  // in the JWKS as kid "rsa-1"
    EVP_PKEY *rsa_wrong = LoadKey(fuzzkeys::kRSA2);
};
inline const Keys &TheKeys()
{
    static const Keys *keys = new Keys();
    return *keys;
}

inline std::string BnBytes(const BIGNUM *bn)
{
    std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char *>(out.data()));
    return out;
}

inline std::string PublicPem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char *data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(len));
    BIO_free(bio);
    return pem;
}

inline json EcJwk(EVP_PKEY *key, const std::string &kid)
{
    unsigned char point[65];
    std::size_t len = 0;
    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
    const std::string raw(reinterpret_cast<char *>(point), len);
    using nw::auth::detail::base64url_encode;
    return json{{"kty", "EC"},
                {"crv", "P-256"},
                {"alg", "ES256"},
                {"use", "sig"},
                {"kid", kid},
                {"x", base64url_encode(raw.substr(1, 32))},
                {"y", base64url_encode(raw.substr(33, 32))}};
}

inline json RsaJwk(EVP_PKEY *key, const std::string &kid)
{
    BIGNUM *n = nullptr, *e = nullptr;
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e);
    using nw::auth::detail::base64url_encode;
    json jwk{{"kty", "RSA"},
             {"alg", "RS256"},
             {"use", "sig"},
             {"kid", kid},
             {"n", base64url_encode(BnBytes(n))},
             {"e", base64url_encode(BnBytes(e))}};
    BN_free(n);
    BN_free(e);
    return jwk;
}

inline const std::string &Jwks()
{
    static const std::string *text =
        new std::string(json{{"keys", {EcJwk(TheKeys().ec, "ec-1"), RsaJwk(TheKeys().rsa, "rsa-1")}}}.dump());
    return *text;
}

// The verifier under test: HS256 secret, a JWKS with one EC and one RSA key, an
// admin key, SUPABASE_URL (so user tokens need iss), a fixed clock.
inline const nw::auth::Verifier &TheVerifier()
{
    static const nw::auth::Verifier *v = [] {
        nw::auth::VerifierConfig cfg;
        cfg.hs256_secret = kSecret;
        cfg.jwks_json = Jwks();
        cfg.supabase_url = kUrl;
        cfg.admin_api_key = kAdminKey;
        cfg.leeway_seconds = kLeeway;
        cfg.clock = [] { return kNow; };
        return new nw::auth::Verifier(std::move(cfg));
    }();
    return *v;
}

inline std::string Hmac(std::string_view key, std::string_view input)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char *>(input.data()),
         input.size(), mac, &len);
    return std::string(reinterpret_cast<char *>(mac), len);
}

// SHA-256 signature: DER for ECDSA (converted to JWS raw R||S), PKCS#1 v1.5 for RSA.
inline std::string AsymSign(EVP_PKEY *key, std::string_view input)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    std::size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char *>(input.data()), input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char *>(sig.data()), &len,
                   reinterpret_cast<const unsigned char *>(input.data()), input.size());
    EVP_MD_CTX_free(ctx);
    sig.resize(len);
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
        const auto *p = reinterpret_cast<const unsigned char *>(sig.data());
        ECDSA_SIG *es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
        const BIGNUM *r = nullptr, *s = nullptr;
        ECDSA_SIG_get0(es, &r, &s);
        unsigned char raw[64];
        BN_bn2binpad(r, raw, 32);
        BN_bn2binpad(s, raw + 32, 32);
        ECDSA_SIG_free(es);
        return std::string(reinterpret_cast<char *>(raw), 64);
    }
    return sig;
}

inline std::string SigningInput(std::string_view header, std::string_view payload)
{
    using nw::auth::detail::base64url_encode;
    return base64url_encode(header) + "." + base64url_encode(payload);
}
inline std::string SignHs(std::string_view secret, std::string_view header, std::string_view payload)
{
    const std::string in = SigningInput(header, payload);
    return in + "." + nw::auth::detail::base64url_encode(Hmac(secret, in));
}
inline std::string SignAsym(EVP_PKEY *key, std::string_view header, std::string_view payload)
{
    const std::string in = SigningInput(header, payload);
    return in + "." + nw::auth::detail::base64url_encode(AsymSign(key, in));
}

// ---- oracles -------------------------------------------------------------

inline bool OsslVerify(EVP_PKEY *key, std::string_view input, std::string sig)
{
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {  // raw R||S -> DER
        if (sig.size() != 64)
            return false;
        ECDSA_SIG *es = ECDSA_SIG_new();
        ECDSA_SIG_set0(es, BN_bin2bn(reinterpret_cast<const unsigned char *>(sig.data()), 32, nullptr),
                       BN_bin2bn(reinterpret_cast<const unsigned char *>(sig.data()) + 32, 32, nullptr));
        unsigned char *der = nullptr;
        const int len = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        if (len <= 0)
            return false;
        sig.assign(reinterpret_cast<char *>(der), static_cast<std::size_t>(len));
        OPENSSL_free(der);
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                    EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char *>(sig.data()), sig.size(),
                                     reinterpret_cast<const unsigned char *>(input.data()), input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

// Called only when the Verifier ACCEPTED `credential`: aborts unless an
// independent check agrees that it deserved it.
inline void CheckAccepted(std::string_view credential, const nw::auth::AuthResult &r)
{
    using nw::auth::Principal;
    const Principal &p = *r.principal;
    if (credential == kAdminKey) {
        if (!p.is_service())
            fuzz::Fail("admin key accepted but not as the service role");
        return;
    }
    // Signature, with our own splitting/decoding and OpenSSL directly.
    const std::size_t d1 = credential.find('.');
    const std::size_t d2 = d1 == std::string_view::npos ? d1 : credential.find('.', d1 + 1);
    if (d2 == std::string_view::npos || credential.find('.', d2 + 1) != std::string_view::npos)
        fuzz::Fail("accepted a token that is not three segments", credential);
    std::string header_text, payload_text, sig;
    if (!fuzz::LooseB64UrlDecode(credential.substr(0, d1), &header_text) ||
        !fuzz::LooseB64UrlDecode(credential.substr(d1 + 1, d2 - d1 - 1), &payload_text) ||
        !fuzz::LooseB64UrlDecode(credential.substr(d2 + 1), &sig))
        fuzz::Fail("accepted a token that is not base64url", credential);
    const json header = json::parse(header_text, nullptr, false);
    const json payload = json::parse(payload_text, nullptr, false);
    if (!header.is_object() || !payload.is_object())
        fuzz::Fail("accepted a token without JSON objects", credential);
    const auto alg = header.find("alg");
    if (alg == header.end() || !alg->is_string())
        fuzz::Fail("accepted a token without alg", credential);
    const std::string_view input = credential.substr(0, d2);
    bool sig_ok = false;
    if (*alg == "HS256") {
        const std::string mac = Hmac(kSecret, input);
        sig_ok = sig.size() == mac.size() && CRYPTO_memcmp(sig.data(), mac.data(), mac.size()) == 0;
    } else if (*alg == "ES256") {
        sig_ok = OsslVerify(TheKeys().ec, input, sig);
    } else if (*alg == "RS256") {
        sig_ok = OsslVerify(TheKeys().rsa, input, sig);
    } else {
        fuzz::Fail("accepted a token whose alg is not HS256/ES256/RS256", credential);
    }
    if (!sig_ok)
        fuzz::Fail("ACCEPTED A TOKEN WITHOUT A VALID SIGNATURE FROM A CONFIGURED KEY", credential);

    // Claims, re-checked with nlohmann directly.
    const auto number = [&](const char *name, double *out) {
        const auto it = payload.find(name);
        if (it == payload.end())
            return false;
        if (!it->is_number())
            fuzz::Fail("accepted a non-numeric time claim", name);
        *out = it->get<double>();
        if (!std::isfinite(*out))
            fuzz::Fail("accepted a non-finite time claim", name);
        return true;
    };
    double exp = 0, nbf = 0, iat = 0;
    if (!number("exp", &exp))
        fuzz::Fail("accepted a token without exp", credential);
    if (!(static_cast<double>(kNow) < exp + kLeeway))
        fuzz::Fail("accepted an expired token", credential);
    if (number("nbf", &nbf) && static_cast<double>(kNow) + kLeeway < nbf)
        fuzz::Fail("accepted a not-yet-valid token", credential);
    if (number("iat", &iat) && iat > static_cast<double>(kNow) + kLeeway)
        fuzz::Fail("accepted a token issued in the future", credential);
    if (p.accept_until <= kNow)
        fuzz::Fail("accept_until is already in the past", credential);
    std::string role;
    if (const auto it = payload.find("role"); it != payload.end()) {
        if (!it->is_string())
            fuzz::Fail("accepted a non-string role", credential);
        role = it->get<std::string>();
    }
    if (p.role != role)
        fuzz::Fail("principal role differs from the token's role claim", credential);
    if (role == "service_role") {
        if (*alg != "HS256")
            fuzz::Fail("service_role granted to a token not signed with the legacy secret", credential);
        if (!p.is_service())
            fuzz::Fail("service_role token accepted as a user", credential);
        if (const auto iss = payload.find("iss"); iss != payload.end() && *iss != "supabase" && *iss != kIssuer)
            fuzz::Fail("service token with a foreign iss accepted", credential);
        return;
    }
    if (p.is_service())
        fuzz::Fail("service principal from a token without role service_role", credential);
    bool aud_ok = false;
    if (const auto aud = payload.find("aud"); aud != payload.end()) {
        if (aud->is_string())
            aud_ok = *aud == "authenticated";
        if (aud->is_array())
            for (const auto &a : *aud)
                aud_ok = aud_ok || a == "authenticated";
    }
    if (!aud_ok)
        fuzz::Fail("user token without aud authenticated accepted", credential);
    if (const auto iss = payload.find("iss"); iss == payload.end() || *iss != kIssuer)
        fuzz::Fail("user token with a wrong/missing iss accepted", credential);
    const auto sub = payload.find("sub");
    if (sub == payload.end() || !sub->is_string())
        fuzz::Fail("user token without string sub accepted", credential);
    std::string lower = sub->get<std::string>();
    for (char &c : lower)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    if (p.user_id != lower || p.user_id.size() != 36)
        fuzz::Fail("user_id is not the lower-cased sub", credential);
    for (std::size_t i = 0; i < 36; ++i) {
        const char c = p.user_id[i];
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            fuzz::Fail("user_id is not a canonical uuid", credential);
    }
    const auto anon = payload.find("is_anonymous");
    const bool anonymous = anon != payload.end() && anon->is_boolean() && anon->get<bool>();
    if (p.anonymous != anonymous)
        fuzz::Fail("anonymous flag differs from is_anonymous", credential);
}

// authenticate() through the Verifier, with the oracle on acceptance.
inline nw::auth::AuthResult Check(std::string_view header_value)
{
    const auto r = TheVerifier().authenticate(header_value);
    if (r.ok() != (r.failure == nw::auth::Failure::None))
        fuzz::Fail("AuthResult ok() and failure disagree");
    (void) nw::auth::to_string(r.failure);
    (void) nw::auth::www_authenticate(r.failure);
    if (r.ok()) {
        std::string_view cred;
        if (nw::auth::detail::parse_bearer(header_value, cred) != nw::auth::Failure::None)
            fuzz::Fail("accepted a header parse_bearer refuses", header_value);
        CheckAccepted(cred, r);
    }
    return r;
}

inline std::string UserClaims()
{
    return json{{"iss", kIssuer},          {"sub", kUserId},     {"aud", "authenticated"},
                {"role", "authenticated"}, {"exp", kNow + 3600}, {"iat", kNow}}
        .dump();
}

}  // namespace fuzzjwt
