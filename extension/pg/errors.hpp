// Raising the contract's errors from glue code (docs/sql-api.md "Errors").
#pragma once

#include "pg/postgres.hpp"

#include "core/guard.hpp"

namespace nw {

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

}  // namespace nw
