// See audit.hpp.
#include "audit.hpp"

#include "caller.hpp"
#include "settings.hpp"

extern "C" {
#include "miscadmin.h"
#include "utils/guc_tables.h"
}

#include "core/validation.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(nw_audit_write);
}

namespace nw {

static Statement insert_audit = {"INSERT INTO number_wallet.audit_log"
                                 "  (actor, action, number_id, user_id, discrepancy_id, reason, request_id, detail)"
                                 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) RETURNING id",
                                 8,
                                 {TEXTOID, TEXTOID, UUIDOID, UUIDOID, INT8OID, TEXTOID, TEXTOID, TEXTOID},
                                 nullptr};

void RequireReason(const char *reason, const char *name)
{
    bool ok = false;
    if (reason != nullptr) {
        Outcome outcome = RunGuarded("reason", [&](Outcome *) { ok = IsOperatorReason(reason); });
        if (!outcome.ok)
            RaiseOutcome(outcome);
    }
    if (!ok)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s must be 1 to %d characters", name, static_cast<int>(kMaxReasonChars)),
                        errdetail("Every operator action records why it was taken."),
                        errhint("Give a reason that is not blank and has no control characters but newlines.")));
}

// The setting's record, to learn who set its current value and how.
static struct config_generic *FindSetting(const char *name)
{
    struct config_generic **settings = get_guc_variables();
    const int count = GetNumConfigOptions();
    for (int i = 0; i < count; ++i)
        if (strcmp(settings[i]->name, name) == 0)
            return settings[i];
    return nullptr;
}

// The value of an audit setting when a service role set it in this session
// (SET, SET LOCAL or set_config), else nullptr.
static const char *HonouredSetting(const char *name, const char *value)
{
    if (value == nullptr || value[0] == '\0')
        return nullptr;
    struct config_generic *record = FindSetting(name);
    if (record == nullptr || record->source != PGC_S_SESSION || !RoleIsService(record->srole))
        return nullptr;
    return value;
}

int64 WriteAudit(const AuditEntry &entry, const char *detail_json)
{
    const char *actor = HonouredSetting("number_wallet.actor", audit_actor_setting);
    if (actor == nullptr)
        actor = GetUserNameFromId(GetSessionUserId(), false);
    const char *request_id = HonouredSetting("number_wallet.request_id", audit_request_id_setting);
    Datum values[8] = {CStringGetTextDatum(actor),
                       CStringGetTextDatum(entry.action),
                       entry.number_id ? UUIDPGetDatum(entry.number_id) : (Datum) 0,
                       entry.user_id ? UUIDPGetDatum(entry.user_id) : (Datum) 0,
                       Int64GetDatum(entry.discrepancy_id),
                       CStringGetTextDatum(entry.reason),
                       request_id ? CStringGetTextDatum(request_id) : (Datum) 0,
                       CStringGetTextDatum(detail_json)};
    char nulls[9] = "        ";
    if (entry.number_id == nullptr)
        nulls[2] = 'n';
    if (entry.user_id == nullptr)
        nulls[3] = 'n';
    if (!entry.has_discrepancy)
        nulls[4] = 'n';
    if (request_id == nullptr)
        nulls[6] = 'n';
    Execute(&insert_audit, values, nulls, false, 0, SPI_OK_INSERT_RETURNING);
    if (SPI_processed != 1)
        elog(ERROR, "audit_log row was not written");
    return DatumGetInt64(ResultDatum(0, 1));
}

Datum FinishAudited(JsonObject *json, const AuditEntry &entry)
{
    const char *detail = psprintf("%s}", json->buf.data);
    const int64 audit_id = WriteAudit(entry, detail);
    JsonBool(json, "replayed", false);
    JsonInt(json, "audit_id", audit_id);
    return FinishJson(json);
}

Datum FinishReplayed(JsonObject *json)
{
    JsonBool(json, "replayed", true);
    JsonNull(json, "audit_id");
    return FinishJson(json);
}

// number_wallet._audit_write(action, number_id, user_id, discrepancy_id,
// reason, detail) (audit_write before 1.4): the audit row of the actions written in PL/pgSQL
// (resolve_discrepancy). Internal: EXECUTE is granted to nobody, so only the
// extension's SECURITY DEFINER functions reach it; the caller they were
// called by must still be the service role.
static Datum AuditWrite(FunctionCallInfo fcinfo)
{
    RequireService(CurrentCaller(), "_audit_write");
    const char *action = RequiredTextArg(fcinfo, 0, "p_action");
    AuditEntry entry = {action, nullptr, nullptr, false, 0, nullptr};
    if (!PG_ARGISNULL(1))
        entry.number_id = PG_GETARG_UUID_P(1);
    if (!PG_ARGISNULL(2))
        entry.user_id = PG_GETARG_UUID_P(2);
    if (!PG_ARGISNULL(3)) {
        entry.has_discrepancy = true;
        entry.discrepancy_id = PG_GETARG_INT64(3);
    }
    entry.reason = TextArg(fcinfo, 4);
    RequireReason(entry.reason, "p_reason");
    const char *detail = PG_ARGISNULL(5) ? "{}" : text_to_cstring(PG_GETARG_TEXT_PP(5));
    SPI_connect();
    const int64 id = WriteAudit(entry, detail);
    SPI_finish();
    PG_RETURN_INT64(id);
}

}  // namespace nw

extern "C" Datum nw_audit_write(PG_FUNCTION_ARGS)
{
    return nw::AuditWrite(fcinfo);
}
