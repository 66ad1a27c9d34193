// See provider.hpp (Metered): every call to the provider counted by operation
// and outcome, timed, and its Twilio error code counted.
#include <chrono>

#include "metrics/metrics.hpp"
#include "provider/provider.hpp"

namespace nw::provider {
namespace {

using Clock = std::chrono::steady_clock;

class MeteredProvider final : public Provider {
public:
    MeteredProvider(std::unique_ptr<Provider> inner, metrics::Metrics &metrics)
        : inner_(std::move(inner)), metrics_(metrics)
    {
    }
    const char *Name() const override { return inner_->Name(); }

    twilio::Result<std::vector<twilio::AvailableNumber>> Search(const std::string &country,
                                                                const std::optional<std::string> &area_code,
                                                                const std::optional<std::string> &contains,
                                                                int limit) override
    {
        const auto started = Clock::now();
        auto result = inner_->Search(country, area_code, contains, limit);
        Record("search", started, ReadOutcome(result));
        return result;
    }
    twilio::BuyOutcome Buy(const std::string &phone_number, const std::string &number_id, Deadline deadline) override
    {
        const auto started = Clock::now();
        twilio::BuyOutcome outcome = inner_->Buy(phone_number, number_id, deadline);
        Record("buy", started, BuyOutcome(outcome));
        return outcome;
    }
    twilio::Result<std::optional<twilio::OwnedNumber>> FindOwned(const std::string &phone_number,
                                                                 Deadline deadline) override
    {
        const auto started = Clock::now();
        auto result = inner_->FindOwned(phone_number, deadline);
        Record("lookup", started, ReadOutcome(result));
        return result;
    }
    twilio::Result<std::vector<twilio::OwnedNumber>> ListOwned(Deadline deadline) override
    {
        const auto started = Clock::now();
        auto result = inner_->ListOwned(deadline);
        Record("lookup", started, ReadOutcome(result));
        return result;
    }
    twilio::Result<twilio::ReleaseOutcome> Release(const std::string &sid, Deadline deadline) override
    {
        const auto started = Clock::now();
        auto result = inner_->Release(sid, deadline);
        Record("delete", started, ReadOutcome(result));
        return result;
    }

private:
    void Record(const char *op, Clock::time_point started, const CallOutcome &outcome)
    {
        const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
        metrics_.Inc("nw_twilio_requests_total", std::string("op=\"") + op + "\",outcome=\"" + outcome.outcome + "\"");
        metrics_.Observe("nw_twilio_request_duration_seconds", std::string("op=\"") + op + "\"", seconds);
        if (outcome.twilio_code != 0)
            metrics_.Inc("nw_twilio_errors_total", "code=\"" + metrics_.TwilioCode(outcome.twilio_code) + "\"");
    }

    std::unique_ptr<Provider> inner_;
    metrics::Metrics &metrics_;
};

}  // namespace

CallOutcome ErrorOutcome(const twilio::Error &error)
{
    using twilio::ErrorKind;
    if (error.kind == ErrorKind::HttpStatus && error.httpStatus == 429)
        return {"rate_limited", error.twilioCode};
    if (error.kind == ErrorKind::InvalidArgument ||
        (error.kind == ErrorKind::HttpStatus && error.httpStatus >= 400 && error.httpStatus < 500))
        return {"refused", error.twilioCode};
    return {"unknown", error.twilioCode};
}

CallOutcome BuyOutcome(const twilio::BuyOutcome &outcome)
{
    if (std::holds_alternative<twilio::Bought>(outcome))
        return {"ok", 0};
    if (const auto *refused = std::get_if<twilio::Refused>(&outcome))
        return {"refused", refused->twilioCode};
    if (const auto *limited = std::get_if<twilio::RateLimited>(&outcome))
        return {"rate_limited", limited->twilioCode};
    return {"unknown", 0};
}

std::unique_ptr<Provider> Metered(std::unique_ptr<Provider> inner, metrics::Metrics &metrics)
{
    return std::make_unique<MeteredProvider>(std::move(inner), metrics);
}

}  // namespace nw::provider
