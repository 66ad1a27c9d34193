// wallet_credit and update_wallet_balance_atomic (docs/sql-api.md).
#include "caller.hpp"
#include "ledger.hpp"

#include "core/validation.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(nw_wallet_credit);
PG_FUNCTION_INFO_V1(nw_update_wallet_balance_atomic);
}

namespace nw {

static Statement credit_by_key = {"SELECT id, amount = $3 AND currency = $4 FROM number_wallet.transactions"
                                  " WHERE user_id = $1 AND idempotency_key = $2",
                                  4,
                                  {UUIDOID, TEXTOID, NUMERICOID, TEXTOID},
                                  nullptr};

// credit_by_key's columns, in its order (SPI counts from 1).
enum CreditByKeyColumn { kTransactionId = 1, kSameRequest };

// Free-text descriptions: bounded, and never one of the ledger's own prefixes,
// so nobody can write a top-up that reads like a refund.
static void ValidateDescription(const char *description)
{
    const bool ok = NW_NOTHROW(IsFreeText(description, 500));
    const bool reserved = NW_NOTHROW(StartsWithReservedPrefix(description));
    if (!ok)
        RaiseInvalid("description must be at most 500 characters of valid text");
    if (reserved)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("description uses a reserved prefix"),
                        errdetail("Descriptions starting with \"Phone number purchase:\", \"Refund:\", "
                                  "\"Reversal:\" or \"Renewal:\" are written only by number_wallet.")));
}

static void ValidateIdempotencyKey(const char *key)
{
    if (key != nullptr && !IsIdempotencyKey(key))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid idempotency key"),
                        errdetail("Idempotency keys are 1 to 255 printable ASCII characters.")));
}

// wallet_credit(p_user_id, p_amount, p_currency, p_description, p_idempotency_key)
//   caller:  the service role
//   locks:   the user's wallet row (created first if missing)
//   writes:  the credit on the wallet and one `topup` CREDIT ledger row; a repeated key replays it
//   answer:  {wallet_id, currency, balance, transaction_id, replayed}
static Datum WalletCredit(FunctionCallInfo fcinfo)
{
    const Caller caller = CurrentCaller();
    RequireService(caller, "wallet_credit");
    pg_uuid_t *user_id = RequiredUuidArg(fcinfo, 0, "p_user_id");
    int64 cents = 0;
    Datum amount = RequiredAmountArg(fcinfo, 1, "p_amount", false, &cents);
    const char *currency = RequiredCurrencyArg(fcinfo, 2, "p_currency");
    const char *description = TextArg(fcinfo, 3);
    if (description == nullptr)
        description = "Top-up";
    ValidateDescription(description);
    const char *key = TextArg(fcinfo, 4);
    ValidateIdempotencyKey(key);

    JsonObject json;
    JsonBegin(&json);  // before SPI_connect: the text lives in the caller's context

    SPI_connect();
    EnsureWallet(user_id);
    LockedWallet wallet = LockWalletOfUser(user_id, currency, amount);
    if (!wallet.found)
        elog(ERROR, "wallet vanished while crediting");

    char wallet_id[UUID_LEN * 2 + 5];
    snprintf(wallet_id, sizeof wallet_id, "%s",
             DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&wallet.id))));

    if (key != nullptr) {
        Datum values[4] = {UUIDPGetDatum(user_id), CStringGetTextDatum(key), amount, CStringGetTextDatum(currency)};
        Execute(&credit_by_key, values, nullptr, false, 1, SPI_OK_SELECT);
        if (SPI_processed > 0) {
            if (!DatumGetBool(ResultDatum(0, kSameRequest)))
                ereport(ERROR, (errcode(NW_IDEMPOTENCY_MISMATCH),
                                errmsg("idempotency key was already used with other parameters"),
                                errdetail("A credit with this key has a different amount or currency.")));
            const int64 transaction_id = DatumGetInt64(ResultDatum(0, kTransactionId));
            JsonText(&json, "wallet_id", wallet_id);
            JsonText(&json, "currency", currency);
            JsonText(&json, "balance", NumericText(wallet.balance));
            JsonInt(&json, "transaction_id", transaction_id);
            JsonBool(&json, "replayed", true);
            return FinishJson(&json);
        }
    }

    LedgerEntry entry = ApplyToWallet(&wallet.id, currency, amount, "topup", description, nullptr, key);
    JsonText(&json, "wallet_id", wallet_id);
    JsonText(&json, "currency", currency);
    JsonText(&json, "balance", NumericText(entry.balance_after));
    JsonInt(&json, "transaction_id", entry.transaction_id);
    JsonBool(&json, "replayed", false);
    return FinishJson(&json);
}

// The seed's function, same signature and row locking: a signed, non-zero
// adjustment that may not take the balance below zero. Returns the wallet row.
static Datum UpdateWalletBalanceAtomic(FunctionCallInfo fcinfo)
{
    const Caller caller = CurrentCaller();
    RequireService(caller, "update_wallet_balance_atomic");
    pg_uuid_t *wallet_id = RequiredUuidArg(fcinfo, 0, "p_wallet_id");
    int64 cents = 0;
    Datum amount = RequiredAmountArg(fcinfo, 1, "p_amount", true, &cents);
    const char *currency = RequiredCurrencyArg(fcinfo, 2, "p_currency");

    SPI_connect();
    LockedWallet wallet = LockWalletById(wallet_id, currency, amount);
    if (!wallet.found)
        ereport(ERROR, (errcode(NW_NOT_FOUND), errmsg("wallet not found")));
    if (!wallet.sufficient)
        ereport(ERROR, (errcode(NW_INSUFFICIENT_BALANCE), errmsg("insufficient balance"),
                        errdetail("The %s balance is %s; the adjustment is %s.", currency, NumericText(wallet.balance),
                                  NumericText(amount))));
    ApplyToWallet(&wallet.id, currency, amount, "adjustment", cents > 0 ? "Adjustment (credit)" : "Adjustment (debit)",
                  nullptr, nullptr);

    static Statement wallet_row = {"SELECT w FROM number_wallet.wallets w WHERE id = $1", 1, {UUIDOID}, nullptr};
    Datum values[1] = {UUIDPGetDatum(wallet_id)};
    Execute(&wallet_row, values, nullptr, false, 1, SPI_OK_SELECT);
    // Copy the composite out of SPI's memory before SPI_finish frees it.
    Datum row = SPI_datumTransfer(ResultDatum(0, 1), false, -1);
    SPI_finish();
    PG_RETURN_DATUM(row);
}

}  // namespace nw

extern "C" Datum nw_wallet_credit(PG_FUNCTION_ARGS)
{
    return nw::WalletCredit(fcinfo);
}
extern "C" Datum nw_update_wallet_balance_atomic(PG_FUNCTION_ARGS)
{
    return nw::UpdateWalletBalanceAtomic(fcinfo);
}
