// Plain data returned by the Twilio client, and its error/result types.
// Nothing here holds credentials, so every type is safe to log or serialise.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace nw::twilio {

using Clock = std::chrono::steady_clock;
// An optional point in time after which a call must not keep going (the purchase
// flow has 60 s in all, Retry-After waits included).
using Deadline = std::optional<Clock::time_point>;

struct Capabilities {
    bool voice = false;
    bool sms = false;
    bool mms = false;
};

// One entry of AvailablePhoneNumbers/{CC}/Local.json.
struct AvailableNumber {
    std::string phoneNumber;  // E.164
    std::string friendlyName;
    std::string locality;
    std::string region;
    std::string isoCountry;
    Capabilities capabilities;
};

// One entry of IncomingPhoneNumbers (a number the account owns).
struct OwnedNumber {
    std::string sid;  // PN + 32 hex
    std::string phoneNumber;
    std::string friendlyName;
};

enum class ErrorKind {
    InvalidArgument,   // rejected before anything was sent
    Transport,         // could not reach Twilio or the connection broke
    Timeout,           // no complete answer within the timeout
    HttpStatus,        // Twilio answered with an error status (see httpStatus, twilioCode)
    BadResponse,       // a success status whose body we could not read
    DeadlineExceeded,  // the caller's deadline left no time for (another) attempt
};

const char *ToString(ErrorKind kind);

// A failure of a read-style call (search, FindOwned, ListOwned, release).
// message is meant for logs and operators; it never contains credentials.
struct Error {
    ErrorKind kind = ErrorKind::Transport;
    int httpStatus = 0;  // 0 when Twilio did not answer
    int twilioCode = 0;  // Twilio's "code", 0 when absent
    std::string message;
};

// Either a value or an Error.
template <class T>
class Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT(implicit)
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

    bool IsOk() const { return v_.index() == 0; }
    const T &value() const { return std::get<0>(v_); }
    T &value() { return std::get<0>(v_); }
    const Error &error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

// ---- Outcome of a purchase (POST IncomingPhoneNumbers.json) ----

// Twilio bought the number for us.
struct Bought {
    std::string sid;
    std::string phoneNumber;
    std::string friendlyName;
};

// Definitely not bought. Either Twilio refused (a 4xx other than 429; twilioCode
// tells why: 21422 not available, 21421 invalid number, 20003 authentication), or
// the request provably never reached Twilio (httpStatus == 0: invalid input, could
// not resolve/connect, TLS handshake failed).
struct Refused {
    int httpStatus = 0;
    int twilioCode = 0;
    std::string message;
};

// Definitely not bought: Twilio still answered 429 after the retries the deadline
// allowed, or the deadline left no time to send the request at all (attempts == 0).
struct RateLimited {
    int httpStatus = 429;
    int twilioCode = 0;
    int attempts = 0;
    std::optional<long> retryAfterSeconds;  // the last Retry-After seen, if any
    std::string message;
};

// The number may or may not have been bought: timeout, connection lost, 5xx, or a
// 2xx whose body we could not read. The caller must look the number up.
struct Unknown {
    std::string reason;
};

using BuyOutcome = std::variant<Bought, Refused, RateLimited, Unknown>;

// True for Refused and RateLimited: nothing was bought, funds can be returned.
bool DefinitelyNotBought(const BuyOutcome &outcome);
// A short description for logs ("bought PN…", "refused (21422): …").
std::string describe(const BuyOutcome &outcome);

// ---- Outcome of a release (DELETE IncomingPhoneNumbers/{Sid}.json) ----
enum class ReleaseOutcome {
    Released,  // 204
    NotFound,  // 404: already gone, or never ours; confirm with FindOwned
};

}  // namespace nw::twilio
