// The shim's configuration rules (shim/config).
#include <gtest/gtest.h>

#include <cstdlib>

#include "config/config.hpp"

namespace {

TEST(ShimConfig, ParsesDotEnvLines)
{
    const auto pairs =
        nw::config::ParseDotEnv("# comment\n\nexport PORT=9000\nA = 'quoted value'\nB=\"x\"\nnoequals\n=novalue\n");
    ASSERT_EQ(pairs.size(), 3u);
    EXPECT_EQ(pairs[0], std::make_pair(std::string("PORT"), std::string("9000")));
    EXPECT_EQ(pairs[1], std::make_pair(std::string("A"), std::string("quoted value")));
    EXPECT_EQ(pairs[2], std::make_pair(std::string("B"), std::string("x")));
}

nw::config::Config Serveable()
{
    nw::config::Config c;
    c.database_url = "postgresql://x@127.0.0.1/db";
    c.supabase_jwt_secret = std::string(32, 's');
    return c;
}

TEST(ShimConfig, ServeRefusesWhatTheContractRefuses)
{
    EXPECT_EQ(nw::config::ValidateForServe(Serveable()), "");
    auto short_secret = Serveable();
    short_secret.supabase_jwt_secret = std::string(31, 's');
    EXPECT_NE(nw::config::ValidateForServe(short_secret), "");
    auto no_keys = Serveable();
    no_keys.supabase_jwt_secret.clear();
    EXPECT_NE(nw::config::ValidateForServe(no_keys), "");
    no_keys.supabase_jwks = "/etc/jwks.json";
    EXPECT_EQ(nw::config::ValidateForServe(no_keys), "");
    auto quick = Serveable();
    quick.reconcile_pending_after_seconds = 59;
    EXPECT_NE(nw::config::ValidateForServe(quick), "");
    auto live = Serveable();
    live.twilio_testing_mode = false;
    EXPECT_NE(nw::config::ValidateForServe(live), "");  // no credentials
    live.twilio_account_sid = "AC00000000000000000000000000000000";
    live.twilio_auth_token = "token";
    EXPECT_EQ(nw::config::ValidateForServe(live), "");
    live.allow_self_topup = true;
    EXPECT_NE(nw::config::ValidateForServe(live), "");
}

TEST(ShimConfig, LoadReadsAndChecksTheEnvironment)
{
    setenv("NUMBER_MONTHLY_PRICE", "2.5", 1);
    setenv("NUMBER_COUNTRIES", "US, CA ,GB", 1);
    const nw::config::Config c = nw::config::Load();
    EXPECT_EQ(c.number_monthly_price, "2.50");
    EXPECT_EQ(c.number_monthly_price_cents, 250);
    EXPECT_EQ(c.number_countries, (std::vector<std::string>{"US", "CA", "GB"}));
    EXPECT_TRUE(c.twilio_testing_mode);
    setenv("NUMBER_MONTHLY_PRICE", "1.005", 1);
    EXPECT_THROW(nw::config::Load(), std::runtime_error);
    setenv("NUMBER_MONTHLY_PRICE", "1.15", 1);
    setenv("PORT", "http", 1);
    EXPECT_THROW(nw::config::Load(), std::runtime_error);
    unsetenv("PORT");
    unsetenv("NUMBER_MONTHLY_PRICE");
    unsetenv("NUMBER_COUNTRIES");
}

TEST(ShimConfig, FailoverWaitIsAtLeastTwentySeconds)
{
    EXPECT_EQ(nw::config::Load().db_failover_wait_seconds, 40);
    setenv("DATABASE_FAILOVER_WAIT_SECONDS", "20", 1);
    EXPECT_EQ(nw::config::Load().db_failover_wait_seconds, nw::config::kMinFailoverWaitSeconds);
    // A keyed purchase or top-up waits at least 20 s for a new primary before a 503.
    setenv("DATABASE_FAILOVER_WAIT_SECONDS", "19", 1);
    try {
        nw::config::Load();
        ADD_FAILURE() << "19 s accepted";
    } catch (const std::runtime_error &e) {
        EXPECT_STREQ(e.what(), "DATABASE_FAILOVER_WAIT_SECONDS must be an integer from 20 to 600");
    }
    unsetenv("DATABASE_FAILOVER_WAIT_SECONDS");
}

TEST(ShimConfig, TheDropAfterCommitSeamIsForTestingModeOnly)
{
    setenv("NW_TEST_FAULT_DROP_AFTER_COMMIT", "credit, credit,purchase", 1);
    const nw::config::Config c = nw::config::Load();
    unsetenv("NW_TEST_FAULT_DROP_AFTER_COMMIT");
    EXPECT_EQ(c.test_fault_drop_after_commit, (std::vector<std::string>{"credit", "credit", "purchase"}));
    auto testing = Serveable();
    testing.test_fault_drop_after_commit = {"credit"};
    EXPECT_EQ(nw::config::ValidateForServe(testing), "");
    auto live = testing;
    live.twilio_testing_mode = false;
    live.twilio_account_sid = "AC00000000000000000000000000000000";
    live.twilio_auth_token = "token";
    EXPECT_EQ(nw::config::ValidateForServe(live),
              "NW_TEST_FAULT_DROP_AFTER_COMMIT is a test seam: it is refused with live Twilio "
              "(TWILIO_TESTING_MODE=false)");
    EXPECT_NE(nw::config::ValidateForReconcile(live), "");
    live.test_fault_drop_after_commit.clear();
    EXPECT_EQ(nw::config::ValidateForServe(live), "");
}

}  // namespace
