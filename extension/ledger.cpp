// See ledger.hpp.
#include "ledger.hpp"

namespace nw {

// lock_by_user's and lock_by_id's columns, in their order (SPI counts from 1).
enum LockedWalletColumn { kWalletId = 1, kWalletBalance, kWalletSufficient };

static Statement lock_by_user = {"SELECT id, CASE WHEN $2 = 'USD' THEN balance_usd ELSE balance_inr END,"
                                 "       CASE WHEN $2 = 'USD' THEN balance_usd ELSE balance_inr END + $3 >= 0"
                                 "  FROM number_wallet.wallets WHERE user_id = $1 FOR UPDATE",
                                 3,
                                 {UUIDOID, TEXTOID, NUMERICOID},
                                 nullptr};

static Statement lock_by_id = {"SELECT id, CASE WHEN $2 = 'USD' THEN balance_usd ELSE balance_inr END,"
                               "       CASE WHEN $2 = 'USD' THEN balance_usd ELSE balance_inr END + $3 >= 0"
                               "  FROM number_wallet.wallets WHERE id = $1 FOR UPDATE",
                               3,
                               {UUIDOID, TEXTOID, NUMERICOID},
                               nullptr};

static Statement create_wallet = {
    "INSERT INTO number_wallet.wallets (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING", 1, {UUIDOID}, nullptr};

// One statement: the balance and the ledger row change together.
enum AppliedColumn { kAppliedId = 1, kAppliedBalanceAfter };

static Statement apply = {
    "WITH w AS ("
    "  UPDATE number_wallet.wallets"
    "     SET balance_usd = balance_usd + CASE WHEN $2 = 'USD' THEN $3 ELSE 0 END,"
    "         balance_inr = balance_inr + CASE WHEN $2 = 'INR' THEN $3 ELSE 0 END,"
    "         updated_at = statement_timestamp()"
    "   WHERE id = $1"
    "   RETURNING id, user_id, CASE WHEN $2 = 'USD' THEN balance_usd ELSE balance_inr END AS balance)"
    "INSERT INTO number_wallet.transactions"
    "  (wallet_id, user_id, type, kind, amount, currency, balance_after, description, number_id, idempotency_key)"
    "SELECT w.id, w.user_id, CASE WHEN $3 > 0 THEN 'CREDIT' ELSE 'DEBIT' END, $4, abs($3), $2, w.balance,"
    "       $5, $6, $7 FROM w "
    "RETURNING id, balance_after",
    7,
    {UUIDOID, TEXTOID, NUMERICOID, TEXTOID, TEXTOID, UUIDOID, TEXTOID},
    nullptr};

// A number's purchase, reversal or refund entry (the only kinds asked for). The
// kind list repeats the predicate of the partial unique index
// transactions_one_per_number: the plan is generic (pg/spi.cpp), and without
// it the planner cannot prove that `kind = $2` falls inside the index, so it
// read the whole ledger for every refund_quote, release and failed purchase.
enum NumberEntryColumn { kEntryId = 1, kEntryAmount, kEntryBalanceAfter, kEntryCurrency };

static Statement number_entry = {"SELECT id, amount, balance_after, currency FROM number_wallet.transactions"
                                 " WHERE number_id = $1 AND kind = $2 AND kind IN ('purchase', 'reversal', 'refund')",
                                 2,
                                 {UUIDOID, TEXTOID},
                                 nullptr};

static LockedWallet ReadLockedWallet(void)
{
    LockedWallet wallet;
    memset(&wallet, 0, sizeof wallet);
    if (SPI_processed == 0)
        return wallet;
    wallet.found = true;
    memcpy(&wallet.id, DatumGetUUIDP(ResultDatum(0, kWalletId)), sizeof wallet.id);
    wallet.balance = ResultDatum(0, kWalletBalance);
    wallet.sufficient = DatumGetBool(ResultDatum(0, kWalletSufficient));
    return wallet;
}

LockedWallet LockWalletOfUser(const pg_uuid_t *user_id, const char *currency, Datum delta)
{
    Datum values[3] = {UUIDPGetDatum(user_id), CStringGetTextDatum(currency), delta};
    Execute(&lock_by_user, values, nullptr, false, 1, SPI_OK_SELECT);
    return ReadLockedWallet();
}

LockedWallet LockWalletById(const pg_uuid_t *wallet_id, const char *currency, Datum delta)
{
    Datum values[3] = {UUIDPGetDatum(wallet_id), CStringGetTextDatum(currency), delta};
    Execute(&lock_by_id, values, nullptr, false, 1, SPI_OK_SELECT);
    return ReadLockedWallet();
}

void EnsureWallet(const pg_uuid_t *user_id)
{
    Datum values[1] = {UUIDPGetDatum(user_id)};
    Execute(&create_wallet, values, nullptr, false, 0, SPI_OK_INSERT);
}

LedgerEntry ApplyToWallet(const pg_uuid_t *wallet_id, const char *currency, Datum signed_amount, const char *kind,
                          const char *description, const pg_uuid_t *number_id, const char *idempotency_key)
{
    Datum values[7] = {UUIDPGetDatum(wallet_id),
                       CStringGetTextDatum(currency),
                       signed_amount,
                       CStringGetTextDatum(kind),
                       CStringGetTextDatum(description),
                       number_id ? UUIDPGetDatum(number_id) : (Datum) 0,
                       idempotency_key ? CStringGetTextDatum(idempotency_key) : (Datum) 0};
    char nulls[8] = "       ";
    if (number_id == nullptr)
        nulls[5] = 'n';
    if (idempotency_key == nullptr)
        nulls[6] = 'n';
    Execute(&apply, values, nulls, false, 0, SPI_OK_INSERT_RETURNING);
    if (SPI_processed != 1)
        elog(ERROR, "wallet to apply a ledger entry to was not found");
    LedgerEntry entry;
    entry.transaction_id = DatumGetInt64(ResultDatum(0, kAppliedId));
    entry.balance_after = ResultDatum(0, kAppliedBalanceAfter);
    return entry;
}

NumberEntry FindNumberEntry(const pg_uuid_t *number_id, const char *kind, bool read_only)
{
    Datum values[2] = {UUIDPGetDatum(number_id), CStringGetTextDatum(kind)};
    Execute(&number_entry, values, nullptr, read_only, 1, SPI_OK_SELECT);
    NumberEntry entry;
    memset(&entry, 0, sizeof entry);
    if (SPI_processed == 0)
        return entry;
    entry.found = true;
    entry.transaction_id = DatumGetInt64(ResultDatum(0, kEntryId));
    entry.amount = ResultDatum(0, kEntryAmount);
    entry.balance_after = ResultDatum(0, kEntryBalanceAfter);
    snprintf(entry.currency, sizeof entry.currency, "%s", TextDatumGetCString(ResultDatum(0, kEntryCurrency)));
    return entry;
}

Datum NumericNegate(Datum value)
{
    return DirectFunctionCall1(numeric_uminus, value);
}

char *NumericText(Datum value)
{
    return DatumGetCString(DirectFunctionCall1(numeric_out, value));
}

}  // namespace nw
