// The purchase saga: purchase_number (reserve) -> provider buy -> confirm or
// fail. An unknown outcome is settled by asking the provider, never by buying
// again; what cannot be settled within 60 s is left pending for the reconciler.
#include <chrono>
#include <thread>

#include "db/statements.hpp"
#include "saga/sagas.hpp"
#include "util/log.hpp"

namespace nw::saga {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// failure_reason starts with the code that told the buyer, so a replay of the
// same Idempotency-Key answers with the original refusal. It holds our code and
// Twilio's numeric code only: Twilio's text (which can name the account) goes
// to the log, and buyers get the shim's own message.
struct Refusal {
    int status;
    const char *code;
    const char *message;
};

Refusal RefusalForReason(const std::string &reason)
{
    if (reason.rfind("NUMBER_UNAVAILABLE", 0) == 0)
        return {409, "NUMBER_UNAVAILABLE", "this number is no longer available; choose another one"};
    if (reason.rfind("INVALID_REQUEST", 0) == 0)
        return {400, "INVALID_REQUEST", "the provider does not accept this phone number"};
    if (reason.rfind("UNAVAILABLE", 0) == 0)
        return {503, "UNAVAILABLE", "the provider is busy; try again in a minute"};
    return {502, "PROVIDER_ERROR", "the provider could not sell this number right now"};
}

http::Reply Refuse(const std::string &reason)
{
    const Refusal refusal = RefusalForReason(reason);
    return http::Error(refusal.status, refusal.code, refusal.message, {{"refunded", true}});
}

// The provider's own words, for the log only, without our credentials.
std::string ForLog(const App &app, std::string text)
{
    for (const std::string *secret : {&app.config.twilio_auth_token, &app.config.twilio_api_secret}) {
        if (secret->empty())
            continue;
        for (std::size_t at = text.find(*secret); at != std::string::npos; at = text.find(*secret, at))
            text.replace(at, secret->size(), "[redacted]");
    }
    return text;
}

std::string ReasonFor(const twilio::Refused &refused)
{
    const std::string what = " (Twilio " + std::to_string(refused.twilioCode) + ")";
    if (refused.twilioCode == 21422)
        return "NUMBER_UNAVAILABLE" + what;
    if (refused.twilioCode == 21421)
        return "INVALID_REQUEST" + what;
    return "PROVIDER_ERROR" + what;
}

std::optional<std::vector<db::Value>> ReadNumber(App &app, const std::string &id)
{
    const db::Result r = app.pool->Exec(db::sql::kNumberById, {id});
    if (!r.ok || r.rows.empty())
        return std::nullopt;
    return r.rows[0];
}

http::Reply Created(const std::vector<db::Value> &row)
{
    http::Reply reply;
    reply.status = 201;
    reply.body = {{"success", true}, {"number", http::NumberJson(row)}};
    reply.headers.emplace_back("Location", "/api/numbers/" + row[db::sql::kId].value_or(""));
    return reply;
}

http::Reply Pending(App &app, const std::string &id)
{
    app.metrics.Inc("nw_purchases_total", "outcome=\"pending\"");
    const auto row = ReadNumber(app, id);
    http::Reply reply;
    reply.status = 202;
    reply.body = {{"success", true},
                  {"number", row ? http::NumberJson(*row) : json{{"id", id}, {"status", "pending"}}},
                  {"message", "The purchase is being confirmed with the provider."}};
    reply.headers.emplace_back("Location", "/api/numbers/" + id);
    return reply;
}

// Answers for a row as it is now (after a replay or a race with the reconciler).
http::Reply AnswerForRow(App &app, const std::vector<db::Value> &row)
{
    const std::string status = row[db::sql::kStatus].value_or("");
    if (status == "active" || status == "released")
        return Created(row);
    if (status == "failed") {
        return Refuse(row[db::sql::kFailureReason].value_or(""));
    }
    return Pending(app, row[db::sql::kId].value_or(""));
}

// fail_purchase, then the refusal (the money is back) or, if the database
// could not be told, 202 for the reconciler.
http::Reply FailAndRefuse(App &app, const std::string &id, const std::string &reason)
{
    const db::Result r = app.pool->Exec(db::sql::kFail, {id, reason});
    if (!r.ok) {
        log::Warn("fail_purchase failed; left to the reconciler", {{"numberId", id}, {"sqlstate", r.error.sqlstate}});
        const auto row = ReadNumber(app, id);
        return row ? AnswerForRow(app, *row) : Pending(app, id);
    }
    app.metrics.Inc("nw_purchases_total", "outcome=\"refused\"");
    const auto row = ReadNumber(app, id);
    if (row && row->at(db::sql::kStatus) != std::optional<std::string>("failed"))
        return AnswerForRow(app, *row);
    return Refuse(reason);
}

// Twilio bought the number: record it. If the row was failed meanwhile (the
// reconciler gave up on it), nobody paid for the number: delete it at the
// provider unless a held row carries its sid.
http::Reply Settle(App &app, const std::string &id, const twilio::Bought &bought)
{
    const db::Result r = app.pool->Exec(db::sql::kConfirm, {id, bought.sid});
    if (r.ok) {
        app.metrics.Inc("nw_purchases_total", "outcome=\"bought\"");
        const auto row = ReadNumber(app, id);
        return row ? Created(*row) : Pending(app, id);
    }
    if (r.error.sqlstate != "NW004") {
        log::Warn("confirm_purchase failed after the provider bought; left to the reconciler",
                  {{"numberId", id}, {"sid", bought.sid}, {"sqlstate", r.error.sqlstate}});
        return Pending(app, id);
    }
    const auto row = ReadNumber(app, id);
    if (!row)
        return Pending(app, id);
    if (row->at(db::sql::kStatus) == std::optional<std::string>("failed")) {
        const db::Result held = app.pool->Exec(db::sql::kSidHeld, {bought.sid});
        if (held.ok && held.rows.empty()) {
            const auto deleted = app.provider->Release(bought.sid, std::nullopt);
            log::Warn("bought a number whose purchase had failed; deleted it at the provider",
                      {{"numberId", id}, {"sid", bought.sid}, {"deleted", deleted.IsOk()}});
        }
    }
    return AnswerForRow(app, *row);
}

// The buy's outcome is unknown: is that exact number ours, tagged with this row?
enum class Ownership { kOurs, kNotOurs, kCannotTell };

Ownership AskProvider(App &app, const std::string &id, const std::string &phone, twilio::Deadline deadline,
                      twilio::OwnedNumber *found)
{
    const auto owned = app.provider->FindOwned(phone, deadline);
    if (!owned.IsOk())
        return Ownership::kCannotTell;
    if (!owned.value())
        return Ownership::kNotOurs;
    if (owned.value()->friendlyName != id)
        return Ownership::kCannotTell;  // ours, but tagged for another row: a human must look
    *found = *owned.value();
    return Ownership::kOurs;
}

}  // namespace

http::Reply Purchase(App &app, const PurchaseRequest &req)
{
    const std::string price = app.config.number_monthly_price;
    // Safe to repeat (it carries the idempotency key): across a failover the
    // pool waits for the new primary and runs it again there.
    const db::Result reserved =
        app.pool->Exec(db::sql::kPurchase, {req.user_id, req.phone_number, price, app.config.number_price_currency,
                                            req.display_name, req.idempotency_key});
    // The 60 s a purchase may take run from its reservation (the row's
    // created_at, which the reconciler measures), not from a wait for a primary.
    const auto started = Clock::now();
    if (!reserved.ok) {
        http::Reply reply = http::FromDbError(reserved.error);
        if (reserved.error.sqlstate == "NW002") {
            app.metrics.Inc("nw_purchase_conflicts_total");
            // existingNumber only for the owner: others learn nothing about it.
            const db::Result held = app.pool->Exec(db::sql::kHeldNumberByPhone, {req.phone_number});
            if (held.ok && !held.rows.empty() && held.Text(0, db::sql::kUserId) == req.user_id)
                reply.body["existingNumber"] = http::NumberJson(held.rows[0]);
        }
        return reply;
    }
    const json result = json::parse(reserved.Text(0, 0));
    const std::string id = result.at("number_id").get<std::string>();
    // A replay that follows a lost answer may be this request's own
    // reservation, committed just before a failover: then nobody has called
    // the provider yet for it, and the saga carries on (after a look at the
    // provider, in case a twin request with the client's key got there first).
    bool resumed = false;
    if (result.at("replayed").get<bool>()) {
        const auto row = ReadNumber(app, id);
        if (!row)
            return Pending(app, id);
        if (!reserved.after_unknown || row->at(db::sql::kStatus) != std::optional<std::string>("pending") ||
            row->at(db::sql::kSid))
            return AnswerForRow(app, *row);
        log::Info("resuming a purchase whose reservation survived a failover", {{"numberId", id}});
        twilio::OwnedNumber found;
        const Ownership ownership = AskProvider(app, id, req.phone_number, started + std::chrono::seconds(10), &found);
        if (ownership == Ownership::kOurs)
            return Settle(app, id, twilio::Bought{found.sid, found.phoneNumber, found.friendlyName});
        if (ownership == Ownership::kCannotTell)
            return Pending(app, id);  // never buy blind: the reconciler settles it
        resumed = true;
    }

    // The paid call: no lock and no connection is held while it runs.
    const twilio::Deadline buy_deadline = started + std::chrono::seconds(40);
    const twilio::BuyOutcome outcome = app.provider->Buy(req.phone_number, id, buy_deadline);
    app.metrics.Inc("nw_provider_buys_total", "provider=\"" + std::string(app.provider->Name()) + "\"");

    if (const auto *bought = std::get_if<twilio::Bought>(&outcome))
        return Settle(app, id, *bought);
    if (const auto *refused = std::get_if<twilio::Refused>(&outcome)) {
        log::Warn("the provider refused a purchase", {{"numberId", id},
                                                      {"httpStatus", refused->httpStatus},
                                                      {"twilioCode", refused->twilioCode},
                                                      {"providerMessage", ForLog(app, refused->message)}});
        if (resumed) {
            // A twin of this request may have bought it for this very row meanwhile.
            twilio::OwnedNumber found;
            if (AskProvider(app, id, req.phone_number, started + std::chrono::seconds(58), &found) == Ownership::kOurs)
                return Settle(app, id, twilio::Bought{found.sid, found.phoneNumber, found.friendlyName});
        }
        return FailAndRefuse(app, id, ReasonFor(*refused));
    }
    if (const auto *limited = std::get_if<twilio::RateLimited>(&outcome)) {
        log::Warn("the provider still rate-limited a purchase",
                  {{"numberId", id}, {"providerMessage", ForLog(app, limited->message)}});
        return FailAndRefuse(app, id, "UNAVAILABLE (Twilio 429)");
    }

    // Unknown: a timeout, a reset, a 5xx or an unreadable 2xx. Look, never re-buy.
    const auto &unknown = std::get<twilio::Unknown>(outcome);
    log::Warn("purchase outcome unknown; asking the provider",
              {{"numberId", id}, {"reason", ForLog(app, unknown.reason)}});
    const twilio::Deadline lookup_deadline = started + std::chrono::seconds(58);
    twilio::OwnedNumber found;
    Ownership ownership = AskProvider(app, id, req.phone_number, lookup_deadline, &found);
    if (ownership == Ownership::kNotOurs) {
        // A second look a few seconds later: the buy may still be landing.
        if (Clock::now() + std::chrono::seconds(8) < started + std::chrono::seconds(58)) {
            std::this_thread::sleep_for(std::chrono::seconds(3));
            ownership = AskProvider(app, id, req.phone_number, lookup_deadline, &found);
        } else {
            ownership = Ownership::kCannotTell;
        }
    }
    if (ownership == Ownership::kOurs)
        return Settle(app, id, twilio::Bought{found.sid, found.phoneNumber, found.friendlyName});
    if (ownership == Ownership::kNotOurs)
        return FailAndRefuse(app, id, "PROVIDER_ERROR (not bought)");
    return Pending(app, id);
}

}  // namespace nw::saga
