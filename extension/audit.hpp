// The audit trail of operator actions (docs/sql-api.md "Operator actions"):
// one number_wallet.audit_log row per action that changed something, written
// in the same transaction as the change. A repeat that changes nothing (a
// replay) writes no row.
//
// Who and which request: number_wallet.actor and number_wallet.request_id when
// a service caller set them in this session (the shim does, with SET LOCAL,
// for each HTTP request), else session_user and NULL. A value set by anyone
// else (an end user, before it could be refused) is ignored.
#pragma once

#include "pg.hpp"

namespace nw {

// 22023 unless `reason` is 1 to 500 characters (not blank); `name` is the
// parameter's name for the message.
void RequireReason(const char *reason, const char *name);

// What one audit_log row records besides the actor, request id and detail.
struct AuditEntry {
    const char *action;          // the function's name
    const pg_uuid_t *number_id;  // nullptr when none
    const pg_uuid_t *user_id;    // the number's owner, the wallet's user; nullptr when none
    bool has_discrepancy;
    int64 discrepancy_id;
    const char *reason;
};

// Appends the audit_log row (inside SPI); detail_json is a JSON object's text.
int64 WriteAudit(const AuditEntry &entry, const char *detail_json);

// The end of an operator action that changed something: the answer built so
// far becomes the row's detail, the row is written, and the answer gets
// "replayed": false and "audit_id". Calls SPI_finish.
Datum FinishAudited(JsonObject *json, const AuditEntry &entry);

// The end of a replay: "replayed": true, "audit_id": null. Calls SPI_finish.
Datum FinishReplayed(JsonObject *json);

}  // namespace nw
