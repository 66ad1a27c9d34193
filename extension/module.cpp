// The number_wallet module: PG_MODULE_MAGIC and the GUCs of docs/sql-api.md.
#include "caller.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

namespace nw {

int refund_window_days = 30;
int max_purchases_per_hour = 10;
int renewal_grace_days = 7;
int pending_alert_seconds = 300;
int provider_setting = 0;

static const struct config_enum_entry kProviderOptions[] = {
    {"twilio", 0, false},
    {"simulator", 1, false},
    {nullptr, 0, false},
};

const char *ProviderName(void)
{
    return provider_setting == 1 ? "simulator" : "twilio";
}

}  // namespace nw

void _PG_init(void)
{
    using namespace nw;
    DefineCustomIntVariable("number_wallet.refund_window_days",
                            gettext_noop("Days after purchase within which a release is refunded."),
                            gettext_noop("Snapshotted on each number when its purchase is confirmed."),
                            &refund_window_days, 30, 0, 3650, PGC_SUSET, GUC_SUPERUSER_ONLY, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("number_wallet.max_purchases_per_hour",
                            gettext_noop("Number rows one user may create in any rolling hour (0 = unlimited)."),
                            nullptr, &max_purchases_per_hour, 10, 0, 1000000, PGC_SUSET, GUC_SUPERUSER_ONLY, nullptr,
                            nullptr, nullptr);
    DefineCustomIntVariable("number_wallet.renewal_grace_days",
                            gettext_noop("Days an unpaid renewal waits before the number is released."), nullptr,
                            &renewal_grace_days, 7, 0, 365, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("number_wallet.pending_alert_seconds",
                            gettext_noop("Age after which a pending purchase needs intervention."), nullptr,
                            &pending_alert_seconds, 300, 1, 86400 * 30, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomEnumVariable("number_wallet.provider",
                             gettext_noop("Provider recorded on numbers reserved in this session."),
                             gettext_noop("\"twilio\" for live Twilio, \"simulator\" for testing mode."),
                             &provider_setting, 0, kProviderOptions, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("number_wallet");
}
