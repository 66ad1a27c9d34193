// See routes.hpp. Per route: 400 (input), 403 (who), then the operation.
#include "http/routes.hpp"

#include <string_view>

#include "db/statements.hpp"
#include "http/admin_routes.hpp"
#include "http/caller.hpp"
#include "http/reply.hpp"
#include "http/request_checks.hpp"
#include "http/request_input.hpp"
#include "metrics/snapshot.hpp"
#include "http/web.hpp"
#include "phone/phone.hpp"
#include "saga/sagas.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"
#include "core/validation.hpp"

namespace nw::http {
namespace {

using nlohmann::json;

// Idempotency-Key: the client's, else one of our own so internal retries are safe.
std::optional<Reply> IdempotencyKey(const httplib::Request &req, std::string *key)
{
    if (!req.has_header("Idempotency-Key")) {
        *key = "nw-generated-" + RandomUuid();
        return std::nullopt;
    }
    *key = req.get_header_value("Idempotency-Key");
    if (!IsIdempotencyKey(*key))
        return Error(400, "INVALID_REQUEST", "Idempotency-Key must be 1 to 255 printable ASCII characters");
    return std::nullopt;
}

Reply Health(App &app)
{
    const bool db_ok = app.pool->Ping();
    Reply reply;
    reply.status = db_ok ? 200 : 503;
    reply.body = {{"status", db_ok ? "ok" : "degraded"},
                  {"database", db_ok ? "ok" : "down"},
                  {"twilio", app.config.twilio_testing_mode ? "testing" : "live"}};
    // Which server (host:port) the pool last wrote through: after a failover,
    // the new primary. Empty before the first successful call.
    reply.body["databaseNode"] = app.pool->Node();
    return reply;
}

Reply AdminJson(App &app, const Caller &caller, const db::Statement &statement, const char *field)
{
    if (auto forbidden = RequireService(caller))
        return *forbidden;
    const db::Result r = app.pool->Exec(statement, {});
    if (!r.ok)
        return FromDbError(r.error);
    Reply reply;
    reply.body = {{field, json::parse(r.Text(0, 0))}};
    return reply;
}

// `path` has the segments of `pattern`, where a "{…}" segment stands for any
// non-empty segment.
bool MatchesRoute(std::string_view pattern, std::string_view path)
{
    while (!pattern.empty() && !path.empty()) {
        if (pattern[0] != '/' || path[0] != '/')
            return false;
        pattern.remove_prefix(1);
        path.remove_prefix(1);
        const std::string_view want = pattern.substr(0, pattern.find('/'));
        const std::string_view got = path.substr(0, path.find('/'));
        const bool any = want.size() >= 2 && want.front() == '{' && want.back() == '}';
        if (any ? got.empty() : want != got)
            return false;
        pattern.remove_prefix(want.size());
        path.remove_prefix(got.size());
    }
    return pattern.empty() && path.empty();
}

constexpr int kSearchesPerMinute = 30;

}  // namespace

// Searches are per-user limited and cached briefly (the provider's answer barely changes).
Reply Available(App &app, const Caller &caller, const httplib::Request &req)
{
    const std::string country =
        req.has_param("country") ? req.get_param_value("country") : app.config.number_countries[0];
    const auto &allowed = app.config.number_countries;
    if (std::find(allowed.begin(), allowed.end(), country) == allowed.end())
        return Error(400, "UNSUPPORTED_NUMBER", "numbers of this country are not sold here");
    std::optional<std::string> area, contains;
    if (req.has_param("areaCode") && !req.get_param_value("areaCode").empty()) {
        area = req.get_param_value("areaCode");
        if (area->size() != 3 || area->find_first_not_of("0123456789") != std::string::npos || (*area)[0] < '2')
            return Error(400, "INVALID_REQUEST", "areaCode must be three digits");
    }
    // An empty contains counts as absent; Twilio refuses a single character
    // (which the shim then reported as 502), so it is the caller's 400 here.
    if (req.has_param("contains") && !req.get_param_value("contains").empty()) {
        contains = req.get_param_value("contains");
        if (contains->size() < 2 || contains->size() > 10 ||
            contains->find_first_not_of("0123456789*") != std::string::npos)
            return Error(400, "INVALID_REQUEST", "contains must be 2 to 10 digits or *");
    }
    int limit = 20;
    if (auto bad = LimitParam(req, 20, 50, &limit))
        return *bad;
    if (caller.principal.is_service())
        return Error(403, "FORBIDDEN", "searching is for signed-in users");

    const auto now = std::chrono::steady_clock::now();
    const std::string key =
        country + "|" + area.value_or("") + "|" + contains.value_or("") + "|" + std::to_string(limit);
    if (!app.search_limits.Allow(caller.principal.user_id, kSearchesPerMinute, now)) {
        Reply r = Error(429, "RATE_LIMITED", "too many searches; wait a minute");
        r.headers.emplace_back("Retry-After", "60");
        return r;
    }
    if (auto cached = app.search_cache.Find(key, now)) {
        Reply r;
        r.body = {{"numbers", std::move(*cached)}};
        return r;
    }
    const auto found = app.provider->Search(country, area, contains, limit);
    if (!found.IsOk())
        return Error(502, "PROVIDER_ERROR", "the provider could not search numbers right now");
    json numbers = json::array();
    for (const auto &n : found.value()) {
        numbers.push_back(
            {{"phoneNumber", n.phoneNumber},
             {"friendlyName", n.friendlyName},
             {"locality", n.locality},
             {"region", n.region},
             {"isoCountry", n.isoCountry},
             {"capabilities",
              {{"voice", n.capabilities.voice}, {"sms", n.capabilities.sms}, {"mms", n.capabilities.mms}}},
             {"monthlyCost", app.config.number_monthly_price},
             {"currency", app.config.number_price_currency}});
    }
    app.search_cache.Put(key, numbers, now);
    Reply r;
    r.body = {{"numbers", numbers}};
    return r;
}

Reply PurchaseRoute(App &app, const Caller &caller, const httplib::Request &req)
{
    json body;
    if (auto bad = ParseBody(req, &body))
        return *bad;
    std::optional<std::string> phone, display_name, expected;
    if (auto bad = OptionalString(body, "phoneNumber", &phone))
        return *bad;
    if (auto bad = OptionalString(body, "displayName", &display_name))
        return *bad;
    if (body.contains("expectedMonthlyCost") && body["expectedMonthlyCost"].is_number())
        return Error(400, "INVALID_REQUEST", "expectedMonthlyCost must be a decimal string such as \"1.15\"");
    if (auto bad = OptionalString(body, "expectedMonthlyCost", &expected))
        return *bad;
    if (!phone)
        return Error(400, "INVALID_REQUEST", "phoneNumber is required");
    if (display_name && !IsDisplayName(*display_name))
        return Error(400, "INVALID_REQUEST", "displayName must be at most 64 characters");
    Cents expected_cents = 0;
    if (expected && ParseAmount(*expected, false, &expected_cents).refused)
        return Error(400, "INVALID_REQUEST",
                     "expectedMonthlyCost must be a positive decimal with at most two decimals");
    std::string key;
    if (auto bad = IdempotencyKey(req, &key))
        return *bad;
    switch (phone::Classify(*phone, app.config.number_countries, nullptr)) {
    case phone::Verdict::kInvalid:
        return Error(400, "INVALID_REQUEST", "phoneNumber must be in E.164 form, such as +14155550100");
    case phone::Verdict::kUnsupported:
        return Error(400, "UNSUPPORTED_NUMBER", "only local numbers of the supported countries are sold here");
    case phone::Verdict::kSupported:
        break;
    }
    if (auto forbidden = RequireUser(caller))
        return *forbidden;
    if (caller.principal.anonymous)
        return Error(403, "FORBIDDEN", "anonymous users cannot buy numbers; sign in first");
    if (expected && expected_cents != app.config.number_monthly_price_cents)
        return Error(
            409, "PRICE_CHANGED", "the monthly price is now " + app.config.number_monthly_price,
            {{"monthlyCost", app.config.number_monthly_price}, {"currency", app.config.number_price_currency}});
    return saga::Purchase(app, {caller.principal.user_id, *phone, display_name, key});
}

Reply GetNumber(App &app, const Caller &caller, const httplib::Request &req)
{
    const std::string id = req.matches[1];
    if (!IsUuid(id))
        return Error(404, "NOT_FOUND", "number not found");
    if (auto forbidden = RequireUser(caller))
        return *forbidden;
    const db::Result r = app.pool->Exec(db::sql::kNumberById, {id});
    if (!r.ok)
        return FromDbError(r.error);
    if (r.rows.empty() || r.Text(0, db::sql::kUserId) != caller.principal.user_id)
        return Error(404, "NOT_FOUND", "number not found");
    Reply reply;
    reply.body = {{"number", NumberJson(r.rows[0])}};
    return reply;
}

Reply ReleaseRoute(App &app, const Caller &caller, const httplib::Request &req)
{
    const std::string id = req.matches[1];
    if (!IsUuid(id))
        return Error(404, "NOT_FOUND", "number not found");
    if (auto forbidden = RequireUser(caller))
        return *forbidden;
    return saga::Release(app, caller.principal.user_id, id);
}

// What a release would refund now (refund_quote), for the owner only.
Reply RefundQuoteRoute(App &app, const Caller &caller, const httplib::Request &req)
{
    const std::string id = req.matches[1];
    if (!IsUuid(id))
        return Error(404, "NOT_FOUND", "number not found");
    if (auto forbidden = RequireUser(caller))
        return *forbidden;
    const db::Result owner = app.pool->Exec(db::sql::kNumberById, {id});
    if (!owner.ok)
        return FromDbError(owner.error);
    if (owner.rows.empty() || owner.Text(0, db::sql::kUserId) != caller.principal.user_id)
        return Error(404, "NOT_FOUND", "number not found");
    const db::Result r = app.pool->Exec(db::sql::kRefundQuote, {id});
    if (!r.ok)
        return FromDbError(r.error);
    const json quote = json::parse(r.Text(0, 0));
    const bool eligible = quote.value("eligible", false);
    json refund = {{"eligible", eligible},
                   {"amount", eligible ? quote.value("amount", "0.00") : std::string("0.00")},
                   {"currency", quote.value("currency", "")},
                   {"reason", quote.value("reason", "")},
                   {"purchaseAmount", quote.value("amount", "0.00")}};
    if (quote.contains("days_since_purchase"))
        refund["daysSincePurchase"] = quote["days_since_purchase"];
    if (quote.contains("window_days"))
        refund["windowDays"] = quote["window_days"];
    Reply reply;
    reply.body = {{"refund", refund}};
    return reply;
}

Reply ListNumbers(App &app, const Caller &caller, const httplib::Request &req)
{
    int limit = 50;
    if (auto bad = LimitParam(req, 50, 100, &limit))
        return *bad;
    db::Value before;
    if (req.has_param("before")) {
        before = req.get_param_value("before");
        if (!IsUuid(*before))
            return Error(400, "INVALID_REQUEST", "before must be a number id");
    }
    const std::string all = req.has_param("all") ? req.get_param_value("all") : "false";
    if (all != "true" && all != "false")
        return Error(400, "INVALID_REQUEST", "all must be true or false");
    if (auto forbidden = RequireUser(caller))
        return *forbidden;
    const db::Result r =
        app.pool->Exec(db::sql::kListNumbers, {caller.principal.user_id, all, before, std::to_string(limit + 1)});
    if (!r.ok)
        return FromDbError(r.error);
    json numbers = json::array();
    for (std::size_t i = 0; i < r.rows.size() && static_cast<int>(i) < limit; ++i)
        numbers.push_back(NumberJson(r.rows[i]));
    Reply reply;
    reply.body = {
        {"numbers", numbers},
        {"next", static_cast<int>(r.rows.size()) > limit ? json(*r.rows[limit - 1][db::sql::kId]) : json(nullptr)}};
    return reply;
}

Reply GetWallet(App &app, const Caller &caller, const httplib::Request &)
{
    if (auto forbidden = RequireUser(caller))
        return *forbidden;
    const db::Result r = app.pool->Exec(db::sql::kWallet, {caller.principal.user_id});
    if (!r.ok)
        return FromDbError(r.error);
    Reply reply;
    reply.body = {{"wallet",
                   {{"balanceUsd", r.rows.empty() ? "0.00" : r.Text(0, 0)},
                    {"balanceInr", r.rows.empty() ? "0.00" : r.Text(0, 1)}}}};
    return reply;
}

Reply ListTransactions(App &app, const Caller &caller, const httplib::Request &req)
{
    int limit = 50;
    if (auto bad = LimitParam(req, 50, 100, &limit))
        return *bad;
    db::Value before;
    if (req.has_param("before")) {
        before = req.get_param_value("before");
        if (before->empty() || before->size() > 18 || before->find_first_not_of("0123456789") != std::string::npos)
            return Error(400, "INVALID_REQUEST", "before must be a transaction id");
    }
    if (auto forbidden = RequireUser(caller))
        return *forbidden;
    const db::Result r =
        app.pool->Exec(db::sql::kTransactions, {caller.principal.user_id, before, std::to_string(limit + 1)});
    if (!r.ok)
        return FromDbError(r.error);
    json items = json::array();
    for (std::size_t i = 0; i < r.rows.size() && static_cast<int>(i) < limit; ++i) {
        const auto &row = r.rows[i];
        items.push_back({{"id", std::stoll(*row[0])},
                         {"type", *row[1]},
                         {"kind", *row[2]},
                         {"amount", *row[3]},
                         {"currency", *row[4]},
                         {"balanceAfter", *row[5]},
                         {"description", *row[6]},
                         {"numberId", row[7] ? json(*row[7]) : json(nullptr)},
                         {"createdAt", *row[8]}});
    }
    Reply reply;
    reply.body = {
        {"transactions", items},
        {"next", static_cast<int>(r.rows.size()) > limit ? json(std::stoll(*r.rows[limit - 1][0])) : json(nullptr)}};
    return reply;
}

Reply Topup(App &app, const Caller &caller, const httplib::Request &req)
{
    json body;
    if (auto bad = ParseBody(req, &body))
        return *bad;
    std::optional<std::string> amount, currency, user_id;
    if (body.contains("amount") && body["amount"].is_number())
        return Error(400, "INVALID_REQUEST", "amount must be a decimal string such as \"10.00\"");
    if (auto bad = OptionalString(body, "amount", &amount))
        return *bad;
    if (auto bad = OptionalString(body, "currency", &currency))
        return *bad;
    if (auto bad = OptionalString(body, "userId", &user_id))
        return *bad;
    Cents cents = 0;
    if (!amount || ParseAmount(*amount, false, &cents).refused)
        return Error(400, "INVALID_REQUEST", "amount must be a positive decimal string with at most two decimals");
    if (!currency)
        currency = "USD";
    if (!IsCurrency(*currency))
        return Error(400, "INVALID_REQUEST", "currency must be USD or INR");
    if (user_id && !IsUuid(*user_id))
        return Error(400, "INVALID_REQUEST", "userId must be a uuid");
    std::string key;
    if (auto bad = IdempotencyKey(req, &key))
        return *bad;
    const auth::Principal &who = caller.principal;
    std::string target;
    if (who.is_service()) {
        if (!user_id)
            return Error(400, "INVALID_REQUEST", "userId is required with the service role");
        target = *user_id;
    } else {
        if (!app.config.allow_self_topup || who.anonymous || (user_id && *user_id != who.user_id))
            return Error(403, "FORBIDDEN", "top-ups need the service role");
        target = who.user_id;
    }
    const db::Result r = app.pool->Exec(db::sql::kCredit, {target, FormatCents(cents), *currency, key});
    if (!r.ok)
        return FromDbError(r.error);
    const json credit = json::parse(r.Text(0, 0));
    const db::Result w = app.pool->Exec(db::sql::kWallet, {target});
    if (!w.ok || w.rows.empty()) {
        // The credit is committed but the balance is unknown: never answer a
        // made-up balance. Transient -> 503 (retrying with the same
        // Idempotency-Key replays the credit and reads again), else 500.
        const bool transient = !w.ok && db::IsTransient(w.error.sqlstate);
        log::Error("top-up recorded but the wallet could not be read",
                   {{"transactionId", credit.at("transaction_id")},
                    {"sqlstate", w.ok ? std::string("no row") : w.error.sqlstate}});
        return Error(transient ? 503 : 500, transient ? "UNAVAILABLE" : "INTERNAL",
                     "the top-up was recorded but the new balance could not be read; repeat the request with the "
                     "same Idempotency-Key to read it",
                     {{"transactionId", credit.at("transaction_id")},
                      {"replayed", credit.at("replayed")},
                      {"idempotencyKey", key}});
    }
    Reply reply;
    reply.status = 201;
    reply.body = {{"wallet", {{"balanceUsd", w.Text(0, 0)}, {"balanceInr", w.Text(0, 1)}}},
                  {"transactionId", credit.at("transaction_id")},
                  {"replayed", credit.at("replayed")}};
    return reply;
}

Reply Interventions(App &app, const Caller &caller, const httplib::Request &)
{
    return AdminJson(app, caller, db::sql::kInterventions, "interventions");
}

Reply Summary(App &app, const Caller &caller, const httplib::Request &)
{
    return AdminJson(app, caller, db::sql::kSummary, "summary");
}

void MetricsRoute(App &app, const Caller &caller, const httplib::Request &, httplib::Response &res)
{
    if (auto forbidden = RequireService(caller))
        return SendReply(res, *forbidden);
    res.set_content(
        app.metrics.Scrape([&app] { return metrics::ReadSnapshot(*app.pool); }, metrics::Metrics::Clock::now()),
        "text/plain; version=0.0.4");
}

const char *RouteTemplate(const std::string &path)
{
    // Fixed paths first ("/api/numbers/available" is not "/api/numbers/{id}"),
    // then patterns whose {…} segments match one non-empty path segment.
    static const char *const kRoutes[] = {"/api/health",
                                          "/api/numbers/available",
                                          "/api/numbers/purchase",
                                          "/api/numbers",
                                          "/api/wallet",
                                          "/api/transactions",
                                          "/api/wallet/topup",
                                          "/api/admin/interventions",
                                          "/api/admin/summary",
                                          "/metrics",
                                          "/",
                                          "/admin",
                                          "/api/config",
                                          "/api/demo/session",
                                          "/assets/{file}",
                                          "/api/admin/numbers",
                                          "/api/admin/audit",
                                          "/api/numbers/{id}",
                                          "/api/numbers/{id}/release",
                                          "/api/numbers/{id}/refund-quote",
                                          "/api/admin/numbers/{id}/fail",
                                          "/api/admin/numbers/{id}/confirm",
                                          "/api/admin/numbers/{id}/release",
                                          "/api/admin/wallets/{userId}/adjust",
                                          "/api/admin/discrepancies/{id}/resolve",
                                          "/api/admin/users/{userId}"};
    for (const char *route : kRoutes)
        if (MatchesRoute(route, path))
            return route;
    return "other";
}

void RegisterRoutes(App &app, httplib::Server &s)
{
    // The one public API route: it has no caller.
    s.Get("/api/health", [&app](const httplib::Request &, httplib::Response &res) { SendReply(res, Health(app)); });
    s.Get("/api/numbers/available", WithCaller(app, Available));
    s.Post("/api/numbers/purchase", WithCaller(app, PurchaseRoute));
    s.Get("/api/numbers", WithCaller(app, ListNumbers));
    s.Get(R"(/api/numbers/([^/]+))", WithCaller(app, GetNumber));
    s.Delete(R"(/api/numbers/([^/]+)/release)", WithCaller(app, ReleaseRoute));
    s.Get(R"(/api/numbers/([^/]+)/refund-quote)", WithCaller(app, RefundQuoteRoute));
    s.Get("/api/wallet", WithCaller(app, GetWallet));
    s.Get("/api/transactions", WithCaller(app, ListTransactions));
    s.Post("/api/wallet/topup", WithCaller(app, Topup));
    s.Get("/api/admin/interventions", WithCaller(app, Interventions));
    s.Get("/api/admin/summary", WithCaller(app, Summary));
    RegisterAdminRoutes(app, s);
    s.Get("/metrics", WithCaller(app, MetricsRoute));
    RegisterWebRoutes(app, s);
}

}  // namespace nw::http
