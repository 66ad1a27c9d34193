// Demo tokens for testing mode: HS256 JWTs shaped like Supabase's, signed
// with SUPABASE_JWT_SECRET. `number-wallet-shim token` refuses in live mode.
#pragma once

#include <cstdint>
#include <string>

namespace nw::demo {

struct TokenRequest {
    std::string subject;   // user uuid; empty for a service token
    bool service = false;  // role service_role, no sub/aud (Supabase's service key)
    bool anonymous = false;
    std::int64_t ttl_seconds = 3600;
    std::string issuer;  // "<SUPABASE_URL>/auth/v1" when set
};

std::string MintHs256(const std::string &secret, const TokenRequest &request);

}  // namespace nw::demo
