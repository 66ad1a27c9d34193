// Timestamps as the API writes them.
#include "pg/times.hpp"

namespace nw {

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
