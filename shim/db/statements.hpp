// Every statement the shim sends: constant SQL, prepared once per connection.
// Money and ownership change only through the extension's functions, and the
// shim reads only the extension's api_* views and _setting()
// (sql/number_wallet.sql), never its tables, so the regression suite covers
// every column read here.
//
// The last field says whether a statement may run twice (db/pool.hpp
// Repeat). Repeat::kSafe: reads; confirm, fail, release, mark, renew and
// record_discrepancy, which the SQL contract replays; and purchase_number and
// wallet_credit, which always carry an idempotency key (the client's, else one
// the shim generates). After a failover these run again on the new primary
// instead of failing. Repeat::kUnsafe: the advisory-lock statements
// (session-level locks stack: a second pg_advisory_lock needs two unlocks);
// they run on the reconciler's own connection, never retried.
#pragma once

#include "db/pool.hpp"

namespace nw::db::sql {

#define NW_NUMBER_COLUMNS                                                                                              \
    "n.id::text, n.phone_number, n.display_name, n.status, n.twilio_sid, n.monthly_cost, n.currency,"                  \
    " n.purchase_date, n.paid_until, n.user_id::text, n.provider, n.failure_reason, n.provider_released"

// Column positions of NW_NUMBER_COLUMNS.
enum NumberColumn {
    kId,
    kPhone,
    kDisplayName,
    kStatus,
    kSid,
    kMonthlyCost,
    kCurrency,
    kPurchaseDate,
    kPaidUntil,
    kUserId,
    kProvider,
    kFailureReason,
    kProviderReleased
};

inline const Statement kPurchase = {
    "purchase", "SELECT number_wallet.purchase_number($1::uuid, $2, $3::numeric, $4, $5, $6)::text", Repeat::kSafe};
inline const Statement kConfirm = {"confirm", "SELECT number_wallet.confirm_purchase($1::uuid, $2)::text",
                                   Repeat::kSafe};
inline const Statement kFail = {"fail", "SELECT number_wallet.fail_purchase($1::uuid, $2)::text", Repeat::kSafe};
inline const Statement kRelease = {"release", "SELECT number_wallet.release_number($1::uuid, $2::uuid)::text",
                                   Repeat::kSafe};
inline const Statement kMarkReleased = {"mark_released", "SELECT number_wallet.mark_provider_released($1::uuid)::text",
                                        Repeat::kSafe};
inline const Statement kCredit = {
    "credit", "SELECT number_wallet.wallet_credit($1::uuid, $2::numeric, $3, 'Top-up', $4)::text", Repeat::kSafe};
inline const Statement kRenew = {"renew", "SELECT number_wallet.renew_due_numbers($1::int)::text", Repeat::kSafe};
inline const Statement kRecordDiscrepancy = {
    "record_discrepancy", "SELECT number_wallet.record_discrepancy($1, $2, $3, $4::uuid, $5)", Repeat::kSafe};

inline const Statement kNumberById = {
    "number_by_id", "SELECT " NW_NUMBER_COLUMNS " FROM number_wallet.api_numbers n WHERE n.id = $1::uuid",
    Repeat::kSafe};
inline const Statement kHeldNumberByPhone = {"held_by_phone",
                                             "SELECT " NW_NUMBER_COLUMNS
                                             " FROM number_wallet.api_numbers n WHERE n.phone_number = $1"
                                             " AND n.held",
                                             Repeat::kSafe};
inline const Statement kNumberByKey = {"number_by_key",
                                       "SELECT " NW_NUMBER_COLUMNS " FROM number_wallet.api_numbers n"
                                       " WHERE n.user_id = $1::uuid AND n.idempotency_key = $2",
                                       Repeat::kSafe};
// The row that carries this sid (twilio_sid is unique): how the sweep knows a
// number whose FriendlyName is not one of our ids, such as one import_seed adopted.
inline const Statement kNumberBySid = {
    "number_by_sid", "SELECT " NW_NUMBER_COLUMNS " FROM number_wallet.api_numbers n WHERE n.twilio_sid = $1",
    Repeat::kSafe};
// A held row that carries this sid (then the number must not be deleted at the provider).
inline const Statement kSidHeld = {"sid_held",
                                   "SELECT 1 FROM number_wallet.api_numbers n WHERE n.twilio_sid = $1"
                                   " AND n.held",
                                   Repeat::kSafe};
// Own numbers, newest first, keyset-paginated by (created_at, id) of `before`;
// ORDER BY names the table's columns (n.created_at, n.id), not the text output.
// Every statement is prepared and may run with a generic plan, so the cursor is
// always a bound, never `$3 IS NULL OR ...` (which only a custom plan drops):
// the first page's bound is ('infinity', the greatest uuid), a `before` that is
// not the caller's number gives no bound row, hence NULL and no rows. The
// cursor row is found by its id alone (OFFSET 0 keeps the owner check out of
// that scan, else the planner may walk the owner's whole index range). With the
// index business_numbers_user_created (user_id, created_at, id) a page is a
// backward index range that stops at its LIMIT.
inline const Statement kListNumbers = {
    "list_numbers",
    "SELECT " NW_NUMBER_COLUMNS " FROM number_wallet.api_numbers n"
    " WHERE n.user_id = $1::uuid AND ($2::bool OR n.status IN ('pending', 'active'))"
    "   AND (n.created_at, n.id) < (SELECT b.created_at, b.id"
    "                                 FROM (SELECT c.created_at, c.id, c.user_id FROM number_wallet.api_numbers c"
    "                                        WHERE c.id = $3::uuid OFFSET 0) b"
    "                                WHERE b.user_id = $1::uuid"
    "                               UNION ALL"
    "                               SELECT 'infinity'::timestamptz, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid"
    "                                WHERE $3::uuid IS NULL)"
    " ORDER BY n.created_at DESC, n.id DESC LIMIT $4::int",
    Repeat::kSafe};
inline const Statement kWallet = {
    "wallet", "SELECT balance_usd, balance_inr FROM number_wallet.api_wallets WHERE user_id = $1::uuid", Repeat::kSafe};
// Own ledger entries, newest first, keyset-paginated by id. ORDER BY names the
// view's bigint column (t.id): a bare `id` would be the output column
// id::text, sorting "9" above "89" and "99" above "100". The cursor is always a
// bound (the first page's is the greatest bigint), so that under a generic plan
// too a page is a range of transactions_user (user_id, id), not a filter.
inline const Statement kTransactions = {
    "transactions",
    "SELECT t.id::text, t.type, t.kind, t.amount, t.currency, t.balance_after, t.description,"
    "       t.number_id::text, t.created_at"
    "  FROM number_wallet.api_transactions t"
    " WHERE t.user_id = $1::uuid AND t.id < coalesce($2::bigint, 9223372036854775807)"
    " ORDER BY t.id DESC LIMIT $3::int",
    Repeat::kSafe};

// The reconciler's reads, always of this provider's rows only.
inline const Statement kStalePending = {
    "stale_pending",
    "SELECT " NW_NUMBER_COLUMNS " FROM number_wallet.api_numbers n"
    " WHERE n.status = 'pending' AND n.provider = $1"
    "   AND n.created_at < statement_timestamp() - make_interval(secs => $2::int) ORDER BY n.created_at",
    Repeat::kSafe};
inline const Statement kAwaitingDeletion = {
    "awaiting_deletion",
    "SELECT " NW_NUMBER_COLUMNS " FROM number_wallet.api_numbers n"
    " WHERE n.status = 'released' AND NOT n.provider_released AND n.provider = $1"
    " ORDER BY n.released_at",
    Repeat::kSafe};
inline const Statement kActiveOfProvider = {
    "active_of_provider",
    "SELECT " NW_NUMBER_COLUMNS " FROM number_wallet.api_numbers n WHERE n.status = 'active' AND n.provider = $1",
    Repeat::kSafe};
inline const Statement kAdvisoryLock = {"reconcile_lock", "SELECT pg_advisory_lock(1314332721)", Repeat::kUnsafe};
inline const Statement kAdvisoryTryLock = {"reconcile_try_lock", "SELECT pg_try_advisory_lock(1314332721)",
                                           Repeat::kUnsafe};
inline const Statement kAdvisoryUnlock = {"reconcile_unlock", "SELECT pg_advisory_unlock(1314332721)", Repeat::kUnsafe};

inline const Statement kInterventions = {"interventions",
                                         "SELECT coalesce(jsonb_agg(to_jsonb(v) ORDER BY v.since), '[]')::text FROM "
                                         "number_wallet.numbers_needing_intervention v",
                                         Repeat::kSafe};
inline const Statement kSummary = {
    "summary",
    "SELECT jsonb_build_object("
    "  'purchases', (SELECT to_jsonb(p) || jsonb_build_object('success_rate', p.success_rate::text)"
    "                  FROM number_wallet.purchase_success_rate p),"
    "  'daily', (SELECT coalesce(jsonb_agg(to_jsonb(d) || jsonb_build_object('total', d.total::text)"
    "                                      ORDER BY d.date DESC, d.kind), '[]')"
    "              FROM number_wallet.daily_transaction_summary d WHERE d.date >= current_date - 30),"
    "  'balances', (SELECT jsonb_build_object('usd', coalesce(sum(balance_usd::numeric), 0)::text,"
    "                                         'inr', coalesce(sum(balance_inr::numeric), 0)::text) FROM "
    "number_wallet.api_wallets),"
    "  'numbers', (SELECT coalesce(jsonb_object_agg(status, c), '{}') FROM"
    "              (SELECT status, count(*) c FROM number_wallet.api_numbers GROUP BY status) s))::text",
    Repeat::kSafe};

// /metrics: the database-derived series in one call (metrics/snapshot.cpp).
inline const Statement kMetricsSnapshot = {
    "metrics_snapshot",
    "SELECT metric, coalesce(key, ''), coalesce(currency, ''), value::text FROM number_wallet.metrics_snapshot()",
    Repeat::kSafe};
// The web pages' GET /api/config: when an unpaid renewal's number is released.
// _setting() loads the library first, so the default is the library's own.
inline const Statement kRenewalGraceDays = {
    "renewal_grace_days", "SELECT number_wallet._setting('number_wallet.renewal_grace_days')", Repeat::kSafe};
// GET /api/numbers/{id}/refund-quote (after the shim checked the owner).
inline const Statement kRefundQuote = {"refund_quote", "SELECT number_wallet.refund_quote($1::uuid)::text",
                                       Repeat::kSafe};

}  // namespace nw::db::sql
