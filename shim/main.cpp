// number-wallet-shim: the HTTP API (serve), one reconciliation pass
// (reconcile), and demo tokens for testing mode (token).
#include <curl/curl.h>

#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>

#include "auth/jwks_source.hpp"
#include "demo/token.hpp"
#include "http/server.hpp"
#include "saga/sagas.hpp"
#include "util/log.hpp"
#include "core/validation.hpp"

namespace {

const char kHelp[] = R"(number-wallet-shim: the HTTP shim of number_wallet.

Usage:
  number-wallet-shim serve        serve the HTTP API (and reconcile every RECONCILE_INTERVAL_SECONDS)
  number-wallet-shim reconcile    run one full reconciliation pass and exit
                                  (status 0 when no overdue pending purchase and no
                                   unfinished provider deletion is left, else 1)
  number-wallet-shim token [--sub UUID | --service] [--anonymous] [--ttl SECONDS]
                                  print a demo access token (testing mode only)
  number-wallet-shim --help       this text

Configuration comes from the environment (a .env file in the working directory
is read first): DATABASE_URL, PORT (8080; 0 = any free port, logged), BIND_ADDRESS (127.0.0.1),
DATABASE_POOL_SIZE (32), SUPABASE_JWT_SECRET (>= 32 bytes) and/or SUPABASE_JWKS
(file, or URL fetched again every 10 minutes), SUPABASE_URL, ADMIN_API_KEY (>= 32 bytes),
TWILIO_TESTING_MODE (true),
TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN or TWILIO_API_KEY + TWILIO_API_SECRET,
TWILIO_API_BASE, TWILIO_TIMEOUT_MS (15000), TWILIO_VOICE_URL, TWILIO_SMS_URL,
NUMBER_MONTHLY_PRICE (1.15), NUMBER_PRICE_CURRENCY (USD), NUMBER_COUNTRIES (US,CA),
ALLOW_SELF_TOPUP (false), RECONCILE_PENDING_AFTER_SECONDS (300),
RECONCILE_INTERVAL_SECONDS (60), IP_RATE_LIMIT_PER_MINUTE (0), CORS_ORIGINS,
SUPABASE_ANON_KEY (public; the buyer page's live sign-in), WEB_ROOT (the pages' files;
default: the build's web/ folder). `serve` also serves the buyer page at / and the
operator page at /admin (docs/web.md).
`serve` refuses RECONCILE_PENDING_AFTER_SECONDS below 60; `reconcile` needs only
DATABASE_URL and the Twilio settings and accepts any value >= 0 (below 60 it may
fail a buy still in flight in a running `serve`, which is then undone at Twilio).
The database role needs number_wallet_service. See README.md.
)";

// SUPABASE_JWKS is a file path (read once) or a URL (fetched now, and again
// while serving: see auth::Verifier).
std::unique_ptr<nw::auth::Verifier> MakeVerifier(const nw::config::Config &c)
{
    nw::auth::VerifierConfig vc;
    vc.hs256_secret = c.supabase_jwt_secret;
    if (nw::config::IsJwksUrl(c.supabase_jwks)) {
        vc.jwks_fetcher = nw::auth::MakeJwksUrlFetcher(c.supabase_jwks);
        nw::auth::JwksFetch first = vc.jwks_fetcher();
        if (!first.ok)
            throw std::runtime_error(first.error);
        vc.jwks_json = std::move(first.document);
    } else if (!c.supabase_jwks.empty()) {
        vc.jwks_json = nw::auth::ReadJwksFile(c.supabase_jwks);
    }
    vc.supabase_url = c.supabase_url;
    vc.admin_api_key = c.admin_api_key;
    return std::make_unique<nw::auth::Verifier>(std::move(vc));
}

int Token(const nw::config::Config &c, int argc, char **argv)
{
    if (!c.twilio_testing_mode) {
        std::cerr << "demo tokens exist only in testing mode (TWILIO_TESTING_MODE=true)\n";
        return 2;
    }
    if (c.supabase_jwt_secret.size() < 32) {
        std::cerr << "SUPABASE_JWT_SECRET (at least 32 bytes) is needed to sign demo tokens\n";
        return 2;
    }
    nw::demo::TokenRequest request;
    for (int i = 2; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--sub" && i + 1 < argc)
            request.subject = argv[++i];
        else if (arg == "--service")
            request.service = true;
        else if (arg == "--anonymous")
            request.anonymous = true;
        else if (arg == "--ttl" && i + 1 < argc)
            request.ttl_seconds = std::atoll(argv[++i]);
        else {
            std::cerr << "unknown option " << arg << "\n" << kHelp;
            return 2;
        }
    }
    if (!request.service && !nw::IsUuid(request.subject)) {
        std::cerr << "--sub needs a lower-case uuid (or use --service)\n";
        return 2;
    }
    if (!c.supabase_url.empty())
        request.issuer = c.supabase_url + "/auth/v1";
    std::cout << nw::demo::MintHs256(c.supabase_jwt_secret, request) << "\n";
    return 0;
}

}  // namespace

int main(int argc, char **argv)
{
    const std::string command = argc > 1 ? argv[1] : "";
    if (command.empty() || command == "--help" || command == "-h" || command == "help") {
        std::cout << kHelp;
        return command.empty() ? 2 : 0;
    }
    if (command != "serve" && command != "reconcile" && command != "token") {
        std::cerr << "unknown command \"" << command << "\"\n\n" << kHelp;
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    try {
        nw::App app;
        app.config = nw::config::Load();
        if (command == "token")
            return Token(app.config, argc, argv);
        // `reconcile` checks only what it uses (docs/http-api.md): it needs no JWT
        // settings and may settle every pending purchase now.
        const std::string problem = command == "reconcile" ? nw::config::ValidateForReconcile(app.config)
                                                           : nw::config::ValidateForServe(app.config);
        if (!problem.empty()) {
            nw::log::Error("refusing to start: " + problem);
            return 2;
        }
        app.pool = std::make_unique<nw::db::Pool>(app.config.database_url, app.config.db_pool_size,
                                                  app.config.twilio_testing_mode ? "simulator" : "twilio");
        app.pool->set_failover_wait(std::chrono::seconds(app.config.db_failover_wait_seconds));
        if (!app.config.test_fault_drop_after_commit.empty()) {  // testing mode only (ValidateForServe)
            nw::log::Warn("test seam on: connections are dropped after these statements commit",
                          {{"statements", app.config.test_fault_drop_after_commit}});
            app.pool->set_drop_after_commit(app.config.test_fault_drop_after_commit);
        }
        app.provider = nw::provider::Metered(nw::provider::Make(app.config, *app.pool), app.metrics);
        if (command == "reconcile") {
            if (const std::string warning = nw::config::ReconcileWarning(app.config); !warning.empty())
                nw::log::Warn(warning);
            const nw::saga::ReconcileReport report = nw::saga::Reconcile(app, /*wait_for_lock=*/true, /*sweep=*/true);
            return report.Clean() ? 0 : 1;
        }
        app.verifier = MakeVerifier(app.config);
        // A JWKS URL is fetched again in the background (every 10 minutes).
        std::unique_ptr<nw::auth::JwksRefresher> refresher;
        if (nw::config::IsJwksUrl(app.config.supabase_jwks))
            refresher = std::make_unique<nw::auth::JwksRefresher>(
                *app.verifier, std::chrono::seconds(10), [](nw::auth::JwksRefresh outcome, const std::string &error) {
                    if (outcome == nw::auth::JwksRefresh::Refreshed)
                        nw::log::Info("SUPABASE_JWKS fetched again");
                    else
                        nw::log::Warn("SUPABASE_JWKS refresh failed; the last good key set stays in use",
                                      {{"error", error}});
                });
        return nw::http::Serve(app);
    } catch (const std::exception &e) {
        nw::log::Error(std::string("refusing to start: ") + e.what());
        return 2;
    }
}
