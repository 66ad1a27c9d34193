// /metrics: the shim's series render in Prometheus text format with label
// values from fixed sets, the database-derived series are cached for at most
// the given age, and a provider wrapped by provider::Metered counts each call.
#include <gtest/gtest.h>

#include <string>

#include "metrics/metrics.hpp"
#include "provider/provider.hpp"

namespace nw {
namespace {

using metrics::Metrics;
using metrics::SnapshotRow;

bool Has(const std::string &text, const std::string &line)
{
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(Metrics, DeclaresContractSeriesAtZero)
{
    Metrics m;
    const std::string text = m.Render();
    EXPECT_TRUE(Has(text, "nw_twilio_requests_total{op=\"buy\",outcome=\"rate_limited\"} 0"));
    EXPECT_TRUE(Has(text, "nw_twilio_errors_total{code=\"20003\"} 0"));
    EXPECT_TRUE(Has(text, "nw_purchases_total{outcome=\"pending\"} 0"));
    EXPECT_TRUE(Has(text, "nw_purchase_conflicts_total 0"));
    EXPECT_TRUE(Has(text, "nw_twilio_request_duration_seconds_count{op=\"delete\"} 0"));
    EXPECT_TRUE(Has(text, "# TYPE nw_twilio_request_duration_seconds histogram"));
}

TEST(Metrics, HistogramBucketsAreCumulative)
{
    Metrics m;
    m.Observe("nw_http_request_duration_seconds", "route=\"/api/health\"", 0.003);
    m.Observe("nw_http_request_duration_seconds", "route=\"/api/health\"", 0.2);
    m.Observe("nw_http_request_duration_seconds", "route=\"/api/health\"", 100);
    const std::string text = m.Render();
    EXPECT_TRUE(Has(text, "nw_http_request_duration_seconds_bucket{route=\"/api/health\",le=\"0.005\"} 1"));
    EXPECT_TRUE(Has(text, "nw_http_request_duration_seconds_bucket{route=\"/api/health\",le=\"0.1\"} 1"));
    EXPECT_TRUE(Has(text, "nw_http_request_duration_seconds_bucket{route=\"/api/health\",le=\"0.25\"} 2"));
    EXPECT_TRUE(Has(text, "nw_http_request_duration_seconds_bucket{route=\"/api/health\",le=\"60\"} 2"));
    EXPECT_TRUE(Has(text, "nw_http_request_duration_seconds_bucket{route=\"/api/health\",le=\"+Inf\"} 3"));
    EXPECT_TRUE(Has(text, "nw_http_request_duration_seconds_count{route=\"/api/health\"} 3"));
    EXPECT_TRUE(Has(text, "nw_http_request_duration_seconds_sum{route=\"/api/health\"} 100.203"));
}

TEST(Metrics, TwilioCodesAreBounded)
{
    std::set<int> seen;
    EXPECT_EQ(metrics::TwilioCodeLabel(20003, seen, 2), "20003");
    EXPECT_EQ(metrics::TwilioCodeLabel(21422, seen, 2), "21422");
    EXPECT_EQ(metrics::TwilioCodeLabel(20003, seen, 2), "20003");  // already has its series
    EXPECT_EQ(metrics::TwilioCodeLabel(21421, seen, 2), "other");  // the set is full
    EXPECT_EQ(metrics::TwilioCodeLabel(999, seen, 10), "other");   // not a Twilio code
    EXPECT_EQ(metrics::TwilioCodeLabel(-20003, seen, 10), "other");
    EXPECT_EQ(metrics::TwilioCodeLabel(100000, seen, 10), "other");
    EXPECT_EQ(seen.size(), 2u);

    Metrics m;
    for (int code = 10000; code < 10100; ++code)
        m.TwilioCode(code);
    EXPECT_EQ(m.TwilioCode(20003), "20003");  // declared at start: always its own series
    EXPECT_EQ(m.TwilioCode(30000), "other");
}

TEST(Metrics, DatabaseDownIsOnlyDatabaseUpZero)
{
    EXPECT_EQ(metrics::RenderDatabase(std::nullopt), "# TYPE nw_database_up gauge\nnw_database_up 0\n");
}

TEST(Metrics, DatabaseSeriesFromFixedSets)
{
    const std::vector<SnapshotRow> rows = {
        {"ledger_entries", "purchase", "USD", "3"},
        {"ledger_amount", "purchase", "USD", "3.45"},
        {"numbers", "active", "", "2"},
        {"numbers", "weird", "", "1"},
        {"numbers", "stranger", "", "2"},
        {"interventions", "pending_too_long", "", "1"},
        {"interventions", "some_new_kind\"}", "", "4"},
        {"pending_overdue", "", "", "1"},
        {"wallet_balance", "", "USD", "10.50"},
        {"ledger_drift_rows", "", "", "0"},
        {"from_a_newer_extension", "x", "", "9"},
    };
    const std::string text = metrics::RenderDatabase(rows);
    EXPECT_TRUE(Has(text, "nw_ledger_entries_total{kind=\"purchase\",currency=\"USD\"} 3"));
    EXPECT_TRUE(Has(text, "nw_ledger_entries_total{kind=\"refund\",currency=\"INR\"} 0"));
    EXPECT_TRUE(Has(text, "nw_ledger_amount_total{kind=\"purchase\",currency=\"USD\"} 3.45"));
    EXPECT_TRUE(Has(text, "nw_ledger_amount_total{kind=\"adjustment\",currency=\"USD\"} 0"));
    EXPECT_TRUE(Has(text, "nw_numbers{status=\"active\"} 2"));
    EXPECT_TRUE(Has(text, "nw_numbers{status=\"pending\"} 0"));
    EXPECT_TRUE(Has(text, "nw_numbers{status=\"other\"} 3"));
    EXPECT_TRUE(Has(text, "nw_interventions{reason=\"pending_too_long\"} 1"));
    EXPECT_TRUE(Has(text, "nw_interventions{reason=\"renewal_unpaid\"} 0"));
    EXPECT_TRUE(Has(text, "nw_interventions{reason=\"other\"} 4"));
    EXPECT_TRUE(Has(text, "nw_pending_overdue 1"));
    EXPECT_TRUE(Has(text, "nw_wallet_balance_total{currency=\"USD\"} 10.50"));
    EXPECT_TRUE(Has(text, "nw_wallet_balance_total{currency=\"INR\"} 0"));
    EXPECT_TRUE(Has(text, "nw_ledger_drift_rows 0"));
    EXPECT_TRUE(Has(text, "nw_database_up 1"));
    EXPECT_EQ(text.find("weird"), std::string::npos);
    EXPECT_EQ(text.find("some_new_kind"), std::string::npos);
    EXPECT_EQ(text.find("newer"), std::string::npos);
}

TEST(Metrics, ScrapeCachesTheDatabaseForAtMostMaxAge)
{
    Metrics m;
    int fetches = 0;
    std::string balance = "1";
    const auto fetch = [&] {
        ++fetches;
        return std::optional<std::vector<SnapshotRow>>({{"wallet_balance", "", "USD", balance}});
    };
    const Metrics::Clock::time_point t0 = Metrics::Clock::time_point() + std::chrono::hours(1000);
    EXPECT_TRUE(Has(m.Scrape(fetch, t0), "nw_wallet_balance_total{currency=\"USD\"} 1"));
    balance = "2";
    EXPECT_TRUE(Has(m.Scrape(fetch, t0 + std::chrono::seconds(14)), "nw_wallet_balance_total{currency=\"USD\"} 1"));
    EXPECT_EQ(fetches, 1);
    EXPECT_TRUE(Has(m.Scrape(fetch, t0 + std::chrono::seconds(15)), "nw_wallet_balance_total{currency=\"USD\"} 2"));
    EXPECT_EQ(fetches, 2);
    // A database that went away: nw_database_up 0 at the next fetch, no stale values.
    const std::string down =
        m.Scrape([] { return std::optional<std::vector<SnapshotRow>>(); }, t0 + std::chrono::seconds(31));
    EXPECT_TRUE(Has(down, "nw_database_up 0"));
    EXPECT_EQ(down.find("nw_wallet_balance_total"), std::string::npos);
    // The shim's own counters are always there.
    EXPECT_TRUE(Has(down, "nw_purchase_conflicts_total 0"));
}

TEST(Metrics, ProviderOutcomes)
{
    using twilio::Error;
    using twilio::ErrorKind;
    EXPECT_STREQ(provider::ErrorOutcome(Error{ErrorKind::HttpStatus, 401, 20003, ""}).outcome, "refused");
    EXPECT_EQ(provider::ErrorOutcome(Error{ErrorKind::HttpStatus, 401, 20003, ""}).twilio_code, 20003);
    EXPECT_STREQ(provider::ErrorOutcome(Error{ErrorKind::HttpStatus, 429, 20429, ""}).outcome, "rate_limited");
    EXPECT_STREQ(provider::ErrorOutcome(Error{ErrorKind::HttpStatus, 503, 0, ""}).outcome, "unknown");
    EXPECT_STREQ(provider::ErrorOutcome(Error{ErrorKind::Timeout, 0, 0, ""}).outcome, "unknown");
    EXPECT_STREQ(provider::ErrorOutcome(Error{ErrorKind::InvalidArgument, 0, 0, ""}).outcome, "refused");
    EXPECT_STREQ(provider::BuyOutcome(twilio::Bought{"PN1", "+15005550006", ""}).outcome, "ok");
    EXPECT_EQ(provider::BuyOutcome(twilio::Refused{400, 21422, "gone"}).twilio_code, 21422);
    EXPECT_STREQ(provider::BuyOutcome(twilio::RateLimited{}).outcome, "rate_limited");
    EXPECT_STREQ(provider::BuyOutcome(twilio::Unknown{"timeout"}).outcome, "unknown");
    EXPECT_STREQ(provider::ReadOutcome(twilio::Result<int>(1)).outcome, "ok");
}

// A provider answering from fixed outcomes, to see Metered count its calls.
class FixedProvider final : public provider::Provider {
public:
    const char *Name() const override { return "fixed"; }
    twilio::Result<std::vector<twilio::AvailableNumber>> Search(const std::string &, const std::optional<std::string> &,
                                                                const std::optional<std::string> &, int) override
    {
        return twilio::Error{twilio::ErrorKind::HttpStatus, 401, 20003, "auth"};
    }
    twilio::BuyOutcome Buy(const std::string &, const std::string &, provider::Deadline) override
    {
        return twilio::Bought{"PN1", "+15005550006", ""};
    }
    twilio::Result<std::optional<twilio::OwnedNumber>> FindOwned(const std::string &, provider::Deadline) override
    {
        return std::optional<twilio::OwnedNumber>();
    }
    twilio::Result<std::vector<twilio::OwnedNumber>> ListOwned(provider::Deadline) override
    {
        return twilio::Error{twilio::ErrorKind::Transport, 0, 0, "down"};
    }
    twilio::Result<twilio::ReleaseOutcome> Release(const std::string &, provider::Deadline) override
    {
        return twilio::ReleaseOutcome::NotFound;
    }
};

TEST(Metrics, MeteredProviderCountsEveryCall)
{
    Metrics m;
    auto p = provider::Metered(std::make_unique<FixedProvider>(), m);
    EXPECT_STREQ(p->Name(), "fixed");
    p->Search("US", std::nullopt, std::nullopt, 5);
    p->Buy("+15005550006", "id", std::nullopt);
    p->FindOwned("+15005550006", std::nullopt);
    p->ListOwned(std::nullopt);
    p->Release("PN1", std::nullopt);
    const std::string text = m.Render();
    EXPECT_TRUE(Has(text, "nw_twilio_requests_total{op=\"search\",outcome=\"refused\"} 1"));
    EXPECT_TRUE(Has(text, "nw_twilio_errors_total{code=\"20003\"} 1"));
    EXPECT_TRUE(Has(text, "nw_twilio_requests_total{op=\"buy\",outcome=\"ok\"} 1"));
    EXPECT_TRUE(Has(text, "nw_twilio_requests_total{op=\"lookup\",outcome=\"ok\"} 1"));
    EXPECT_TRUE(Has(text, "nw_twilio_requests_total{op=\"lookup\",outcome=\"unknown\"} 1"));
    EXPECT_TRUE(Has(text, "nw_twilio_requests_total{op=\"delete\",outcome=\"ok\"} 1"));
    EXPECT_TRUE(Has(text, "nw_twilio_request_duration_seconds_count{op=\"lookup\"} 2"));
}

}  // namespace
}  // namespace nw
