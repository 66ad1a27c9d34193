#include "state.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace fake_twilio {
namespace {

struct Block {
    const char *prefix;  // "+1415555" → numbers prefix + 4 digits
    int first;
    int last;
    const char *locality;
    const char *region;
    const char *iso;
};

// Fictional 555-01xx..09xx ranges: plenty of US numbers and some Canadian ones.
constexpr Block kBlocks[] = {
    {"+1415555", 100, 999, "San Francisco", "CA", "US"},
    {"+1212555", 100, 399, "New York", "NY", "US"},
    {"+1604555", 100, 299, "Vancouver", "BC", "CA"},
    {"+1416555", 100, 199, "Toronto", "ON", "CA"},
};

// "(415) 555-0100" from "+14155550100".
std::string FriendlyOf(const std::string &e164)
{
    return "(" + e164.substr(2, 3) + ") " + e164.substr(5, 3) + "-" + e164.substr(8);
}

// Twilio's Contains: '*' = one character, '%' = any run; here also used for the
// partial PhoneNumber filter. Letters map to keypad digits.
char keypad(char c)
{
    if (c >= 'a' && c <= 'z')
        c = static_cast<char>(c - 'a' + 'A');
    if (c < 'A' || c > 'Z')
        return c;
    static const char *kMap = "22233344455566677778889999";
    return kMap[c - 'A'];
}

bool GlobMatch(const char *p, const char *s)
{
    if (*p == '\0')
        return *s == '\0';
    if (*p == '%')
        return GlobMatch(p + 1, s) || (*s != '\0' && GlobMatch(p, s + 1));
    if (*s == '\0')
        return false;
    if (*p == '*' || keypad(*p) == *s)
        return GlobMatch(p + 1, s + 1);
    return false;
}

bool ContainsMatch(const std::string &pattern, const std::string &e164)
{
    if (pattern.empty())
        return true;
    std::string p = pattern;
    bool anchorStart = p.front() == '+';
    if (anchorStart)
        p.erase(0, 1);
    bool anchorEnd = !p.empty() && p.back() == '$';
    if (anchorEnd)
        p.pop_back();
    std::string full = (anchorStart ? "" : "%") + p + (anchorEnd ? "" : "%");
    return GlobMatch(full.c_str(), e164.c_str() + 1);  // digits without '+'
}

std::string rfc2822Now()
{
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    return buf;
}

}  // namespace

bool IsE164(const std::string &s)
{
    if (s.size() < 9 || s.size() > 16 || s[0] != '+' || s[1] == '0')
        return false;
    return std::all_of(s.begin() + 1, s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

State::State(Settings settings) : initial_(settings), settings_(std::move(settings)), rng_(std::random_device{}())
{
    FillInventoryLocked();
}

Settings State::settings() const
{
    std::lock_guard<std::mutex> lock(mu_);
    return settings_;
}

void State::FillInventoryLocked()
{
    forSale_.clear();
    for (const Block &b : kBlocks) {
        for (int i = b.first; i <= b.last; ++i) {
            char digits[16];
            std::snprintf(digits, sizeof digits, "%04d", i);
            Listing l;
            l.phoneNumber = std::string(b.prefix) + digits;
            l.friendlyName = FriendlyOf(l.phoneNumber);
            l.locality = b.locality;
            l.region = b.region;
            l.isoCountry = b.iso;
            l.upperCaseKeys = (i % 2) == 1;
            forSale_.emplace(l.phoneNumber, l);
        }
    }
}

void State::reset()
{
    std::lock_guard<std::mutex> lock(mu_);
    settings_ = initial_;
    owned_.clear();
    rules_.clear();
    calls_.clear();
    nextSeq_ = 1;
    peakInFlight_ = inFlight_;
    FillInventoryLocked();
}

void State::configure(const nlohmann::json &patch)
{
    auto ReadInt = [&](const char *key, long min, long max, long &out) {
        auto it = patch.find(key);
        if (it == patch.end())
            return;
        if (!it->is_number_integer() || it->get<long>() < min || it->get<long>() > max) {
            throw std::invalid_argument(std::string(key) + " must be an integer in [" + std::to_string(min) + ", " +
                                        std::to_string(max) + "]");
        }
        out = it->get<long>();
    };
    std::lock_guard<std::mutex> lock(mu_);
    Settings next = settings_;
    long pageSize = next.pageSize;
    ReadInt("buyDelayMs", 0, 600000, next.buyDelayMs);
    ReadInt("pageSize", 1, 1000, pageSize);
    ReadInt("timeoutSleepMs", 0, 600000, next.timeoutSleepMs);
    ReadInt("listPauseMs", 0, 600000, next.listPauseMs);
    next.pageSize = static_cast<int>(pageSize);
    settings_ = next;
}

void State::CountCall(const std::string &op)
{
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_[op];
}

void State::AddRule(FailureRule rule)
{
    std::lock_guard<std::mutex> lock(mu_);
    rules_.push_back(std::move(rule));
}

std::optional<FailureRule> State::TakeFailure(const std::string &op, const std::string &phoneNumber,
                                              const std::string &sid)
{
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = rules_.begin(); it != rules_.end(); ++it) {
        if (it->op != op)
            continue;
        if (!it->phoneNumber.empty() && it->phoneNumber != phoneNumber)
            continue;
        if (!it->sid.empty() && it->sid != sid)
            continue;
        FailureRule hit = *it;
        if (it->count > 0 && --it->count == 0)
            rules_.erase(it);
        return hit;
    }
    return std::nullopt;
}

std::vector<Listing> State::search(const std::string &country, const std::string &areaCode, const std::string &contains,
                                   int limit) const
{
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Listing> out;
    for (const auto &[number, l] : forSale_) {
        if (static_cast<int>(out.size()) >= limit)
            break;
        if (l.isoCountry != country)
            continue;
        if (!areaCode.empty() && number.compare(2, 3, areaCode) != 0)
            continue;
        if (!ContainsMatch(contains, number))
            continue;
        out.push_back(l);
    }
    return out;
}

std::string State::NewSidLocked()
{
    static const char *kHex = "0123456789abcdef";
    for (;;) {
        std::string sid = "PN";
        for (int half = 0; half < 2; ++half) {
            std::uint64_t v = rng_();
            for (int i = 0; i < 16; ++i, v >>= 4)
                sid.push_back(kHex[v & 0xf]);
        }
        if (owned_.count(sid) == 0)
            return sid;
    }
}

BuyResult State::OwnLocked(const std::string &phoneNumber, const std::string &friendlyName, const std::string &voiceUrl,
                           const std::string &smsUrl, bool mustBeForSale)
{
    if (!IsE164(phoneNumber))
        return 21421;
    auto it = forSale_.find(phoneNumber);
    Listing listing;
    if (it != forSale_.end()) {
        listing = it->second;
        forSale_.erase(it);
    } else if (mustBeForSale) {
        return 21422;
    } else {
        for (const auto &[sid, o] : owned_) {
            if (o.listing.phoneNumber == phoneNumber)
                return 21422;
        }
        listing.phoneNumber = phoneNumber;
        listing.friendlyName = phoneNumber;
        listing.isoCountry = "US";
    }
    Owned o;
    o.sid = NewSidLocked();
    o.listing = listing;
    o.friendlyName = friendlyName.empty() ? listing.friendlyName : friendlyName;
    o.voiceUrl = voiceUrl;
    o.smsUrl = smsUrl;
    o.seq = nextSeq_++;
    o.dateCreated = rfc2822Now();
    owned_.emplace(o.sid, o);
    return o;
}

BuyResult State::buy(const std::string &phoneNumber, const std::string &friendlyName, const std::string &voiceUrl,
                     const std::string &smsUrl)
{
    std::lock_guard<std::mutex> lock(mu_);
    return OwnLocked(phoneNumber, friendlyName, voiceUrl, smsUrl, true);
}

BuyResult State::ForceOwn(const std::string &phoneNumber, const std::string &friendlyName)
{
    std::lock_guard<std::mutex> lock(mu_);
    return OwnLocked(phoneNumber, friendlyName, "", "", false);
}

ListPage State::list(const std::string &phoneFilter, const std::string &friendlyFilter, int page, int pageSize) const
{
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Owned> matching;
    for (const auto &[sid, o] : owned_) {
        if (!phoneFilter.empty()) {
            // Partial match like Twilio's: the filter may be any part of the number.
            std::string pattern = "%" + phoneFilter + "%";
            if (!GlobMatch(pattern.c_str(), o.listing.phoneNumber.c_str()))
                continue;
        }
        if (!friendlyFilter.empty() && o.friendlyName != friendlyFilter)
            continue;
        matching.push_back(o);
    }
    std::sort(matching.begin(), matching.end(), [](const Owned &a, const Owned &b) { return a.seq < b.seq; });
    ListPage out;
    std::size_t start = static_cast<std::size_t>(page) * static_cast<std::size_t>(pageSize);
    for (std::size_t i = start; i < matching.size() && i < start + pageSize; ++i)
        out.numbers.push_back(matching[i]);
    out.hasMore = matching.size() > start + pageSize;
    return out;
}

std::optional<Owned> State::fetch(const std::string &sid) const
{
    std::lock_guard<std::mutex> lock(mu_);
    auto it = owned_.find(sid);
    if (it == owned_.end())
        return std::nullopt;
    return it->second;
}

bool State::release(const std::string &sid)
{
    std::lock_guard<std::mutex> lock(mu_);
    auto it = owned_.find(sid);
    if (it == owned_.end())
        return false;
    forSale_.emplace(it->second.listing.phoneNumber, it->second.listing);
    owned_.erase(it);
    return true;
}

bool State::disown(const std::string &sid)
{
    std::lock_guard<std::mutex> lock(mu_);
    return owned_.erase(sid) > 0;
}

void State::BuyStarted()
{
    std::lock_guard<std::mutex> lock(mu_);
    peakInFlight_ = std::max(peakInFlight_, ++inFlight_);
}

void State::BuyFinished()
{
    std::lock_guard<std::mutex> lock(mu_);
    --inFlight_;
}

nlohmann::json State::snapshot() const
{
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<const Owned *> ordered;
    for (const auto &[sid, o] : owned_)
        ordered.push_back(&o);
    std::sort(ordered.begin(), ordered.end(), [](const Owned *a, const Owned *b) { return a->seq < b->seq; });
    nlohmann::json owned = nlohmann::json::array();
    for (const Owned *o : ordered) {
        owned.push_back({{"sid", o->sid},
                         {"phoneNumber", o->listing.phoneNumber},
                         {"friendlyName", o->friendlyName},
                         {"voiceUrl", o->voiceUrl},
                         {"smsUrl", o->smsUrl}});
    }
    nlohmann::json calls = nlohmann::json::object();
    for (const char *op : {"search", "buy", "list", "fetch", "release", "list_paused"}) {
        auto it = calls_.find(op);
        calls[op] = it == calls_.end() ? 0 : it->second;
    }
    nlohmann::json rules = nlohmann::json::array();
    for (const FailureRule &r : rules_) {
        rules.push_back(
            {{"op", r.op}, {"phoneNumber", r.phoneNumber}, {"sid", r.sid}, {"mode", r.mode}, {"count", r.count}});
    }
    return {{"owned", owned},
            {"calls", calls},
            {"availableCount", forSale_.size()},
            {"rules", rules},
            {"buysInFlight", inFlight_},
            {"peakBuysInFlight", peakInFlight_},
            {"config",
             {{"buyDelayMs", settings_.buyDelayMs},
              {"pageSize", settings_.pageSize},
              {"timeoutSleepMs", settings_.timeoutSleepMs},
              {"listPauseMs", settings_.listPauseMs}}}};
}

void State::SleepFor(long ms)
{
    if (ms <= 0)
        return;
    std::unique_lock<std::mutex> lock(sleepMu_);
    sleepCv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_.load(); });
}

void State::stop()
{
    {
        std::lock_guard<std::mutex> lock(sleepMu_);
        stopping_ = true;
    }
    sleepCv_.notify_all();
}

}  // namespace fake_twilio
