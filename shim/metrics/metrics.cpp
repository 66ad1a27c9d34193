// See metrics.hpp.
#include "metrics/metrics.hpp"

#include <cstdio>

namespace nw::metrics {
namespace {

const char *const kTwilioOps[] = {"search", "buy", "lookup", "delete"};
const char *const kTwilioOutcomes[] = {"ok", "refused", "unknown", "rate_limited"};
const char *const kPurchaseOutcomes[] = {"bought", "refused", "pending"};

// The fixed sets of the database-derived labels (the ledger's row rules allow
// exactly these kinds and currencies; statuses and reasons as the extension
// and the reconciler write them).
const std::vector<std::string> kKinds = {"topup", "purchase", "reversal", "refund", "renewal", "adjustment"};
const std::vector<std::string> kCurrencies = {"USD", "INR"};
const std::vector<std::string> kStatuses = {"pending", "active", "failed", "released"};
const std::vector<std::string> kReasons = {"pending_too_long", "provider_release_pending", "renewal_unpaid",
                                           "unknown_at_provider", "missing_at_provider"};

std::string Number(double value)
{
    char text[64];
    std::snprintf(text, sizeof text, "%.9g", value);
    return text;
}

const std::string &OneOf(const std::string &value, const std::vector<std::string> &set)
{
    static const std::string kOther = "other";
    for (const std::string &member : set)
        if (value == member)
            return member;
    return kOther;
}

// Hundredths of a numeric(14,2) text ("-12.5" -> -1250); exact, no floating point.
long long Hundredths(const std::string &text)
{
    const bool negative = !text.empty() && text[0] == '-';
    long long units = 0, fraction = 0;
    int fraction_digits = 0;
    bool point = false;
    for (std::size_t i = negative ? 1 : 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '.')
            point = true;
        else if (c >= '0' && c <= '9' && !point)
            units = units * 10 + (c - '0');
        else if (c >= '0' && c <= '9' && fraction_digits < 2)
            fraction = fraction * 10 + (c - '0'), ++fraction_digits;
    }
    while (fraction_digits++ < 2)
        fraction *= 10;
    const long long value = units * 100 + fraction;
    return negative ? -value : value;
}

// The exact sum of two decimal texts of at most two decimals ("" is 0): the
// values of unknown keys folded into "other" add up.
std::string AddDecimal(const std::string &a, const std::string &b)
{
    const long long sum = Hundredths(a) + Hundredths(b);
    const long long magnitude = sum < 0 ? -sum : sum;
    std::string text = (sum < 0 ? "-" : "") + std::to_string(magnitude / 100);
    if (magnitude % 100 != 0) {
        char cents[4];
        std::snprintf(cents, sizeof cents, "%02lld", magnitude % 100);
        text += std::string(".") + cents;
    }
    return text;
}

}  // namespace

const std::vector<double> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

Metrics::Metrics()
{
    for (const char *op : kTwilioOps) {
        for (const char *outcome : kTwilioOutcomes)
            counters_["nw_twilio_requests_total"][std::string("op=\"") + op + "\",outcome=\"" + outcome + "\""] = 0;
        histograms_["nw_twilio_request_duration_seconds"][std::string("op=\"") + op + "\""].buckets.assign(
            kLatencyBuckets.size(), 0);
    }
    for (const char *outcome : kPurchaseOutcomes)
        counters_["nw_purchases_total"][std::string("outcome=\"") + outcome + "\""] = 0;
    counters_["nw_purchase_conflicts_total"][""] = 0;
    // The code an alert watches (authentication failed) exists before it first happens.
    twilio_codes_.insert(20003);
    counters_["nw_twilio_errors_total"]["code=\"20003\""] = 0;
}

void Metrics::Inc(const std::string &name, const std::string &labels)
{
    std::lock_guard<std::mutex> lock(mutex_);
    ++counters_[name][labels];
}

void Metrics::Observe(const std::string &name, const std::string &labels, double seconds)
{
    std::lock_guard<std::mutex> lock(mutex_);
    Histogram &h = histograms_[name][labels];
    if (h.buckets.empty())
        h.buckets.assign(kLatencyBuckets.size(), 0);
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i)
        if (seconds <= kLatencyBuckets[i]) {
            ++h.buckets[i];
            break;
        }
    ++h.count;
    h.sum += seconds;
}

std::string Metrics::TwilioCode(int code)
{
    std::lock_guard<std::mutex> lock(mutex_);
    return TwilioCodeLabel(code, twilio_codes_, kMaxTwilioCodes);
}

std::string Metrics::Render() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    for (const auto &[name, series] : counters_) {
        out += "# TYPE " + name + " counter\n";
        for (const auto &[labels, value] : series)
            out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(value) + "\n";
    }
    for (const auto &[name, series] : histograms_) {
        out += "# TYPE " + name + " histogram\n";
        for (const auto &[labels, h] : series) {
            const std::string prefix = labels.empty() ? "" : labels + ",";
            long long cumulative = 0;
            for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
                cumulative += h.buckets[i];
                out += name + "_bucket{" + prefix + "le=\"" + Number(kLatencyBuckets[i]) + "\"} " +
                       std::to_string(cumulative) + "\n";
            }
            out += name + "_bucket{" + prefix + "le=\"+Inf\"} " + std::to_string(h.count) + "\n";
            const std::string braces = labels.empty() ? "" : "{" + labels + "}";
            out += name + "_sum" + braces + " " + Number(h.sum) + "\n";
            out += name + "_count" + braces + " " + std::to_string(h.count) + "\n";
        }
    }
    return out;
}

std::string Metrics::Scrape(const SnapshotFetch &fetch, Clock::time_point now, Clock::duration max_age)
{
    std::string database;
    {
        std::lock_guard<std::mutex> lock(scrape_mutex_);
        if (!fetched_at_ || now - *fetched_at_ >= max_age || now < *fetched_at_) {
            database_text_ = RenderDatabase(fetch());
            fetched_at_ = now;
        }
        database = database_text_;
    }
    return Render() + database;
}

const char *MethodLabel(const std::string &method)
{
    for (const char *known : {"GET", "HEAD", "POST", "DELETE", "OPTIONS"})
        if (method == known)
            return known;
    return "other";
}

std::string StatusLabel(int status)
{
    static const int kKnown[] = {100, 200, 201, 202, 204, 400, 401, 402, 403, 404, 405, 409,
                                 411, 413, 414, 415, 416, 422, 429, 500, 502, 503, 504};
    for (int known : kKnown)
        if (status == known)
            return std::to_string(status);
    if (status >= 100 && status < 600)
        return std::to_string(status / 100) + "xx";
    return "other";
}

std::string HttpRequestLabels(const char *route, int status)
{
    return std::string("route=\"") + route + "\",status=\"" + StatusLabel(status) + "\"";
}

std::string TwilioCodeLabel(int code, std::set<int> &seen, std::size_t max_codes)
{
    if (code < 10000 || code > 99999)
        return "other";
    if (seen.count(code) == 0) {
        if (seen.size() >= max_codes)
            return "other";
        seen.insert(code);
    }
    return std::to_string(code);
}

std::string RenderDatabase(const std::optional<std::vector<SnapshotRow>> &rows)
{
    if (!rows)
        return "# TYPE nw_database_up gauge\nnw_database_up 0\n";
    // (metric, key, currency) -> value, every fixed member first at 0.
    std::map<std::string, std::map<std::pair<std::string, std::string>, std::string>> values;
    for (const std::string &kind : kKinds)
        for (const std::string &currency : kCurrencies) {
            values["ledger_entries"][{kind, currency}] = "0";
            values["ledger_amount"][{kind, currency}] = "0";
        }
    for (const std::string &status : kStatuses)
        values["numbers"][{status, ""}] = "0";
    for (const std::string &reason : kReasons)
        values["interventions"][{reason, ""}] = "0";
    for (const std::string &currency : kCurrencies)
        values["wallet_balance"][{"", currency}] = "0";
    values["pending_overdue"][{"", ""}] = "0";
    values["ledger_drift_rows"][{"", ""}] = "0";

    for (const SnapshotRow &row : *rows) {
        auto metric = values.find(row.metric);
        if (metric == values.end())
            continue;  // a row of a newer extension this shim does not know
        std::string key = row.key;
        if (row.metric == "ledger_entries" || row.metric == "ledger_amount")
            key = OneOf(row.key, kKinds);
        else if (row.metric == "numbers")
            key = OneOf(row.key, kStatuses);
        else if (row.metric == "interventions")
            key = OneOf(row.key, kReasons);
        const std::string currency = row.currency.empty() ? "" : OneOf(row.currency, kCurrencies);
        std::string &slot = metric->second[{key, currency}];
        // Known members come once from the query: replace their 0; "other" sums.
        slot = (key == "other" || currency == "other") ? AddDecimal(slot, row.value) : row.value;
    }

    std::string out;
    auto family = [&](const char *name, const char *type, const std::string &metric, const char *key_label) {
        out += std::string("# TYPE ") + name + " " + type + "\n";
        for (const auto &[labels, value] : values[metric]) {
            std::string text;
            if (key_label)
                text += std::string(key_label) + "=\"" + labels.first + "\"";
            if (!labels.second.empty())
                text += std::string(text.empty() ? "" : ",") + "currency=\"" + labels.second + "\"";
            out += std::string(name) + (text.empty() ? "" : "{" + text + "}") + " " + value + "\n";
        }
    };
    family("nw_ledger_entries_total", "counter", "ledger_entries", "kind");
    family("nw_ledger_amount_total", "counter", "ledger_amount", "kind");
    family("nw_numbers", "gauge", "numbers", "status");
    family("nw_interventions", "gauge", "interventions", "reason");
    family("nw_pending_overdue", "gauge", "pending_overdue", nullptr);
    family("nw_wallet_balance_total", "gauge", "wallet_balance", nullptr);
    family("nw_ledger_drift_rows", "gauge", "ledger_drift_rows", nullptr);
    out += "# TYPE nw_database_up gauge\nnw_database_up 1\n";
    return out;
}

}  // namespace nw::metrics
