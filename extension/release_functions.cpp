// refund_quote, release_number and mark_provider_released (docs/sql-api.md): the
// release saga's database half and the one refund-window evaluation.
#include "caller.hpp"
#include "ledger.hpp"
#include "numbers.hpp"
#include "settings.hpp"

#include "core/refund_window.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(nw_refund_quote);
PG_FUNCTION_INFO_V1(nw_release_number);
PG_FUNCTION_INFO_V1(nw_mark_provider_released);
}

namespace nw {

static Statement release_number = {
    "UPDATE number_wallet.business_numbers"
    "   SET status = 'released', released_at = statement_timestamp(), updated_at = statement_timestamp()"
    " WHERE id = $1",
    1,
    {UUIDOID},
    nullptr};

static Statement mark_released = {
    "UPDATE number_wallet.business_numbers"
    "   SET provider_released_at = statement_timestamp(), updated_at = statement_timestamp()"
    " WHERE id = $1 RETURNING provider_released_at",
    1,
    {UUIDOID},
    nullptr};

// The window in force for a number: its snapshot from confirm, else the setting.
static int WindowDays(const NumberRow &row)
{
    return row.refund_window_days >= 0 ? row.refund_window_days : refund_window_days;
}

static RefundVerdict Evaluate(const NumberRow &row, TimestampTz at)
{
    RefundVerdict verdict = {false, RefundReason::kNotActive, -1};
    const bool active = StatusIs(row, "active");
    const int64 elapsed = row.has_purchase_date ? at - row.purchase_date : 0;
    const int window = WindowDays(row);
    Outcome outcome = RunGuarded(
        "refund window", [&](Outcome *) { verdict = EvaluateRefund(active, row.has_purchase_date, elapsed, window); });
    if (!outcome.ok)
        RaiseOutcome(outcome);
    return verdict;
}

// refund_quote(p_number_id, p_at)
//   caller:  the service role, or the number's owner (anyone else: NW003)
//   locks:   nothing (a read)
//   answer:  {eligible, reason, amount, currency, days_since_purchase, window_days}: would a release at p_at
//            be refunded, how much, and why (core/refund_window.hpp)
static Datum RefundQuote(FunctionCallInfo fcinfo)
{
    const Caller caller = CurrentCaller();
    pg_uuid_t *number_id = RequiredUuidArg(fcinfo, 0, "p_number_id");
    if (PG_ARGISNULL(1))
        RaiseInvalid("p_at must not be null");
    const TimestampTz at = PG_GETARG_TIMESTAMPTZ(1);
    if (TIMESTAMP_NOT_FINITE(at))
        RaiseInvalid("p_at must be a finite timestamp");

    JsonObject json;
    JsonBegin(&json);
    SPI_connect();
    // refund_quote is STABLE: its reads are read-only SPI queries, so they run
    // in the calling statement's snapshot (no new snapshot, no command counter
    // increment) and one statement always gets one answer.
    NumberRow row = ReadNumber(number_id, true);
    if (!row.found || !CallerMayActFor(caller, &row.user_id))
        RaiseNumberNotFound();
    const RefundVerdict verdict = Evaluate(row, at);
    NumberEntry purchase = PurchaseEntryOf(number_id, row, true);

    JsonBool(&json, "eligible", verdict.eligible);
    JsonText(&json, "reason", RefundReasonName(verdict.reason));
    JsonText(&json, "amount", purchase.found ? NumericText(purchase.amount) : "0.00");
    JsonText(&json, "currency", purchase.found ? purchase.currency : row.currency);
    if (verdict.days_since_purchase >= 0)
        JsonInt(&json, "days_since_purchase", verdict.days_since_purchase);
    else
        JsonNull(&json, "days_since_purchase");
    JsonInt(&json, "window_days", WindowDays(row));
    return FinishJson(&json);
}

static void RefundJson(JsonObject *json, bool issued, const char *amount, const char *currency)
{
    JsonRaw(json, "refund", "");
    appendStringInfo(&json->buf, "{\"issued\": %s, \"amount\": ", issued ? "true" : "false");
    escape_json(&json->buf, amount);
    appendStringInfoString(&json->buf, ", \"currency\": ");
    escape_json(&json->buf, currency);
    appendStringInfoChar(&json->buf, '}');
}

// release_number(p_user_id, p_number_id)
//   caller:  the service role, or the owner for their own number (anyone else: NW003, as if absent)
//   locks:   the owner's wallet, then the number (the lock order)
//   writes:  active -> released; within the refund window, the purchase amount back on the wallet and one
//            `refund` ledger row (at most once per number: a repeat replays the first answer)
//   answer:  {number_id, phone_number, twilio_sid, status: "released", refund: {issued, amount, currency}, replayed}
static Datum ReleaseNumber(FunctionCallInfo fcinfo)
{
    const Caller caller = CurrentCaller();
    pg_uuid_t *user_id = RequiredUuidArg(fcinfo, 0, "p_user_id");
    pg_uuid_t *number_id = RequiredUuidArg(fcinfo, 1, "p_number_id");

    JsonObject json;
    JsonBegin(&json);
    SPI_connect();
    NumberRow seen = ReadNumber(number_id);
    if (!seen.found || !CallerMayActFor(caller, user_id) || memcmp(seen.user_id.data, user_id->data, UUID_LEN) != 0)
        RaiseNumberNotFound();
    // Lock order: the owner's wallet first, then the number.
    LockedWallet wallet = LockWalletOfUser(user_id, seen.currency, seen.monthly_cost);
    if (!wallet.found)
        elog(ERROR, "wallet of number %s not found", UuidText(number_id));
    NumberRow row = LockNumber(number_id);

    JsonText(&json, "number_id", UuidText(number_id));
    JsonText(&json, "phone_number", row.phone_number);
    JsonText(&json, "twilio_sid", row.twilio_sid);
    JsonText(&json, "status", "released");

    if (StatusIs(row, "released")) {
        // A repeat reports the first call's refund and refunds nothing more.
        NumberEntry refund = FindNumberEntry(number_id, "refund");
        RefundJson(&json, refund.found, refund.found ? NumericText(refund.amount) : "0.00",
                   refund.found ? refund.currency : row.currency);
        JsonBool(&json, "replayed", true);
        return FinishJson(&json);
    }
    if (!StatusIs(row, "active"))
        ereport(ERROR, (errcode(NW_INVALID_STATE), errmsg("cannot release a number in state \"%s\"", row.status),
                        errhint("Only active numbers can be released.")));

    const RefundVerdict verdict = Evaluate(row, GetCurrentStatementStartTimestamp());
    NumberEntry purchase = PurchaseEntryOf(number_id, row, false);
    if (!purchase.found)
        elog(ERROR, "active number %s has no purchase entry", UuidText(number_id));
    Datum id_value = UUIDPGetDatum(number_id);
    Execute(&release_number, &id_value, nullptr, false, 0, SPI_OK_UPDATE);
    if (verdict.eligible) {
        char description[128];
        snprintf(description, sizeof description, "Refund: %s released within %d-day refund window", row.phone_number,
                 WindowDays(row));
        ApplyToWallet(&wallet.id, purchase.currency, purchase.amount, "refund", description, number_id, nullptr);
        RefundJson(&json, true, NumericText(purchase.amount), purchase.currency);
    } else {
        RefundJson(&json, false, "0.00", purchase.currency);
    }
    JsonBool(&json, "replayed", false);
    return FinishJson(&json);
}

// mark_provider_released(p_number_id)
//   caller:  the service role (the release saga, once the provider deleted the number)
//   locks:   the number row (its UPDATE)
//   writes:  provider_released_at, which frees the phone number for a new purchase (the held predicate)
//   answer:  {number_id, provider_released_at, replayed}
static Datum MarkProviderReleased(FunctionCallInfo fcinfo)
{
    const Caller caller = CurrentCaller();
    RequireService(caller, "mark_provider_released");
    pg_uuid_t *number_id = RequiredUuidArg(fcinfo, 0, "p_number_id");

    JsonObject json;
    JsonBegin(&json);
    SPI_connect();
    NumberRow row = LockNumber(number_id);
    if (!row.found)
        RaiseNumberNotFound();
    if (!StatusIs(row, "released"))
        ereport(ERROR, (errcode(NW_INVALID_STATE),
                        errmsg("cannot mark a number in state \"%s\" as released at the provider", row.status),
                        errhint("Release the number first.")));
    JsonText(&json, "number_id", UuidText(number_id));
    if (row.provider_released) {
        JsonTimestamp(&json, "provider_released_at", TimestampTzGetDatum(row.provider_released_at), false);
        JsonBool(&json, "replayed", true);
    } else {
        Datum id_value = UUIDPGetDatum(number_id);
        Execute(&mark_released, &id_value, nullptr, false, 0, SPI_OK_UPDATE_RETURNING);
        JsonTimestamp(&json, "provider_released_at", ResultDatum(0, 1), false);
        JsonBool(&json, "replayed", false);
    }
    return FinishJson(&json);
}

}  // namespace nw

extern "C" Datum nw_refund_quote(PG_FUNCTION_ARGS)
{
    return nw::RefundQuote(fcinfo);
}
extern "C" Datum nw_release_number(PG_FUNCTION_ARGS)
{
    return nw::ReleaseNumber(fcinfo);
}
extern "C" Datum nw_mark_provider_released(PG_FUNCTION_ARGS)
{
    return nw::MarkProviderReleased(fcinfo);
}
