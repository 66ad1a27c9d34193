// The number_wallet.* GUCs of docs/sql-api.md "Settings".
#include "settings.hpp"

#include "caller.hpp"
#include "pg.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/guc_tables.h"
}

#include "core/validation.hpp"

namespace nw {

int refund_window_days = kDefaultRefundWindowDays;
int max_purchases_per_hour = kDefaultMaxPurchasesPerHour;
int renewal_grace_days = kDefaultRenewalGraceDays;
int pending_alert_seconds = kDefaultPendingAlertSeconds;
int provider_setting = static_cast<int>(Provider::kTwilio);
char *audit_actor_setting = nullptr;
char *audit_request_id_setting = nullptr;

static const struct config_enum_entry kProviderOptions[] = {
    {"twilio", static_cast<int>(Provider::kTwilio), false},
    {"simulator", static_cast<int>(Provider::kSimulator), false},
    {nullptr, 0, false},
};

const char *ProviderName(void)
{
    return static_cast<Provider>(provider_setting) == Provider::kSimulator ? "simulator" : "twilio";
}

// The audit settings are set by the service role (the shim, for one call, with
// SET LOCAL); anyone else is refused at SET time, so an end user cannot make
// an action look like someone else's. audit.cpp honours a value only if a
// service role set it in this session (it also looks at who set it, which
// covers a value set before the library was loaded).
static bool RefusedToSet(const char *name, GucSource source)
{
    if (source < PGC_S_INTERACTIVE || !IsTransactionState() || RoleIsService(GetUserId()))
        return false;
    GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
    GUC_check_errmsg("permission denied to set parameter \"%s\"", name);
    GUC_check_errdetail("Only the service role (number_wallet_service) sets who an audited action is recorded for.");
    return true;
}

static bool CheckActor(char **newval, void **, GucSource source)
{
    if (*newval == nullptr || (*newval)[0] == '\0')
        return true;
    bool ok = false;
    const char *value = *newval;
    Outcome outcome = RunGuarded("actor", [&](Outcome *) { ok = IsAuditActor(value); });
    if (!outcome.ok || !ok) {
        GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
        GUC_check_errdetail("An actor is 1 to %d characters of valid text without control characters.",
                            static_cast<int>(kMaxActorChars));
        return false;
    }
    return !RefusedToSet("number_wallet.actor", source);
}

static bool CheckRequestId(char **newval, void **, GucSource source)
{
    if (*newval == nullptr || (*newval)[0] == '\0')
        return true;
    bool ok = false;
    const char *value = *newval;
    Outcome outcome = RunGuarded("request id", [&](Outcome *) { ok = IsRequestId(value); });
    if (!outcome.ok || !ok) {
        GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
        GUC_check_errdetail("A request id is 1 to %d characters of letters, digits, \".\", \"_\", \":\" or \"-\".",
                            static_cast<int>(kMaxRequestIdChars));
        return false;
    }
    return !RefusedToSet("number_wallet.request_id", source);
}

void DefineSettings(void)
{
    DefineCustomIntVariable(
        "number_wallet.refund_window_days", gettext_noop("Days after purchase within which a release is refunded."),
        gettext_noop("Snapshotted on each number when its purchase is confirmed."), &refund_window_days,
        kDefaultRefundWindowDays, 0, 3650, PGC_SUSET, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("number_wallet.max_purchases_per_hour",
                            gettext_noop("Number rows one user may create in any rolling hour (0 = unlimited)."),
                            nullptr, &max_purchases_per_hour, kDefaultMaxPurchasesPerHour, 0, 1000000, PGC_SUSET,
                            GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "number_wallet.renewal_grace_days", gettext_noop("Days an unpaid renewal waits before the number is released."),
        nullptr, &renewal_grace_days, kDefaultRenewalGraceDays, 0, 365, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("number_wallet.pending_alert_seconds",
                            gettext_noop("Age after which a pending purchase needs intervention."), nullptr,
                            &pending_alert_seconds, kDefaultPendingAlertSeconds, 1, 86400 * 30, PGC_USERSET, 0, nullptr,
                            nullptr, nullptr);
    DefineCustomEnumVariable(
        "number_wallet.provider", gettext_noop("Provider recorded on numbers reserved in this session."),
        gettext_noop("\"twilio\" for live Twilio, \"simulator\" for testing mode."), &provider_setting,
        static_cast<int>(Provider::kTwilio), kProviderOptions, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable(
        "number_wallet.actor", gettext_noop("Who the operator actions of this transaction are recorded for."),
        gettext_noop("Set by the service role with SET LOCAL; empty means session_user."), &audit_actor_setting, "",
        PGC_USERSET, GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, CheckActor, nullptr, nullptr);
    DefineCustomStringVariable(
        "number_wallet.request_id", gettext_noop("The request id the operator actions of this transaction record."),
        gettext_noop("Set by the service role with SET LOCAL; empty means none."), &audit_request_id_setting, "",
        PGC_USERSET, GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE, CheckRequestId, nullptr, nullptr);
    MarkGUCPrefixReserved("number_wallet");
}

}  // namespace nw
