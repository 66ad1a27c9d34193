// nw::twilio::Client: the calls the purchase and release sagas and the reconciler
// make to Twilio's REST API 2010-04-01. Thread-safe: one instance may serve every
// request thread (each call uses its own curl handle).
//
// Retries: GET and DELETE are retried on 5xx, 429, timeouts and lost connections
// with jittered exponential backoff (Retry-After honoured, capped). A purchase is
// never retried except after a 429, which Twilio documents as "not processed".
// Every call takes an optional deadline; no call runs past it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "twilio/http.hpp"
#include "twilio/retry.hpp"
#include "twilio/types.hpp"

namespace nw::twilio {

struct Config {
    // Scheme and host, e.g. https://api.twilio.com. Plain http is accepted only for
    // loopback hosts (the test fake), so credentials never cross a network in clear.
    std::string apiBase = "https://api.twilio.com";
    std::string accountSid;  // AC + 32 hex; always the account in the URL path
    std::string authToken;   // used when apiKeySid is empty
    std::string apiKeySid;   // SK + 32 hex; preferred by Twilio for production
    std::string apiKeySecret;
    long timeoutMs = 15000;     // total time of one HTTP exchange
    long connectTimeoutMs = 0;  // 0 = same as timeoutMs
    std::string voiceUrl;       // set on every bought number when non-empty
    std::string smsUrl;
    RetryPolicy retry;
    int maxPages = 500;  // paging safety net for FindOwned/ListOwned
};

// Empty when the config is usable, else a message saying what is wrong (never the secret).
std::optional<std::string> ValidateConfig(const Config &config);

class Client {
public:
    // Throws std::invalid_argument with ValidateConfig's message on a bad config.
    explicit Client(Config config);
    // For tests: the same client over another transport (no credentials needed by it).
    Client(Config config, Transport transport);

    // GET AvailablePhoneNumbers/{country}/Local.json. limit is clamped to 1..1000.
    Result<std::vector<AvailableNumber>> search(const std::string &country, const std::optional<std::string> &areaCode,
                                                const std::optional<std::string> &contains, int limit,
                                                Deadline deadline = std::nullopt) const;

    // POST IncomingPhoneNumbers.json with PhoneNumber, FriendlyName (the number row's
    // id), VoiceUrl, SmsUrl. See BuyOutcome for what each outcome means.
    BuyOutcome buy(const std::string &phoneNumber, const std::string &friendlyName,
                   Deadline deadline = std::nullopt) const;

    // The owned number that is exactly `phoneNumber` (all pages are searched):
    // a value = ours, nullopt = Twilio says we do not own it, an Error = could not tell.
    Result<std::optional<OwnedNumber>> FindOwned(const std::string &phoneNumber,
                                                 Deadline deadline = std::nullopt) const;

    // Every owned number (all pages), for the reconciler's inventory sweep.
    Result<std::vector<OwnedNumber>> ListOwned(Deadline deadline = std::nullopt) const;

    // DELETE IncomingPhoneNumbers/{sid}.json: 204 → Released, 404 → NotFound.
    Result<ReleaseOutcome> release(const std::string &sid, Deadline deadline = std::nullopt) const;

private:
    std::string AccountUrl() const;
    // One request with the retry policy for safe methods.
    // nullopt = the deadline left no time for a first attempt.
    std::optional<HttpResponse> SendWithRetries(HttpRequest request, Deadline deadline) const;
    // One attempt, with the timeout shrunk to fit the deadline. nullopt = no time left.
    std::optional<HttpResponse> attempt(HttpRequest &request, Deadline deadline) const;
    Result<std::vector<OwnedNumber>>
    CollectOwned(const std::string &firstUrl, const std::optional<std::string> &exactNumber, Deadline deadline) const;

    Config config_;
    Transport transport_;
};

}  // namespace nw::twilio
