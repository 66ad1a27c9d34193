// The settling halves of confirm_purchase and fail_purchase, shared with the
// operator actions force_confirm and force_fail (operator_functions.cpp).
// Called after the caller check and SPI_connect; they fill `json` with the
// answer's fields (not "replayed"), set *owner to the number's user and
// return whether the call was a replay (nothing changed).
#pragma once

#include "pg.hpp"

namespace nw {

// pending -> active under `sid`; a repeat with the same sid replays; NW003, NW004.
bool ConfirmPendingNumber(const pg_uuid_t *number_id, const char *sid, JsonObject *json, pg_uuid_t *owner);

// pending -> failed with a full reversal; a repeat replays; NW003, NW004.
bool FailPendingNumber(const pg_uuid_t *number_id, const char *reason, JsonObject *json, pg_uuid_t *owner);

}  // namespace nw
