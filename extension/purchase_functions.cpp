// purchase_number, confirm_purchase and fail_purchase: the reserve-then-settle
// half of the purchase saga (docs/architecture.md). The shim calls Twilio between
// purchase_number and confirm/fail, with no lock or connection held.
#include "caller.hpp"
#include "ledger.hpp"
#include "numbers.hpp"
#include "settings.hpp"
#include "settle.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "utils/lsyscache.h"
}

#include "core/rate_limit_detail.hpp"
#include "core/validation.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(nw_purchase_number);
PG_FUNCTION_INFO_V1(nw_confirm_purchase);
PG_FUNCTION_INFO_V1(nw_fail_purchase);
}

namespace nw {

// The held-number predicate, defined by the partial unique index
// business_numbers_held_phone_number in sql/number_wallet.sql and repeated here
// word for word so that ON CONFLICT infers that index (its WHERE must imply the
// index's predicate). A change there is a change here and to api_numbers.held.
#define HELD_PREDICATE "(status IN ('pending', 'active') OR (status = 'released' AND provider_released_at IS NULL))"

// The whole reservation in one statement, for the usual case. It locks the
// wallet, and if the locked row version is the one this statement's snapshot
// reads (fresh: same ctid), the snapshot already holds every earlier purchase
// of the user (each one updates the wallet), so the idempotency and rate-limit
// checks below are exact and the number row, the debit and its ledger row are
// written at once. If the lock had to wait for a transaction that updated the
// wallet and committed after the snapshot, FOR UPDATE returns that newer
// version (another ctid), nothing is written (fresh = false) and the caller
// runs the statement once more, holding the lock, with a snapshot that sees it.
// Freshness is decided by comparing the two row versions, never by xid
// arithmetic on the row's xmin: the xmin system column is the raw xmin, which
// freezing keeps, so a wallet untouched for 2^31 transactions would look "in
// progress" to any snapshot and never fresh. An updated row never keeps its
// ctid while the older version is still visible to someone (our snapshot).
// The rate limit costs nothing until it bites: the wallet row (locked anyway)
// counts the user's reservations in the current clock hour ($10, UTC) and the
// one before. Those two buckets cover the whole rolling hour, so while their
// sum (`recent`) is below the limit the hour certainly is, and the exact count
// over the user's rows (e) runs only when `recent` reaches the limit. A bucket
// later than ours (another transaction started after us, past the hour) is
// summed whole: the counters may overcount, which only runs the exact count,
// never undercount.
// ON CONFLICT on the held-number index: a concurrent reservation of the same
// number (by another user, whose wallet lock we do not share) waits for that
// transaction and then yields no row, which is NW002, never 23505.
#define RESERVE_HEAD(WALLET_COUNTERS, RECENT)                                                                          \
    "WITH w AS ("                                                                                                      \
    "  SELECT id, user_id, ctid AS locked,"                                                                            \
    "         CASE WHEN $5 = 'USD' THEN balance_usd ELSE balance_inr END AS balance" WALLET_COUNTERS                   \
    "    FROM number_wallet.wallets WHERE user_id = $1 FOR UPDATE),"                                                   \
    " f AS (SELECT w.id, w.user_id, w.balance,"                                                                        \
    "              w.locked IS NOT DISTINCT FROM (SELECT s.ctid FROM number_wallet.wallets s WHERE s.user_id = $1)"    \
    "                AS fresh," RECENT " AS recent"                                                                    \
    "         FROM w),"
#define RESERVE_CHECKS                                                                                                 \
    " k AS ("                                                                                                          \
    "  SELECT n.id, n.phone_number = $2 AND n.currency = $5 AS same, n.status, n.phone_number, n.currency,"            \
    "         t.id AS tid, t.amount, t.balance_after"                                                                  \
    "    FROM number_wallet.business_numbers n"                                                                        \
    "    JOIN number_wallet.transactions t ON t.number_id = n.id AND t.kind = 'purchase'"                              \
    "   WHERE n.user_id = $1 AND n.idempotency_key = $7),"                                                             \
    " e AS ("                                                                                                          \
    "  SELECT r.created_at FROM number_wallet.business_numbers r"                                                      \
    "   WHERE $8 IS NOT NULL AND (SELECT f.recent FROM f) > $9"                                                        \
    "     AND r.user_id = $1 AND r.created_at > $8 ORDER BY r.created_at DESC OFFSET $9 LIMIT 1),"                     \
    " ok AS (SELECT f.id, f.user_id FROM f"                                                                            \
    "         WHERE f.fresh AND f.balance >= $4 AND NOT EXISTS (SELECT 1 FROM k) AND NOT EXISTS (SELECT 1 FROM e)),"
#define RESERVE_WRITES(COUNTERS_UPDATE)                                                                                \
    " n AS ("                                                                                                          \
    "  INSERT INTO number_wallet.business_numbers"                                                                     \
    "    (user_id, phone_number, display_name, monthly_cost, currency, provider, idempotency_key)"                     \
    "  SELECT $1, $2, $3, $4, $5, $6, $7 FROM ok"                                                                      \
    "  ON CONFLICT (phone_number) WHERE " HELD_PREDICATE " DO NOTHING RETURNING id),"                                  \
    " u AS ("                                                                                                          \
    "  UPDATE number_wallet.wallets"                                                                                   \
    "     SET balance_usd = balance_usd - CASE WHEN $5 = 'USD' THEN $4 ELSE 0 END,"                                    \
    "         balance_inr = balance_inr - CASE WHEN $5 = 'INR' THEN $4 ELSE 0 END,"                                    \
    "         updated_at = statement_timestamp()" COUNTERS_UPDATE                                                      \
    "   WHERE id = (SELECT id FROM ok) AND EXISTS (SELECT 1 FROM n)"                                                   \
    "   RETURNING id, user_id, CASE WHEN $5 = 'USD' THEN balance_usd ELSE balance_inr END AS balance),"                \
    " t AS ("                                                                                                          \
    "  INSERT INTO number_wallet.transactions"                                                                         \
    "    (wallet_id, user_id, type, kind, amount, currency, balance_after, description, number_id)"                    \
    "  SELECT u.id, u.user_id, 'DEBIT', 'purchase', $4, $5, u.balance, 'Phone number purchase: ' || $2, n.id"          \
    "    FROM u, n RETURNING id, balance_after)"
#define RESERVE_IN_ONE_SQL(WALLET_COUNTERS, RECENT, COUNTERS_UPDATE)                                                   \
    RESERVE_HEAD(WALLET_COUNTERS, RECENT)                                                                              \
    RESERVE_CHECKS                                                                                                     \
    RESERVE_WRITES(COUNTERS_UPDATE)                                                                                    \
    "SELECT f.id, f.fresh, f.balance, f.balance >= $4,"                                                                \
    "       k.id, k.same, k.status, k.phone_number, k.currency, k.tid, k.amount, k.balance_after,"                     \
    "       e.created_at, n.id, t.id, t.balance_after"                                                                 \
    "  FROM f LEFT JOIN k ON true LEFT JOIN e ON true LEFT JOIN n ON true LEFT JOIN t ON true"
#define RESERVE_ARGS                                                                                                   \
    10,                                                                                                                \
    {                                                                                                                  \
        UUIDOID, TEXTOID, TEXTOID, NUMERICOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT8OID, TIMESTAMPTZOID      \
    }

#define HOUR_COUNTERS ", purchases_hour, purchases_this_hour, purchases_last_hour"
#define HOUR_RECENT                                                                                                    \
    "CASE WHEN w.purchases_hour >= $10 THEN w.purchases_this_hour + w.purchases_last_hour"                             \
    "     WHEN w.purchases_hour = $10 - interval '1 hour' THEN w.purchases_this_hour ELSE 0 END"
#define HOUR_COUNTERS_UPDATE                                                                                           \
    ", purchases_last_hour = CASE WHEN purchases_hour >= $10 THEN purchases_last_hour"                                 \
    "                            WHEN purchases_hour = $10 - interval '1 hour'"                                        \
    "                            THEN purchases_this_hour ELSE 0 END,"                                                 \
    "  purchases_this_hour = CASE WHEN purchases_hour >= $10 THEN purchases_this_hour + 1 ELSE 1 END,"                 \
    "  purchases_hour = greatest(purchases_hour, $10)"

static Statement reserve_in_one = {RESERVE_IN_ONE_SQL(HOUR_COUNTERS, HOUR_RECENT, HOUR_COUNTERS_UPDATE), RESERVE_ARGS,
                                   nullptr};

// The usual purchase, without an idempotency key and with the hour counters
// below the limit, as a smaller statement (issue 15: 21 plan nodes to start
// and end on every call instead of 35): no idempotency look-up (k), no exact
// count (e). It writes only when it would certainly succeed: fresh, funds enough,
// the counters below the limit and the number free. Whenever it writes
// nothing, reserve_in_one runs next under the held wallet lock and decides
// which answer applies, in the documented order; the columns are those of
// reserve_in_one, k's and e's always null.
#define RESERVE_OK_PLAIN                                                                                               \
    " ok AS (SELECT f.id, f.user_id FROM f"                                                                            \
    "         WHERE f.fresh AND f.balance >= $4 AND ($8 IS NULL OR f.recent <= $9)),"
#define RESERVE_ANSWER_PLAIN                                                                                           \
    "SELECT f.id, f.fresh, f.balance, f.balance >= $4,"                                                                \
    "       NULL::uuid, NULL::boolean, NULL::text, NULL::text, NULL::text, NULL::bigint, NULL::numeric,"               \
    "       NULL::numeric, NULL::timestamptz, n.id, t.id, t.balance_after"                                             \
    "  FROM f LEFT JOIN n ON true LEFT JOIN t ON true"
#define RESERVE_PLAIN_SQL                                                                                              \
    RESERVE_HEAD(HOUR_COUNTERS, HOUR_RECENT)                                                                           \
    RESERVE_OK_PLAIN                                                                                                   \
    RESERVE_WRITES(HOUR_COUNTERS_UPDATE)                                                                               \
    RESERVE_ANSWER_PLAIN
static Statement reserve_plain = {RESERVE_PLAIN_SQL, RESERVE_ARGS, nullptr};

// The same for a database whose extension is not updated to 1.3 yet (the
// library is replaced first, then ALTER EXTENSION ... UPDATE runs): its wallets
// have no hour counters, so the exact count always runs, as before 1.3.
static Statement reserve_in_one_before_1_3 = {RESERVE_IN_ONE_SQL("", "2147483647", ""), RESERVE_ARGS, nullptr};

// Whether number_wallet.wallets has the 1.3 hour counters: two syscache
// look-ups, no query, so every call can afford it (an update may run in the
// middle of a session).
static bool WalletsCountHours(void)
{
    const Oid schema = get_namespace_oid("number_wallet", true);
    const Oid wallets = OidIsValid(schema) ? get_relname_relid("wallets", schema) : InvalidOid;
    return OidIsValid(wallets) && get_attnum(wallets, "purchases_hour") != InvalidAttrNumber;
}

// The columns of reserve_in_one's answer, in the order of its final SELECT (SPI counts from 1).
enum ReserveColumn {
    kWalletId = 1,
    kFresh,                // f.fresh: the lock returned the version our snapshot reads
    kBalance,              // the wallet's balance in the purchase currency
    kSufficient,           // balance >= cost
    kOriginalNumberId,     // k: the purchase already made under this idempotency key, if any
    kOriginalSameRequest,  // same phone number and currency as this call
    kOriginalStatus,
    kOriginalPhoneNumber,
    kOriginalCurrency,
    kOriginalTransactionId,
    kOriginalAmount,
    kOriginalBalanceAfter,
    kRateLimitEdge,       // e: the max-th newest reservation in the hour, when the limit is reached
    kReservedNumberId,    // n: the new number row (null: the number is held)
    kDebitTransactionId,  // t: the purchase's ledger row
    kDebitBalanceAfter,
};

static Statement held_number = {
    "SELECT id FROM number_wallet.business_numbers WHERE phone_number = $1 AND " HELD_PREDICATE, 1, {TEXTOID}, nullptr};

// pending -> active in one statement; the row lock it takes orders it against
// fail_purchase. No row: not pending (a replay, NW004 or NW003, decided after).
// confirm_number's RETURNING columns, in their order (SPI counts from 1).
enum ConfirmedColumn { kConfirmedPurchaseDate = 1, kConfirmedPaidUntil, kConfirmedUserId };

// The first billing period ends a month after the purchase counted in UTC, not
// in the session's TimeZone (renewal_functions.cpp keeps later periods on the
// same anchor).
static Statement confirm_number = {
    "UPDATE number_wallet.business_numbers"
    "   SET status = 'active', twilio_sid = $2, purchase_date = statement_timestamp(),"
    "       paid_until = ((statement_timestamp() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC',"
    "       refund_window_days = $3,"
    "       updated_at = statement_timestamp()"
    " WHERE id = $1 AND status = 'pending' RETURNING purchase_date, paid_until, user_id",
    3,
    {UUIDOID, TEXTOID, INT4OID},
    nullptr};

static Statement fail_number = {
    "UPDATE number_wallet.business_numbers"
    "   SET status = 'failed', failure_reason = $2, updated_at = statement_timestamp() WHERE id = $1",
    2,
    {UUIDOID, TEXTOID},
    nullptr};

static void RaiseNumberHeld(const char *phone_number)
{
    ereport(ERROR, (errcode(NW_NUMBER_HELD), errmsg("phone number %s is already held", phone_number),
                    errdetail("The number is reserved, active, or awaiting its release at the provider.")));
}

static void RaiseInvalidState(const char *status, const char *action)
{
    ereport(ERROR, (errcode(NW_INVALID_STATE), errmsg("cannot %s a number in state \"%s\"", action, status)));
}

static void ValidatePurchaseInput(const char *phone, const char *display_name, const char *key)
{
    const bool phone_ok = NW_NOTHROW(IsE164(phone));
    const bool name_ok = display_name == nullptr || NW_NOTHROW(IsDisplayName(display_name));
    const bool key_ok = key == nullptr || NW_NOTHROW(IsIdempotencyKey(key));
    if (!phone_ok)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid phone number"),
                        errdetail("Phone numbers must be E.164: \"+\" and 8 to 15 digits, not starting with 0.")));
    if (!name_ok)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid display name"),
                        errdetail("Display names are at most 64 characters, without control characters.")));
    if (!key_ok)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid idempotency key"),
                        errdetail("Idempotency keys are 1 to 255 printable ASCII characters.")));
}

// NW005 when the user already created max_purchases_per_hour rows in the last
// hour (`edge` is the max-th newest); counted under the wallet lock, so
// concurrent calls cannot slip past it.
static void RaiseRateLimited(TimestampTz edge, TimestampTz now)
{
    int64 seconds = (edge + USECS_PER_HOUR - now + USECS_PER_SEC - 1) / USECS_PER_SEC;
    if (seconds < 1)
        seconds = 1;
    ereport(ERROR,
            (errcode(NW_RATE_LIMITED), errmsg("purchase rate limit exceeded"),
             errdetail("%s", RetryAfterDetail(seconds).text),
             errhint("At most %d numbers may be reserved per user in any rolling hour.", max_purchases_per_hour)));
}

// The idempotent original and the rate limit's edge of reserve_in_one's
// answer: a replay fills json and returns true; a reused key is NW006; the
// limit is NW005.
static bool AnswerChecks(JsonObject *json, TimestampTz now)
{
    if (!ResultIsNull(0, kOriginalNumberId)) {
        if (!DatumGetBool(ResultDatum(0, kOriginalSameRequest)))
            ereport(ERROR,
                    (errcode(NW_IDEMPOTENCY_MISMATCH), errmsg("idempotency key was already used with other parameters"),
                     errdetail("A purchase with this key was made for another phone number or currency.")));
        JsonText(json, "number_id", ResultText(0, kOriginalNumberId));
        JsonText(json, "phone_number", ResultText(0, kOriginalPhoneNumber));
        JsonText(json, "status", ResultText(0, kOriginalStatus));
        JsonText(json, "amount", ResultText(0, kOriginalAmount));
        JsonText(json, "currency", ResultText(0, kOriginalCurrency));
        JsonText(json, "balance_after", ResultText(0, kOriginalBalanceAfter));
        JsonInt(json, "transaction_id", DatumGetInt64(ResultDatum(0, kOriginalTransactionId)));
        JsonBool(json, "replayed", true);
        return true;
    }
    if (!ResultIsNull(0, kRateLimitEdge))
        RaiseRateLimited(DatumGetTimestampTz(ResultDatum(0, kRateLimitEdge)), now);
    return false;
}

// Funds are short: a held number is still reported first (the order documented in docs/sql-api.md).
static void RaiseFundsShort(const char *phone, Datum *phone_value, const char *currency, Datum balance, Datum cost)
{
    Execute(&held_number, phone_value, nullptr, false, 1, SPI_OK_SELECT);
    if (SPI_processed > 0)
        RaiseNumberHeld(phone);
    ereport(ERROR, (errcode(NW_INSUFFICIENT_BALANCE), errmsg("insufficient balance"),
                    errdetail("The %s balance is %s; the number costs %s.", currency, NumericText(balance),
                              NumericText(cost))));
}

static Datum ReservedJson(JsonObject *json, const char *number_id, const char *phone, Datum cost, const char *currency,
                          const char *balance_after, int64 transaction_id)
{
    JsonText(json, "number_id", number_id);
    JsonText(json, "phone_number", phone);
    JsonText(json, "status", "pending");
    JsonText(json, "amount", NumericText(cost));
    JsonText(json, "currency", currency);
    JsonText(json, "balance_after", balance_after);
    JsonInt(json, "transaction_id", transaction_id);
    JsonBool(json, "replayed", false);
    return FinishJson(json);
}

// purchase_number(p_user_id, p_phone_number, p_monthly_cost, p_currency, p_display_name, p_idempotency_key)
//   caller:  the service role
//   checks:  arguments (22023), then under the wallet lock: idempotent replay or NW006, rate limit NW005,
//            balance NW001, number held NW002 (docs/sql-api.md gives the order)
//   locks:   the user's wallet row (FOR UPDATE), nothing else
//   writes:  one pending business_numbers row, the debit on the wallet, its `purchase` ledger row
//   answer:  {number_id, phone_number, status: "pending", amount, currency, balance_after, transaction_id, replayed}
static Datum PurchaseNumber(FunctionCallInfo fcinfo)
{
    const Caller caller = CurrentCaller();
    RequireService(caller, "purchase_number");
    pg_uuid_t *user_id = RequiredUuidArg(fcinfo, 0, "p_user_id");
    const char *phone = RequiredTextArg(fcinfo, 1, "p_phone_number");
    int64 cents = 0;
    Datum cost = RequiredAmountArg(fcinfo, 2, "p_monthly_cost", false, &cents);
    const char *currency = RequiredCurrencyArg(fcinfo, 3, "p_currency");
    const char *display_name = TextArg(fcinfo, 4);
    const char *key = TextArg(fcinfo, 5);
    ValidatePurchaseInput(phone, display_name, key);

    JsonObject json;
    JsonBegin(&json);
    SPI_connect();
    const TimestampTz now = GetCurrentStatementStartTimestamp();
    const bool limited = max_purchases_per_hour > 0;
    Datum values[10] = {UUIDPGetDatum(user_id),
                        CStringGetTextDatum(phone),
                        display_name ? CStringGetTextDatum(display_name) : (Datum) 0,
                        cost,
                        CStringGetTextDatum(currency),
                        CStringGetTextDatum(ProviderName()),
                        key ? CStringGetTextDatum(key) : (Datum) 0,
                        TimestampTzGetDatum(now - USECS_PER_HOUR),
                        Int64GetDatum(limited ? max_purchases_per_hour - 1 : 0),
                        TimestampTzGetDatum(now - now % USECS_PER_HOUR)};  // the clock hour (UTC) of now
    char nulls[11] = "          ";
    if (display_name == nullptr)
        nulls[2] = 'n';
    if (key == nullptr)
        nulls[6] = 'n';
    if (!limited)
        nulls[7] = 'n';
    const bool counts_hours = WalletsCountHours();
    Statement *reserve = counts_hours ? &reserve_in_one : &reserve_in_one_before_1_3;
    Statement *first = counts_hours && key == nullptr ? &reserve_plain : reserve;
    Execute(first, values, nulls, false, 0, SPI_OK_SELECT);
    if (SPI_processed == 1 &&
        (!DatumGetBool(ResultDatum(0, kFresh)) || (first != reserve && ResultIsNull(0, kReservedNumberId)))) {
        // Nothing was written: either the lock waited for a purchase that
        // committed after our snapshot, or the smaller statement met a case
        // it leaves to the full one (a refusal, or the counters at the
        // limit). The lock is ours now: the full statement takes a snapshot
        // that sees everything up to it and decides.
        Execute(reserve, values, nulls, false, 0, SPI_OK_SELECT);
        if (SPI_processed == 1 && !DatumGetBool(ResultDatum(0, kFresh)))
            elog(ERROR, "wallet row changed under its lock");
    }
    if (SPI_processed == 0)
        ereport(ERROR, (errcode(NW_INSUFFICIENT_BALANCE), errmsg("insufficient balance"),
                        errdetail("The user has no wallet yet."), errhint("Credit the wallet first.")));
    const Datum balance = ResultDatum(0, kBalance);
    const bool sufficient = DatumGetBool(ResultDatum(0, kSufficient));
    if (AnswerChecks(&json, now))
        return FinishJson(&json);
    if (!sufficient)
        RaiseFundsShort(phone, &values[1], currency, balance, cost);
    if (ResultIsNull(0, kReservedNumberId))
        RaiseNumberHeld(phone);
    return ReservedJson(&json, ResultText(0, kReservedNumberId), phone, cost, currency,
                        ResultText(0, kDebitBalanceAfter), DatumGetInt64(ResultDatum(0, kDebitTransactionId)));
}

bool ConfirmPendingNumber(const pg_uuid_t *number_id, const char *sid, JsonObject *json, pg_uuid_t *owner)
{
    Datum values[3] = {UUIDPGetDatum(number_id), CStringGetTextDatum(sid), Int32GetDatum(refund_window_days)};
    // A sid belongs to one number: the sid index's verdict is NW004, never
    // 23505. Any other unique violation is not about the sid and stays 23505.
    ExecuteMappingUniqueViolation(&confirm_number, values, nullptr, 0, SPI_OK_UPDATE_RETURNING,
                                  "business_numbers_twilio_sid_key", NW_INVALID_STATE,
                                  "provider sid is already recorded on another number");
    if (SPI_processed == 1) {
        memcpy(owner, DatumGetUUIDP(ResultDatum(0, kConfirmedUserId)), sizeof *owner);
        JsonText(json, "number_id", UuidText(number_id));
        JsonText(json, "status", "active");
        JsonText(json, "twilio_sid", sid);
        JsonTimestamp(json, "purchase_date", ResultDatum(0, kConfirmedPurchaseDate), false);
        JsonTimestamp(json, "paid_until", ResultDatum(0, kConfirmedPaidUntil), false);
        return false;
    }
    // Not pending: a repeat of the same confirmation replays, anything else is refused.
    NumberRow row = ReadNumber(number_id);
    if (!row.found)
        RaiseNumberNotFound();
    if (!StatusIs(row, "active") || row.twilio_sid == nullptr || strcmp(row.twilio_sid, sid) != 0)
        RaiseInvalidState(row.status, "confirm");
    memcpy(owner, &row.user_id, sizeof *owner);
    JsonText(json, "number_id", UuidText(number_id));
    JsonText(json, "status", "active");
    JsonText(json, "twilio_sid", sid);
    JsonTimestamp(json, "purchase_date", TimestampTzGetDatum(row.purchase_date), false);
    JsonTimestamp(json, "paid_until", TimestampTzGetDatum(row.paid_until), false);
    return true;
}

// confirm_purchase(p_number_id, p_twilio_sid)
//   caller:  the service role (the purchase saga, once the provider bought the number)
//   locks:   the number row (its UPDATE), ordered against fail_purchase by that lock
//   writes:  pending -> active, the sid, purchase_date, paid_until (a month on, in UTC), the refund window
//   answer:  {number_id, status: "active", twilio_sid, purchase_date, paid_until, replayed}; NW004 from another state
static Datum ConfirmPurchase(FunctionCallInfo fcinfo)
{
    const Caller caller = CurrentCaller();
    RequireService(caller, "confirm_purchase");
    pg_uuid_t *number_id = RequiredUuidArg(fcinfo, 0, "p_number_id");
    const char *sid = RequiredTextArg(fcinfo, 1, "p_twilio_sid");
    if (!NW_NOTHROW(IsProviderSid(sid)))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid provider sid"),
                        errdetail("A sid is 2 to 64 letters, digits, \"_\" or \"-\".")));

    JsonObject json;
    JsonBegin(&json);
    SPI_connect();
    pg_uuid_t owner;
    const bool replayed = ConfirmPendingNumber(number_id, sid, &json, &owner);
    JsonBool(&json, "replayed", replayed);
    return FinishJson(&json);
}

bool FailPendingNumber(const pg_uuid_t *number_id, const char *reason, JsonObject *json, pg_uuid_t *owner)
{
    NumberRow seen = ReadNumber(number_id);
    if (!seen.found)
        RaiseNumberNotFound();
    memcpy(owner, &seen.user_id, sizeof *owner);
    // Lock order: the owner's wallet first, then the number.
    LockedWallet wallet = LockWalletOfUser(&seen.user_id, seen.currency, seen.monthly_cost);
    if (!wallet.found)
        elog(ERROR, "wallet of number %s not found", UuidText(number_id));
    NumberRow row = LockNumber(number_id);

    JsonText(json, "number_id", UuidText(number_id));
    JsonText(json, "status", "failed");
    if (StatusIs(row, "failed")) {
        NumberEntry reversal = FindNumberEntry(number_id, "reversal");
        if (!reversal.found)
            elog(ERROR, "failed number %s has no reversal entry", UuidText(number_id));
        JsonText(json, "refunded", NumericText(reversal.amount));
        JsonText(json, "balance_after", NumericText(reversal.balance_after));
        return true;
    }
    if (!StatusIs(row, "pending"))
        RaiseInvalidState(row.status, "fail");

    NumberEntry purchase = FindNumberEntry(number_id, "purchase");
    if (!purchase.found)
        elog(ERROR, "pending number %s has no purchase entry", UuidText(number_id));
    Datum values[2] = {UUIDPGetDatum(number_id), CStringGetTextDatum(reason)};
    Execute(&fail_number, values, nullptr, false, 0, SPI_OK_UPDATE);

    char description[96];
    snprintf(description, sizeof description, "Reversal: %s (purchase failed)", row.phone_number);
    LedgerEntry entry =
        ApplyToWallet(&wallet.id, purchase.currency, purchase.amount, "reversal", description, number_id, nullptr);
    JsonText(json, "refunded", NumericText(purchase.amount));
    JsonText(json, "balance_after", NumericText(entry.balance_after));
    return false;
}

// fail_purchase(p_number_id, p_reason)
//   caller:  the service role (the saga, when the provider refused the number)
//   locks:   the owner's wallet, then the number (the lock order)
//   writes:  pending -> failed with the reason, the wallet credited the purchase amount, a `reversal` ledger row
//   answer:  {number_id, status: "failed", refunded, balance_after, replayed}; NW004 unless pending or failed
// fail_purchase(p_number_id, p_reason)
//   caller:  the service role (the saga, when the provider refused the number)
//   locks:   the owner's wallet, then the number (the lock order)
//   writes:  pending -> failed with the reason, the wallet credited the purchase amount, a `reversal` ledger row
//   answer:  {number_id, status: "failed", refunded, balance_after, replayed}; NW004 unless pending or failed
static Datum FailPurchase(FunctionCallInfo fcinfo)
{
    const Caller caller = CurrentCaller();
    RequireService(caller, "fail_purchase");
    pg_uuid_t *number_id = RequiredUuidArg(fcinfo, 0, "p_number_id");
    const char *reason = TextArg(fcinfo, 1);
    if (reason == nullptr)
        reason = "Purchase failed";
    if (!NW_NOTHROW(IsFreeText(reason, 1000)))
        RaiseInvalid("reason must be at most 1000 characters of valid text");

    JsonObject json;
    JsonBegin(&json);
    SPI_connect();
    pg_uuid_t owner;
    const bool replayed = FailPendingNumber(number_id, reason, &json, &owner);
    JsonBool(&json, "replayed", replayed);
    return FinishJson(&json);
}

}  // namespace nw

extern "C" Datum nw_purchase_number(PG_FUNCTION_ARGS)
{
    return nw::PurchaseNumber(fcinfo);
}
extern "C" Datum nw_confirm_purchase(PG_FUNCTION_ARGS)
{
    return nw::ConfirmPurchase(fcinfo);
}
extern "C" Datum nw_fail_purchase(PG_FUNCTION_ARGS)
{
    return nw::FailPurchase(fcinfo);
}
