// See token.hpp.
#include "demo/token.hpp"

#include <chrono>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/internal.hpp"

namespace nw::demo {

std::string MintHs256(const std::string &secret, const TokenRequest &r)
{
    using nlohmann::json;
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    json claims = {{"iat", now}, {"exp", now + r.ttl_seconds}};
    if (r.service) {
        claims["role"] = "service_role";
        claims["iss"] = "supabase";
    } else {
        claims["sub"] = r.subject;
        claims["aud"] = "authenticated";
        claims["role"] = r.anonymous ? "anon" : "authenticated";
        claims["is_anonymous"] = r.anonymous;
        if (!r.issuer.empty())
            claims["iss"] = r.issuer;
    }
    const std::string signing_input = auth::detail::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
                                      auth::detail::base64url_encode(claims.dump());
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char *>(signing_input.data()), signing_input.size(), mac, &mac_len);
    return signing_input + "." +
           auth::detail::base64url_encode(std::string(reinterpret_cast<const char *>(mac), mac_len));
}

}  // namespace nw::demo
