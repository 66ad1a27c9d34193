// Timestamps as the API writes them.
#pragma once

#include "pg/postgres.hpp"

namespace nw {

// RFC 3339 UTC ("2026-11-25T03:57:24.5Z") into buf.
void FormatTimestampUtc(TimestampTz ts, char *buf, size_t size);

}  // namespace nw
