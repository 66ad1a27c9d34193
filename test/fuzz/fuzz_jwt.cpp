// libFuzzer target: shim/auth Verifier.
//  * authenticate("Bearer " + input) must not crash;
//  * the input taken as a JWT payload, signed with a DIFFERENT HS256 secret,
//    must never be accepted.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/auth.hpp"
#include "auth/internal.hpp"

namespace {

const std::string kSecret = "fuzz-secret-0123456789abcdefghijklmnopqrstuvwxyz";   // >= 32 bytes
const std::string kOtherSecret = "other-secret-ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210";

const nw::auth::Verifier &TheVerifier() {
    static const nw::auth::Verifier *v = [] {
        nw::auth::VerifierConfig cfg;
        cfg.hs256_secret = kSecret;
        cfg.clock = [] { return std::int64_t{1700000000}; };
        return new nw::auth::Verifier(std::move(cfg));
    }();
    return *v;
}

std::string SignHs256(const std::string &secret, std::string_view header, std::string_view payload) {
    using nw::auth::detail::base64url_encode;
    const std::string signing_input = base64url_encode(header) + "." + base64url_encode(payload);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char *>(signing_input.data()), signing_input.size(), mac, &mac_len);
    return signing_input + "." + base64url_encode(std::string(reinterpret_cast<const char *>(mac), mac_len));
}

void Reject(const nw::auth::AuthResult &r, const char *what) {
    if (r.ok()) {
        std::fprintf(stderr, "verifier ACCEPTED a token signed with the wrong secret (%s)\n", what);
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view in(reinterpret_cast<const char *>(data), size);
    const auto &v = TheVerifier();

    // 1. Raw credential.
    std::string header = "Bearer ";
    header.append(in);
    auto r = v.authenticate(header);
    (void)nw::auth::to_string(r.failure);
    (void)v.verify_token(in);

    // 2. Input as a payload, signed with the wrong secret.
    const std::string forged = SignHs256(kOtherSecret, R"({"alg":"HS256","typ":"JWT"})", in);
    Reject(v.authenticate("Bearer " + forged), "authenticate");
    Reject(v.verify_token(forged), "verify_token");

    // Sanity (not an invariant on untrusted input): a well-signed token still
    // goes through the same code paths; it must not crash either.
    const std::string signed_ok = SignHs256(kSecret, R"({"alg":"HS256","typ":"JWT"})", in);
    auto good = v.authenticate("Bearer " + signed_ok);
    if (good.ok() && !good.principal->is_service()) {
        // A user principal's id must be a canonical lower-case uuid.
        const auto &id = good.principal->user_id;
        if (!nw::auth::detail::canonical_uuid(id) || *nw::auth::detail::canonical_uuid(id) != id) {
            std::fprintf(stderr, "user principal with non-canonical id\n");
            std::abort();
        }
    }
    return 0;
}
