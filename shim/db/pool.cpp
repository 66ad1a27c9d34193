// See pool.hpp.
#include "db/pool.hpp"

#include <chrono>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <thread>

#include <libpq-fe.h>

namespace nw::db {

bool IsTransient(const std::string &s)
{
    return s == "40001" || s == "40P01" || s == "55P03" || s == "57014" || s.rfind("08", 0) == 0 || s == "57P01" ||
           s == "57P02" || s == "57P03" || s == "53300";
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

bool Connection::EnsureConnected(Error *error)
{
    if (Healthy())
        return true;
    if (conn_)
        PQfinish(conn_);
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
            result.error = {state ? state : "08006",
                            PQresultErrorField(prep, PG_DIAG_MESSAGE_PRIMARY)
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
    PGresult *res =
        PQexecPrepared(conn_, statement.name, static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0);
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
