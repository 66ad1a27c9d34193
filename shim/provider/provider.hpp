// Where numbers are bought: live Twilio, or the built-in simulator of testing
// mode. Both answer in the Twilio client's types, so the sagas and the
// reconciler do not know which one they talk to.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "twilio/types.hpp"

namespace nw::config {
struct Config;
}
namespace nw::db {
class Pool;
}
namespace nw::metrics {
class Metrics;
}

namespace nw::provider {

using twilio::Deadline;

class Provider {
public:
    virtual ~Provider() = default;
    // "twilio" or "simulator": the number_wallet.provider of the rows it owns.
    virtual const char *Name() const = 0;
    virtual twilio::Result<std::vector<twilio::AvailableNumber>> Search(const std::string &country,
                                                                        const std::optional<std::string> &area_code,
                                                                        const std::optional<std::string> &contains,
                                                                        int limit) = 0;
    virtual twilio::BuyOutcome Buy(const std::string &phone_number, const std::string &number_id,
                                   Deadline deadline) = 0;
    virtual twilio::Result<std::optional<twilio::OwnedNumber>> FindOwned(const std::string &phone_number,
                                                                         Deadline deadline) = 0;
    virtual twilio::Result<std::vector<twilio::OwnedNumber>> ListOwned(Deadline deadline) = 0;
    virtual twilio::Result<twilio::ReleaseOutcome> Release(const std::string &sid, Deadline deadline) = 0;
};

// Live Twilio (TWILIO_API_BASE, credentials) or, in testing mode, the simulator.
std::unique_ptr<Provider> Make(const config::Config &config, db::Pool &pool);

// How one provider call ended, for nw_twilio_requests_total{op,outcome}:
// outcome is ok, refused (Twilio said no, or the call was invalid),
// rate_limited (429) or unknown (no answer, 5xx, unreadable); twilio_code is
// Twilio's error code, 0 when none.
struct CallOutcome {
    const char *outcome;
    int twilio_code;
};
CallOutcome ErrorOutcome(const twilio::Error &error);
CallOutcome BuyOutcome(const twilio::BuyOutcome &outcome);
template <class T>
CallOutcome ReadOutcome(const twilio::Result<T> &result)
{
    return result.IsOk() ? CallOutcome{"ok", 0} : ErrorOutcome(result.error());
}

// `inner` with every call counted and timed in `metrics` (op: search, buy,
// lookup for FindOwned and ListOwned, delete), and Twilio's error codes counted.
std::unique_ptr<Provider> Metered(std::unique_ptr<Provider> inner, metrics::Metrics &metrics);

// The simulator's sid for a number row: "PN" + the row id's 32 hex digits.
std::string SimulatorSid(const std::string &number_id);

}  // namespace nw::provider
