// libFuzzer target: shim/auth Verifier::authenticate, configured with an HS256
// secret, a JWKS holding one EC (ES256) and one RSA (RS256) key, an admin key and
// SUPABASE_URL, with a fixed clock.
//
// Whatever the input, every ACCEPTED credential is re-checked by an independent
// oracle (jwt_support.hpp: OpenSSL directly on the signing input, claims re-read
// with nlohmann): a token the verifier accepts must carry a valid signature from
// the configured key of its alg, be unexpired/valid now, and map to the right
// principal. The first input byte picks how the rest is used:
//   0 raw header value / bearer credential     5 payload, RS256, configured RSA key
//   1 payload, HS256, configured secret        6 payload, RS256, WRONG RSA key
//   2 payload, HS256, WRONG secret             7 header, payload fixed, HS256 secret / ES256 key
//   3 payload, ES256, configured EC key        8 HS/RS confusion: HMAC keyed with public keys/JWKS
//   4 payload, ES256, WRONG EC key             9 tamper: (pos,byte) edits of valid tokens
// Modes 2, 4, 6 and 8 must never be accepted (abort if they are).
#include <string>

#include "jwt_support.hpp"

using namespace fuzzjwt;

namespace {

const char *const kHsHeader = R"({"alg":"HS256","typ":"JWT"})";
const char *const kEsHeader = R"({"alg":"ES256","typ":"JWT","kid":"ec-1"})";
const char *const kRsHeader = R"({"alg":"RS256","typ":"JWT","kid":"rsa-1"})";

void MustReject(const std::string &token, const char *what)
{
    const auto r = Check("Bearer " + token);
    if (r.ok())
        fuzz::Fail(what, token);
    if (TheVerifier().verify_token(token).ok())
        fuzz::Fail(what, token);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    (void) TheVerifier();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const std::string rest(reinterpret_cast<const char *>(data) + 1, size - 1);
    const Keys &k = TheKeys();
    switch (data[0] % 10) {
    case 0:
        Check(rest);
        Check("Bearer " + rest);
        if (const auto r = TheVerifier().verify_token(rest); r.ok())
            CheckAccepted(rest, r);
        break;
    case 1:
        Check("Bearer " + SignHs(kSecret, kHsHeader, rest));
        break;
    case 2:
        MustReject(SignHs(kWrongSecret, kHsHeader, rest), "accepted an HS256 token signed with the wrong secret");
        break;
    case 3:
        Check("Bearer " + SignAsym(k.ec, kEsHeader, rest));
        break;
    case 4:
        MustReject(SignAsym(k.ec_wrong, kEsHeader, rest), "accepted an ES256 token signed with the wrong key");
        break;
    case 5:
        Check("Bearer " + SignAsym(k.rsa, kRsHeader, rest));
        break;
    case 6:
        MustReject(SignAsym(k.rsa_wrong, kRsHeader, rest), "accepted an RS256 token signed with the wrong key");
        break;
    case 7:
        // Fuzzed header (alg none, crit, kid games, typ, jku...), a valid payload.
        Check("Bearer " + SignHs(kSecret, rest, UserClaims()));
        Check("Bearer " + SignAsym(k.ec, rest, UserClaims()));
        break;
    case 8: {
        // HS/RS confusion: an attacker knows the public keys and the JWKS text.
        const std::string header = rest.empty() ? std::string(kHsHeader) : R"({"alg":"HS256","kid":"rsa-1"})";
        static const std::string pseudo_secrets[4] = {PublicPem(k.rsa), PublicPem(k.ec), Jwks(), kAdminKey};
        for (const std::string &pseudo_secret : pseudo_secrets)
            MustReject(SignHs(pseudo_secret, header, rest.empty() ? UserClaims() : rest),
                       "accepted an HS256 token keyed with public material (HS/RS confusion)");
        break;
    }
    case 9: {
        // Tampering: apply (position, byte) edits to validly signed tokens.
        static const std::string originals[3] = {SignHs(kSecret, kHsHeader, UserClaims()),
                                                 SignAsym(k.ec, kEsHeader, UserClaims()),
                                                 SignAsym(k.rsa, kRsHeader, UserClaims())};
        for (const std::string &original : originals) {
            std::string t = original;
            for (std::size_t i = 0; i + 1 < rest.size(); i += 2) {
                const std::size_t pos = static_cast<unsigned char>(rest[i]) * 2u % (t.size() + 1);
                if (pos == t.size())
                    t.push_back(rest[i + 1]);
                else
                    t[pos] = rest[i + 1];
            }
            // The oracle judges any acceptance: only the original, or a twin whose
            // signature OpenSSL itself verifies, may pass.
            Check("Bearer " + t);
        }
        break;
    }
    }
    return 0;
}
