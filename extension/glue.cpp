// Glue helpers shared by the SQL-callable functions; see pg.hpp.
#include "pg.hpp"

extern "C" {
#include "utils/json.h"
}

#include "core/validation.hpp"

namespace nw {

void RaiseOutcome(const Outcome &outcome)
{
    const char *s = outcome.sqlstate;
    const int code = MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
    if (outcome.detail[0] != '\0')
        ereport(ERROR, (errcode(code), errmsg("%s", outcome.message), errdetail("%s", outcome.detail)));
    ereport(ERROR, (errcode(code), errmsg("%s", outcome.message)));
}

void RaiseInvalid(const char *message)
{
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", message)));
}

char *TextArg(FunctionCallInfo fcinfo, int n)
{
    if (PG_ARGISNULL(n))
        return nullptr;
    return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

pg_uuid_t *RequiredUuidArg(FunctionCallInfo fcinfo, int n, const char *name)
{
    if (PG_ARGISNULL(n))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must not be null", name)));
    return PG_GETARG_UUID_P(n);
}

char *RequiredTextArg(FunctionCallInfo fcinfo, int n, const char *name)
{
    char *value = TextArg(fcinfo, n);
    if (value == nullptr)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must not be null", name)));
    return value;
}

Datum RequiredAmountArg(FunctionCallInfo fcinfo, int n, const char *name, bool allow_negative, int64 *cents)
{
    if (PG_ARGISNULL(n))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s must not be null", name)));
    const char *text = DatumGetCString(DirectFunctionCall1(numeric_out, PG_GETARG_DATUM(n)));
    Cents parsed = 0;
    Outcome outcome = RunGuarded("amount", [&](Outcome *out) {
        const Refusal refusal = ParseAmount(text, allow_negative, &parsed);
        if (refusal.refused)
            SetFailure(out, "22023", refusal.message.c_str(), "");
    });
    if (!outcome.ok && allow_negative) {
        // A signed amount (update_wallet_balance_atomic): negative debits, so
        // "positive" would name the wrong rule; say what a signed amount needs.
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid %s", name),
                        errdetail("The %s must be a non-zero amount (negative to debit, positive to credit) whose "
                                  "magnitude is below 1000000000000, with at most two decimal places; got \"%s\" (%s).",
                                  name, text, outcome.message)));
    }
    if (!outcome.ok) {
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid %s", name),
                        errdetail("The %s must be a positive amount below 1000000000000 with at most two "
                                  "decimal places; got \"%s\" (%s).",
                                  name, text, outcome.message)));
    }
    *cents = parsed;
    // Re-render with exactly two decimals so every stored and returned amount has scale 2.
    char canonical[32];
    const int64 magnitude = parsed < 0 ? -parsed : parsed;
    snprintf(canonical, sizeof canonical, "%s" INT64_FORMAT ".%02d", parsed < 0 ? "-" : "", magnitude / 100,
             (int) (magnitude % 100));
    return DirectFunctionCall3(numeric_in, CStringGetDatum(canonical), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

char *RequiredCurrencyArg(FunctionCallInfo fcinfo, int n, const char *name)
{
    char *value = RequiredTextArg(fcinfo, n, name);
    if (!IsCurrency(value))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unsupported currency"),
                        errdetail("The %s must be \"USD\" or \"INR\".", name)));
    return value;
}

void Execute(Statement *statement, Datum *values, const char *nulls, bool read_only, long count, int expected)
{
    if (statement->plan == nullptr) {
        // Generic plans: every statement is a keyed lookup whose best plan does
        // not depend on the values, and custom plans would re-plan each call.
        SPIPlanPtr plan =
            SPI_prepare_cursor(statement->sql, statement->nargs, statement->argtypes, CURSOR_OPT_GENERIC_PLAN);
        if (plan == nullptr)
            elog(ERROR, "could not prepare number_wallet statement: %s", SPI_result_code_string(SPI_result));
        if (SPI_keepplan(plan) != 0)
            elog(ERROR, "could not keep number_wallet statement");
        statement->plan = plan;
    }
    const int rc = SPI_execute_plan(statement->plan, values, nulls, read_only, count);
    if (rc != expected)
        elog(ERROR, "number_wallet statement returned %s, expected %s", SPI_result_code_string(rc),
             SPI_result_code_string(expected));
}

void ExecuteMappingUniqueViolation(Statement *statement, Datum *values, const char *nulls, long count, int expected,
                                   const char *constraint, int sqlstate, const char *message)
{
    MemoryContext context = CurrentMemoryContext;
    PG_TRY();
    {
        Execute(statement, values, nulls, false, count, expected);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(context);
        ErrorData *error = CopyErrorData();
        if (error->sqlerrcode != ERRCODE_UNIQUE_VIOLATION || error->constraint_name == nullptr ||
            strcmp(error->constraint_name, constraint) != 0)
            PG_RE_THROW();
        // Re-raised at once: no database work continues after the caught error.
        FlushErrorState();
        ereport(ERROR, (errcode(sqlstate), errmsg("%s", message)));
    }
    PG_END_TRY();
}

bool ResultIsNull(int row, int column)
{
    bool isnull = false;
    (void) SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, &isnull);
    return isnull;
}

Datum ResultDatum(int row, int column)
{
    bool isnull = false;
    Datum value = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column, &isnull);
    if (isnull)
        elog(ERROR, "unexpected null in column %d of a number_wallet statement", column);
    return value;
}

char *ResultText(int row, int column)
{
    return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column);
}

void JsonBegin(JsonObject *json)
{
    initStringInfo(&json->buf);
    appendStringInfoChar(&json->buf, '{');
    json->first = true;
}

static void JsonKey(JsonObject *json, const char *key)
{
    if (!json->first)
        appendStringInfoString(&json->buf, ", ");
    json->first = false;
    escape_json(&json->buf, key);
    appendStringInfoString(&json->buf, ": ");
}

void JsonText(JsonObject *json, const char *key, const char *value)
{
    JsonKey(json, key);
    if (value == nullptr)
        appendStringInfoString(&json->buf, "null");
    else
        escape_json(&json->buf, value);
}

void JsonBool(JsonObject *json, const char *key, bool value)
{
    JsonKey(json, key);
    appendStringInfoString(&json->buf, value ? "true" : "false");
}

void JsonInt(JsonObject *json, const char *key, int64 value)
{
    JsonKey(json, key);
    appendStringInfo(&json->buf, INT64_FORMAT, value);
}

void JsonNull(JsonObject *json, const char *key)
{
    JsonKey(json, key);
    appendStringInfoString(&json->buf, "null");
}

void JsonTimestamp(JsonObject *json, const char *key, Datum timestamptz, bool isnull)
{
    if (isnull) {
        JsonNull(json, key);
        return;
    }
    char text[64];
    FormatTimestampUtc(DatumGetTimestampTz(timestamptz), text, sizeof text);
    JsonText(json, key, text);
}

void JsonRaw(JsonObject *json, const char *key, const char *raw_json)
{
    JsonKey(json, key);
    appendStringInfoString(&json->buf, raw_json);
}

char *JsonEnd(JsonObject *json)
{
    appendStringInfoChar(&json->buf, '}');
    return json->buf.data;
}

Datum JsonbFromText(const char *text)
{
    return DirectFunctionCall1(jsonb_in, CStringGetDatum(text));
}

Datum FinishJson(JsonObject *json)
{
    SPI_finish();
    return JsonbFromText(JsonEnd(json));
}

void FormatTimestampUtc(TimestampTz ts, char *buf, size_t size)
{
    struct pg_tm tm;
    fsec_t fsec = 0;
    if (TIMESTAMP_NOT_FINITE(ts) || timestamp2tm(ts, nullptr, &tm, &fsec, nullptr, nullptr) != 0)
        ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
    int len = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour,
                       tm.tm_min, tm.tm_sec);
    if (fsec != 0 && len > 0 && (size_t) len < size) {
        len += snprintf(buf + len, size - len, ".%06d", (int) fsec);
        // Trim trailing zeros of the fraction: .500000 -> .5
        while (len > 0 && buf[len - 1] == '0')
            buf[--len] = '\0';
    }
    if (len > 0 && (size_t) len + 1 < size) {
        buf[len] = 'Z';
        buf[len + 1] = '\0';
    }
}

}  // namespace nw
