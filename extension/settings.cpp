// The number_wallet.* GUCs of docs/sql-api.md "Settings".
#include "settings.hpp"

#include "pg.hpp"

namespace nw {

int refund_window_days = kDefaultRefundWindowDays;
int max_purchases_per_hour = kDefaultMaxPurchasesPerHour;
int renewal_grace_days = kDefaultRenewalGraceDays;
int pending_alert_seconds = kDefaultPendingAlertSeconds;
int provider_setting = static_cast<int>(Provider::kTwilio);

static const struct config_enum_entry kProviderOptions[] = {
    {"twilio", static_cast<int>(Provider::kTwilio), false},
    {"simulator", static_cast<int>(Provider::kSimulator), false},
    {nullptr, 0, false},
};

const char *ProviderName(void)
{
    return static_cast<Provider>(provider_setting) == Provider::kSimulator ? "simulator" : "twilio";
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
    MarkGUCPrefixReserved("number_wallet");
}

}  // namespace nw
