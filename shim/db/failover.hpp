// What a failed database call means, and whether to run it again: the pure
// part of the pool's failover handling (no libpq here), unit-tested on its own.
//
// Every statement runs as one implicit transaction. After a call fails, its
// transaction either surely did not commit (it was never sent, the server
// refused it as read-only, or the server answered an error on a connection
// that is still fine) or its fate is unknown (the connection broke after the
// statement was sent: it may have committed, even if only on a primary that
// is gone). An unknown fate is never retried blindly: only a statement that is
// safe to repeat (it replays under an idempotency key, or repeating it is a
// replay by the SQL contract) runs again, and it then answers what the first
// run did.
#pragma once

#include <chrono>
#include <string>

namespace nw::db {

enum class Fate {
    kDone,        // the statement ran and answered
    kNotSent,     // no connection, or it broke before the statement went out: nothing ran
    kReadOnly,    // the server refused the write (a standby, or a primary being demoted): nothing ran
    kRolledBack,  // the server answered an error on a healthy connection: the transaction rolled back
    kUnknown,     // the connection broke after the statement was sent: it may have committed
};

const char *FateName(Fate fate);

// What one attempt looked like from the client's side.
struct Attempt {
    bool connected = false;      // a connection to a writable server was open
    bool sent = false;           // the statement itself was handed to the server
    bool answered = false;       // a successful result came back
    std::string sqlstate;        // the error's SQLSTATE, "" when the server sent none
    bool connection_ok = false;  // the connection was still usable after the call
};

Fate Classify(const Attempt &attempt);

// SQLSTATE reported when a call's fate is unknown: transaction_resolution_unknown.
inline constexpr const char *kFateUnknownState = "08007";
// SQLSTATE reported when no writable server could be reached in time.
inline constexpr const char *kUnreachableState = "08006";

// Errors after which the transaction surely rolled back and a new attempt on
// the same server may well succeed (serialization failure, deadlock, lock
// timeout, statement cancelled, too many connections).
bool IsRetryableRollback(const std::string &sqlstate);

struct RetryPolicy {
    bool repeatable = false;                         // the statement is safe to run twice
    std::chrono::milliseconds failover_wait{40000};  // how long to wait for a writable primary
    int rollback_attempts = 4;                       // attempts for IsRetryableRollback errors
};

struct Decision {
    bool retry = false;
    std::chrono::milliseconds delay{0};  // before the next attempt
    std::string report_sqlstate;         // when !retry and the call failed: what the caller is told
};

// attempt counts from 1; elapsed is the time since the first attempt began.
Decision Decide(Fate fate, const std::string &sqlstate, const RetryPolicy &policy, int attempt,
                std::chrono::milliseconds elapsed);

}  // namespace nw::db
