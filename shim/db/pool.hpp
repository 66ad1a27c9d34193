// A libpq connection pool with statements prepared once per connection.
//
// Every call the shim makes is safe to repeat (the SQL functions replay, and
// the shim always passes an idempotency key), so a transient failure
// (serialization failure, deadlock, lock timeout, cancel, lost connection) is
// retried a few times before the caller sees it.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

struct pg_conn;

namespace nw::db {

using Value = std::optional<std::string>;
using Params = std::vector<Value>;

// Constant SQL with $n parameters; `name` identifies the prepared statement.
struct Statement {
    const char *name;
    const char *sql;
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

    const Value &At(std::size_t row, std::size_t column) const { return rows.at(row).at(column); }
    std::string Text(std::size_t row, std::size_t column) const { return At(row, column).value_or(""); }
};

// Transient SQLSTATEs (docs/sql-api.md "Errors"): retried, then reported as 503.
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

    // One attempt; reconnects first when the connection is down.
    Result Exec(const Statement &statement, const Params &params);
    bool Healthy() const;

private:
    bool EnsureConnected(Error *error);
    std::string conninfo_;
    std::string provider_;
    ConnectParams params_;
    pg_conn *conn_ = nullptr;
    std::set<std::string> prepared_;
};

class Pool {
public:
    // Checks the conninfo at once (throws as BuildConnectParams does); connects lazily.
    Pool(std::string conninfo, int size, std::string provider);
    ~Pool();

    // Runs a statement on a free connection, retrying transient failures.
    Result Exec(const Statement &statement, const Params &params);
    bool Ping();
    const std::string &conninfo() const { return conninfo_; }
    const std::string &provider() const { return provider_; }

private:
    std::unique_ptr<Connection> Acquire();
    void Release(std::unique_ptr<Connection> connection);

    std::string conninfo_;
    std::string provider_;
    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<Connection>> idle_;
    int size_;
    int open_ = 0;
};

}  // namespace nw::db
