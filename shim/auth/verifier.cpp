// The Verifier: configuration, the Authorization header, and the choice of
// algorithm and key. The algorithm comes from configuration: the token's `alg`
// only selects among what is configured, and a key is used with the one
// algorithm it was configured for.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <mutex>

#include <openssl/crypto.h>

#include "auth/internal.hpp"

namespace nw::auth {

using detail::Alg;

struct Verifier::Impl {
    std::string secret;  // HS256 legacy secret; empty = disabled
    bool admin_enabled = false;
    detail::Sha256 admin_digest{};
    std::string expected_issuer;
    std::int64_t leeway = kDefaultLeewaySeconds;
    Clock clock;

    // Replaced wholesale by replace_jwks(); readers keep their snapshot alive.
    mutable std::mutex keys_mutex;
    std::shared_ptr<const detail::KeySet> keys = std::make_shared<detail::KeySet>();

    std::shared_ptr<const detail::KeySet> snapshot() const
    {
        const std::lock_guard<std::mutex> lock(keys_mutex);
        return keys;
    }

    // JWKS refresh (SUPABASE_JWKS as a URL). One fetch at a time, under
    // refresh_mutex; the times are the clock's seconds.
    JwksFetcher fetcher;
    std::mutex refresh_mutex;
    std::atomic<std::int64_t> next_due{std::numeric_limits<std::int64_t>::max()};
    std::atomic<std::int64_t> last_attempt{0};
    std::uint64_t fetches = 0;  // refresh_mutex
    std::uint64_t failures = 0;
    std::string last_error;

    JwksSummary replace(std::string_view jwks_json)
    {
        auto fresh = std::make_shared<const detail::KeySet>(detail::parse_jwks(jwks_json));
        // Supabase serves an empty JWKS to HS256-only projects; that is fine only
        // if the secret remains to verify anything with.
        if (fresh->keys.empty() && secret.empty())
            throw ConfigError("SUPABASE_JWKS holds no usable ES256/RS256 key and no SUPABASE_JWT_SECRET is set");
        const std::lock_guard<std::mutex> lock(keys_mutex);
        keys = std::move(fresh);
        return JwksSummary{keys->keys.size(), keys->skipped};
    }

    // Fetches and swaps in the key set. Called with refresh_mutex held.
    bool refresh_locked(std::int64_t now)
    {
        last_attempt = now;
        ++fetches;
        JwksFetch fetched;
        try {
            fetched = fetcher();
        } catch (const std::exception &e) {
            fetched.ok = false;
            fetched.error = e.what();
        } catch (...) {
            fetched.ok = false;
            fetched.error = "JWKS fetch failed";
        }
        if (fetched.ok) {
            try {
                replace(fetched.document);
                next_due = now + kJwksRefreshSeconds;
                return true;
            } catch (const std::exception &e) {
                fetched.error = e.what();
            }
        }
        // A failed refresh (network, status, a document that is not a usable
        // JWKS) keeps the last good key set: an outage of the key server must
        // not turn every token away. The next periodic try comes sooner.
        ++failures;
        last_error = fetched.error.empty() ? "JWKS fetch failed" : fetched.error;
        next_due = now + kJwksRetrySeconds;
        return false;
    }

    ~Impl()
    {
        if (!secret.empty())
            OPENSSL_cleanse(secret.data(), secret.size());
    }
};

namespace {

bool visible_ascii(std::string_view text) noexcept
{
    for (const char c : text)
        if (c < 0x21 || c > 0x7e)
            return false;
    return true;
}

bool iequals(std::string_view a, std::string_view b) noexcept
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = static_cast<char>(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

std::int64_t system_now()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Header members we understand; anything security-relevant we do not is refused.
Failure check_header(const nlohmann::json &header, Alg &alg, std::optional<std::string> &kid)
{
    const auto a = header.find("alg");
    if (a == header.end() || !a->is_string())
        return Failure::Malformed;
    // RFC 7515 §4.1.11: extensions listed in crit must be understood; we understand none.
    if (header.contains("crit"))
        return Failure::Malformed;
    if (const auto typ = header.find("typ"); typ != header.end()) {
        if (!typ->is_string() || !iequals(typ->get_ref<const std::string &>(), "JWT"))
            return Failure::Malformed;
    }
    if (const auto k = header.find("kid"); k != header.end()) {
        if (!k->is_string())
            return Failure::Malformed;
        kid = k->get<std::string>();
    }
    // jku, x5u, jwk, x5c are ignored: keys come from configuration only (RFC 8725 §3.10).
    const auto parsed = detail::alg_from_name(a->get_ref<const std::string &>());
    if (!parsed)
        return Failure::AlgorithmNotAllowed;  // none, HS512, PS256, EdDSA, ...
    alg = *parsed;
    return Failure::None;
}

}  // namespace

namespace detail {

Failure parse_bearer(std::string_view header, std::string_view &credential) noexcept
{
    const auto is_ows = [](char c) { return c == ' ' || c == '\t'; };
    while (!header.empty() && is_ows(header.front()))
        header.remove_prefix(1);
    while (!header.empty() && is_ows(header.back()))
        header.remove_suffix(1);
    if (header.empty())
        return Failure::MissingCredentials;
    if (header.size() > kMaxTokenBytes + 64)
        return Failure::TokenTooLarge;

    const std::size_t space = header.find_first_of(" \t");
    if (space == std::string_view::npos)  // "Bearer" alone, or a bare token without a scheme
        return iequals(header, "Bearer") ? Failure::MissingCredentials : Failure::BadScheme;
    if (!iequals(header.substr(0, space), "Bearer"))
        return Failure::BadScheme;
    std::string_view rest = header.substr(space);
    while (!rest.empty() && is_ows(rest.front()))
        rest.remove_prefix(1);
    if (rest.empty())
        return Failure::MissingCredentials;
    if (rest.size() > kMaxTokenBytes)
        return Failure::TokenTooLarge;
    if (!visible_ascii(rest))
        return Failure::Malformed;
    credential = rest;
    return Failure::None;
}

}  // namespace detail

const char *to_string(Failure failure) noexcept
{
    switch (failure) {
    case Failure::None:
        return "none";
    case Failure::MissingCredentials:
        return "missing_credentials";
    case Failure::BadScheme:
        return "bad_scheme";
    case Failure::TokenTooLarge:
        return "token_too_large";
    case Failure::Malformed:
        return "malformed_token";
    case Failure::AlgorithmNotAllowed:
        return "algorithm_not_allowed";
    case Failure::UnknownKey:
        return "unknown_key";
    case Failure::BadSignature:
        return "bad_signature";
    case Failure::MissingExpiry:
        return "missing_exp";
    case Failure::Expired:
        return "expired";
    case Failure::NotYetValid:
        return "not_yet_valid";
    case Failure::IssuedInFuture:
        return "issued_in_future";
    case Failure::BadAudience:
        return "bad_audience";
    case Failure::BadIssuer:
        return "bad_issuer";
    case Failure::BadSubject:
        return "bad_subject";
    case Failure::BadClaims:
        return "bad_claims";
    case Failure::RoleNotAllowed:
        return "role_not_allowed";
    }
    return "unknown";
}

const char *www_authenticate(Failure failure) noexcept
{
    return failure == Failure::MissingCredentials || failure == Failure::BadScheme ? "Bearer"
                                                                                   : "Bearer error=\"invalid_token\"";
}

AuthResult AuthResult::success(Principal p)
{
    AuthResult r;
    r.principal = std::move(p);
    return r;
}

AuthResult AuthResult::fail(Failure f)
{
    AuthResult r;
    r.failure = f;
    return r;
}

Verifier::Verifier(VerifierConfig config) : impl_(std::make_unique<Impl>())
{
    if (!config.hs256_secret.empty() && config.hs256_secret.size() < kMinHs256SecretBytes)
        throw ConfigError("SUPABASE_JWT_SECRET must be at least 32 bytes");
    if (!config.admin_api_key.empty()) {
        if (config.admin_api_key.size() > kMaxTokenBytes || !visible_ascii(config.admin_api_key))
            throw ConfigError("ADMIN_API_KEY must be at most 8192 visible ASCII characters, without spaces");
        // It grants the service role: a short key could be guessed.
        if (config.admin_api_key.size() < kMinAdminKeyBytes)
            throw ConfigError("ADMIN_API_KEY must be at least 32 bytes");
        impl_->admin_enabled = true;
        impl_->admin_digest = detail::sha256(config.admin_api_key);
        OPENSSL_cleanse(config.admin_api_key.data(), config.admin_api_key.size());
    }
    if (config.leeway_seconds < 0 || config.leeway_seconds > 300)
        throw ConfigError("JWT leeway must be between 0 and 300 seconds");

    std::string url = config.supabase_url;
    while (!url.empty() && url.back() == '/')
        url.pop_back();
    if (!url.empty())
        impl_->expected_issuer = url + "/auth/v1";

    impl_->secret = std::move(config.hs256_secret);
    impl_->leeway = config.leeway_seconds;
    impl_->clock = config.clock ? std::move(config.clock) : Clock(system_now);
    if (!config.jwks_json.empty())
        impl_->keys = std::make_shared<const detail::KeySet>(detail::parse_jwks(config.jwks_json));

    if (impl_->secret.empty() && impl_->keys->keys.empty())
        throw ConfigError(
            "no JWT key configured: set SUPABASE_JWT_SECRET and/or SUPABASE_JWKS with an ES256/RS256 key");
    if (config.jwks_fetcher) {
        impl_->fetcher = std::move(config.jwks_fetcher);
        const std::int64_t now = impl_->clock();
        impl_->last_attempt = now;  // jwks_json is the first fetch
        impl_->next_due = now + kJwksRefreshSeconds;
    }
}

Verifier::~Verifier() = default;

JwksSummary Verifier::replace_jwks(std::string_view jwks_json)
{
    return impl_->replace(jwks_json);
}

JwksRefresh Verifier::refresh_jwks_if_due()
{
    if (!impl_->fetcher)
        return JwksRefresh::NotConfigured;
    const std::int64_t now = impl_->clock();
    if (now < impl_->next_due)
        return JwksRefresh::NotDue;
    std::unique_lock<std::mutex> lock(impl_->refresh_mutex, std::try_to_lock);
    if (!lock.owns_lock() || now < impl_->next_due)
        return JwksRefresh::NotDue;
    return impl_->refresh_locked(now) ? JwksRefresh::Refreshed : JwksRefresh::Failed;
}

JwksRefreshStats Verifier::jwks_refresh_stats() const
{
    const std::lock_guard<std::mutex> lock(impl_->refresh_mutex);
    JwksRefreshStats stats;
    stats.fetches = impl_->fetches;
    stats.failures = impl_->failures;
    stats.last_error = impl_->last_error;
    return stats;
}

JwksSummary Verifier::jwks_summary() const
{
    const auto keys = impl_->snapshot();
    return JwksSummary{keys->keys.size(), keys->skipped};
}

bool Verifier::hs256_enabled() const noexcept
{
    return !impl_->secret.empty();
}
bool Verifier::admin_key_enabled() const noexcept
{
    return impl_->admin_enabled;
}
const std::string &Verifier::expected_issuer() const noexcept
{
    return impl_->expected_issuer;
}

AuthResult Verifier::authenticate(std::string_view authorization_header) const
{
    std::string_view credential;
    if (const Failure f = detail::parse_bearer(authorization_header, credential); f != Failure::None)
        return AuthResult::fail(f);
    if (impl_->admin_enabled && detail::digests_equal(detail::sha256(credential), impl_->admin_digest)) {
        Principal p;
        p.kind = Principal::Kind::Service;
        p.role = "service_role";
        p.admin_key = true;
        return AuthResult::success(std::move(p));
    }
    return verify_token(credential);
}

AuthResult Verifier::verify_token(std::string_view token) const
{
    if (token.empty())
        return AuthResult::fail(Failure::MissingCredentials);
    if (token.size() > kMaxTokenBytes)
        return AuthResult::fail(Failure::TokenTooLarge);
    const auto parts = detail::split_token(token);
    if (!parts)
        return AuthResult::fail(Failure::Malformed);

    Alg alg = Alg::HS256;
    std::optional<std::string> kid;
    if (const Failure f = check_header(parts->header, alg, kid); f != Failure::None)
        return AuthResult::fail(f);

    const std::string text(token);  // libjwt wants a NUL-terminated string
    bool legacy_secret = false;
    if (alg == Alg::HS256) {
        // Only ever the configured secret: never a public key's bytes.
        if (impl_->secret.empty())
            return AuthResult::fail(Failure::AlgorithmNotAllowed);
        if (parts->signature.size() != 32 || !detail::verify_signature(text, Alg::HS256, impl_->secret))
            return AuthResult::fail(Failure::BadSignature);
        legacy_secret = true;
    } else {
        auto keys = impl_->snapshot();
        bool alg_configured = false;
        std::vector<const detail::PublicKey *> candidates;
        const auto find_candidates = [&] {
            alg_configured = false;
            candidates.clear();
            for (const auto &key : keys->keys) {
                if (key.alg != alg)
                    continue;
                alg_configured = true;
                // With a kid, only that key; without one, every key of this algorithm.
                if (!kid || (key.kid && *key.kid == *kid))
                    candidates.push_back(&key);
            }
        };
        find_candidates();
        // A kid we do not know may be a key the issuer has just started to use:
        // fetch the JWKS again (rate-limited) and look once more.
        if (kid && candidates.empty() && impl_->fetcher) {
            refresh_for_unknown_kid();
            keys = impl_->snapshot();
            find_candidates();
        }
        if (!alg_configured)
            return AuthResult::fail(Failure::AlgorithmNotAllowed);
        if (candidates.empty())
            return AuthResult::fail(Failure::UnknownKey);
        if (alg == Alg::ES256 && parts->signature.size() != 64)
            return AuthResult::fail(Failure::BadSignature);
        bool verified = false;
        for (const auto *key : candidates) {
            if (detail::verify_signature(text, alg, key->pem)) {
                verified = true;
                break;
            }
        }
        if (!verified)
            return AuthResult::fail(Failure::BadSignature);
    }

    detail::ClaimRules rules;
    rules.expected_issuer = impl_->expected_issuer;
    rules.now = impl_->clock();
    rules.leeway = impl_->leeway;
    AuthResult result = detail::evaluate_claims(parts->payload, legacy_secret, rules);
    // A verdict from a key of a refreshed JWKS holds only until the next
    // refresh, which may remove that key: callers that cache verdicts until
    // accept_until then check the token again.
    if (result.ok() && !legacy_secret && impl_->fetcher)
        result.principal->accept_until = std::min(result.principal->accept_until, impl_->next_due.load());
    return result;
}

void Verifier::refresh_for_unknown_kid() const
{
    // Threads that meet an unknown kid together wait for one fetch and then
    // all see its result; the rate limit holds across them.
    const std::lock_guard<std::mutex> lock(impl_->refresh_mutex);
    const std::int64_t now = impl_->clock();
    if (now - impl_->last_attempt < kJwksUnknownKidRefreshSeconds)
        return;
    impl_->refresh_locked(now);
}

}  // namespace nw::auth
