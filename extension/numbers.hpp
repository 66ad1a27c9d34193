// Reading and locking business_numbers rows (glue side).
#pragma once

#include "ledger.hpp"
#include "pg.hpp"

namespace nw {

// A number row as the state machine needs it. Datums are valid until SPI_finish.
struct NumberRow {
    bool found;
    pg_uuid_t id;
    pg_uuid_t user_id;
    char status[12];
    char currency[4];
    char *phone_number;
    char *twilio_sid;    // nullptr when null
    Datum monthly_cost;  // numeric
    bool has_purchase_date;
    TimestampTz purchase_date;
    bool has_paid_until;
    TimestampTz paid_until;
    int refund_window_days;  // -1 when not yet snapshotted
    bool provider_released;
    TimestampTz provider_released_at;
    TimestampTz released_at;
};

// Reads the row without a lock (to learn its owner before locking the wallet).
// read_only: run the read as a read-only SPI query (in the calling
// statement's snapshot), for STABLE callers such as refund_quote.
NumberRow ReadNumber(const pg_uuid_t *number_id, bool read_only = false);
// SELECT ... FOR UPDATE: only after the owner's wallet is locked (lock order).
NumberRow LockNumber(const pg_uuid_t *number_id);

// The number's id as text (palloc'd).
char *UuidText(const pg_uuid_t *id);

bool StatusIs(const NumberRow &row, const char *status);

// NW003. A number that does not exist and one that is not the caller's look the same.
pg_attribute_noreturn() void RaiseNumberNotFound(void);

// The number's purchase entry; for a number import_seed adopted (paid in the
// seed deployment, no purchase entry), its monthly cost in its currency stands
// for one. Release refunds, refund quotes and operator releases all use it.
NumberEntry PurchaseEntryOf(const pg_uuid_t *number_id, const NumberRow &row, bool read_only);

}  // namespace nw
