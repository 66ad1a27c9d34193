// Start-up checks of the `serve` and `reconcile` commands (shim/config):
// what each command needs, ADMIN_API_KEY's length, the SUPABASE_JWKS URL,
// NUMBER_COUNTRIES that lists nothing.
#include <gtest/gtest.h>

#include <cstdlib>

#include "auth/jwks_source.hpp"
#include "config/config.hpp"

namespace {

using nw::config::Config;

Config Serveable()
{
    Config c;
    c.database_url = "postgresql://x@127.0.0.1/db";
    c.supabase_jwt_secret = std::string(32, 's');
    return c;
}

Config LiveReconcileOnly()
{
    Config c;  // no JWT settings at all
    c.database_url = "postgresql://x@127.0.0.1/db";
    c.twilio_testing_mode = false;
    c.twilio_account_sid = "AC00000000000000000000000000000000";
    c.twilio_auth_token = "token";
    return c;
}

TEST(ShimConfigOps, ReconcileNeedsNoJwtSettings)
{
    const Config c = LiveReconcileOnly();
    EXPECT_EQ(nw::config::ValidateForReconcile(c), "");
    EXPECT_NE(nw::config::ValidateForServe(c), "");  // serve does need them
}

TEST(ShimConfigOps, ReconcileAcceptsAnyPendingAgeButServeNotBelowSixty)
{
    Config c = LiveReconcileOnly();
    for (const int seconds : {0, 1, 59}) {
        c.reconcile_pending_after_seconds = seconds;
        EXPECT_EQ(nw::config::ValidateForReconcile(c), "") << seconds;
        EXPECT_NE(nw::config::ReconcileWarning(c).find("in flight"), std::string::npos) << seconds;
        Config s = Serveable();
        s.reconcile_pending_after_seconds = seconds;
        EXPECT_NE(nw::config::ValidateForServe(s), "") << seconds;
    }
    c.reconcile_pending_after_seconds = 60;
    EXPECT_EQ(nw::config::ReconcileWarning(c), "");
    Config s = Serveable();
    s.reconcile_pending_after_seconds = 60;
    EXPECT_EQ(nw::config::ValidateForServe(s), "");
}

TEST(ShimConfigOps, ReconcileStillNeedsTheDatabaseAndTwilioCredentials)
{
    Config c = LiveReconcileOnly();
    c.database_url.clear();
    EXPECT_NE(nw::config::ValidateForReconcile(c), "");
    c = LiveReconcileOnly();
    c.twilio_auth_token.clear();
    EXPECT_NE(nw::config::ValidateForReconcile(c), "");
    c = LiveReconcileOnly();
    c.twilio_account_sid.clear();
    EXPECT_NE(nw::config::ValidateForReconcile(c), "");
    // Settings only `serve` uses do not stop it.
    c = LiveReconcileOnly();
    c.allow_self_topup = true;
    c.admin_api_key = "short";
    c.supabase_jwt_secret = "short";
    EXPECT_EQ(nw::config::ValidateForReconcile(c), "");
}

TEST(ShimConfigOps, AdminApiKeyNeedsThirtyTwoBytes)
{
    Config c = Serveable();
    c.admin_api_key = "admin";
    EXPECT_NE(nw::config::ValidateForServe(c).find("ADMIN_API_KEY"), std::string::npos);
    c.admin_api_key = std::string(31, 'k');
    EXPECT_NE(nw::config::ValidateForServe(c), "");
    c.admin_api_key = std::string(32, 'k');
    EXPECT_EQ(nw::config::ValidateForServe(c), "");
    c.admin_api_key.clear();  // unset: no admin key at all
    EXPECT_EQ(nw::config::ValidateForServe(c), "");
}

TEST(ShimConfigOps, JwksUrlMustBeHttpsOrLoopbackHttp)
{
    Config c = Serveable();
    c.supabase_jwt_secret.clear();
    for (const char *fine :
         {"https://abc.supabase.co/auth/v1/.well-known/jwks.json", "http://127.0.0.1:9999/jwks",
          "http://127.0.0.1/jwks", "http://127.8.9.10:80/x", "http://localhost:8000/jwks", "http://[::1]:8000/jwks",
          "HTTPS://abc.supabase.co/jwks", "/etc/number-wallet/jwks.json", "jwks.json"}) {
        c.supabase_jwks = fine;
        EXPECT_EQ(nw::config::ValidateForServe(c), "") << fine;
    }
    for (const char *refused :
         {"http://abc.supabase.co/auth/v1/.well-known/jwks.json", "http://10.0.0.5/jwks", "http://128.0.0.1/jwks",
          "http://127.0.0.1.example.com/jwks", "http://127.0.0.1@example.com/jwks", "http://localhost.example.com/jwks",
          "http://[::2]/jwks", "HTTP://example.com/jwks", "http://"}) {
        c.supabase_jwks = refused;
        const std::string problem = nw::config::ValidateForServe(c);
        EXPECT_NE(problem.find("SUPABASE_JWKS"), std::string::npos) << refused << ": " << problem;
        EXPECT_EQ(problem.find("example"), std::string::npos) << "the message names no URL: " << problem;
    }
}

TEST(ShimConfigOps, NumberCountriesThatListNothingAreRefused)
{
    for (const char *nothing : {",", " ", " , ,", "\t"}) {
        setenv("NUMBER_COUNTRIES", nothing, 1);
        try {
            nw::config::Load();
            ADD_FAILURE() << "accepted NUMBER_COUNTRIES=\"" << nothing << "\"";
        } catch (const std::runtime_error &e) {
            EXPECT_NE(std::string(e.what()).find("NUMBER_COUNTRIES"), std::string::npos);
        }
    }
    // Unset or empty: the default, as for every other variable.
    setenv("NUMBER_COUNTRIES", "", 1);
    EXPECT_EQ(nw::config::Load().number_countries, (std::vector<std::string>{"US", "CA"}));
    unsetenv("NUMBER_COUNTRIES");
    EXPECT_EQ(nw::config::Load().number_countries, (std::vector<std::string>{"US", "CA"}));
}

}  // namespace
