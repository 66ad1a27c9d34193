// The fake Twilio's in-memory world: numbers for sale, numbers owned, injected
// failures, call counters. One mutex guards it all; nothing sleeps while holding it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace fake_twilio {

struct Settings {
    std::string accountSid = "AC00000000000000000000000000000000";
    std::string authToken = "fake-auth-token";
    std::string apiKeySid;  // optional second credential pair (SK…)
    std::string apiKeySecret;
    long buyDelayMs = 0;          // every buy sleeps this long before acting
    int pageSize = 3;             // IncomingPhoneNumbers page size cap (small, so paging happens)
    long timeoutSleepMs = 30000;  // how long "timeout" failures stall
    // An unfiltered list (the inventory sweep's, no PhoneNumber) reads its page,
    // counts "list_paused", then sleeps this long before answering: a buy made
    // meanwhile is on no page the sweep reads.
    long listPauseMs = 0;
};

struct Listing {
    std::string phoneNumber;
    std::string friendlyName;
    std::string locality;
    std::string region;
    std::string isoCountry;
    bool upperCaseKeys = false;  // capabilities as "SMS"/"MMS" instead of "sms"/"mms"
};

struct Owned {
    std::string sid;
    Listing listing;
    std::string friendlyName;  // as set at purchase (FriendlyName)
    std::string voiceUrl;
    std::string smsUrl;
    std::string dateCreated;  // RFC 2822, as Twilio writes it
    std::uint64_t seq = 0;    // purchase order, for stable paging
};

// An injected failure: the next `count` matching calls (count < 0 = every call).
struct FailureRule {
    std::string op;           // search | buy | list | fetch | release
    std::string phoneNumber;  // empty = any
    std::string sid;          // empty = any (release/fetch)
    std::string
        mode;  // 21422|21421|20003|20404|500|503|timeout|timeout_after|lost_response|lost_response_drop|429|malformed
    long count = 1;
    long retryAfter = -1;  // seconds for a 429's Retry-After; < 0 = no header
    long sleepMs = -1;     // for timeout modes; < 0 = Settings::timeoutSleepMs
};

// Result of a purchase attempt: the owned record, or a Twilio error code.
using BuyResult = std::variant<Owned, int>;

struct ListPage {
    std::vector<Owned> numbers;
    bool hasMore = false;
};

class State {
public:
    explicit State(Settings settings);

    Settings settings() const;
    void reset();  // back to the start: fresh inventory, nothing owned, no rules, zero counts
    void configure(const nlohmann::json &patch);  // buyDelayMs, pageSize, timeoutSleepMs, listPauseMs

    void CountCall(const std::string &op);
    void AddRule(FailureRule rule);
    // The first rule matching (op, phone, sid), consumed once.
    std::optional<FailureRule> TakeFailure(const std::string &op, const std::string &phoneNumber,
                                           const std::string &sid);

    std::vector<Listing> search(const std::string &country, const std::string &areaCode, const std::string &contains,
                                int limit) const;
    BuyResult buy(const std::string &phoneNumber, const std::string &friendlyName, const std::string &voiceUrl,
                  const std::string &smsUrl);
    ListPage list(const std::string &phoneFilter, const std::string &friendlyFilter, int page, int pageSize) const;
    std::optional<Owned> fetch(const std::string &sid) const;
    bool release(const std::string &sid);  // the number goes back on sale
    // Control helpers: own a number without the API (unknown_at_provider), drop one (missing_at_provider).
    BuyResult ForceOwn(const std::string &phoneNumber, const std::string &friendlyName);
    bool disown(const std::string &sid);

    nlohmann::json snapshot() const;  // for GET /__control/state

    // Buys in flight (and the peak), to check that concurrent buys overlap.
    void BuyStarted();
    void BuyFinished();

    // Sleeps up to ms, returning early when the server stops.
    void SleepFor(long ms);
    void stop();

private:
    void FillInventoryLocked();
    std::string NewSidLocked();
    BuyResult OwnLocked(const std::string &phoneNumber, const std::string &friendlyName, const std::string &voiceUrl,
                        const std::string &smsUrl, bool mustBeForSale);

    const Settings initial_;
    mutable std::mutex mu_;
    Settings settings_;
    std::map<std::string, Listing> forSale_;  // by E.164
    std::map<std::string, Owned> owned_;      // by sid
    std::vector<FailureRule> rules_;
    std::map<std::string, long> calls_;
    std::uint64_t nextSeq_ = 1;
    std::mt19937_64 rng_;
    int inFlight_ = 0;
    int peakInFlight_ = 0;

    std::mutex sleepMu_;
    std::condition_variable sleepCv_;
    std::atomic<bool> stopping_{false};
};

bool IsE164(const std::string &s);

}  // namespace fake_twilio
