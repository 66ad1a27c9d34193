// See pool.hpp.
#include "db/pool.hpp"

#include <chrono>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <thread>

#include <libpq-fe.h>
#include <poll.h>

#include "util/log.hpp"

namespace nw::db {

bool IsTransient(const std::string &s)
{
    return s == "40001" || s == "40P01" || s == "55P03" || s == "57014" || s.rfind("08", 0) == 0 || s == "57P01" ||
           s == "57P02" || s == "57P03" || s == "53300" || s == "25006";
}

namespace {

struct ConninfoFree {
    void operator()(PQconninfoOption *options) const { PQconninfoFree(options); }
};

// What libpq itself treats as a connection string rather than a database name
// when expand_dbname is set.
bool IsConnectionString(const std::string &text)
{
    return text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0 ||
           text.find('=') != std::string::npos;
}

bool EnvSet(const char *name)
{
    const char *value = std::getenv(name);
    return value != nullptr && value[0] != '\0';
}

}  // namespace

ConnectParams BuildConnectParams(const std::string &database_url, const std::string &provider)
{
    std::map<std::string, std::string> given;
    if (IsConnectionString(database_url)) {
        char *raw_error = nullptr;
        std::unique_ptr<PQconninfoOption, ConninfoFree> parsed(PQconninfoParse(database_url.c_str(), &raw_error));
        if (!parsed) {
            std::string error = raw_error ? raw_error : "out of memory";
            PQfreemem(raw_error);
            while (!error.empty() && (error.back() == '\n' || error.back() == ' '))
                error.pop_back();
            // These two name the option only; libpq's other messages may quote
            // parts of the string, which can hold the password.
            const bool names_option_only =
                error.rfind("invalid connection option", 0) == 0 || error.rfind("invalid URI query parameter", 0) == 0;
            throw std::runtime_error("DATABASE_URL is not a connection string libpq accepts" +
                                     (names_option_only ? ": " + error : std::string()));
        }
        for (const PQconninfoOption *o = parsed.get(); o->keyword != nullptr; ++o)
            if (o->val != nullptr)
                given[o->keyword] = o->val;
    }

    ConnectParams out;
    const auto add = [&out](const std::string &key, const std::string &value) {
        out.keys.push_back(key);
        out.values.push_back(value);
    };
    add("dbname", database_url);  // expanded by libpq: every option in it applies
    // Keywords after dbname override what it expanded to: only add what is absent.
    if (!given.count("application_name") && !EnvSet("PGAPPNAME"))
        add("application_name", "number-wallet-shim");
    if (!given.count("connect_timeout") && !EnvSet("PGCONNECT_TIMEOUT"))
        add("connect_timeout", "5");
    // The provider setting is recorded on every number this connection
    // reserves; it goes last so it wins over one in the user's options.
    std::string options =
        given.count("options") ? given["options"] : (EnvSet("PGOPTIONS") ? std::getenv("PGOPTIONS") : "");
    if (!options.empty())
        options += ' ';
    options += "-c number_wallet.provider=" + provider;
    add("options", options);
    return out;
}

Connection::Connection(std::string conninfo, std::string provider)
    : conninfo_(std::move(conninfo)), provider_(std::move(provider)), params_(BuildConnectParams(conninfo_, provider_))
{
}

Connection::~Connection()
{
    if (conn_)
        PQfinish(conn_);
}

bool Connection::Healthy() const
{
    return conn_ && PQstatus(conn_) == CONNECTION_OK;
}

// An idle connection whose server went away (a crash, a shutdown, a
// failover) has the end of its stream waiting: reading it now tells "never
// sent" from "sent, then lost", which a call on a dead socket cannot.
bool Connection::ClosedByServer()
{
    const int fd = PQsocket(conn_);
    if (fd < 0)
        return true;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0)
        return false;  // nothing to read: still open
    if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK)
        return true;
    PGnotify *notify;
    while ((notify = PQnotifies(conn_)) != nullptr)
        PQfreemem(notify);
    return PQtransactionStatus(conn_) != PQTRANS_IDLE;
}

bool Connection::EnsureConnected(Error *error)
{
    if (Healthy() && PQtransactionStatus(conn_) == PQTRANS_IDLE && !ClosedByServer())
        return true;
    if (conn_)
        PQfinish(conn_);
    conn_ = nullptr;
    node_.clear();
    prepared_.clear();
    std::vector<const char *> keys, values;
    for (std::size_t i = 0; i < params_.keys.size(); ++i) {
        keys.push_back(params_.keys[i].c_str());
        values.push_back(params_.values[i].c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    conn_ = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
    if (PQstatus(conn_) != CONNECTION_OK) {
        // libpq's message can echo the conninfo's host but never the password.
        *error = {"08006", "could not connect to a writable database server", ""};
        return false;
    }
    const char *host = PQhost(conn_);
    const char *port = PQport(conn_);
    node_ = std::string(host ? host : "") + ":" + (port ? port : "");
    return true;
}

Result Connection::Exec(const Statement &statement, const Params &params, Attempt *attempt)
{
    Attempt local;
    Attempt &a = attempt ? *attempt : local;
    a = Attempt{};
    Result result;
    if (!EnsureConnected(&result.error)) {
        a.sqlstate = result.error.sqlstate;
        return result;
    }
    a.connected = true;
    if (!prepared_.count(statement.name)) {
        PGresult *prep = PQprepare(conn_, statement.name, statement.sql, 0, nullptr);
        const bool ok = PQresultStatus(prep) == PGRES_COMMAND_OK;
        if (!ok) {
            const char *state = PQresultErrorField(prep, PG_DIAG_SQLSTATE);
            const char *message = PQresultErrorField(prep, PG_DIAG_MESSAGE_PRIMARY);
            result.error = {state ? state : "08006", message ? message : "could not prepare a statement", ""};
            // A PREPARE runs nothing: on a broken connection, the statement was
            // never sent; on a healthy one, its error is final.
            a.connection_ok = PQstatus(conn_) == CONNECTION_OK;
            a.sent = a.connection_ok && state != nullptr;
            a.sqlstate = state ? state : "";
        }
        PQclear(prep);
        if (!ok)
            return result;
        prepared_.insert(statement.name);
    }
    std::vector<const char *> values;
    values.reserve(params.size());
    for (const auto &p : params)
        values.push_back(p ? p->c_str() : nullptr);
    if (!PQsendQueryPrepared(conn_, statement.name, static_cast<int>(values.size()), values.data(), nullptr, nullptr,
                             0)) {
        // Not dispatched (libpq could not write it): nothing ran.
        result.error = {"08006", "the database connection was lost", ""};
        a.sqlstate = "";
        return result;
    }
    a.sent = true;
    PGresult *res = PQgetResult(conn_);
    for (PGresult *extra = PQgetResult(conn_); extra != nullptr; extra = PQgetResult(conn_))
        PQclear(extra);
    const ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        result.ok = true;
        a.answered = true;
        const int nrows = PQntuples(res), ncols = PQnfields(res);
        result.rows.resize(nrows);
        for (int r = 0; r < nrows; ++r) {
            result.rows[r].reserve(ncols);
            for (int c = 0; c < ncols; ++c)
                result.rows[r].push_back(PQgetisnull(res, r, c) ? Value() : Value(PQgetvalue(res, r, c)));
        }
    } else {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
        const char *message = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
        const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : nullptr;
        result.error = {state ? state : "08006", message ? message : "the database connection was lost",
                        detail ? detail : ""};
        a.sqlstate = state ? state : "";
    }
    a.connection_ok = PQstatus(conn_) == CONNECTION_OK;
    PQclear(res);
    return result;
}

Pool::Pool(std::string conninfo, int size, std::string provider)
    : conninfo_(std::move(conninfo)), provider_(std::move(provider)), size_(size)
{
    BuildConnectParams(conninfo_, provider_);  // a bad DATABASE_URL is a start-up error
}

Pool::~Pool() = default;

std::unique_ptr<Connection> Pool::Acquire()
{
    std::unique_lock<std::mutex> lock(mutex_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (idle_.empty() && open_ >= size_)
        if (available_.wait_until(lock, deadline) == std::cv_status::timeout)
            return nullptr;
    if (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        return connection;
    }
    ++open_;
    return std::make_unique<Connection>(conninfo_, provider_);
}

void Pool::Release(std::unique_ptr<Connection> connection)
{
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!connection->node().empty())
            node_ = connection->node();
        idle_.push_back(std::move(connection));
    }
    available_.notify_one();
}

void Pool::Discard(std::unique_ptr<Connection> connection)
{
    std::vector<std::unique_ptr<Connection>> closing;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closing.swap(idle_);
        open_ -= static_cast<int>(closing.size()) + 1;
    }
    available_.notify_all();
    connection.reset();  // PQfinish outside the lock
    closing.clear();
}

std::string Pool::Node()
{
    std::lock_guard<std::mutex> lock(mutex_);
    return node_;
}

void Pool::set_drop_after_commit(const std::vector<std::string> &names)
{
    std::lock_guard<std::mutex> lock(mutex_);
    drop_after_commit_ = std::multiset<std::string>(names.begin(), names.end());
    drop_after_commit_armed_.store(!drop_after_commit_.empty(), std::memory_order_relaxed);
}

bool Pool::TakeDropAfterCommit(const std::string &name)
{
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = drop_after_commit_.find(name);
    if (found == drop_after_commit_.end())
        return false;
    drop_after_commit_.erase(found);
    return true;
}

Result Pool::Exec(const Statement &statement, const Params &params)
{
    return ExecWithin(statement, params, failover_wait_);
}

Result Pool::ExecWithin(const Statement &statement, const Params &params, std::chrono::milliseconds wait)
{
    using Clock = std::chrono::steady_clock;
    const RetryPolicy policy{statement.safe_to_repeat(), wait, 4};
    const auto started = Clock::now();
    bool unknown_seen = false;
    for (int number = 1;; ++number) {
        Result result;
        Attempt attempt;
        auto connection = Acquire();
        if (!connection) {
            result.error = {"53300", "no database connection became free in time", ""};
            attempt.sqlstate = "53300";
        } else {
            result = connection->Exec(statement, params, &attempt);
            if (drop_after_commit_armed_.load(std::memory_order_relaxed) && Classify(attempt) == Fate::kDone &&
                TakeDropAfterCommit(statement.name)) {
                // The test seam: the statement committed; its answer is lost
                // with the connection (closed below, as Discard does).
                log::Warn("test fault: dropping the connection after the statement committed",
                          {{"statement", statement.name}});
                result = Result{};
                result.error = {"08006", "the database connection was lost", ""};
                attempt.answered = false;
                attempt.connection_ok = false;
                attempt.sqlstate = "";
            }
        }
        const Fate fate = Classify(attempt);
        if (connection) {
            if (fate == Fate::kDone || fate == Fate::kRolledBack)
                Release(std::move(connection));
            else
                Discard(std::move(connection));
        }
        unknown_seen = unknown_seen || fate == Fate::kUnknown;
        result.after_unknown = unknown_seen;
        const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
        const Decision decision = Decide(fate, attempt.sqlstate, policy, number, elapsed);
        if (fate == Fate::kUnknown ||
            ((fate == Fate::kNotSent || fate == Fate::kReadOnly) && number == 1 && attempt.sqlstate != "53300"))
            log::Warn("database call failed; " +
                          std::string(decision.retry ? "waiting for a writable primary" : "not repeating it"),
                      {{"statement", statement.name},
                       {"fate", FateName(fate)},
                       {"sqlstate", attempt.sqlstate},
                       {"attempt", number}});
        if (!decision.retry) {
            if (!result.ok && fate != Fate::kRolledBack) {
                result.error.sqlstate = unknown_seen ? kFateUnknownState : decision.report_sqlstate;
                if (unknown_seen)
                    result.error.message = "the database connection was lost during the call; its outcome is unknown";
            }
            return result;
        }
        std::this_thread::sleep_for(decision.delay);
    }
}

bool Pool::Ping()
{
    static const Statement ping = {"nw_ping", "SELECT 1", Repeat::kSafe};
    return ExecWithin(ping, {}, std::chrono::milliseconds(1500)).ok;
}

}  // namespace nw::db
