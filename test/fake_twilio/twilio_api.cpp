#include "twilio_api.hpp"

#include <functional>

#include "shapes.hpp"

namespace fake_twilio {
namespace {

constexpr const char *kJson = "application/json";
const std::string kAccountPath = R"(/2010-04-01/Accounts/([^/]+))";

void SendJson(httplib::Response &res, int status, const nlohmann::json &body)
{
    res.status = status;
    res.set_content(body.dump(), kJson);
}

// HTTP Basic with the account SID + auth token, or the API key + secret; the
// account in the path must be ours. Wrong credentials → 401 with code 20003.
bool authorized(const httplib::Request &req, httplib::Response &res, const State &state)
{
    Settings s = state.settings();
    const std::string got = req.get_header_value("Authorization");
    bool ok = got == httplib::make_basic_authentication_header(s.accountSid, s.authToken).second;
    if (!ok && !s.apiKeySid.empty()) {
        ok = got == httplib::make_basic_authentication_header(s.apiKeySid, s.apiKeySecret).second;
    }
    if (!ok) {
        res.set_header("WWW-Authenticate", "Basic realm=\"Twilio API\"");
        SendError(res, 401, 20003);
        return false;
    }
    if (req.matches[1] != s.accountSid) {
        SendError(res, 404, 20404);
        return false;
    }
    return true;
}

int IntParam(const httplib::Request &req, const char *key, int fallback)
{
    if (!req.has_param(key))
        return fallback;
    const std::string v = req.get_param_value(key);
    if (v.empty() || v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos)
        return -1;
    return std::stoi(v);
}

// A connection that breaks after the status line and headers: the client sees a
// truncated response (as when a proxy or the network drops it).
// A 204 has no body to cut short, so a dropped 204 is sent as a truncated 200.
void DropAfterHeaders(httplib::Response &res, int status)
{
    res.status = status == 204 ? 200 : status;
    res.set_chunked_content_provider(kJson, [](size_t, httplib::DataSink &) { return false; });
}

// Applies an injected failure. `act` performs the real operation and returns the
// success body; it is run only by the modes that act before failing. Returns
// false when the mode is "none of these" (the handler then proceeds normally).
bool ApplyFailure(const FailureRule &rule, State &state, httplib::Response &res, int successStatus,
                  const std::function<std::string()> &act)
{
    const std::string &m = rule.mode;
    long sleepMs = rule.sleepMs >= 0 ? rule.sleepMs : state.settings().timeoutSleepMs;
    if (m == "21422" || m == "21421") {
        SendError(res, 400, std::stoi(m));
    } else if (m == "20003") {
        SendError(res, 401, 20003);
    } else if (m == "20404") {
        SendError(res, 404, 20404);
    } else if (m == "500") {
        SendError(res, 500, 20500);
    } else if (m == "503") {
        SendError(res, 503, 20503);
    } else if (m == "429") {
        if (rule.retryAfter >= 0)
            res.set_header("Retry-After", std::to_string(rule.retryAfter));
        SendError(res, 429, 20429);
    } else if (m == "timeout") {
        state.SleepFor(sleepMs);  // not acted on; the client gave up long ago
        SendError(res, 504, 20504, "Gateway Timeout");
    } else if (m == "timeout_after") {
        std::string body = act();
        state.SleepFor(sleepMs);
        res.status = successStatus;
        if (!body.empty())
            res.set_content(body, kJson);
    } else if (m == "lost_response") {
        act();
        SendError(res, 500, 20500);
    } else if (m == "lost_response_drop") {
        act();
        DropAfterHeaders(res, successStatus);
    } else if (m == "malformed") {
        act();
        res.status = successStatus == 204 ? 204 : successStatus;
        if (successStatus != 204)
            res.set_content("{\"sid\": \"PN<html>Service temporarily", kJson);
    } else {
        return false;
    }
    return true;
}

// Keeps the in-flight gauge right however a buy ends.
struct BuyInFlight {
    explicit BuyInFlight(State &s) : state(s) { state.BuyStarted(); }
    ~BuyInFlight() { state.BuyFinished(); }
    State &state;
};

void HandleSearch(const httplib::Request &req, httplib::Response &res, State &state)
{
    if (!authorized(req, res, state))
        return;
    state.CountCall("search");
    const std::string country = req.matches[2];
    if (country != "US" && country != "CA")
        return SendError(res, 404, 20404);
    int pageSize = IntParam(req, "PageSize", 50);
    if (pageSize < 1 || pageSize > 1000)
        return SendError(res, 400, 20007, "PageSize must be 1 to 1000");
    if (auto rule = state.TakeFailure("search", "", "")) {
        if (ApplyFailure(*rule, state, res, 200, [] { return std::string(); }))
            return;
    }
    auto found = state.search(country, req.get_param_value("AreaCode"), req.get_param_value("Contains"), pageSize);
    nlohmann::json list = nlohmann::json::array();
    for (const Listing &l : found)
        list.push_back(AvailableJson(l));
    const std::string uri =
        "/2010-04-01/Accounts/" + state.settings().accountSid + "/AvailablePhoneNumbers/" + country + "/Local.json";
    SendJson(res, 200,
             {{"available_phone_numbers", list},
              {"end", list.empty() ? 0 : list.size() - 1},
              {"first_page_uri", uri},
              {"next_page_uri", nullptr},
              {"page", 0},
              {"page_size", pageSize},
              {"previous_page_uri", nullptr},
              {"start", 0},
              {"uri", uri}});
}

void HandleBuy(const httplib::Request &req, httplib::Response &res, State &state)
{
    if (!authorized(req, res, state))
        return;
    state.CountCall("buy");
    BuyInFlight in_flight(state);
    if (req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) != 0) {
        return SendError(res, 400, 21421, "Content-Type must be application/x-www-form-urlencoded");
    }
    // Parsed here, like Twilio: an unencoded "+" decodes to a space and the number is invalid.
    httplib::Params form;
    httplib::detail::parse_query_text(req.body, form);
    auto field = [&](const char *key) {
        auto it = form.find(key);
        return it == form.end() ? std::string() : it->second;
    };
    const std::string phone = field("PhoneNumber");
    std::optional<FailureRule> rule = state.TakeFailure("buy", phone, "");
    state.SleepFor(state.settings().buyDelayMs);  // without holding any lock: buys overlap

    const std::string accountSid = state.settings().accountSid;
    std::optional<int> refusal;
    auto act = [&]() -> std::string {
        BuyResult r = state.buy(phone, field("FriendlyName"), field("VoiceUrl"), field("SmsUrl"));
        if (auto *o = std::get_if<Owned>(&r))
            return OwnedJson(*o, accountSid).dump();
        refusal = std::get<int>(r);
        return std::string();
    };
    if (rule && ApplyFailure(*rule, state, res, 201, act))
        return;
    if (phone.empty())
        return SendError(res, 400, 21421, "A 'PhoneNumber' or 'AreaCode' is required");
    std::string body = act();
    if (refusal)
        return SendError(res, 400, *refusal);
    res.status = 201;
    res.set_content(body, kJson);
}

void HandleList(const httplib::Request &req, httplib::Response &res, State &state)
{
    if (!authorized(req, res, state))
        return;
    state.CountCall("list");
    const std::string phoneFilter = req.get_param_value("PhoneNumber");
    int page = IntParam(req, "Page", 0);
    int pageSize = IntParam(req, "PageSize", 50);
    if (page < 0)
        return SendError(res, 400, 20001, "Page must be a non-negative integer");
    if (pageSize < 1 || pageSize > 1000)
        return SendError(res, 400, 20007, "PageSize must be 1 to 1000");
    pageSize = std::min(pageSize, state.settings().pageSize);
    if (auto rule = state.TakeFailure("list", phoneFilter, "")) {
        if (ApplyFailure(*rule, state, res, 200, [] { return std::string(); }))
            return;
    }
    const std::string friendly = req.get_param_value("FriendlyName");
    ListPage p = state.list(phoneFilter, friendly, page, pageSize);
    if (phoneFilter.empty()) {
        if (const long pause = state.settings().listPauseMs; pause > 0) {
            state.CountCall("list_paused");
            state.SleepFor(pause);
        }
    }
    const std::string accountSid = state.settings().accountSid;
    auto PageUri = [&](int n) {
        httplib::Params q;
        if (!phoneFilter.empty())
            q.emplace("PhoneNumber", phoneFilter);
        if (!friendly.empty())
            q.emplace("FriendlyName", friendly);
        q.emplace("PageSize", std::to_string(pageSize));
        q.emplace("Page", std::to_string(n));
        if (n > 0)
            q.emplace("PageToken", "PA" + std::to_string(n));
        // Twilio's URIs carry "+" as %2B (whatever encode_query_param does with it).
        std::string query;
        for (const auto &[k, v] : q) {
            if (!query.empty())
                query += '&';
            std::string enc = httplib::detail::encode_query_param(v);
            for (std::size_t i = 0; (i = enc.find('+', i)) != std::string::npos;)
                enc.replace(i, 1, "%2B");
            query += k + "=" + enc;
        }
        return "/2010-04-01/Accounts/" + accountSid + "/IncomingPhoneNumbers.json?" + query;
    };
    nlohmann::json list = nlohmann::json::array();
    for (const Owned &o : p.numbers)
        list.push_back(OwnedJson(o, accountSid));
    std::size_t start = static_cast<std::size_t>(page) * pageSize;
    SendJson(res, 200,
             {{"incoming_phone_numbers", list},
              {"uri", PageUri(page)},
              {"first_page_uri", PageUri(0)},
              {"next_page_uri", p.hasMore ? nlohmann::json(PageUri(page + 1)) : nlohmann::json(nullptr)},
              {"previous_page_uri", page > 0 ? nlohmann::json(PageUri(page - 1)) : nlohmann::json(nullptr)},
              {"page", page},
              {"page_size", pageSize},
              {"start", start},
              {"end", list.empty() ? start : start + list.size() - 1}});
}

void HandleFetch(const httplib::Request &req, httplib::Response &res, State &state)
{
    if (!authorized(req, res, state))
        return;
    state.CountCall("fetch");
    const std::string sid = req.matches[2];
    if (auto rule = state.TakeFailure("fetch", "", sid)) {
        if (ApplyFailure(*rule, state, res, 200, [] { return std::string(); }))
            return;
    }
    auto o = state.fetch(sid);
    if (!o)
        return SendError(res, 404, 20404);
    SendJson(res, 200, OwnedJson(*o, state.settings().accountSid));
}

void HandleRelease(const httplib::Request &req, httplib::Response &res, State &state)
{
    if (!authorized(req, res, state))
        return;
    state.CountCall("release");
    const std::string sid = req.matches[2];
    auto before = state.fetch(sid);
    std::optional<FailureRule> rule =
        state.TakeFailure("release", before ? before->listing.phoneNumber : std::string(), sid);
    bool released = false;
    auto act = [&]() -> std::string {
        released = state.release(sid);
        return std::string();
    };
    if (rule && ApplyFailure(*rule, state, res, 204, act))
        return;
    act();
    if (!released)
        return SendError(res, 404, 20404);
    res.status = 204;
}

}  // namespace

void SendError(httplib::Response &res, int httpStatus, int code, const std::string &message)
{
    SendJson(res, httpStatus, ErrorBody(httpStatus, code, message.empty() ? MessageFor(code) : message));
}

void RegisterTwilioRoutes(httplib::Server &server, State &state)
{
    auto bind = [&state](void (*fn)(const httplib::Request &, httplib::Response &, State &)) {
        return [&state, fn](const httplib::Request &req, httplib::Response &res) { fn(req, res, state); };
    };
    server.Get(kAccountPath + R"(/AvailablePhoneNumbers/([A-Za-z]{2})/Local\.json)", bind(HandleSearch));
    server.Post(kAccountPath + R"(/IncomingPhoneNumbers\.json)", bind(HandleBuy));
    server.Get(kAccountPath + R"(/IncomingPhoneNumbers\.json)", bind(HandleList));
    server.Get(kAccountPath + R"(/IncomingPhoneNumbers/([^/]+)\.json)", bind(HandleFetch));
    server.Delete(kAccountPath + R"(/IncomingPhoneNumbers/([^/]+)\.json)", bind(HandleRelease));
}

}  // namespace fake_twilio
