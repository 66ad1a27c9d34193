// The release saga: release_number (state and refund, atomically) -> delete at
// the provider with retries -> mark_provider_released. What fails here is
// finished by the reconciler; the answer says whether the provider let go.
#include "db/statements.hpp"
#include "saga/sagas.hpp"
#include "util/log.hpp"

namespace nw::saga {

bool FinishProviderDeletion(App &app, const std::string &number_id, const std::string &sid,
                            const std::string &phone_number)
{
    const auto released = app.provider->Release(sid, std::nullopt);
    if (!released.IsOk()) {
        log::Warn("provider deletion failed; will retry",
                  {{"numberId", number_id}, {"sid", sid}, {"error", released.error().message}});
        return false;
    }
    if (released.value() == twilio::ReleaseOutcome::NotFound) {
        // A 404 is believed only when a look-up agrees the number is not ours.
        const auto owned = app.provider->FindOwned(phone_number, std::nullopt);
        if (!owned.IsOk() || (owned.value() && owned.value()->sid == sid))
            return false;
    }
    const db::Result marked = app.pool->Exec(db::sql::kMarkReleased, {number_id});
    app.metrics.Inc("nw_provider_deletions_total", marked.ok ? "result=\"done\"" : "result=\"unrecorded\"");
    return marked.ok;
}

http::Reply Release(App &app, const std::string &user_id, const std::string &number_id)
{
    // A shim never acts on another provider's rows.
    const db::Result before = app.pool->Exec(db::sql::kNumberById, {number_id});
    if (!before.ok)
        return http::FromDbError(before.error);
    if (before.rows.empty() || before.Text(0, db::sql::kUserId) != user_id)
        return http::Error(404, "NOT_FOUND", "number not found");
    if (before.Text(0, db::sql::kProvider) != app.provider->Name())
        return http::Error(409, "INVALID_STATE", "this number is managed by another provider mode");

    const db::Result r = app.pool->Exec(db::sql::kRelease, {user_id, number_id});
    if (!r.ok)
        return http::FromDbError(r.error);
    const nlohmann::json result = nlohmann::json::parse(r.Text(0, 0));
    const auto &refund = result.at("refund");

    bool provider_released = false;
    const db::Result now = app.pool->Exec(db::sql::kNumberById, {number_id});
    if (now.ok && !now.rows.empty()) {
        provider_released = now.Text(0, db::sql::kProviderReleased) == "t";
        if (!provider_released && now.At(0, db::sql::kSid))
            provider_released =
                FinishProviderDeletion(app, number_id, now.Text(0, db::sql::kSid), now.Text(0, db::sql::kPhone));
    }
    http::Reply reply;
    reply.body = {
        {"success", true},
        {"message", "Phone number released successfully"},
        {"refund",
         {{"issued", refund.at("issued")}, {"amount", refund.at("amount")}, {"currency", refund.at("currency")}}},
        {"providerReleased", provider_released},
        {"replayed", result.at("replayed")}};
    return reply;
}

}  // namespace nw::saga
