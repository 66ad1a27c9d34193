// See pool.hpp.
#include "db/pool.hpp"

#include <chrono>
#include <thread>

#include <libpq-fe.h>

namespace nw::db {

bool IsTransient(const std::string &s)
{
    return s == "40001" || s == "40P01" || s == "55P03" || s == "57014" || s.rfind("08", 0) == 0 || s == "57P01" ||
           s == "57P02" || s == "57P03" || s == "53300";
}

Connection::Connection(std::string conninfo, std::string provider)
    : conninfo_(std::move(conninfo)), provider_(std::move(provider))
{
}

Connection::~Connection()
{
    if (conn_)
        PQfinish(conn_);
}

bool Connection::Healthy() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

bool Connection::EnsureConnected(Error *error)
{
    if (Healthy())
        return true;
    if (conn_)
        PQfinish(conn_);
    prepared_.clear();
    // The provider setting is recorded on every number this connection reserves.
    const std::string options = "-c number_wallet.provider=" + provider_;
    const char *keys[] = {"dbname", "options", "application_name", "connect_timeout", nullptr};
    const char *values[] = {conninfo_.c_str(), options.c_str(), "number-wallet-shim", "5", nullptr};
    conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (PQstatus(conn_) != CONNECTION_OK) {
        // libpq's message can echo the conninfo's host but never the password.
        *error = {"08006", "could not connect to the database", ""};
        return false;
    }
    return true;
}

Result Connection::Exec(const Statement &statement, const Params &params)
{
    Result result;
    if (!EnsureConnected(&result.error))
        return result;
    if (!prepared_.count(statement.name)) {
        PGresult *prep = PQprepare(conn_, statement.name, statement.sql, 0, nullptr);
        const bool ok = PQresultStatus(prep) == PGRES_COMMAND_OK;
        if (!ok) {
            const char *state = PQresultErrorField(prep, PG_DIAG_SQLSTATE);
            result.error = {state ? state : "08006", PQresultErrorField(prep, PG_DIAG_MESSAGE_PRIMARY)
                                                         ? PQresultErrorField(prep, PG_DIAG_MESSAGE_PRIMARY)
                                                         : "could not prepare a statement",
                            ""};
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
    PGresult *res = PQexecPrepared(conn_, statement.name, static_cast<int>(values.size()), values.data(), nullptr,
                                   nullptr, 0);
    const ExecStatusType status = PQresultStatus(res);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        result.ok = true;
        const int nrows = PQntuples(res), ncols = PQnfields(res);
        result.rows.resize(nrows);
        for (int r = 0; r < nrows; ++r) {
            result.rows[r].reserve(ncols);
            for (int c = 0; c < ncols; ++c)
                result.rows[r].push_back(PQgetisnull(res, r, c) ? Value() : Value(PQgetvalue(res, r, c)));
        }
    } else {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
        result.error = {state ? state : "08006", message ? message : "the database connection was lost",
                        detail ? detail : ""};
    }
    PQclear(res);
    return result;
}

Pool::Pool(std::string conninfo, int size, std::string provider)
    : conninfo_(std::move(conninfo)), provider_(std::move(provider)), size_(size)
{
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
        idle_.push_back(std::move(connection));
    }
    available_.notify_one();
}

Result Pool::Exec(const Statement &statement, const Params &params)
{
    Result result;
    for (int attempt = 1; attempt <= 4; ++attempt) {
        auto connection = Acquire();
        if (!connection) {
            result.error = {"53300", "no database connection became free in time", ""};
        } else {
            result = connection->Exec(statement, params);
            Release(std::move(connection));
        }
        if (result.ok || !IsTransient(result.error.sqlstate))
            return result;
        std::this_thread::sleep_for(std::chrono::milliseconds(25 * attempt * attempt));
    }
    return result;
}

bool Pool::Ping()
{
    static const Statement ping = {"nw_ping", "SELECT 1"};
    return Exec(ping, {}).ok;
}

}  // namespace nw::db
