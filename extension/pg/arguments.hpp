// Reading and validating SQL function arguments (NULL and bad input are 22023).
#pragma once

#include "pg/postgres.hpp"

namespace nw {

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

}  // namespace nw
