// JWKS parsing: EC P-256 (ES256) and RSA (RS256) public keys to PEM.
// Each usable key is bound to exactly one algorithm here, so a token can only
// ever be checked with the algorithm its key was published for.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "auth/internal.hpp"

namespace nw::auth::detail {
namespace {

constexpr std::size_t kMaxJwksBytes = 1 << 20;  // a real JWKS is a few KiB
constexpr std::size_t kMaxKeys = 100;
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;  // bounds the cost of one verification

struct PkeyDeleter {
    void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
};
struct CtxDeleter {
    void operator()(EVP_PKEY_CTX *p) const { EVP_PKEY_CTX_free(p); }
};
struct BldDeleter {
    void operator()(OSSL_PARAM_BLD *p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamDeleter {
    void operator()(OSSL_PARAM *p) const { OSSL_PARAM_free(p); }
};
struct BnDeleter {
    void operator()(BIGNUM *p) const { BN_free(p); }
};
struct BioDeleter {
    void operator()(BIO *p) const { BIO_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// A JWK member that must be a base64url string. Padding is tolerated here
// (some JWKS producers emit it); the alphabet is not relaxed.
std::optional<std::string> b64_member(const nlohmann::json &jwk, const char *name)
{
    const auto it = jwk.find(name);
    if (it == jwk.end() || !it->is_string())
        return std::nullopt;
    std::string_view text = it->get_ref<const std::string &>();
    while (!text.empty() && text.back() == '=')
        text.remove_suffix(1);
    return base64url_decode(text);
}

// Builds a public key from OSSL_PARAMs; with `check`, OpenSSL's public-key
// check runs too (for EC: the point is on the curve).
Pkey pkey_from_params(const char *type, OSSL_PARAM_BLD *bld, bool check_public)
{
    std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld));
    std::unique_ptr<EVP_PKEY_CTX, CtxDeleter> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1)
        return nullptr;
    EVP_PKEY *raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
        return nullptr;
    Pkey key(raw);
    if (!check_public)
        return key;
    std::unique_ptr<EVP_PKEY_CTX, CtxDeleter> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1)
        return nullptr;
    return key;
}

Pkey ec_p256_key(const nlohmann::json &jwk)
{
    const auto crv = jwk.find("crv");
    if (crv == jwk.end() || *crv != "P-256")
        return nullptr;
    const auto x = b64_member(jwk, "x");
    const auto y = b64_member(jwk, "y");
    // RFC 7518 §6.2.1.2: coordinates are full-length octet strings.
    if (!x || !y || x->size() != 32 || y->size() != 32)
        return nullptr;
    const std::string point = std::string(1, '\x04') + *x + *y;  // uncompressed SEC1 point
    std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
        return nullptr;
    return pkey_from_params("EC", bld.get(), /*check_public=*/true);
}

Pkey rsa_key(const nlohmann::json &jwk)
{
    const auto n = b64_member(jwk, "n");
    const auto e = b64_member(jwk, "e");
    if (!n || !e || n->empty() || e->empty() || e->size() > 8)
        return nullptr;
    const auto to_bn = [](const std::string &bytes) {
        return std::unique_ptr<BIGNUM, BnDeleter>(
            BN_bin2bn(reinterpret_cast<const unsigned char *>(bytes.data()), static_cast<int>(bytes.size()), nullptr));
    };
    auto bn_n = to_bn(*n);
    auto bn_e = to_bn(*e);
    if (!bn_n || !bn_e)
        return nullptr;
    const int bits = BN_num_bits(bn_n.get());
    if (bits < kMinRsaBits || bits > kMaxRsaBits)
        return nullptr;
    // OpenSSL's RSA public check is probabilistic: its Miller-Rabin test of n
    // sometimes finds a factor of a valid modulus and then refuses the key
    // (seen by fuzz_jwks: the same JWKS parsed twice gave different key sets).
    // These checks are deterministic: n odd, e odd, 3 <= e < n.
    if (!BN_is_odd(bn_n.get()) || !BN_is_odd(bn_e.get()) || BN_cmp(bn_e.get(), BN_value_one()) <= 0 ||
        BN_cmp(bn_e.get(), bn_n.get()) >= 0)
        return nullptr;
    std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> bld(OSSL_PARAM_BLD_new());
    if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
        return nullptr;
    return pkey_from_params("RSA", bld.get(), /*check_public=*/false);
}

std::optional<std::string> to_pem(EVP_PKEY *key)
{
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1)
        return std::nullopt;
    char *data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    if (len <= 0 || data == nullptr)
        return std::nullopt;
    return std::string(data, static_cast<std::size_t>(len));
}

// True when the optional `use` / `key_ops` members allow signature verification.
bool usable_for_verification(const nlohmann::json &jwk)
{
    if (const auto use = jwk.find("use"); use != jwk.end() && *use != "sig")
        return false;
    if (const auto ops = jwk.find("key_ops"); ops != jwk.end()) {
        if (!ops->is_array())
            return false;
        bool verify = false;
        for (const auto &op : *ops)
            verify = verify || op == "verify";
        if (!verify)
            return false;
    }
    return true;
}

// One JWK to a PublicKey, or nullopt to skip it.
std::optional<PublicKey> parse_key(const nlohmann::json &jwk)
{
    if (!jwk.is_object() || !usable_for_verification(jwk))
        return std::nullopt;
    const auto kty = jwk.find("kty");
    if (kty == jwk.end() || !kty->is_string())
        return std::nullopt;

    PublicKey out;
    if (*kty == "EC")
        out.alg = Alg::ES256;
    else if (*kty == "RSA")
        out.alg = Alg::RS256;
    else
        return std::nullopt;  // oct, OKP, ...: never symmetric keys from a JWKS

    // A declared alg must be the one we bind to this key type (skips RS384, PS256, ES384 keys...).
    if (const auto alg = jwk.find("alg"); alg != jwk.end() && *alg != alg_name(out.alg))
        return std::nullopt;
    if (const auto kid = jwk.find("kid"); kid != jwk.end()) {
        if (!kid->is_string())
            return std::nullopt;
        out.kid = kid->get<std::string>();
    }

    const Pkey key = out.alg == Alg::ES256 ? ec_p256_key(jwk) : rsa_key(jwk);
    if (!key)
        return std::nullopt;
    auto pem = to_pem(key.get());
    if (!pem)
        return std::nullopt;
    out.pem = std::move(*pem);
    return out;
}

}  // namespace

const char *alg_name(Alg alg) noexcept
{
    switch (alg) {
    case Alg::HS256:
        return "HS256";
    case Alg::ES256:
        return "ES256";
    case Alg::RS256:
        return "RS256";
    }
    return "";
}

std::optional<Alg> alg_from_name(std::string_view name) noexcept
{
    if (name == "HS256")
        return Alg::HS256;
    if (name == "ES256")
        return Alg::ES256;
    if (name == "RS256")
        return Alg::RS256;
    return std::nullopt;
}

KeySet parse_jwks(std::string_view json_text)
{
    if (json_text.size() > kMaxJwksBytes)
        throw ConfigError("SUPABASE_JWKS document is larger than 1 MiB");
    const auto doc = parse_json_object(json_text);
    if (!doc)
        throw ConfigError("SUPABASE_JWKS is not a JSON object");

    KeySet set;
    const auto add = [&set](const nlohmann::json &jwk) {
        if (auto key = parse_key(jwk))
            set.keys.push_back(std::move(*key));
        else
            ++set.skipped;
    };
    if (const auto keys = doc->find("keys"); keys != doc->end()) {
        if (!keys->is_array())
            throw ConfigError("SUPABASE_JWKS: \"keys\" is not an array");
        if (keys->size() > kMaxKeys)
            throw ConfigError("SUPABASE_JWKS holds more than 100 keys");
        for (const auto &jwk : *keys)
            add(jwk);
    } else if (doc->contains("kty")) {
        add(*doc);  // a single JWK, as PostgREST also accepts
    } else {
        throw ConfigError("SUPABASE_JWKS is neither a JWKS ({\"keys\":[...]}) nor a JWK");
    }
    return set;
}

}  // namespace nw::auth::detail
