// See failover.hpp.
#include "db/failover.hpp"

#include <algorithm>

namespace nw::db {

const char *FateName(Fate fate)
{
    switch (fate) {
    case Fate::kDone:
        return "done";
    case Fate::kNotSent:
        return "not_sent";
    case Fate::kReadOnly:
        return "read_only";
    case Fate::kRolledBack:
        return "rolled_back";
    case Fate::kUnknown:
        return "unknown";
    }
    return "unknown";
}

Fate Classify(const Attempt &a)
{
    if (!a.connected || !a.sent)
        return Fate::kNotSent;
    if (a.answered)
        return Fate::kDone;
    // 25006 read_only_sql_transaction: the server refused the write before
    // doing it, whatever happens to the connection afterwards.
    if (a.sqlstate == "25006")
        return Fate::kReadOnly;
    // An ERROR on a connection that is still fine ends the implicit transaction
    // with a rollback. Class 08 and the shutdown states come with a broken
    // connection, but are checked by name too: they say nothing of the COMMIT.
    const bool connection_error =
        a.sqlstate.rfind("08", 0) == 0 || a.sqlstate == "57P01" || a.sqlstate == "57P02" || a.sqlstate == "57P03";
    if (a.connection_ok && !a.sqlstate.empty() && !connection_error)
        return Fate::kRolledBack;
    return Fate::kUnknown;
}

bool IsRetryableRollback(const std::string &s)
{
    return s == "40001" || s == "40P01" || s == "55P03" || s == "57014" || s == "53300";
}

namespace {

// 100 ms, 200 ms, 400 ms, ... at most 1 s between looks for a primary.
std::chrono::milliseconds Backoff(int attempt)
{
    const int shift = std::min(attempt - 1, 4);
    return std::min(std::chrono::milliseconds(100 << shift), std::chrono::milliseconds(1000));
}

}  // namespace

Decision Decide(Fate fate, const std::string &sqlstate, const RetryPolicy &policy, int attempt,
                std::chrono::milliseconds elapsed)
{
    Decision d;
    switch (fate) {
    case Fate::kDone:
        return d;
    case Fate::kRolledBack:
        if (IsRetryableRollback(sqlstate) && attempt < policy.rollback_attempts) {
            d.retry = true;
            d.delay = std::chrono::milliseconds(25 * attempt * attempt);
        }
        d.report_sqlstate = sqlstate;
        return d;
    case Fate::kUnknown:
        if (!policy.repeatable) {
            // Never run again blindly: the caller answers 503.
            d.report_sqlstate = kFateUnknownState;
            return d;
        }
        [[fallthrough]];
    case Fate::kNotSent:
    case Fate::kReadOnly: {
        const auto delay = Backoff(attempt);
        if (elapsed + delay < policy.failover_wait) {
            d.retry = true;
            d.delay = delay;
        }
        d.report_sqlstate = fate == Fate::kUnknown    ? kFateUnknownState
                            : fate == Fate::kReadOnly ? std::string("25006")
                                                      : (sqlstate.empty() ? kUnreachableState : sqlstate);
        return d;
    }
    }
    return d;
}

}  // namespace nw::db
