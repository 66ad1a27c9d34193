// The operator actions force_fail, force_confirm, force_release and
// adjust_balance (docs/sql-api.md "Operator actions"): service only, each with
// a reason of 1 to 500 characters, each writing its audit_log row in the same
// transaction as its effect (audit.hpp); a repeat replays and writes no row.
#include "audit.hpp"
#include "caller.hpp"
#include "ledger.hpp"
#include "numbers.hpp"
#include "settle.hpp"

#include "core/validation.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(nw_force_fail);
PG_FUNCTION_INFO_V1(nw_force_confirm);
PG_FUNCTION_INFO_V1(nw_force_release);
PG_FUNCTION_INFO_V1(nw_adjust_balance);
}

namespace nw {

static Statement release_by_operator = {
    "UPDATE number_wallet.business_numbers"
    "   SET status = 'released', released_at = statement_timestamp(), updated_at = statement_timestamp()"
    " WHERE id = $1",
    1,
    {UUIDOID},
    nullptr};

// The original adjustment of (user, key), if any: its audit row, its answer,
// and whether it had the same amount and currency.
static Statement adjustment_by_key = {
    "SELECT id, detail::text, (detail->>'amount')::numeric = $3 AND detail->>'currency' = $4"
    "  FROM number_wallet.audit_log"
    " WHERE action = 'adjust_balance' AND user_id = $1 AND (detail->>'idempotency_key') = $2",
    4,
    {UUIDOID, TEXTOID, NUMERICOID, TEXTOID},
    nullptr};

// adjustment_by_key's columns, in its order (SPI counts from 1).
enum AdjustmentByKeyColumn { kAuditId = 1, kAuditDetail, kSameRequest };

// caller (service) -> p_number_id, p_reason -> the owner's wallet, then the
// number (as fail_purchase) -> failed, reversal entry, audit row ->
// fail_purchase's answer plus audit_id.
static Datum ForceFail(FunctionCallInfo fcinfo)
{
    RequireService(CurrentCaller(), "force_fail");
    pg_uuid_t *number_id = RequiredUuidArg(fcinfo, 0, "p_number_id");
    const char *reason = TextArg(fcinfo, 1);
    RequireReason(reason, "p_reason");

    JsonObject json;
    JsonBegin(&json);
    SPI_connect();
    pg_uuid_t owner;
    if (FailPendingNumber(number_id, reason, &json, &owner))
        return FinishReplayed(&json);
    return FinishAudited(&json, {"force_fail", number_id, &owner, false, 0, reason});
}

// caller (service) -> p_number_id, p_twilio_sid, p_reason -> the number (as
// confirm_purchase) -> active, audit row -> confirm_purchase's answer plus audit_id.
// The shim checks at the provider that it holds the number under that sid first.
static Datum ForceConfirm(FunctionCallInfo fcinfo)
{
    RequireService(CurrentCaller(), "force_confirm");
    pg_uuid_t *number_id = RequiredUuidArg(fcinfo, 0, "p_number_id");
    const char *sid = RequiredTextArg(fcinfo, 1, "p_twilio_sid");
    const char *reason = TextArg(fcinfo, 2);
    bool sid_ok = false;
    Outcome outcome = RunGuarded("sid", [&](Outcome *) { sid_ok = IsProviderSid(sid); });
    if (!outcome.ok)
        RaiseOutcome(outcome);
    if (!sid_ok)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid provider sid"),
                        errdetail("A sid is 2 to 64 letters, digits, \"_\" or \"-\".")));
    RequireReason(reason, "p_reason");

    JsonObject json;
    JsonBegin(&json);
    SPI_connect();
    pg_uuid_t owner;
    if (ConfirmPendingNumber(number_id, sid, &json, &owner))
        return FinishReplayed(&json);
    return FinishAudited(&json, {"force_confirm", number_id, &owner, false, 0, reason});
}

static void RefundField(JsonObject *json, bool issued, const char *amount, const char *currency)
{
    JsonRaw(json, "refund", "");
    appendStringInfo(&json->buf, "{\"issued\": %s, \"amount\": ", issued ? "true" : "false");
    escape_json(&json->buf, amount);
    appendStringInfoString(&json->buf, ", \"currency\": ");
    escape_json(&json->buf, currency);
    appendStringInfoChar(&json->buf, '}');
}

// caller (service) -> p_number_id, p_refund, p_reason -> the owner's wallet,
// then the number -> active -> released, and when p_refund a `refund` entry
// of the purchase amount (at most one per number: the ledger's unique index)
// -> release_number's answer plus provider and audit_id. Released already:
// a replay reporting the refund the number got, if any. The shim then deletes
// the number at the provider, as after a release.
static Datum ForceRelease(FunctionCallInfo fcinfo)
{
    RequireService(CurrentCaller(), "force_release");
    pg_uuid_t *number_id = RequiredUuidArg(fcinfo, 0, "p_number_id");
    if (PG_ARGISNULL(1))
        RaiseInvalid("p_refund must not be null");
    const bool refund = PG_GETARG_BOOL(1);
    const char *reason = TextArg(fcinfo, 2);
    RequireReason(reason, "p_reason");

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
    JsonText(&json, "phone_number", row.phone_number);
    JsonText(&json, "twilio_sid", row.twilio_sid);
    JsonText(&json, "status", "released");
    if (StatusIs(row, "released")) {
        NumberEntry given = FindNumberEntry(number_id, "refund");
        RefundField(&json, given.found, given.found ? NumericText(given.amount) : "0.00",
                    given.found ? given.currency : row.currency);
        return FinishReplayed(&json);
    }
    if (!StatusIs(row, "active"))
        ereport(ERROR, (errcode(NW_INVALID_STATE), errmsg("cannot release a number in state \"%s\"", row.status),
                        errhint("Only active numbers can be released; fail a pending one with force_fail.")));
    NumberEntry purchase = PurchaseEntryOf(number_id, row, false);
    if (!purchase.found)
        elog(ERROR, "active number %s has no purchase entry", UuidText(number_id));
    Datum id_value = UUIDPGetDatum(number_id);
    Execute(&release_by_operator, &id_value, nullptr, false, 0, SPI_OK_UPDATE);
    if (refund) {
        char description[96];
        snprintf(description, sizeof description, "Refund: %s released by an operator", row.phone_number);
        ApplyToWallet(&wallet.id, purchase.currency, purchase.amount, "refund", description, number_id, nullptr);
        RefundField(&json, true, NumericText(purchase.amount), purchase.currency);
    } else {
        RefundField(&json, false, "0.00", purchase.currency);
    }
    return FinishAudited(&json, {"force_release", number_id, &seen.user_id, false, 0, reason});
}

// caller (service) -> p_user_id, p_amount (signed, non-zero), p_currency,
// p_reason, p_idempotency_key -> the wallet (created for a credit) -> with a
// key already used: a replay (same amount and currency) or NW006 -> never
// below zero (NW001) -> one `adjustment` entry, audit row (its detail keeps
// the key) -> {wallet_id, user_id, amount, currency, balance, transaction_id,
// idempotency_key, replayed, audit_id}.
static Datum AdjustBalance(FunctionCallInfo fcinfo)
{
    RequireService(CurrentCaller(), "adjust_balance");
    pg_uuid_t *user_id = RequiredUuidArg(fcinfo, 0, "p_user_id");
    int64 cents = 0;
    Datum amount = RequiredAmountArg(fcinfo, 1, "p_amount", true, &cents);
    const char *currency = RequiredCurrencyArg(fcinfo, 2, "p_currency");
    const char *reason = TextArg(fcinfo, 3);
    RequireReason(reason, "p_reason");
    const char *key = TextArg(fcinfo, 4);
    if (key != nullptr) {
        bool key_ok = false;
        Outcome outcome = RunGuarded("idempotency key", [&](Outcome *) { key_ok = IsIdempotencyKey(key); });
        if (!outcome.ok)
            RaiseOutcome(outcome);
        if (!key_ok)
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid idempotency key"),
                            errdetail("Idempotency keys are 1 to 255 printable ASCII characters.")));
    }

    JsonObject json;
    JsonBegin(&json);
    SPI_connect();
    if (cents > 0)
        EnsureWallet(user_id);
    LockedWallet wallet = LockWalletOfUser(user_id, currency, amount);
    if (!wallet.found)
        ereport(ERROR, (errcode(NW_INSUFFICIENT_BALANCE), errmsg("insufficient balance"),
                        errdetail("The user has no wallet yet."),
                        errhint("A negative adjustment needs a wallet that holds the amount.")));
    // Under the wallet lock, so two calls with one key adjust once.
    if (key != nullptr) {
        Datum values[4] = {UUIDPGetDatum(user_id), CStringGetTextDatum(key), amount, CStringGetTextDatum(currency)};
        Execute(&adjustment_by_key, values, nullptr, false, 1, SPI_OK_SELECT);
        if (SPI_processed > 0) {
            if (!DatumGetBool(ResultDatum(0, kSameRequest)))
                ereport(ERROR, (errcode(NW_IDEMPOTENCY_MISMATCH),
                                errmsg("idempotency key was already used with other parameters"),
                                errdetail("An adjustment with this key has a different amount or currency.")));
            // The original answer, marked as a replay, with the original's audit row.
            const int64 original = DatumGetInt64(ResultDatum(0, kAuditId));
            const char *detail = ResultText(0, kAuditDetail);
            resetStringInfo(&json.buf);
            appendBinaryStringInfo(&json.buf, detail, static_cast<int>(strlen(detail)) - 1);
            json.first = false;
            JsonBool(&json, "replayed", true);
            JsonInt(&json, "audit_id", original);
            return FinishJson(&json);
        }
    }
    if (!wallet.sufficient)
        ereport(ERROR, (errcode(NW_INSUFFICIENT_BALANCE), errmsg("insufficient balance"),
                        errdetail("The %s balance is %s; the adjustment is %s.", currency, NumericText(wallet.balance),
                                  NumericText(amount))));
    const char *description = psprintf("Adjustment: %s", reason);
    LedgerEntry entry = ApplyToWallet(&wallet.id, currency, amount, "adjustment", description, nullptr, nullptr);
    JsonText(&json, "wallet_id", UuidText(&wallet.id));
    JsonText(&json, "user_id", UuidText(user_id));
    JsonText(&json, "amount", NumericText(amount));
    JsonText(&json, "currency", currency);
    JsonText(&json, "balance", NumericText(entry.balance_after));
    JsonInt(&json, "transaction_id", entry.transaction_id);
    JsonText(&json, "idempotency_key", key);
    return FinishAudited(&json, {"adjust_balance", nullptr, user_id, false, 0, reason});
}

}  // namespace nw

extern "C" Datum nw_force_fail(PG_FUNCTION_ARGS)
{
    return nw::ForceFail(fcinfo);
}
extern "C" Datum nw_force_confirm(PG_FUNCTION_ARGS)
{
    return nw::ForceConfirm(fcinfo);
}
extern "C" Datum nw_force_release(PG_FUNCTION_ARGS)
{
    return nw::ForceRelease(fcinfo);
}
extern "C" Datum nw_adjust_balance(PG_FUNCTION_ARGS)
{
    return nw::AdjustBalance(fcinfo);
}
