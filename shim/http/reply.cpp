// See reply.hpp.
#include "http/reply.hpp"

#include "db/statements.hpp"
#include "core/rate_limit_detail.hpp"
#include "util/log.hpp"

namespace nw::http {

Reply Error(int status, const std::string &code, const std::string &message, const nlohmann::json &extra)
{
    Reply reply;
    reply.status = status;
    reply.body = {{"error", message}, {"code", code}};
    for (auto it = extra.begin(); it != extra.end(); ++it)
        reply.body[it.key()] = it.value();
    return reply;
}

Reply FromDbError(const db::Error &e)
{
    const std::string &s = e.sqlstate;
    if (s == "NW001")
        return Error(402, "INSUFFICIENT_BALANCE", e.message);
    if (s == "NW002")
        return Error(409, "NUMBER_ALREADY_EXISTS", e.message);
    if (s == "NW003")
        return Error(404, "NOT_FOUND", e.message);
    if (s == "NW004")
        return Error(409, "INVALID_STATE", e.message);
    if (s == "NW005") {
        Reply reply = Error(429, "RATE_LIMITED", e.message + ". " + e.detail);
        // The detail is the extension's RetryAfterDetail text (core/rate_limit_detail.hpp).
        if (const auto seconds = ParseRetryAfterDetail(e.detail))
            reply.headers.emplace_back("Retry-After", std::to_string(*seconds));
        return reply;
    }
    if (s == "NW006")
        return Error(422, "IDEMPOTENCY_KEY_REUSED", e.message);
    if (s == "22023" || s == "22003" || s == "22P02")
        return Error(400, "INVALID_REQUEST", e.message);
    if (s == "42501")
        return Error(403, "FORBIDDEN", "not allowed");
    if (s == db::kFateUnknownState)
        return Error(503, "UNAVAILABLE",
                     "the database connection was lost during this request, so whether it took effect is unknown; "
                     "repeat it with the same Idempotency-Key to find out",
                     nlohmann::json::object());
    if (db::IsTransient(s))
        return Error(503, "UNAVAILABLE", "the service is temporarily unavailable; retry shortly",
                     nlohmann::json::object());
    log::Error("unexpected database error", {{"sqlstate", s}, {"message", e.message}});
    return Error(500, "INTERNAL", "internal error");
}

nlohmann::json NumberJson(const std::vector<db::Value> &row)
{
    using namespace db::sql;
    auto text = [&](int column) -> nlohmann::json {
        const auto &v = row.at(column);
        return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
    };
    return {{"id", text(kId)},
            {"phoneNumber", text(kPhone)},
            {"displayName", text(kDisplayName)},
            {"status", text(kStatus)},
            {"twilioSid", text(kSid)},
            {"monthlyCost", text(kMonthlyCost)},
            {"currency", text(kCurrency)},
            {"purchaseDate", text(kPurchaseDate)},
            {"paidUntil", text(kPaidUntil)}};
}

}  // namespace nw::http
