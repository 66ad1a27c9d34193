// A libpq connection pool with statements prepared once per connection.
//
// DATABASE_URL may name several hosts (`host=a,b,c` or
// `postgresql://a,b,c/db?target_session_attrs=read-write`): libpq picks the
// writable one at connect time. When a call finds its server gone or
// read-only, the pool drops that connection and every idle one, and looks for
// the (new) primary again, for up to the failover wait. A call whose fate is
// unknown (the connection broke after it was sent) runs again only when its
// Statement is Repeat::kSafe; else it fails with 08007 and the caller answers
// 503 (db/failover.hpp has the rules). A call that surely rolled back on a
// transient error (serialization failure, deadlock, lock timeout, cancel) is
// retried a few times before the caller sees it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "db/failover.hpp"

struct pg_conn;

namespace nw::db {

using Value = std::optional<std::string>;
using Params = std::vector<Value>;

// Whether a statement may run again after a call whose fate is unknown.
// kSafe: running it twice does what running it once did (a read, a state
// change the SQL contract replays, a call that carries an idempotency key), so
// after a failover it runs again even when its first run may have committed.
// kUnsafe: anything else; such a call fails with 08007 instead (a 503).
enum class Repeat { kSafe, kUnsafe };

// Constant SQL with $n parameters; `name` identifies the prepared statement.
// Every statement states its Repeat: there is no default to forget.
struct Statement {
    constexpr Statement(const char *name_, const char *sql_, Repeat repeat_) : name(name_), sql(sql_), repeat(repeat_)
    {
    }
    const char *name;
    const char *sql;
    Repeat repeat;

    bool safe_to_repeat() const { return repeat == Repeat::kSafe; }
};

struct Error {
    std::string sqlstate;  // "08006" when the database could not be reached
    std::string message;
    std::string detail;
};

struct Result {
    bool ok = false;
    std::vector<std::vector<Value>> rows;
    Error error;
    // An earlier attempt of this call broke after it was sent: a "replayed"
    // answer may be this very call's own first run, committed just before a
    // failover.
    bool after_unknown = false;

    const Value &At(std::size_t row, std::size_t column) const { return rows.at(row).at(column); }
    std::string Text(std::size_t row, std::size_t column) const { return At(row, column).value_or(""); }
};

// Transient SQLSTATEs (docs/sql-api.md "Errors"; 08007 when a call's fate is
// unknown, 25006 when only a read-only server answered): reported as 503.
bool IsTransient(const std::string &sqlstate);

// The keywords and values the shim passes to PQconnectdbParams (with
// expand_dbname): DATABASE_URL whole as "dbname" (a postgresql:// URI, a
// key=value string or a bare database name), so every option in it reaches
// libpq (sslmode, target_session_attrs, ...), then only what the shim must add:
// `-c number_wallet.provider=<provider>` appended to the URL's own `options`,
// and application_name / connect_timeout when neither the URL nor the
// environment (PGAPPNAME, PGCONNECT_TIMEOUT) sets them.
struct ConnectParams {
    std::vector<std::string> keys;
    std::vector<std::string> values;
};
// Throws std::runtime_error when libpq cannot parse DATABASE_URL (an unknown
// option, a malformed URI): a start-up error, never an option silently dropped.
// The message never contains the password.
ConnectParams BuildConnectParams(const std::string &database_url, const std::string &provider);

// One connection (not thread-safe); used by the pool and, alone, by the
// reconciler for its session-level advisory lock.
class Connection {
public:
    // Throws as BuildConnectParams does.
    Connection(std::string conninfo, std::string provider);
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    // One attempt; reconnects first when the connection is down (or, idle,
    // has been closed by its server). `attempt`, when given, says how far the
    // call got (db/failover.hpp's Classify reads it).
    Result Exec(const Statement &statement, const Params &params, Attempt *attempt = nullptr);
    bool Healthy() const;
    // "host:port" of the server this connection talks to ("" when none).
    const std::string &node() const { return node_; }

private:
    bool EnsureConnected(Error *error);
    bool ClosedByServer();
    std::string conninfo_;
    std::string provider_;
    ConnectParams params_;
    pg_conn *conn_ = nullptr;
    std::set<std::string> prepared_;
    std::string node_;
};

class Pool {
public:
    // Checks the conninfo at once (throws as BuildConnectParams does); connects lazily.
    Pool(std::string conninfo, int size, std::string provider);
    ~Pool();

    // Runs a statement on a free connection: retries what surely rolled back
    // on a transient error, and waits up to failover_wait() for a writable
    // primary when the server is gone (see the top of this file).
    Result Exec(const Statement &statement, const Params &params);
    // The same with another bound on the wait for a primary.
    Result ExecWithin(const Statement &statement, const Params &params, std::chrono::milliseconds wait);
    // One quick look (at most about 2 s): is a writable primary reachable?
    bool Ping();
    const std::string &conninfo() const { return conninfo_; }
    const std::string &provider() const { return provider_; }
    void set_failover_wait(std::chrono::milliseconds wait) { failover_wait_ = wait; }
    std::chrono::milliseconds failover_wait() const { return failover_wait_; }
    // "host:port" of the server the last successful call ran on ("" before any).
    std::string Node();
    // A test seam (testing mode only, NW_TEST_FAULT_DROP_AFTER_COMMIT): the
    // next run of a statement named here that commits has its answer thrown
    // away and its connection closed, as when a server is lost right after a
    // COMMIT; the call then goes on as any call whose fate is unknown. Each
    // listed name fires once (list a name twice for two runs, e.g. a run and
    // its re-run).
    void set_drop_after_commit(const std::vector<std::string> &names);

private:
    std::unique_ptr<Connection> Acquire();
    void Release(std::unique_ptr<Connection> connection);
    // Closes a connection that failed, and every idle one (they point at the
    // same server, which is gone or no longer the primary).
    void Discard(std::unique_ptr<Connection> connection);
    // Takes one listed drop for this statement name; false when none is left.
    bool TakeDropAfterCommit(const std::string &name);

    std::string conninfo_;
    std::string provider_;
    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<Connection>> idle_;
    int size_;
    int open_ = 0;
    std::chrono::milliseconds failover_wait_{40000};
    std::string node_;
    std::multiset<std::string> drop_after_commit_;
    // Whether the seam was set at all: without it a call never takes the mutex
    // to look its name up (every database call of the shim passes here).
    std::atomic<bool> drop_after_commit_armed_{false};
};

}  // namespace nw::db
