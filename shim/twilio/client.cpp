#include "twilio/client.hpp"

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "twilio/classify.hpp"
#include "twilio/encoding.hpp"
#include "twilio/errors.hpp"
#include "twilio/parse.hpp"

namespace nw::twilio {
namespace {

constexpr std::string_view kApiVersionPath = "/2010-04-01/Accounts/";

Error MakeError(ErrorKind kind, std::string message)
{
    Error e;
    e.kind = kind;
    e.message = std::move(message);
    return e;
}

// A failed exchange (no complete response) as an Error.
Error TransportError(std::string_view what, const HttpResponse &r)
{
    ErrorKind kind = r.failure == TransportFailure::Timeout ? ErrorKind::Timeout : ErrorKind::Transport;
    return MakeError(kind, std::string(what) + " failed: " + r.failureMessage);
}

bool IsRetryable(const HttpResponse &r)
{
    switch (r.failure) {
    case TransportFailure::NotSent:
    case TransportFailure::Timeout:
    case TransportFailure::ConnectionLost:
        return true;
    case TransportFailure::Other:
        return false;
    case TransportFailure::None:
        return r.status == 429 || r.status >= 500;
    }
    return false;
}

long RemainingMs(Deadline deadline)
{
    if (!deadline)
        return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
    return std::max<long>(static_cast<long>(left), 0);
}

// Host part of "scheme://host[:port][/path]", brackets kept for IPv6.
std::string HostOf(std::string_view rest)
{
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        return close == std::string_view::npos ? std::string() : std::string(rest.substr(0, close + 1));
    }
    return std::string(rest.substr(0, rest.find_first_of(":/")));
}

std::string TrimTrailingSlash(std::string s)
{
    while (!s.empty() && s.back() == '/')
        s.pop_back();
    return s;
}

}  // namespace

std::optional<std::string> ValidateConfig(const Config &c)
{
    if (!IsValidAccountSid(c.accountSid))
        return "Twilio account SID must be AC followed by 32 hex digits";
    if (!c.apiKeySid.empty()) {
        if (!IsValidApiKeySid(c.apiKeySid))
            return "Twilio API key SID must be SK followed by 32 hex digits";
        if (c.apiKeySecret.empty())
            return "Twilio API key secret is missing";
    } else if (c.authToken.empty()) {
        return "Twilio auth token (or API key and secret) is missing";
    }
    const std::string &base = c.apiBase;
    if (base.find_first_of("@?# \t\r\n") != std::string::npos) {
        return "Twilio API base must be scheme://host[:port] without credentials, query or spaces";
    }
    if (base.rfind("https://", 0) == 0) {
        if (HostOf(std::string_view(base).substr(8)).empty())
            return "Twilio API base has no host";
    } else if (base.rfind("http://", 0) == 0) {
        std::string host = HostOf(std::string_view(base).substr(7));
        if (host != "127.0.0.1" && host != "localhost" && host != "[::1]") {
            return "Twilio API base must use https (plain http is allowed only for a loopback test server)";
        }
    } else {
        return "Twilio API base must start with https://";
    }
    if (c.timeoutMs < 1 || c.timeoutMs > 600000)
        return "Twilio timeout must be between 1 ms and 600000 ms";
    if (c.connectTimeoutMs < 0)
        return "Twilio connect timeout must not be negative";
    for (const std::string *url : {&c.voiceUrl, &c.smsUrl}) {
        if (!url->empty() && url->rfind("https://", 0) != 0 && url->rfind("http://", 0) != 0) {
            return "Twilio webhook URLs must be http(s) URLs";
        }
    }
    if (c.retry.maxAttempts < 1 || c.retry.buyMaxAttempts < 1)
        return "retry attempts must be at least 1";
    if (c.maxPages < 1)
        return "maxPages must be at least 1";
    return std::nullopt;
}

Client::Client(Config config) : Client(config, Transport{}) {}

Client::Client(Config config, Transport transport) : config_(std::move(config)), transport_(std::move(transport))
{
    if (auto problem = ValidateConfig(config_))
        throw std::invalid_argument(*problem);
    config_.apiBase = TrimTrailingSlash(config_.apiBase);
    if (config_.connectTimeoutMs == 0)
        config_.connectTimeoutMs = config_.timeoutMs;
    if (!transport_) {
        Credentials creds;
        if (!config_.apiKeySid.empty()) {
            creds = {config_.apiKeySid, config_.apiKeySecret};
        } else {
            creds = {config_.accountSid, config_.authToken};
        }
        transport_ = MakeCurlTransport(std::move(creds));
    }
}

std::string Client::AccountUrl() const
{
    return config_.apiBase + std::string(kApiVersionPath) + config_.accountSid;
}

std::optional<HttpResponse> Client::attempt(HttpRequest &request, Deadline deadline) const
{
    long timeout = config_.timeoutMs;
    if (deadline) {
        long left = RemainingMs(deadline);
        if (left < std::min(config_.retry.minAttemptMs, config_.timeoutMs))
            return std::nullopt;
        timeout = std::min(timeout, left);
    }
    request.timeoutMs = timeout;
    request.connectTimeoutMs = std::min(config_.connectTimeoutMs, timeout);
    return transport_(request);
}

std::optional<HttpResponse> Client::SendWithRetries(HttpRequest request, Deadline deadline) const
{
    std::optional<HttpResponse> last;
    for (int n = 1; n <= config_.retry.maxAttempts; ++n) {
        std::optional<HttpResponse> r = attempt(request, deadline);
        if (!r)
            return last;  // no time left: report what we last saw, if anything
        last = std::move(r);
        if (!IsRetryable(*last) || n == config_.retry.maxAttempts)
            break;
        long delay = RetryDelayMs(config_.retry, n, last->retryAfterSeconds, RandomJitter());
        if (deadline && RemainingMs(deadline) < delay + std::min(config_.retry.minAttemptMs, config_.timeoutMs))
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
    return last;
}

Result<std::vector<AvailableNumber>> Client::search(const std::string &country,
                                                    const std::optional<std::string> &areaCode,
                                                    const std::optional<std::string> &contains, int limit,
                                                    Deadline deadline) const
{
    if (!IsValidCountry(country))
        return MakeError(ErrorKind::InvalidArgument, "country must be two upper-case letters");
    if (areaCode && !IsValidAreaCode(*areaCode)) {
        return MakeError(ErrorKind::InvalidArgument, "area code must be three digits");
    }
    if (contains && !IsValidContains(*contains)) {
        return MakeError(ErrorKind::InvalidArgument, "contains must be 2 to 16 of digits, letters, * % + $");
    }
    std::vector<std::pair<std::string, std::string>> query;
    if (areaCode)
        query.emplace_back("AreaCode", *areaCode);
    if (contains)
        query.emplace_back("Contains", *contains);
    query.emplace_back("PageSize", std::to_string(std::clamp(limit, 1, 1000)));

    HttpRequest req;
    req.method = "GET";
    req.url = AccountUrl() + "/AvailablePhoneNumbers/" + country + "/Local.json?" + FormEncode(query);
    std::optional<HttpResponse> r = SendWithRetries(std::move(req), deadline);
    if (!r)
        return MakeError(ErrorKind::DeadlineExceeded, "number search not sent: deadline reached");
    if (r->failure != TransportFailure::None)
        return TransportError("number search", *r);
    if (r->status != 200)
        return HttpError("number search", static_cast<int>(r->status), r->body);
    return ParseAvailableNumbers(r->body);
}

BuyOutcome Client::buy(const std::string &phoneNumber, const std::string &friendlyName, Deadline deadline) const
{
    if (!IsValidE164(phoneNumber))
        return Refused{0, 0, "not sent: phone number is not E.164"};
    if (friendlyName.size() > 64)
        return Refused{0, 0, "not sent: friendly name longer than 64 characters"};

    std::vector<std::pair<std::string, std::string>> form{{"PhoneNumber", phoneNumber}};
    if (!friendlyName.empty())
        form.emplace_back("FriendlyName", friendlyName);
    if (!config_.voiceUrl.empty())
        form.emplace_back("VoiceUrl", config_.voiceUrl);
    if (!config_.smsUrl.empty())
        form.emplace_back("SmsUrl", config_.smsUrl);

    HttpRequest req;
    req.method = "POST";
    req.url = AccountUrl() + "/IncomingPhoneNumbers.json";
    req.body = FormEncode(form);
    req.freshConnection = true;  // never resent by libcurl (see HttpRequest)

    RateLimited limited;
    limited.attempts = 0;
    limited.message = "purchase not sent: the deadline left no time for it";
    for (int n = 1; n <= config_.retry.buyMaxAttempts; ++n) {
        std::optional<HttpResponse> r = attempt(req, deadline);
        if (!r)
            return limited;
        BuyOutcome outcome = ClassifyBuyResponse(*r, phoneNumber);
        auto *rl = std::get_if<RateLimited>(&outcome);
        if (!rl)
            return outcome;
        // Only a 429 is retried: Twilio did not process it, so nothing was bought.
        limited = *rl;
        limited.attempts = n;
        if (n == config_.retry.buyMaxAttempts)
            break;
        long delay = RetryDelayMs(config_.retry, n, r->retryAfterSeconds, RandomJitter());
        if (deadline && RemainingMs(deadline) < delay + std::min(config_.retry.minAttemptMs, config_.timeoutMs)) {
            limited.message += " (no time left to retry before the deadline)";
            return limited;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
    limited.message += " (after " + std::to_string(limited.attempts) + " attempts)";
    return limited;
}

Result<std::vector<OwnedNumber>> Client::CollectOwned(const std::string &firstUrl,
                                                      const std::optional<std::string> &exactNumber,
                                                      Deadline deadline) const
{
    std::vector<OwnedNumber> all;
    std::string url = firstUrl;
    for (int page = 0; page < config_.maxPages; ++page) {
        HttpRequest req;
        req.method = "GET";
        req.url = url;
        std::optional<HttpResponse> r = SendWithRetries(std::move(req), deadline);
        if (!r)
            return MakeError(ErrorKind::DeadlineExceeded, "phone number list incomplete: deadline reached");
        if (r->failure != TransportFailure::None)
            return TransportError("phone number list", *r);
        if (r->status != 200)
            return HttpError("phone number list", static_cast<int>(r->status), r->body);
        Result<OwnedPage> parsed = ParseOwnedPage(r->body);
        if (!parsed.IsOk())
            return parsed.error();
        OwnedPage &p = parsed.value();
        if (exactNumber) {
            if (auto hit = FindExact(p.numbers, *exactNumber))
                return std::vector<OwnedNumber>{*hit};
        } else {
            all.insert(all.end(), p.numbers.begin(), p.numbers.end());
        }
        if (!p.nextPageUri)
            return all;
        if (!IsSafeNextPageUri(*p.nextPageUri, config_.accountSid)) {
            return MakeError(ErrorKind::BadResponse, "phone number list has a next_page_uri outside this account");
        }
        url = config_.apiBase + *p.nextPageUri;
    }
    return MakeError(ErrorKind::BadResponse,
                     "phone number list has more than " + std::to_string(config_.maxPages) + " pages");
}

Result<std::optional<OwnedNumber>> Client::FindOwned(const std::string &phoneNumber, Deadline deadline) const
{
    if (!IsValidE164(phoneNumber))
        return MakeError(ErrorKind::InvalidArgument, "phone number is not E.164");
    std::string url =
        AccountUrl() + "/IncomingPhoneNumbers.json?" + FormEncode({{"PhoneNumber", phoneNumber}, {"PageSize", "1000"}});
    Result<std::vector<OwnedNumber>> r = CollectOwned(url, phoneNumber, deadline);
    if (!r.IsOk())
        return r.error();
    if (r.value().empty())
        return std::optional<OwnedNumber>{};
    return std::optional<OwnedNumber>{r.value().front()};
}

Result<std::vector<OwnedNumber>> Client::ListOwned(Deadline deadline) const
{
    return CollectOwned(AccountUrl() + "/IncomingPhoneNumbers.json?PageSize=1000", std::nullopt, deadline);
}

Result<ReleaseOutcome> Client::release(const std::string &sid, Deadline deadline) const
{
    if (!IsValidNumberSid(sid))
        return MakeError(ErrorKind::InvalidArgument, "number sid must be PN followed by 32 hex digits");
    HttpRequest req;
    req.method = "DELETE";
    req.url = AccountUrl() + "/IncomingPhoneNumbers/" + sid + ".json";
    std::optional<HttpResponse> r = SendWithRetries(std::move(req), deadline);
    if (!r)
        return MakeError(ErrorKind::DeadlineExceeded, "number release not sent: deadline reached");
    if (r->failure != TransportFailure::None)
        return TransportError("number release", *r);
    if (r->status == 204 || r->status == 200)
        return ReleaseOutcome::Released;
    if (r->status == 404)
        return ReleaseOutcome::NotFound;
    return HttpError("number release", static_cast<int>(r->status), r->body);
}

}  // namespace nw::twilio
