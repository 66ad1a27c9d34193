// Signature verification through Debian's libjwt 1.10.2.
//
// jwt_decode() takes the algorithm from the token header, so on its own it
// would HMAC a token with a public key's PEM bytes as the secret (key
// confusion; checked: it accepts such a token). The caller has already pinned
// the algorithm from configuration; here we additionally require libjwt to
// report that same algorithm. libjwt 1.10.2 expects ES256 signatures as raw
// R||S (64 bytes), as JWS does, and refuses DER (checked against tokens signed
// with OpenSSL in test/unit/auth_jwks_test.cpp). The deb12u1 package compares
// HMACs in constant time (CVE-2024-25189).
#include <climits>
#include <memory>

#include <jwt.h>

#include "auth/internal.hpp"

namespace nw::auth::detail {
namespace {

struct JwtDeleter {
    void operator()(jwt_t *jwt) const
    {
        if (jwt)
            jwt_free(jwt);
    }
};

jwt_alg_t to_libjwt(Alg alg) noexcept
{
    switch (alg) {
    case Alg::HS256:
        return JWT_ALG_HS256;
    case Alg::ES256:
        return JWT_ALG_ES256;
    case Alg::RS256:
        return JWT_ALG_RS256;
    }
    return JWT_ALG_INVAL;
}

}  // namespace

bool verify_signature(const std::string &token, Alg expected, std::string_view key)
{
    if (key.empty() || key.size() > static_cast<std::size_t>(INT_MAX))
        return false;
    jwt_t *raw = nullptr;
    const int rc = jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char *>(key.data()),
                              static_cast<int>(key.size()));
    const std::unique_ptr<jwt_t, JwtDeleter> jwt(raw);
    return rc == 0 && jwt && jwt_get_alg(jwt.get()) == to_libjwt(expected);
}

}  // namespace nw::auth::detail
