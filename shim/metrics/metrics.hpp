// Prometheus series for /metrics: the shim's own counters and histograms, and
// the database-derived gauges and counters read at scrape (cached).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace nw::metrics {

// Upper bounds (seconds) of the latency histograms' buckets, +Inf implied.
extern const std::vector<double> kLatencyBuckets;

// One row of number_wallet.metrics_snapshot(): value is the numeric's text.
struct SnapshotRow {
    std::string metric;
    std::string key;
    std::string currency;
    std::string value;
};

// nullopt = the database could not be read.
using SnapshotFetch = std::function<std::optional<std::vector<SnapshotRow>>()>;

class Metrics {
public:
    using Clock = std::chrono::steady_clock;
    // Declares the contract's series with fixed label sets at 0, so a first
    // event is an increase a rule can see (increase() needs a previous sample).
    Metrics();

    // name{labels} += 1; labels is Prometheus label text such as `route="x",status="200"`.
    void Inc(const std::string &name, const std::string &labels = "");
    // One observation of a histogram (seconds).
    void Observe(const std::string &name, const std::string &labels, double seconds);
    // The label value for Twilio error `code` (see TwilioCodeLabel); remembers it.
    std::string TwilioCode(int code);
    // The shim's own series.
    std::string Render() const;
    // Render() plus the database-derived series, read through `fetch` when the
    // cached ones are older than `max_age` (fetch runs outside the lock; one
    // scrape at a time fetches, the others wait for its answer).
    std::string Scrape(const SnapshotFetch &fetch, Clock::time_point now,
                       Clock::duration max_age = std::chrono::seconds(15));

    static constexpr std::size_t kMaxTwilioCodes = 32;

private:
    struct Histogram {
        std::vector<long long> buckets;  // cumulative counts are computed when rendering
        long long count = 0;
        double sum = 0;
    };
    mutable std::mutex mutex_;
    std::map<std::string, std::map<std::string, long long>> counters_;
    std::map<std::string, std::map<std::string, Histogram>> histograms_;
    std::set<int> twilio_codes_;

    std::mutex scrape_mutex_;
    std::optional<Clock::time_point> fetched_at_;
    std::string database_text_;
};

// Label values, each from a fixed set whatever a client or Twilio sends (every
// new label value is a new series held for the process's life).
// The method: GET, HEAD, POST, DELETE, OPTIONS, else "other".
const char *MethodLabel(const std::string &method);
// The status: a code the shim answers, else its class ("4xx"), else "other".
std::string StatusLabel(int status);
// `route="…",status="…"` for nw_http_requests_total; `route` must come from a
// fixed set too (http::RouteTemplate).
std::string HttpRequestLabels(const char *route, int status);
// A Twilio error code as a label: Twilio's codes are five-digit numbers; the
// first kMaxTwilioCodes distinct ones a process sees keep their own series
// (`seen` holds them), later ones and anything else are "other".
std::string TwilioCodeLabel(int code, std::set<int> &seen, std::size_t max_codes);

// The database-derived series from metrics_snapshot()'s rows (nullopt: the
// database is down: only nw_database_up 0). Every label value comes from a
// fixed set (kind, currency, status, reason; anything else is "other") and
// every member of a set is written, 0 when absent.
std::string RenderDatabase(const std::optional<std::vector<SnapshotRow>> &rows);

}  // namespace nw::metrics
