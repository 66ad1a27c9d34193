// libFuzzer target: shim/auth/jwks.cpp parse_jwks and Verifier::replace_jwks on a
// fuzzed JWKS document (SUPABASE_JWKS may come from a URL: hostile input).
// Invariants: only ConfigError escapes (documented contract); every usable key is
// ES256 or RS256 with a PEM that OpenSSL reads back as a key of that type (EC
// P-256 / RSA of 2048..8192 bits); replace_jwks agrees with parse_jwks; a failed
// replace leaves the previous key set in place; the verifier still refuses an
// alg-none token afterwards.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "jwt_support.hpp"

using fuzz::Fail;
using namespace nw::auth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view in = fuzz::AsView(data, size);
    detail::KeySet set;
    bool parsed = false;
    try {
        set = detail::parse_jwks(in);
        parsed = true;
    } catch (const ConfigError &) {
    }
    if (parsed) {
        for (const auto &key : set.keys) {
            if (key.alg != detail::Alg::ES256 && key.alg != detail::Alg::RS256)
                Fail("JWKS key with alg not ES256/RS256", in);
            BIO *bio = BIO_new_mem_buf(key.pem.data(), static_cast<int>(key.pem.size()));
            EVP_PKEY *pk = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
            BIO_free(bio);
            if (!pk)
                Fail("JWKS key PEM does not parse", in);
            const int id = EVP_PKEY_get_base_id(pk);
            const int bits = EVP_PKEY_get_bits(pk);
            EVP_PKEY_free(pk);
            if (key.alg == detail::Alg::ES256 && (id != EVP_PKEY_EC || bits != 256))
                Fail("ES256 key is not P-256", in);
            if (key.alg == detail::Alg::RS256 && (id != EVP_PKEY_RSA || bits < 2048 || bits > 8192))
                Fail("RS256 key is not RSA 2048..8192", in);
        }
    }

    // The same document through a live verifier (HS256 secret, so an empty set is allowed).
    static Verifier *v = [] {
        VerifierConfig cfg;
        cfg.hs256_secret = fuzzjwt::kSecret;
        cfg.clock = [] { return fuzzjwt::kNow; };
        return new Verifier(std::move(cfg));
    }();
    const JwksSummary before = v->jwks_summary();
    try {
        const JwksSummary s = v->replace_jwks(in);
        if (!parsed)
            Fail("replace_jwks accepted what parse_jwks refused", in);
        if (s.usable != set.keys.size() || s.skipped != set.skipped)
            Fail("replace_jwks summary differs", in);
    } catch (const ConfigError &) {
        if (parsed)
            Fail("replace_jwks refused what parse_jwks accepted (secret is set)", in);
        const JwksSummary after = v->jwks_summary();
        if (after.usable != before.usable || after.skipped != before.skipped)
            Fail("failed replace changed the keys", in);
    }
    const std::string none =
        detail::base64url_encode(R"({"alg":"none"})") + "." + detail::base64url_encode(fuzzjwt::UserClaims()) + ".";
    if (v->verify_token(none).ok())
        Fail("alg none accepted after a JWKS replace", in);
    return 0;
}
