// The wallet row and its ledger: the only code that changes a balance.
//
// Every balance change is one statement that updates the wallet and appends
// the ledger row together, so `balance = Σ credits − Σ debits` holds after
// every statement, and the wallet row lock (taken first, always) orders the
// entries of one wallet: ids increase in the order entries were applied.
#pragma once

#include "pg.hpp"

namespace nw {

struct LockedWallet {
    bool found;
    pg_uuid_t id;
    Datum balance;    // numeric, in the currency asked for (valid until SPI_finish)
    bool sufficient;  // balance + delta >= 0
};

// SELECT ... FOR UPDATE on the user's wallet. delta (numeric) may be 0.
LockedWallet LockWalletOfUser(const pg_uuid_t *user_id, const char *currency, Datum delta);
LockedWallet LockWalletById(const pg_uuid_t *wallet_id, const char *currency, Datum delta);

// Creates the user's wallet if missing (concurrent creators are fine).
void EnsureWallet(const pg_uuid_t *user_id);

struct LedgerEntry {
    int64 transaction_id;
    Datum balance_after;  // numeric (valid until SPI_finish)
};

// Applies a signed amount (numeric; > 0 is a CREDIT, < 0 a DEBIT) to a locked
// wallet and appends one ledger row of `kind`. number_id and idempotency_key
// may be null.
LedgerEntry ApplyToWallet(const pg_uuid_t *wallet_id, const char *currency, Datum signed_amount, const char *kind,
                          const char *description, const pg_uuid_t *number_id, const char *idempotency_key);

struct NumberEntry {
    bool found;
    int64 transaction_id;
    Datum amount;         // numeric
    Datum balance_after;  // numeric
    char currency[4];
};

// The number's ledger entry of `kind` (purchase, reversal or refund: at most one each).
NumberEntry FindNumberEntry(const pg_uuid_t *number_id, const char *kind, bool read_only = false);

// Numeric helpers (glue side).
Datum NumericNegate(Datum value);
char *NumericText(Datum value);

}  // namespace nw
