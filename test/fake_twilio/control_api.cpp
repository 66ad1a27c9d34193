#include "control_api.hpp"

#include <set>
#include <stdexcept>

#include "shapes.hpp"

namespace fake_twilio {
namespace {

const std::set<std::string> kOps = {"search", "buy", "list", "fetch", "release"};
const std::set<std::string> kModes = {"21422", "21421",    "20003",         "20404",         "500",
                                      "503",   "timeout",  "timeout_after", "lost_response", "lost_response_drop",
                                      "429",   "malformed"};

void reply(httplib::Response &res, int status, const nlohmann::json &body)
{
    res.status = status;
    res.set_content(body.dump(), "application/json");
}

void BadRequest(httplib::Response &res, const std::string &message)
{
    reply(res, 400, {{"error", message}});
}

// The request body as a JSON object (an empty body counts as {}).
std::optional<nlohmann::json> BodyObject(const httplib::Request &req, httplib::Response &res)
{
    if (req.body.empty())
        return nlohmann::json::object();
    nlohmann::json j = nlohmann::json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        BadRequest(res, "body must be a JSON object");
        return std::nullopt;
    }
    return j;
}

std::string StringOr(const nlohmann::json &j, const char *key, const std::string &fallback = "")
{
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

long IntOr(const nlohmann::json &j, const char *key, long fallback)
{
    auto it = j.find(key);
    if (it == j.end())
        return fallback;
    if (!it->is_number_integer())
        throw std::invalid_argument(std::string(key) + " must be an integer");
    return it->get<long>();
}

// {"op","mode","phoneNumber"?,"sid"?,"count"? (default 1, -1 = always),"retryAfter"?,"sleepMs"?}
void HandleFail(const httplib::Request &req, httplib::Response &res, State &state)
{
    auto body = BodyObject(req, res);
    if (!body)
        return;
    FailureRule rule;
    rule.op = StringOr(*body, "op");
    // "mode" may be given as a string ("21422") or a number (21422).
    auto mode = body->find("mode");
    if (mode != body->end() && mode->is_number_integer())
        rule.mode = std::to_string(mode->get<long>());
    else
        rule.mode = StringOr(*body, "mode");
    rule.phoneNumber = StringOr(*body, "phoneNumber");
    rule.sid = StringOr(*body, "sid");
    if (!kOps.count(rule.op))
        return BadRequest(res, "op must be one of search, buy, list, fetch, release");
    if (!kModes.count(rule.mode))
        return BadRequest(res, "unknown mode: " + rule.mode);
    try {
        rule.count = IntOr(*body, "count", 1);
        rule.retryAfter = IntOr(*body, "retryAfter", -1);
        rule.sleepMs = IntOr(*body, "sleepMs", -1);
    } catch (const std::invalid_argument &e) {
        return BadRequest(res, e.what());
    }
    if (rule.count == 0 || rule.count < -1)
        return BadRequest(res, "count must be positive, or -1 for always");
    state.AddRule(rule);
    reply(res, 200, {{"ok", true}});
}

void HandleConfig(const httplib::Request &req, httplib::Response &res, State &state)
{
    auto body = BodyObject(req, res);
    if (!body)
        return;
    try {
        state.configure(*body);
    } catch (const std::invalid_argument &e) {
        return BadRequest(res, e.what());
    }
    reply(res, 200, state.snapshot()["config"]);
}

// {"phoneNumber","friendlyName"?}: the account owns a number without any API call.
void HandleOwn(const httplib::Request &req, httplib::Response &res, State &state)
{
    auto body = BodyObject(req, res);
    if (!body)
        return;
    BuyResult r = state.ForceOwn(StringOr(*body, "phoneNumber"), StringOr(*body, "friendlyName"));
    if (auto *code = std::get_if<int>(&r))
        return reply(res, 409, {{"error", MessageFor(*code)}, {"code", *code}});
    reply(res, 201, OwnedJson(std::get<Owned>(r), state.settings().accountSid));
}

// {"sid"}: the number disappears from the account without any API call.
void HandleDisown(const httplib::Request &req, httplib::Response &res, State &state)
{
    auto body = BodyObject(req, res);
    if (!body)
        return;
    if (!state.disown(StringOr(*body, "sid")))
        return reply(res, 404, {{"error", "no such owned number"}});
    reply(res, 200, {{"ok", true}});
}

}  // namespace

void RegisterControlRoutes(httplib::Server &server, State &state)
{
    server.Post("/__control/fail",
                [&state](const httplib::Request &q, httplib::Response &r) { HandleFail(q, r, state); });
    server.Post("/__control/config",
                [&state](const httplib::Request &q, httplib::Response &r) { HandleConfig(q, r, state); });
    server.Post("/__control/own",
                [&state](const httplib::Request &q, httplib::Response &r) { HandleOwn(q, r, state); });
    server.Post("/__control/disown",
                [&state](const httplib::Request &q, httplib::Response &r) { HandleDisown(q, r, state); });
    server.Post("/__control/reset", [&state](const httplib::Request &, httplib::Response &r) {
        state.reset();
        reply(r, 200, {{"ok", true}});
    });
    server.Get("/__control/state",
               [&state](const httplib::Request &, httplib::Response &r) { reply(r, 200, state.snapshot()); });
}

}  // namespace fake_twilio
