// Internals of the auth module, shared by its .cpp files and its unit tests.
// Not for use by the rest of the shim: include auth/auth.hpp instead.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "auth/auth.hpp"

namespace nw::auth::detail {

// ---- base64url (RFC 4648 §5, no padding) -- base64url.cpp
std::string base64url_encode(std::string_view bytes);
// Strict: only the url-safe alphabet, no padding, no whitespace, and the unused
// low bits of the last character must be zero (one encoding per byte string).
std::optional<std::string> base64url_decode(std::string_view text);

// ---- JSON -- token.cpp
// Parses a JSON object; nullopt for invalid JSON/UTF-8, a non-object, a
// duplicate member name at any depth (RFC 8725 §2.6) or nesting deeper than 32.
std::optional<nlohmann::json> parse_json_object(std::string_view text);

// ---- compact JWS splitting -- token.cpp
struct TokenParts {
    nlohmann::json header;
    nlohmann::json payload;
    std::string signature;  // decoded bytes
};
// Exactly three non-empty base64url segments whose first two are JSON objects.
std::optional<TokenParts> split_token(std::string_view token);

// ---- algorithms and keys -- jwks.cpp
enum class Alg { HS256, ES256, RS256 };
const char *alg_name(Alg alg) noexcept;
std::optional<Alg> alg_from_name(std::string_view name) noexcept;

struct PublicKey {
    std::optional<std::string> kid;
    Alg alg = Alg::ES256;  // ES256 or RS256, fixed per key
    std::string pem;       // SubjectPublicKeyInfo PEM, as libjwt expects
};
struct KeySet {
    std::vector<PublicKey> keys;
    std::size_t skipped = 0;
};
// Accepts {"keys":[...]} or a single JWK object. Unsupported or unusable keys
// are counted in `skipped`. Throws ConfigError when the text is not such a document.
KeySet parse_jwks(std::string_view json_text);

// ---- signature check through libjwt -- signature.cpp
// True iff libjwt verifies `token` with `key` AND reports `expected` as the
// algorithm it used (libjwt itself follows the header's alg).
bool verify_signature(const std::string &token, Alg expected, std::string_view key);

// ---- claims -- claims.cpp
struct ClaimRules {
    std::string expected_issuer;  // "" = iss not checked on user tokens
    std::int64_t now = 0;
    std::int64_t leeway = kDefaultLeewaySeconds;
};
// `legacy_secret` says the signature was checked with the HS256 legacy secret,
// the only way to a service principal.
AuthResult evaluate_claims(const nlohmann::json &payload, bool legacy_secret, const ClaimRules &rules);
// Canonical 8-4-4-4-12 hex; returns it lower-cased.
std::optional<std::string> canonical_uuid(std::string_view text);

// ---- constant-time comparison -- constant_time.cpp
using Sha256 = std::array<unsigned char, 32>;
Sha256 sha256(std::string_view bytes);
// CRYPTO_memcmp over the digests: time does not depend on where inputs differ
// nor (beyond hashing) on their lengths.
bool digests_equal(const Sha256 &a, const Sha256 &b) noexcept;
bool constant_time_equal(std::string_view a, std::string_view b);

// ---- Authorization header -- verifier.cpp
// Extracts the credential of "Bearer <credential>" (scheme case-insensitive).
// Returns Failure::None and sets `credential` on success.
Failure parse_bearer(std::string_view header, std::string_view &credential) noexcept;

}  // namespace nw::auth::detail
