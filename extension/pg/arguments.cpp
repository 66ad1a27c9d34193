// Reading and validating SQL function arguments (NULL and bad input are 22023).
#include "pg/arguments.hpp"

#include "core/validation.hpp"
#include "pg/errors.hpp"

namespace nw {

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
    if (!NW_NOTHROW(IsCurrency(value)))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("unsupported currency"),
                        errdetail("The %s must be \"USD\" or \"INR\".", name)));
    return value;
}

}  // namespace nw
