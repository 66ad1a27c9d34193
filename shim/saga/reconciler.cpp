// The reconciler (docs/http-api.md): one pass at a time, by a session advisory lock
// held on its own connection (it holds no row lock and never buys).
//  1. settles pending purchases older than RECONCILE_PENDING_AFTER_SECONDS by
//     asking the provider;
//  2. runs renew_due_numbers;
//  3. finishes provider deletions of released numbers;
//  4. sweeps the provider's inventory: deletes numbers tagged with a failed or
//     released row (unless a held row carries the sid) and records every other
//     disagreement as a discrepancy (a number missing at the provider only for
//     a row that was active before the listing began). A number whose
//     FriendlyName is not one of our ids is ours when a row carries its sid and
//     phone number (the numbers import_seed adopted keep the seed's name).
#include <map>
#include <optional>

#include "db/statements.hpp"
#include "saga/sagas.hpp"
#include "util/log.hpp"
#include "core/validation.hpp"

namespace nw::saga {
namespace {

using db::sql::NumberColumn;

void SettlePending(App &app, ReconcileReport *report)
{
    const db::Result stale =
        app.pool->Exec(db::sql::kStalePending,
                       {std::string(app.provider->Name()), std::to_string(app.config.reconcile_pending_after_seconds)});
    if (!stale.ok) {
        report->still_pending = 1;
        return;
    }
    for (const auto &row : stale.rows) {
        const std::string id = row[NumberColumn::kId].value_or("");
        const std::string phone = row[NumberColumn::kPhone].value_or("");
        const auto owned = app.provider->FindOwned(phone, std::nullopt);
        if (!owned.IsOk()) {
            ++report->still_pending;
            continue;
        }
        if (owned.value() && owned.value()->friendlyName == id) {
            const db::Result r = app.pool->Exec(db::sql::kConfirm, {id, owned.value()->sid});
            r.ok ? ++report->confirmed : ++report->still_pending;
        } else if (!owned.value()) {
            const db::Result r =
                app.pool->Exec(db::sql::kFail, {id, std::string("PROVIDER_ERROR (not bought): the provider does not "
                                                                "have this number; the reservation was returned")});
            r.ok ? ++report->failed : ++report->still_pending;
        } else {
            // Ours, but tagged for another row: a human decides.
            app.pool->Exec(
                db::sql::kRecordDiscrepancy,
                {std::string("unknown_at_provider"), phone, owned.value()->sid, id,
                 std::string("pending purchase; the provider's number is tagged ") + owned.value()->friendlyName});
            ++report->still_pending;
            ++report->discrepancies;
        }
    }
}

void RunRenewals(App &app, ReconcileReport *report)
{
    const db::Result r = app.pool->Exec(db::sql::kRenew, {std::string("1000")});
    if (!r.ok)
        return;
    const nlohmann::json j = nlohmann::json::parse(r.Text(0, 0));
    report->renewed = j.value("renewed", 0);
    report->unpaid = j.value("unpaid", 0);
    report->released_unpaid = j.value("released", 0);
}

void FinishDeletions(App &app, ReconcileReport *report)
{
    const db::Result awaiting = app.pool->Exec(db::sql::kAwaitingDeletion, {std::string(app.provider->Name())});
    if (!awaiting.ok) {
        report->deletions_left = 1;
        return;
    }
    for (const auto &row : awaiting.rows) {
        const bool done = row[NumberColumn::kSid] &&
                          FinishProviderDeletion(app, row[NumberColumn::kId].value_or(""), *row[NumberColumn::kSid],
                                                 row[NumberColumn::kPhone].value_or(""));
        done ? ++report->deleted : ++report->deletions_left;
    }
}

// The active rows of this provider, by id, with their sid. nullopt when the
// read failed.
std::optional<std::map<std::string, std::string>> ActiveRows(App &app)
{
    const db::Result active = app.pool->Exec(db::sql::kActiveOfProvider, {std::string(app.provider->Name())});
    if (!active.ok)
        return std::nullopt;
    std::map<std::string, std::string> rows;
    for (const auto &row : active.rows)
        rows[row[NumberColumn::kId].value_or("")] = row[NumberColumn::kSid].value_or("");
    return rows;
}

void Sweep(App &app, ReconcileReport *report)
{
    // Only a row that was already active before the listing began can be
    // judged missing from it: a number bought while the sweep pages through
    // the provider may be on no page it read. So read the active rows first;
    // a row must still be active, with the same sid, once the listing is done.
    const auto active_before = ActiveRows(app);
    if (!active_before) {
        log::Warn("inventory sweep skipped: the active rows could not be read");
        return;
    }
    const auto inventory = app.provider->ListOwned(std::nullopt);
    if (!inventory.IsOk()) {
        log::Warn("inventory sweep skipped", {{"error", inventory.error().message}});
        return;
    }
    report->swept = true;
    std::map<std::string, bool> owned_sids;
    for (const auto &number : inventory.value()) {
        owned_sids[number.sid] = true;
        const bool tagged = IsUuid(number.friendlyName);
        db::Result row = tagged ? app.pool->Exec(db::sql::kNumberById, {number.friendlyName}) : db::Result{};
        if (tagged && !row.ok)
            continue;
        if (!tagged || row.rows.empty()) {
            // Not tagged with one of our ids: still ours when a row carries its
            // sid and phone number, as a number adopted from a seed deployment
            // (import_seed) does under the seed's FriendlyName. Judged like a
            // tagged one below; its FriendlyName is left as it is.
            row = app.pool->Exec(db::sql::kNumberBySid, {number.sid});
            if (!row.ok)
                continue;
            if (row.rows.empty() || row.Text(0, NumberColumn::kPhone) != number.phoneNumber) {
                app.pool->Exec(db::sql::kRecordDiscrepancy,
                               {std::string("unknown_at_provider"), number.phoneNumber, number.sid, db::Value(),
                                std::string("the provider has a number no row of ours accounts for")});
                ++report->discrepancies;
                continue;
            }
        }
        const std::string status = row.Text(0, NumberColumn::kStatus);
        if (row.Text(0, NumberColumn::kProvider) != app.provider->Name())
            continue;
        if (status == "failed" || (status == "released" && row.Text(0, NumberColumn::kProviderReleased) == "t")) {
            // A buy that landed after we gave up, or a deletion that did not stick.
            const db::Result held = app.pool->Exec(db::sql::kSidHeld, {number.sid});
            if (held.ok && held.rows.empty() && app.provider->Release(number.sid, std::nullopt).IsOk())
                ++report->swept_deleted;
        } else if ((status == "active" || status == "released") && row.Text(0, NumberColumn::kSid) != number.sid) {
            app.pool->Exec(db::sql::kRecordDiscrepancy,
                           {std::string("unknown_at_provider"), number.phoneNumber, number.sid, number.friendlyName,
                            std::string("the provider's number is tagged with a row that records another sid")});
            ++report->discrepancies;
        }
    }
    const db::Result active = app.pool->Exec(db::sql::kActiveOfProvider, {std::string(app.provider->Name())});
    if (!active.ok)
        return;
    for (const auto &row : active.rows) {
        const std::string id = row[NumberColumn::kId].value_or("");
        const std::string sid = row[NumberColumn::kSid].value_or("");
        if (owned_sids.count(sid))
            continue;
        const auto before = active_before->find(id);
        if (before == active_before->end() || before->second != sid)
            continue;  // became active during the listing: the next sweep judges it
        app.pool->Exec(db::sql::kRecordDiscrepancy,
                       {std::string("missing_at_provider"), row[NumberColumn::kPhone], row[NumberColumn::kSid],
                        row[NumberColumn::kId],
                        std::string("an active number the provider no longer has; renewals stop")});
        ++report->discrepancies;
    }
}

}  // namespace

ReconcileReport Reconcile(App &app, bool wait_for_lock, bool sweep)
{
    ReconcileReport report;
    db::Connection lock_connection(app.pool->conninfo(), app.pool->provider());
    const db::Result lock =
        lock_connection.Exec(wait_for_lock ? db::sql::kAdvisoryLock : db::sql::kAdvisoryTryLock, {});
    if (!lock.ok || (!wait_for_lock && lock.Text(0, 0) != "t"))
        return report;
    report.ran = true;
    SettlePending(app, &report);
    RunRenewals(app, &report);
    FinishDeletions(app, &report);
    if (sweep)
        Sweep(app, &report);
    lock_connection.Exec(db::sql::kAdvisoryUnlock, {});
    app.metrics.Inc("nw_reconcile_passes_total", report.Clean() ? "result=\"clean\"" : "result=\"left_work\"");
    log::Info("reconcile pass", {{"confirmed", report.confirmed},
                                 {"failed", report.failed},
                                 {"stillPending", report.still_pending},
                                 {"deleted", report.deleted},
                                 {"deletionsLeft", report.deletions_left},
                                 {"renewed", report.renewed},
                                 {"unpaid", report.unpaid},
                                 {"releasedUnpaid", report.released_unpaid},
                                 {"sweptDeleted", report.swept_deleted},
                                 {"discrepancies", report.discrepancies},
                                 {"swept", report.swept}});
    return report;
}

}  // namespace nw::saga
