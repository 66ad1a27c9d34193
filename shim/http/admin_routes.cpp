// See admin_routes.hpp. Per route: 404 (a malformed id), 400 (input), 403
// (who), then the operation.
#include "http/admin_routes.hpp"

#include <algorithm>

#include "auth/auth.hpp"
#include "db/admin_statements.hpp"
#include "http/caller.hpp"
#include "http/reply.hpp"
#include "http/request_checks.hpp"
#include "http/request_input.hpp"
#include "saga/sagas.hpp"
#include "util/ids.hpp"
#include "util/log.hpp"
#include "core/validation.hpp"

namespace nw::http {
namespace {

using nlohmann::json;

constexpr int kDefaultAuditPage = 50;
constexpr int kMaxAuditPage = 200;
constexpr int kMaxNumbersPage = 100;
constexpr int kUserLedgerRows = 50;
constexpr int kUserNumbers = 100;

// Every action needs a reason of 1 to 500 characters (checked again in SQL).
std::optional<Reply> ReasonField(const json &body, std::string *reason)
{
    std::optional<std::string> value;
    if (auto bad = OptionalString(body, "reason", &value))
        return bad;
    if (!value || !IsOperatorReason(*value))
        return Error(400, "INVALID_REQUEST", "reason is required: 1 to 500 characters saying why");
    *reason = *value;
    return std::nullopt;
}

json Nullable(const db::Value &value)
{
    return value ? json(*value) : json(nullptr);
}

json AuditId(const json &result)
{
    const auto it = result.find("audit_id");
    return it == result.end() ? json(nullptr) : *it;
}

// The contract's number object plus what support needs.
json AdminNumberJson(const std::vector<db::Value> &row)
{
    json number = NumberJson(row);
    number["userId"] = Nullable(row.at(db::sql::kUserId));
    number["provider"] = Nullable(row.at(db::sql::kProvider));
    number["failureReason"] = Nullable(row.at(db::sql::kFailureReason));
    number["providerReleased"] = row.at(db::sql::kProviderReleased).value_or("f") == "t";
    if (row.size() > db::sql::kProviderReleased + 1)
        number["createdAt"] = Nullable(row.at(db::sql::kProviderReleased + 1));
    return number;
}

// The number as it is now, or null when it cannot be read.
json NumberNow(App &app, const std::string &id)
{
    const db::Result r = app.pool->Exec(db::sql::kNumberById, {id});
    return r.ok && !r.rows.empty() ? AdminNumberJson(r.rows[0]) : json(nullptr);
}

// The number an action that talks to the provider names: 404 when missing,
// 409 when another provider mode owns it (a shim never acts at a provider on
// another provider's rows).
std::optional<Reply> LoadNumber(App &app, const std::string &id, db::Result *row)
{
    *row = app.pool->Exec(db::sql::kNumberById, {id});
    if (!row->ok)
        return FromDbError(row->error);
    if (row->rows.empty())
        return Error(404, "NOT_FOUND", "number not found");
    if (row->Text(0, db::sql::kProvider) != app.provider->Name())
        return Error(409, "INVALID_STATE", "this number is managed by another provider mode");
    return std::nullopt;
}

}  // namespace

db::Params AuditParams(const Caller &caller, std::initializer_list<db::Value> rest)
{
    db::Params params = {auth::ActorOf(caller.principal), caller.request_id};
    params.insert(params.end(), rest.begin(), rest.end());
    return params;
}

Reply ForceFail(App &app, const Caller &caller, const httplib::Request &req)
{
    const std::string id = req.matches[1];
    if (!IsUuid(id))
        return Error(404, "NOT_FOUND", "number not found");
    json body;
    std::string reason;
    if (auto bad = ParseBody(req, &body))
        return *bad;
    if (auto bad = ReasonField(body, &reason))
        return *bad;
    if (auto forbidden = RequireService(caller))
        return *forbidden;
    // No provider is asked, so a row of either provider mode may be failed
    // (an unknown number is NW003: 404).
    const db::Result r = app.pool->Exec(db::sql::kForceFail, AuditParams(caller, {id, reason}));
    if (!r.ok)
        return FromDbError(r.error);
    const json result = json::parse(r.Text(0, 0));
    log::Info("operator action", {{"action", "force_fail"}, {"numberId", id}, {"auditId", AuditId(result)}});
    Reply reply;
    reply.body = {{"success", true},
                  {"number", NumberNow(app, id)},
                  {"refunded", result.at("refunded")},
                  {"replayed", result.at("replayed")},
                  {"auditId", AuditId(result)}};
    return reply;
}

// The provider must hold the number under that sid before the database is told so.
Reply ForceConfirm(App &app, const Caller &caller, const httplib::Request &req)
{
    const std::string id = req.matches[1];
    if (!IsUuid(id))
        return Error(404, "NOT_FOUND", "number not found");
    json body;
    std::string reason;
    std::optional<std::string> sid;
    if (auto bad = ParseBody(req, &body))
        return *bad;
    if (auto bad = OptionalString(body, "twilioSid", &sid))
        return *bad;
    if (!sid || !IsProviderSid(*sid))
        return Error(400, "INVALID_REQUEST", "twilioSid is required: the provider's sid of the number (PN...)");
    if (auto bad = ReasonField(body, &reason))
        return *bad;
    if (auto forbidden = RequireService(caller))
        return *forbidden;
    db::Result number;
    if (auto refused = LoadNumber(app, id, &number))
        return *refused;
    const std::string phone = number.Text(0, db::sql::kPhone);
    const auto owned = app.provider->FindOwned(phone, std::nullopt);
    if (!owned.IsOk())
        return Error(502, "PROVIDER_ERROR", "the provider could not be asked about this number right now");
    if (!owned.value() || owned.value()->sid != *sid)
        return Error(409, "PROVIDER_MISMATCH",
                     owned.value() ? "the provider holds this number under another sid"
                                   : "the provider does not hold this number",
                     {{"providerSid", owned.value() ? json(owned.value()->sid) : json(nullptr)}});
    const db::Result r = app.pool->Exec(db::sql::kForceConfirm, AuditParams(caller, {id, *sid, reason}));
    if (!r.ok)
        return FromDbError(r.error);
    const json result = json::parse(r.Text(0, 0));
    log::Info("operator action", {{"action", "force_confirm"}, {"numberId", id}, {"auditId", AuditId(result)}});
    Reply reply;
    reply.body = {{"success", true},
                  {"number", NumberNow(app, id)},
                  {"replayed", result.at("replayed")},
                  {"auditId", AuditId(result)}};
    return reply;
}

// force_release, then the number is deleted at the provider as after a release.
Reply ForceRelease(App &app, const Caller &caller, const httplib::Request &req)
{
    const std::string id = req.matches[1];
    if (!IsUuid(id))
        return Error(404, "NOT_FOUND", "number not found");
    json body;
    std::string reason;
    if (auto bad = ParseBody(req, &body))
        return *bad;
    const auto refund = body.find("refund");
    if (refund == body.end() || !refund->is_boolean())
        return Error(400, "INVALID_REQUEST", "refund is required: true or false");
    if (auto bad = ReasonField(body, &reason))
        return *bad;
    if (auto forbidden = RequireService(caller))
        return *forbidden;
    db::Result number;
    if (auto refused = LoadNumber(app, id, &number))
        return *refused;
    const db::Result r = app.pool->Exec(db::sql::kForceRelease,
                                        AuditParams(caller, {id, refund->get<bool>() ? "true" : "false", reason}));
    if (!r.ok)
        return FromDbError(r.error);
    const json result = json::parse(r.Text(0, 0));
    log::Info("operator action", {{"action", "force_release"}, {"numberId", id}, {"auditId", AuditId(result)}});

    bool provider_released = false;
    const db::Result now = app.pool->Exec(db::sql::kNumberById, {id});
    if (now.ok && !now.rows.empty()) {
        provider_released = now.Text(0, db::sql::kProviderReleased) == "t";
        if (!provider_released && now.At(0, db::sql::kSid))
            provider_released =
                saga::FinishProviderDeletion(app, id, now.Text(0, db::sql::kSid), now.Text(0, db::sql::kPhone));
    }
    Reply reply;
    reply.body = {{"success", true},
                  {"number", NumberNow(app, id)},
                  {"refund", result.at("refund")},
                  {"providerReleased", provider_released},
                  {"replayed", result.at("replayed")},
                  {"auditId", AuditId(result)}};
    return reply;
}

Reply AdjustBalance(App &app, const Caller &caller, const httplib::Request &req)
{
    const std::string user_id = req.matches[1];
    if (!IsUuid(user_id))
        return Error(404, "NOT_FOUND", "wallet not found");
    json body;
    std::string reason;
    std::optional<std::string> amount, currency;
    if (auto bad = ParseBody(req, &body))
        return *bad;
    if (body.contains("amount") && body["amount"].is_number())
        return Error(400, "INVALID_REQUEST", "amount must be a decimal string such as \"-2.50\"");
    if (auto bad = OptionalString(body, "amount", &amount))
        return *bad;
    if (auto bad = OptionalString(body, "currency", &currency))
        return *bad;
    Cents cents = 0;
    if (!amount || ParseAmount(*amount, true, &cents).refused)
        return Error(400, "INVALID_REQUEST", "amount must be a non-zero decimal string with at most two decimals");
    if (!currency)
        currency = "USD";
    if (!IsCurrency(*currency))
        return Error(400, "INVALID_REQUEST", "currency must be USD or INR");
    if (auto bad = ReasonField(body, &reason))
        return *bad;
    // The client's key, else one of our own so the pool's retries adjust once.
    std::string key = "nw-generated-" + RandomUuid();
    if (req.has_header("Idempotency-Key")) {
        key = req.get_header_value("Idempotency-Key");
        if (!IsIdempotencyKey(key))
            return Error(400, "INVALID_REQUEST", "Idempotency-Key must be 1 to 255 printable ASCII characters");
    }
    if (auto forbidden = RequireService(caller))
        return *forbidden;
    const db::Result r = app.pool->Exec(db::sql::kAdjustBalance,
                                        AuditParams(caller, {user_id, FormatCents(cents), *currency, reason, key}));
    if (!r.ok)
        return FromDbError(r.error);
    const json result = json::parse(r.Text(0, 0));
    log::Info("operator action", {{"action", "adjust_balance"}, {"userId", user_id}, {"auditId", AuditId(result)}});
    const db::Result w = app.pool->Exec(db::sql::kWallet, {user_id});
    Reply reply;
    reply.status = 201;
    reply.body = {{"success", true},
                  {"wallet", w.ok && !w.rows.empty() ? json{{"balanceUsd", w.Text(0, 0)}, {"balanceInr", w.Text(0, 1)}}
                                                     : json(nullptr)},
                  {"amount", result.at("amount")},
                  {"currency", result.at("currency")},
                  {"transactionId", result.at("transaction_id")},
                  {"replayed", result.at("replayed")},
                  {"auditId", AuditId(result)}};
    return reply;
}

Reply ResolveDiscrepancy(App &app, const Caller &caller, const httplib::Request &req)
{
    const std::string id = req.matches[1];
    if (!IsDigits(id, 18))
        return Error(404, "NOT_FOUND", "discrepancy not found");
    json body;
    std::string reason;
    if (auto bad = ParseBody(req, &body))
        return *bad;
    if (auto bad = ReasonField(body, &reason))
        return *bad;
    if (auto forbidden = RequireService(caller))
        return *forbidden;
    const db::Result r = app.pool->Exec(db::sql::kResolveDiscrepancy, AuditParams(caller, {id, reason}));
    if (!r.ok)
        return FromDbError(r.error);
    const json result = json::parse(r.Text(0, 0));
    log::Info("operator action",
              {{"action", "resolve_discrepancy"}, {"discrepancyId", id}, {"auditId", AuditId(result)}});
    Reply reply;
    reply.body = {{"success", true},
                  {"discrepancy",
                   {{"id", result.at("id")},
                    {"kind", result.at("kind")},
                    {"resolvedAt", result.at("resolved_at")},
                    {"note", result.at("note")}}},
                  {"replayed", result.at("replayed")},
                  {"auditId", AuditId(result)}};
    return reply;
}

Reply AuditLog(App &app, const Caller &caller, const httplib::Request &req)
{
    int limit = kDefaultAuditPage;
    if (auto bad = LimitParam(req, kDefaultAuditPage, kMaxAuditPage, &limit))
        return *bad;
    db::Value before;
    if (req.has_param("before")) {
        before = req.get_param_value("before");
        if (!IsDigits(*before, 18))
            return Error(400, "INVALID_REQUEST", "before must be an audit entry id");
    }
    if (auto forbidden = RequireService(caller))
        return *forbidden;
    const db::Result r = app.pool->Exec(db::sql::kAuditLog, {before, std::to_string(limit + 1)});
    if (!r.ok)
        return FromDbError(r.error);
    json entries = json::array();
    for (std::size_t i = 0; i < r.rows.size() && static_cast<int>(i) < limit; ++i) {
        const auto &row = r.rows[i];
        // The audit_log row under its column names (as the other admin lists
        // return their views' rows).
        entries.push_back({{"id", std::stoll(*row[0])},
                           {"at", Nullable(row[1])},
                           {"actor", Nullable(row[2])},
                           {"action", Nullable(row[3])},
                           {"number_id", Nullable(row[4])},
                           {"user_id", Nullable(row[5])},
                           {"discrepancy_id", row[6] ? json(std::stoll(*row[6])) : json(nullptr)},
                           {"reason", Nullable(row[7])},
                           {"request_id", Nullable(row[8])},
                           {"detail", row[9] ? json::parse(*row[9], nullptr, false) : json(nullptr)}});
    }
    Reply reply;
    reply.body = {
        {"audit", entries},
        {"next", static_cast<int>(r.rows.size()) > limit ? json(std::stoll(*r.rows[limit - 1][0])) : json(nullptr)}};
    return reply;
}

Reply AdminNumbers(App &app, const Caller &caller, const httplib::Request &req)
{
    static const char *const kStatuses[] = {"pending", "active", "failed", "released"};
    db::Value phone, user, status;
    if (req.has_param("phone") && !req.get_param_value("phone").empty()) {
        phone = req.get_param_value("phone");
        if (!IsE164(*phone))
            return Error(400, "INVALID_REQUEST", "phone must be in E.164 form, such as +14155550100");
    }
    if (req.has_param("user") && !req.get_param_value("user").empty()) {
        user = req.get_param_value("user");
        if (!IsUuid(*user))
            return Error(400, "INVALID_REQUEST", "user must be a user id (uuid)");
    }
    if (req.has_param("status") && !req.get_param_value("status").empty()) {
        status = req.get_param_value("status");
        if (std::none_of(std::begin(kStatuses), std::end(kStatuses), [&](const char *s) { return *status == s; }))
            return Error(400, "INVALID_REQUEST", "status must be pending, active, failed or released");
    }
    int limit = 50;
    if (auto bad = LimitParam(req, 50, kMaxNumbersPage, &limit))
        return *bad;
    if (auto forbidden = RequireService(caller))
        return *forbidden;
    const db::Result r = app.pool->Exec(db::sql::kAdminNumbers, {phone, user, status, std::to_string(limit)});
    if (!r.ok)
        return FromDbError(r.error);
    json numbers = json::array();
    for (const auto &row : r.rows)
        numbers.push_back(AdminNumberJson(row));
    Reply reply;
    reply.body = {{"numbers", numbers}};
    return reply;
}

Reply AdminUser(App &app, const Caller &caller, const httplib::Request &req)
{
    const std::string user_id = req.matches[1];
    if (!IsUuid(user_id))
        return Error(404, "NOT_FOUND", "user not found");
    if (auto forbidden = RequireService(caller))
        return *forbidden;
    const db::Result w = app.pool->Exec(db::sql::kWallet, {user_id});
    if (!w.ok)
        return FromDbError(w.error);
    const db::Result n =
        app.pool->Exec(db::sql::kAdminNumbers, {std::nullopt, user_id, std::nullopt, std::to_string(kUserNumbers)});
    if (!n.ok)
        return FromDbError(n.error);
    const db::Result t =
        app.pool->Exec(db::sql::kTransactions, {user_id, std::nullopt, std::to_string(kUserLedgerRows)});
    if (!t.ok)
        return FromDbError(t.error);
    json numbers = json::array();
    for (const auto &row : n.rows)
        numbers.push_back(AdminNumberJson(row));
    json ledger = json::array();
    for (const auto &row : t.rows)
        ledger.push_back({{"id", std::stoll(*row[0])},
                          {"type", *row[1]},
                          {"kind", *row[2]},
                          {"amount", *row[3]},
                          {"currency", *row[4]},
                          {"balanceAfter", *row[5]},
                          {"description", *row[6]},
                          {"numberId", Nullable(row[7])},
                          {"createdAt", *row[8]}});
    Reply reply;
    reply.body = {
        {"userId", user_id},
        {"wallet", w.rows.empty() ? json(nullptr) : json{{"balanceUsd", w.Text(0, 0)}, {"balanceInr", w.Text(0, 1)}}},
        {"numbers", numbers},
        {"transactions", ledger}};
    return reply;
}

const char *AdminRouteTemplate(const std::string &path)
{
    static const char *const kFixed[] = {"/api/admin/audit", "/api/admin/numbers"};
    for (const char *fixed : kFixed)
        if (path == fixed)
            return fixed;
    struct Pattern {
        const char *prefix;
        const char *suffix;
        const char *name;
    };
    static const Pattern kPatterns[] = {
        {"/api/admin/numbers/", "/fail", "/api/admin/numbers/{id}/fail"},
        {"/api/admin/numbers/", "/confirm", "/api/admin/numbers/{id}/confirm"},
        {"/api/admin/numbers/", "/release", "/api/admin/numbers/{id}/release"},
        {"/api/admin/wallets/", "/adjust", "/api/admin/wallets/{userId}/adjust"},
        {"/api/admin/discrepancies/", "/resolve", "/api/admin/discrepancies/{id}/resolve"},
        {"/api/admin/users/", "", "/api/admin/users/{userId}"},
    };
    for (const Pattern &p : kPatterns) {
        const std::string prefix = p.prefix, suffix = p.suffix;
        if (path.size() <= prefix.size() + suffix.size() || path.compare(0, prefix.size(), prefix) != 0 ||
            path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        const std::string id = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
        if (id.find('/') == std::string::npos)
            return p.name;
    }
    return nullptr;
}

void RegisterAdminRoutes(App &app, httplib::Server &s)
{
    s.Post(R"(/api/admin/numbers/([^/]+)/fail)", WithCaller(app, ForceFail));
    s.Post(R"(/api/admin/numbers/([^/]+)/confirm)", WithCaller(app, ForceConfirm));
    s.Post(R"(/api/admin/numbers/([^/]+)/release)", WithCaller(app, ForceRelease));
    s.Post(R"(/api/admin/wallets/([^/]+)/adjust)", WithCaller(app, AdjustBalance));
    s.Post(R"(/api/admin/discrepancies/([^/]+)/resolve)", WithCaller(app, ResolveDiscrepancy));
    s.Get("/api/admin/audit", WithCaller(app, AuditLog));
    s.Get("/api/admin/numbers", WithCaller(app, AdminNumbers));
    s.Get(R"(/api/admin/users/([^/]+))", WithCaller(app, AdminUser));
}

}  // namespace nw::http
