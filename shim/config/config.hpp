// The shim's configuration: the environment variables of docs/http-api.md (a .env file in
// the working directory is read first; the real environment wins).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nw::config {

struct Config {
    std::string database_url;
    int port = 8080;
    std::string bind_address = "127.0.0.1";
    int db_pool_size = 32;
    // How long a call waits for a writable primary after a failover before the
    // request is answered 503 (DATABASE_FAILOVER_WAIT_SECONDS): at least
    // kMinFailoverWaitSeconds, 40 by default (docs/high-availability.md).
    int db_failover_wait_seconds = 40;
    // A test seam (NW_TEST_FAULT_DROP_AFTER_COMMIT), honoured in testing mode
    // only: statement names; the pool drops its connection right after the
    // next run of each committed, once per time a name is listed
    // (db::Pool::set_drop_after_commit).
    std::vector<std::string> test_fault_drop_after_commit;

    std::string supabase_jwt_secret;
    std::string supabase_jwks;  // a file path or an http(s) URL
    std::string supabase_url;
    std::string admin_api_key;
    std::string supabase_anon_key;  // public by design: the buyer page signs in with it (live mode)
    std::string web_root;           // WEB_ROOT: the pages' files; empty = the build's web/ folder

    bool twilio_testing_mode = true;
    std::string twilio_account_sid;
    std::string twilio_auth_token;
    std::string twilio_api_key;
    std::string twilio_api_secret;
    std::string twilio_api_base = "https://api.twilio.com";
    long twilio_timeout_ms = 15000;
    std::string twilio_voice_url;
    std::string twilio_sms_url;

    std::string number_monthly_price = "1.15";  // decimal text, never a double
    std::int64_t number_monthly_price_cents = 115;
    std::string number_price_currency = "USD";
    std::vector<std::string> number_countries = {"US", "CA"};

    bool allow_self_topup = false;
    int reconcile_pending_after_seconds = 300;
    int reconcile_interval_seconds = 60;
    int ip_rate_limit_per_minute = 0;
    std::vector<std::string> cors_origins;
};

// Reads the environment (and ./.env). Throws std::runtime_error with a message
// naming the variable (never its value) when a value is malformed.
Config Load();

// The least DATABASE_FAILOVER_WAIT_SECONDS: a keyed purchase or top-up waits
// at least this long for a writable primary before it may be answered 503.
inline constexpr int kMinFailoverWaitSeconds = 20;

// A purchase may take this long in all (Retry-After waits included): `serve`
// settles no pending purchase younger than that.
inline constexpr int kServeMinPendingAfterSeconds = 60;

// The checks `serve` makes before it starts (docs/http-api.md): DATABASE_URL, a secret
// of at least 32 bytes or a JWKS (a URL: https, or http to a loopback host),
// an ADMIN_API_KEY of at least 32 bytes when set, live mode only with
// credentials and without self top-ups, RECONCILE_PENDING_AFTER_SECONDS of at
// least 60, no test seam outside testing mode. Returns "" when fine.
std::string ValidateForServe(const Config &config);

// The checks of the `reconcile` command: only what it uses, DATABASE_URL, the
// Twilio settings and no test seam outside testing mode (no JWT settings; any
// RECONCILE_PENDING_AFTER_SECONDS >= 0, so an operator can settle every
// pending purchase now). "" when fine.
std::string ValidateForReconcile(const Config &config);

// What `reconcile` says before a pass with RECONCILE_PENDING_AFTER_SECONDS
// below 60 s; "" otherwise.
std::string ReconcileWarning(const Config &config);

// True when SUPABASE_JWKS names a URL (http:// or https://, any case) rather
// than a file.
bool IsJwksUrl(const std::string &where);

// "" when a SUPABASE_JWKS URL may be used: https, or http to a loopback host
// only (127.0.0.0/8, [::1], localhost), so keys never cross a network
// unprotected; else the problem, naming SUPABASE_JWKS but not the URL.
std::string CheckJwksUrl(const std::string &url);

// Parses KEY=VALUE lines (comments, blank lines, optional quotes, `export `);
// exposed for tests.
std::vector<std::pair<std::string, std::string>> ParseDotEnv(const std::string &text);

}  // namespace nw::config
