// Public API of the shim's authentication module (docs/http-api.md "Authentication").
//
// A Verifier turns the value of an `Authorization` header into a Principal
// (a user or the service role) or a Failure. Which algorithms are accepted is
// decided by the configuration alone, never by the token header:
//   * HS256 only when the legacy secret (SUPABASE_JWT_SECRET) is configured;
//   * ES256 / RS256 only with a matching key from the JWKS (SUPABASE_JWKS);
//   * `none` and every other algorithm never.
// Service principals come from an HS256 token signed with the legacy secret
// whose `role` is `service_role`, or from the ADMIN_API_KEY bearer value.
//
// Nothing produced here (failure names, exception messages) ever contains the
// token, the secret or the admin key, so all of it may be logged.
//
// A JWKS given as a URL is fetched again every kJwksRefreshSeconds (by
// refresh_jwks_if_due(), which `serve` calls from a background thread) and when
// a token names a kid the key set lacks (at most once per
// kJwksUnknownKidRefreshSeconds), so a key rotation needs no restart and a
// removed key stops being trusted. A failed fetch keeps the last good key set.
//
// Thread safety: authenticate()/verify_token() are const and may run
// concurrently with each other, with replace_jwks() and with
// refresh_jwks_if_due().
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nw::auth {

// Tokens (and bearer credentials) longer than this are refused before any parsing.
inline constexpr std::size_t kMaxTokenBytes = 8192;
// Clock skew tolerated on exp / nbf / iat (PostgREST uses the same 30 s).
inline constexpr std::int64_t kDefaultLeewaySeconds = 30;
// RFC 8725 §3.5: an HMAC secret needs at least 256 bits.
inline constexpr std::size_t kMinHs256SecretBytes = 32;
// ADMIN_API_KEY acts as the service role: as strong as the HS256 secret.
inline constexpr std::size_t kMinAdminKeyBytes = 32;
// How often a JWKS URL is fetched again, and how often at most a token naming
// an unknown kid may cause a fetch (an attacker can send such tokens at will).
inline constexpr std::int64_t kJwksRefreshSeconds = 600;
inline constexpr std::int64_t kJwksUnknownKidRefreshSeconds = 60;
// After a failed periodic fetch, the next try comes this much later.
inline constexpr std::int64_t kJwksRetrySeconds = 60;

struct Principal {
    enum class Kind { User, Service };
    Kind kind = Kind::User;
    // Users: the `sub` claim, a canonical lower-case UUID. Services: empty.
    std::string user_id;
    // `is_anonymous: true` in a user token (may search/read, may not buy).
    bool anonymous = false;
    // The token's `role` claim ("" if absent); "service_role" for services,
    // including the ADMIN_API_KEY.
    std::string role;
    // Unix time from which the token is no longer accepted (exp + leeway);
    // the maximum for the ADMIN_API_KEY. Lets a caller cache the verdict.
    std::int64_t accept_until = std::numeric_limits<std::int64_t>::max();
    // Services: true for the ADMIN_API_KEY (recorded as actor "admin-key").
    bool admin_key = false;
    // Users: `app_metadata.number_wallet_operator: true` (only the service
    // role can set app_metadata in Supabase). Never for anonymous users.
    bool is_operator = false;
    // Users: the `email` claim when it is usable text, else "".
    std::string email;

    bool is_service() const noexcept { return kind == Kind::Service; }
    // May use /api/admin/* and /metrics: the service role or an operator.
    bool is_admin() const noexcept { return is_service() || is_operator; }
};

// Reads the operator flag from a verified token's payload: true only when
// `app_metadata` is an object whose `number_wallet_operator` is JSON `true`
// (a string "true", 1 or a top-level claim do not count).
bool OperatorClaim(const std::string &payload_json);

// Who an audited action is recorded for: "admin-key", "service", or an
// operator's `sub` followed by " (<email>)" when the token has one.
std::string ActorOf(const Principal &principal);

// Why a credential was refused. Every failure maps to HTTP 401.
enum class Failure {
    None,
    MissingCredentials,   // no Authorization header, or an empty one
    BadScheme,            // not "Bearer <credential>"
    TokenTooLarge,        // longer than kMaxTokenBytes
    Malformed,            // not three base64url segments of JSON objects, bad header
    AlgorithmNotAllowed,  // alg not enabled by configuration (incl. none, HS/RS confusion)
    UnknownKey,           // kid names no configured key (a JWKS refresh may help)
    BadSignature,
    MissingExpiry,  // exp absent
    Expired,
    NotYetValid,     // nbf in the future
    IssuedInFuture,  // iat in the future
    BadAudience,
    BadIssuer,
    BadSubject,      // sub missing or not a UUID
    BadClaims,       // a claim of the wrong JSON type
    RoleNotAllowed,  // service_role claimed by a token that is not a legacy-secret token
};

// Stable snake_case name for logs and metrics ("bad_signature", ...).
const char *to_string(Failure failure) noexcept;

// Value for the `WWW-Authenticate` response header that goes with a 401:
// `Bearer` when no credential was sent, else `Bearer error="invalid_token"`
// (RFC 6750 §3.1).
const char *www_authenticate(Failure failure) noexcept;

struct AuthResult {
    std::optional<Principal> principal;
    Failure failure = Failure::None;

    bool ok() const noexcept { return principal.has_value(); }
    explicit operator bool() const noexcept { return ok(); }

    static AuthResult success(Principal p);
    static AuthResult fail(Failure f);
};

// Invalid configuration. The message names the setting, never its value.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Seconds since the Unix epoch; injectable for tests.
using Clock = std::function<std::int64_t()>;

// One fetch of the JWKS document (SUPABASE_JWKS as a URL).
struct JwksFetch {
    bool ok = false;
    std::string document;  // the JWKS text when ok
    std::string error;     // why not, when !ok (no secrets)
};
using JwksFetcher = std::function<JwksFetch()>;

struct VerifierConfig {
    std::string hs256_secret;   // SUPABASE_JWT_SECRET, raw bytes; empty = HS256 disabled
    std::string jwks_json;      // text of the SUPABASE_JWKS document (caller loads file/URL); empty = none
    std::string supabase_url;   // SUPABASE_URL; when set, user tokens need iss = <url>/auth/v1
    std::string admin_api_key;  // ADMIN_API_KEY; empty = disabled, else at least kMinAdminKeyBytes
    // Fetches the JWKS again (SUPABASE_JWKS given as a URL); empty = the key
    // set changes only through replace_jwks(). jwks_json is the first fetch.
    JwksFetcher jwks_fetcher;
    std::int64_t leeway_seconds = kDefaultLeewaySeconds;
    Clock clock;  // empty = the system clock
};

// What a JWKS document yielded: keys in use and keys ignored (other use/kty/crv/alg).
struct JwksSummary {
    std::size_t usable = 0;
    std::size_t skipped = 0;
};

// What refresh_jwks_if_due() did.
enum class JwksRefresh {
    NotConfigured,  // no fetcher
    NotDue,         // the last fetch is recent enough (or another thread is fetching)
    Refreshed,      // fetched and swapped in
    Failed,         // the fetch or the document failed: the last good key set stays
};

struct JwksRefreshStats {
    std::uint64_t fetches = 0;  // after the first one
    std::uint64_t failures = 0;
    std::string last_error;  // of the latest failure, "" if none
};

class Verifier {
public:
    // Throws ConfigError when: the secret is shorter than kMinHs256SecretBytes;
    // the admin key is shorter than kMinAdminKeyBytes;
    // the JWKS text is not a JWKS/JWK JSON document; no HS256 secret and no
    // usable JWKS key is configured; the admin key is not a usable bearer value.
    explicit Verifier(VerifierConfig config);
    ~Verifier();
    Verifier(const Verifier &) = delete;
    Verifier &operator=(const Verifier &) = delete;

    // Checks the full header value, e.g. "Bearer eyJ...". An empty view means
    // the header was absent.
    AuthResult authenticate(std::string_view authorization_header) const;

    // Checks a bare JWT (no admin key comparison).
    AuthResult verify_token(std::string_view token) const;

    // Swaps in a freshly fetched JWKS document. On ConfigError the previous
    // key set stays in use.
    JwksSummary replace_jwks(std::string_view jwks_json);

    // Fetches the JWKS again when kJwksRefreshSeconds have passed since the
    // last fetch (kJwksRetrySeconds after a failed one). Never blocks on a
    // fetch another thread is making.
    JwksRefresh refresh_jwks_if_due();
    JwksRefreshStats jwks_refresh_stats() const;

    JwksSummary jwks_summary() const;
    bool hs256_enabled() const noexcept;
    bool admin_key_enabled() const noexcept;
    // "<SUPABASE_URL>/auth/v1", or "" when SUPABASE_URL is not configured.
    const std::string &expected_issuer() const noexcept;

private:
    // A fetch for a token whose kid the key set lacks, at most once per
    // kJwksUnknownKidRefreshSeconds.
    void refresh_for_unknown_kid() const;

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nw::auth
