// The extension's settings (GUCs, docs/sql-api.md "Settings"): each default is
// named once here and used both for the C variable and as the boot value.
#pragma once

namespace nw {

constexpr int kDefaultRefundWindowDays = 30;
constexpr int kDefaultMaxPurchasesPerHour = 10;
constexpr int kDefaultRenewalGraceDays = 7;
constexpr int kDefaultPendingAlertSeconds = 300;

// Which provider a reservation made in this session is recorded against.
enum class Provider : int { kTwilio = 0, kSimulator = 1 };

extern int refund_window_days;
extern int max_purchases_per_hour;
extern int renewal_grace_days;
extern int pending_alert_seconds;
extern int provider_setting;  // a Provider; int because the GUC machinery writes it
// number_wallet.actor and number_wallet.request_id: who an audited action is
// recorded for, and the request it came with (audit.hpp says when they count).
extern char *audit_actor_setting;
extern char *audit_request_id_setting;

// "twilio" or "simulator": the value stored in business_numbers.provider.
const char *ProviderName(void);

// Registers every number_wallet.* setting and reserves the prefix (from _PG_init).
void DefineSettings(void);

}  // namespace nw
