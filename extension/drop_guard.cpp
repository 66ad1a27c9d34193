// number_wallet.drop_guard(): an event trigger (ddl_command_start on DROP
// EXTENSION) that refuses a plain `DROP EXTENSION number_wallet` while the
// ledger holds rows. Dropping the extension drops its tables with every row,
// the ledger included, without a word; an operator who means it says so with
// CASCADE (the same word PostgreSQL asks for when other objects would go too).
//
// It runs at ddl_command_start because only then do the tables still exist:
// an sql_drop trigger that belongs to the extension is itself dropped by the
// command and never fires. The parse tree names the extensions being dropped,
// so other extensions are never affected.
#include "pg.hpp"

extern "C" {
#include "commands/event_trigger.h"
#include "nodes/parsenodes.h"
#include "nodes/value.h"
PG_FUNCTION_INFO_V1(nw_drop_guard);
}

namespace nw {

static bool NamesThisExtension(const DropStmt *stmt)
{
    ListCell *cell;
    foreach (cell, stmt->objects) {
        const Node *name = (const Node *) lfirst(cell);
        if (IsA(name, String) && strcmp(strVal(name), "number_wallet") == 0)
            return true;
    }
    return false;
}

static Datum DropGuard(FunctionCallInfo fcinfo)
{
    if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("drop_guard must be fired as an event trigger")));
    const EventTriggerData *data = (const EventTriggerData *) fcinfo->context;
    if (data->parsetree == nullptr || !IsA(data->parsetree, DropStmt))
        PG_RETURN_VOID();
    const DropStmt *stmt = (const DropStmt *) data->parsetree;
    if (stmt->removeType != OBJECT_EXTENSION || stmt->behavior == DROP_CASCADE || !NamesThisExtension(stmt))
        PG_RETURN_VOID();

    SPI_connect();
    // to_regclass: a half-installed or damaged schema must not block the drop.
    const int rc = SPI_execute("SELECT CASE WHEN pg_catalog.to_regclass('number_wallet.transactions') IS NULL THEN 0"
                               " ELSE (SELECT pg_catalog.count(*) FROM number_wallet.transactions) END",
                               true, 1);
    if (rc != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "could not count the ledger's rows: %s", SPI_result_code_string(rc));
    const int64 rows = DatumGetInt64(ResultDatum(0, 1));
    SPI_finish();
    if (rows > 0)
        ereport(ERROR,
                (errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
                 errmsg("cannot drop extension number_wallet while its ledger holds " INT64_FORMAT " entries", rows),
                 errdetail("Dropping the extension drops number_wallet.transactions, wallets, "
                           "business_numbers and discrepancies with every row."),
                 errhint("To keep the rows, dump the database first (pg_dump keeps the extension's rows). "
                         "To drop them anyway, use DROP EXTENSION number_wallet CASCADE.")));
    PG_RETURN_VOID();
}

}  // namespace nw

extern "C" Datum nw_drop_guard(PG_FUNCTION_ARGS)
{
    return nw::DropGuard(fcinfo);
}
