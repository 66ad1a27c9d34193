// purchase_number, confirm_purchase and fail_purchase: the reserve-then-settle
// half of the purchase saga (DESIGN §1 and §2). The shim calls Twilio between
// purchase_number and confirm/fail, with no lock or connection held.
#include "caller.hpp"
#include "ledger.hpp"
#include "numbers.hpp"

#include "core/validation.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(nw_purchase_number);
PG_FUNCTION_INFO_V1(nw_confirm_purchase);
PG_FUNCTION_INFO_V1(nw_fail_purchase);
}

namespace nw {

#define HELD_PREDICATE "(status IN ('pending', 'active') OR (status = 'released' AND provider_released_at IS NULL))"

static Statement purchase_by_key = {
    "SELECT n.id, n.phone_number = $3 AND n.currency = $4, n.status, n.phone_number, n.currency,"
    "       t.id, t.amount, t.balance_after"
    "  FROM number_wallet.business_numbers n"
    "  JOIN number_wallet.transactions t ON t.number_id = n.id AND t.kind = 'purchase'"
    " WHERE n.user_id = $1 AND n.idempotency_key = $2",
    4, {UUIDOID, TEXTOID, TEXTOID, TEXTOID}, nullptr};

// Reads at most max_purchases_per_hour index entries (user_id, created_at).
static Statement recent_purchases = {
    "SELECT created_at FROM number_wallet.business_numbers"
    " WHERE user_id = $1 AND created_at > $2 ORDER BY created_at DESC LIMIT $3",
    3, {UUIDOID, TIMESTAMPTZOID, INT8OID}, nullptr};

static Statement held_number = {
    "SELECT id FROM number_wallet.business_numbers WHERE phone_number = $1 AND " HELD_PREDICATE, 1, {TEXTOID},
    nullptr};

// ON CONFLICT on the held-number index: a concurrent reservation of the same
// number (by another user, whose wallet lock we do not share) waits for that
// transaction and then yields no row, which we report as NW002, never 23505.
static Statement insert_number = {
    "INSERT INTO number_wallet.business_numbers"
    "  (user_id, phone_number, display_name, monthly_cost, currency, provider, idempotency_key)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
    " ON CONFLICT (phone_number) WHERE " HELD_PREDICATE " DO NOTHING RETURNING id",
    7, {UUIDOID, TEXTOID, TEXTOID, NUMERICOID, TEXTOID, TEXTOID, TEXTOID}, nullptr};

static Statement sid_lock = {"SELECT pg_catalog.pg_advisory_xact_lock(1314332720, pg_catalog.hashtext($1))", 1,
                             {TEXTOID}, nullptr};

static Statement sid_taken = {
    "SELECT 1 FROM number_wallet.business_numbers WHERE twilio_sid = $1 AND id <> $2", 2, {TEXTOID, UUIDOID},
    nullptr};

static Statement confirm_number = {
    "UPDATE number_wallet.business_numbers"
    "   SET status = 'active', twilio_sid = $2, purchase_date = statement_timestamp(),"
    "       paid_until = statement_timestamp() + interval '1 month', refund_window_days = $3,"
    "       updated_at = statement_timestamp()"
    " WHERE id = $1 RETURNING purchase_date, paid_until",
    3, {UUIDOID, TEXTOID, INT4OID}, nullptr};

static Statement fail_number = {
    "UPDATE number_wallet.business_numbers"
    "   SET status = 'failed', failure_reason = $2, updated_at = statement_timestamp() WHERE id = $1",
    2, {UUIDOID, TEXTOID}, nullptr};

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
    bool phone_ok = false, name_ok = true, key_ok = true;
    Outcome outcome = RunGuarded("purchase input", [&](Outcome *) {
        phone_ok = IsE164(phone);
        name_ok = display_name == nullptr || IsDisplayName(display_name);
        key_ok = key == nullptr || IsIdempotencyKey(key);
    });
    if (!outcome.ok)
        RaiseOutcome(outcome);
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
// hour; counted under the wallet lock, so concurrent calls cannot slip past.
static void EnforceRateLimit(const pg_uuid_t *user_id)
{
    if (max_purchases_per_hour <= 0)
        return;
    const TimestampTz now = GetCurrentStatementStartTimestamp();
    const TimestampTz hour_ago = now - USECS_PER_HOUR;
    Datum values[3] = {UUIDPGetDatum(user_id), TimestampTzGetDatum(hour_ago), Int64GetDatum(max_purchases_per_hour)};
    Execute(&recent_purchases, values, nullptr, false, max_purchases_per_hour, SPI_OK_SELECT);
    if ((int64) SPI_processed < max_purchases_per_hour)
        return;
    const TimestampTz oldest = DatumGetTimestampTz(ResultDatum((int) SPI_processed - 1, 1));
    const int64 wait_usecs = oldest + USECS_PER_HOUR - now;
    int64 seconds = (wait_usecs + USECS_PER_SEC - 1) / USECS_PER_SEC;
    if (seconds < 1)
        seconds = 1;
    ereport(ERROR, (errcode(NW_RATE_LIMITED), errmsg("purchase rate limit exceeded"),
                    errdetail("Retry after " INT64_FORMAT " seconds.", seconds),
                    errhint("At most %d numbers may be reserved per user in any rolling hour.",
                            max_purchases_per_hour)));
}

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
    LockedWallet wallet = LockWalletOfUser(user_id, currency, NumericNegate(cost));
    if (!wallet.found)
        ereport(ERROR, (errcode(NW_INSUFFICIENT_BALANCE), errmsg("insufficient balance"),
                        errdetail("The user has no wallet yet."), errhint("Credit the wallet first.")));

    if (key != nullptr) {
        Datum values[4] = {UUIDPGetDatum(user_id), CStringGetTextDatum(key), CStringGetTextDatum(phone),
                           CStringGetTextDatum(currency)};
        Execute(&purchase_by_key, values, nullptr, false, 1, SPI_OK_SELECT);
        if (SPI_processed > 0) {
            if (!DatumGetBool(ResultDatum(0, 2)))
                ereport(ERROR, (errcode(NW_IDEMPOTENCY_MISMATCH),
                                errmsg("idempotency key was already used with other parameters"),
                                errdetail("A purchase with this key was made for another phone number or currency.")));
            JsonText(&json, "number_id", ResultText(0, 1));
            JsonText(&json, "phone_number", ResultText(0, 4));
            JsonText(&json, "status", ResultText(0, 3));
            JsonText(&json, "amount", ResultText(0, 7));
            JsonText(&json, "currency", ResultText(0, 5));
            JsonText(&json, "balance_after", ResultText(0, 8));
            JsonInt(&json, "transaction_id", DatumGetInt64(ResultDatum(0, 6)));
            JsonBool(&json, "replayed", true);
            return FinishJson(&json);
        }
    }

    EnforceRateLimit(user_id);

    Datum phone_value = CStringGetTextDatum(phone);
    Execute(&held_number, &phone_value, nullptr, false, 1, SPI_OK_SELECT);
    if (SPI_processed > 0)
        RaiseNumberHeld(phone);
    if (!wallet.sufficient)
        ereport(ERROR, (errcode(NW_INSUFFICIENT_BALANCE), errmsg("insufficient balance"),
                        errdetail("The %s balance is %s; the number costs %s.", currency, NumericText(wallet.balance),
                                  NumericText(cost))));

    Datum values[7] = {UUIDPGetDatum(user_id),          phone_value,
                       display_name ? CStringGetTextDatum(display_name) : (Datum) 0,
                       cost,
                       CStringGetTextDatum(currency),   CStringGetTextDatum(ProviderName()),
                       key ? CStringGetTextDatum(key) : (Datum) 0};
    char nulls[8] = "       ";
    if (display_name == nullptr)
        nulls[2] = 'n';
    if (key == nullptr)
        nulls[6] = 'n';
    Execute(&insert_number, values, nulls, false, 0, SPI_OK_INSERT_RETURNING);
    if (SPI_processed == 0)
        RaiseNumberHeld(phone);
    pg_uuid_t number_id;
    memcpy(&number_id, DatumGetUUIDP(ResultDatum(0, 1)), sizeof number_id);

    char description[64];
    snprintf(description, sizeof description, "Phone number purchase: %s", phone);
    LedgerEntry entry = ApplyToWallet(&wallet.id, currency, NumericNegate(cost), "purchase", description, &number_id,
                                      nullptr);

    JsonText(&json, "number_id", UuidText(&number_id));
    JsonText(&json, "phone_number", phone);
    JsonText(&json, "status", "pending");
    JsonText(&json, "amount", NumericText(cost));
    JsonText(&json, "currency", currency);
    JsonText(&json, "balance_after", NumericText(entry.balance_after));
    JsonInt(&json, "transaction_id", entry.transaction_id);
    JsonBool(&json, "replayed", false);
    return FinishJson(&json);
}

static void ConfirmJson(JsonObject *json, const NumberRow &row, const char *sid, Datum purchase_date,
                        Datum paid_until, bool replayed)
{
    JsonText(json, "number_id", UuidText(&row.id));
    JsonText(json, "status", "active");
    JsonText(json, "twilio_sid", sid);
    JsonTimestamp(json, "purchase_date", purchase_date, false);
    JsonTimestamp(json, "paid_until", paid_until, false);
    JsonBool(json, "replayed", replayed);
}

static Datum ConfirmPurchase(FunctionCallInfo fcinfo)
{
    const Caller caller = CurrentCaller();
    RequireService(caller, "confirm_purchase");
    pg_uuid_t *number_id = RequiredUuidArg(fcinfo, 0, "p_number_id");
    const char *sid = RequiredTextArg(fcinfo, 1, "p_twilio_sid");
    if (!IsProviderSid(sid))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid provider sid"),
                        errdetail("A sid is 2 to 64 letters, digits, \"_\" or \"-\".")));

    JsonObject json;
    JsonBegin(&json);
    SPI_connect();
    NumberRow row = LockNumber(number_id);
    if (!row.found)
        RaiseNumberNotFound();
    if (StatusIs(row, "active") && row.twilio_sid != nullptr && strcmp(row.twilio_sid, sid) == 0) {
        ConfirmJson(&json, row, sid, TimestampTzGetDatum(row.purchase_date), TimestampTzGetDatum(row.paid_until), true);
        return FinishJson(&json);
    }
    if (!StatusIs(row, "pending"))
        RaiseInvalidState(row.status, "confirm");

    // Serialise confirmations of one sid, then look for it on any other row:
    // a sid belongs to one number (NW004, never a raw 23505).
    Datum sid_value = CStringGetTextDatum(sid);
    Execute(&sid_lock, &sid_value, nullptr, false, 0, SPI_OK_SELECT);
    Datum taken_values[2] = {sid_value, UUIDPGetDatum(number_id)};
    Execute(&sid_taken, taken_values, nullptr, false, 1, SPI_OK_SELECT);
    if (SPI_processed > 0)
        ereport(ERROR, (errcode(NW_INVALID_STATE), errmsg("provider sid %s is already recorded on another number", sid)));

    Datum values[3] = {UUIDPGetDatum(number_id), sid_value, Int32GetDatum(refund_window_days)};
    Execute(&confirm_number, values, nullptr, false, 0, SPI_OK_UPDATE_RETURNING);
    ConfirmJson(&json, row, sid, ResultDatum(0, 1), ResultDatum(0, 2), false);
    return FinishJson(&json);
}

static Datum FailPurchase(FunctionCallInfo fcinfo)
{
    const Caller caller = CurrentCaller();
    RequireService(caller, "fail_purchase");
    pg_uuid_t *number_id = RequiredUuidArg(fcinfo, 0, "p_number_id");
    const char *reason = TextArg(fcinfo, 1);
    if (reason == nullptr)
        reason = "Purchase failed";
    if (!IsFreeText(reason, 1000))
        RaiseInvalid("reason must be at most 1000 characters of valid text");

    JsonObject json;
    JsonBegin(&json);
    SPI_connect();
    NumberRow seen = ReadNumber(number_id);
    if (!seen.found)
        RaiseNumberNotFound();
    // Lock order: the owner's wallet first, then the number.
    LockedWallet wallet = LockWalletOfUser(&seen.user_id, seen.currency, seen.monthly_cost);
    if (!wallet.found)
        elog(ERROR, "wallet of number %s not found", UuidText(number_id));
    NumberRow row = LockNumber(number_id);

    JsonText(&json, "number_id", UuidText(number_id));
    JsonText(&json, "status", "failed");
    if (StatusIs(row, "failed")) {
        NumberEntry reversal = FindNumberEntry(number_id, "reversal");
        if (!reversal.found)
            elog(ERROR, "failed number %s has no reversal entry", UuidText(number_id));
        JsonText(&json, "refunded", NumericText(reversal.amount));
        JsonText(&json, "balance_after", NumericText(reversal.balance_after));
        JsonBool(&json, "replayed", true);
        return FinishJson(&json);
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
    JsonText(&json, "refunded", NumericText(purchase.amount));
    JsonText(&json, "balance_after", NumericText(entry.balance_after));
    JsonBool(&json, "replayed", false);
    return FinishJson(&json);
}

}  // namespace nw

extern "C" Datum nw_purchase_number(PG_FUNCTION_ARGS) { return nw::PurchaseNumber(fcinfo); }
extern "C" Datum nw_confirm_purchase(PG_FUNCTION_ARGS) { return nw::ConfirmPurchase(fcinfo); }
extern "C" Datum nw_fail_purchase(PG_FUNCTION_ARGS) { return nw::FailPurchase(fcinfo); }
