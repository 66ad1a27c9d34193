// Constant-time comparison of secrets (the ADMIN_API_KEY bearer value).
// Comparing SHA-256 digests with CRYPTO_memcmp gives equal-length inputs to the
// comparison, so neither the position of the first difference nor the length
// of the configured key leaks through timing.
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/internal.hpp"

namespace nw::auth::detail {

Sha256 sha256(std::string_view bytes)
{
    Sha256 digest{};
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1 ||
        len != digest.size()) {
        // Only on a broken OpenSSL; a throw keeps a zero digest from ever matching.
        throw std::runtime_error("SHA-256 unavailable");
    }
    return digest;
}

bool digests_equal(const Sha256 &a, const Sha256 &b) noexcept
{
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool constant_time_equal(std::string_view a, std::string_view b)
{
    return digests_equal(sha256(a), sha256(b));
}

}  // namespace nw::auth::detail
