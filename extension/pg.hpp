// PostgreSQL headers for the extension's glue code, and the glue helpers every
// SQL-callable function shares.
//
// Files that include this header are the "C side" of the boundary described
// in core/guard.hpp: their functions may ereport(ERROR), so they keep only
// plain-old-data on the stack (no std::string, no RAII objects) and call into
// throwing C++ only through nw::RunGuarded.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

#include "core/guard.hpp"

namespace nw {

// --- errors ---------------------------------------------------------------

// The contract's SQLSTATEs (docs/sql-api.md "Errors").
#define NW_INSUFFICIENT_BALANCE MAKE_SQLSTATE('N', 'W', '0', '0', '1')
#define NW_NUMBER_HELD MAKE_SQLSTATE('N', 'W', '0', '0', '2')
#define NW_NOT_FOUND MAKE_SQLSTATE('N', 'W', '0', '0', '3')
#define NW_INVALID_STATE MAKE_SQLSTATE('N', 'W', '0', '0', '4')
#define NW_RATE_LIMITED MAKE_SQLSTATE('N', 'W', '0', '0', '5')
#define NW_IDEMPOTENCY_MISMATCH MAKE_SQLSTATE('N', 'W', '0', '0', '6')

// Raises a failed Outcome as an ERROR. Call only from glue (no C++ objects alive).
void RaiseOutcome(const Outcome &outcome);

// 22023 with the given message.
pg_attribute_noreturn() void RaiseInvalid(const char *message);

// --- arguments ------------------------------------------------------------

// The argument as a NUL-terminated string (palloc'd), or nullptr when NULL.
char *TextArg(FunctionCallInfo fcinfo, int n);

// Required arguments: a NULL is 22023 naming the parameter.
pg_uuid_t *RequiredUuidArg(FunctionCallInfo fcinfo, int n, const char *name);
char *RequiredTextArg(FunctionCallInfo fcinfo, int n, const char *name);

// Validates a numeric argument as a money amount (docs/sql-api.md "Input") and
// returns it as a numeric Datum rounded to two decimals, with its minor units.
Datum RequiredAmountArg(FunctionCallInfo fcinfo, int n, const char *name, bool allow_negative, int64 *cents);

// Validates a currency argument ("USD" or "INR").
char *RequiredCurrencyArg(FunctionCallInfo fcinfo, int n, const char *name);

// --- SPI ------------------------------------------------------------------

// A statement prepared once per backend (SPI_prepare + SPI_keepplan) on first
// use. The SQL is constant text with $n parameters; no value is ever spliced in.
struct Statement {
    const char *sql;
    int nargs;
    Oid argtypes[9];
    SPIPlanPtr plan;
};

// Executes a prepared statement; fails with an internal error unless SPI
// answers `expected` (SPI_OK_SELECT, SPI_OK_UPDATE_RETURNING, ...).
void Execute(Statement *statement, Datum *values, const char *nulls, bool read_only, long count, int expected);

// Execute, with a violation of the unique constraint or index named
// `constraint` reported as `sqlstate` and `message` instead of 23505; any
// other error, other unique violations included, is raised as it is (the
// transaction aborts either way; nothing goes on after).
void ExecuteMappingUniqueViolation(Statement *statement, Datum *values, const char *nulls, long count, int expected,
                                   const char *constraint, int sqlstate, const char *message);

// Column accessors on the first result row (SPI_tuptable).
bool ResultIsNull(int row, int column);
Datum ResultDatum(int row, int column);
char *ResultText(int row, int column);  // output function text, or nullptr for NULL

// --- JSON results ---------------------------------------------------------

// Builds a jsonb object as text in the caller's memory context, so it survives
// SPI_finish; Finish() parses it into jsonb.
struct JsonObject {
    StringInfoData buf;
    bool first;
};
void JsonBegin(JsonObject *json);
void JsonText(JsonObject *json, const char *key, const char *value);  // nullptr -> null
void JsonBool(JsonObject *json, const char *key, bool value);
void JsonInt(JsonObject *json, const char *key, int64 value);
void JsonNull(JsonObject *json, const char *key);
void JsonTimestamp(JsonObject *json, const char *key, Datum timestamptz, bool isnull);
void JsonRaw(JsonObject *json, const char *key, const char *raw_json);
char *JsonEnd(JsonObject *json);  // returns the text
Datum JsonbFromText(const char *text);
// SPI_finish, then the jsonb of the object: the usual end of a function.
Datum FinishJson(JsonObject *json);

// RFC 3339 UTC ("2026-11-25T03:57:24.5Z") into buf.
void FormatTimestampUtc(TimestampTz ts, char *buf, size_t size);

}  // namespace nw
