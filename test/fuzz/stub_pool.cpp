// Link-time test double for shim/db/pool.cpp, used ONLY by fuzz_http: every
// statement fails at once with the SQLSTATE the harness chose for this input
// (no connection, no retry sleeps), so the fuzzer spends its time in the HTTP
// parsing, the pre-routing checks and the routes' input validation.
#include "db/pool.hpp"

namespace fuzzhttp {
const char *g_sqlstate = "NW001";  // set per input by fuzz_http.cpp
}

namespace nw::db {

bool IsTransient(const std::string &s)
{
    return s == "40001" || s == "40P01" || s == "55P03" || s == "57014" || s.rfind("08", 0) == 0 || s == "57P01" ||
           s == "57P02" || s == "57P03" || s == "53300" || s == "25006";
}

Connection::Connection(std::string conninfo, std::string provider)
    : conninfo_(std::move(conninfo)), provider_(std::move(provider))
{
}
Connection::~Connection() = default;
bool Connection::Healthy() const
{
    return false;
}
Result Connection::Exec(const Statement &, const Params &, Attempt *)
{
    Result r;
    r.error = {fuzzhttp::g_sqlstate, "stub database error", "Retry after 7 seconds."};
    return r;
}

Pool::Pool(std::string conninfo, int size, std::string provider)
    : conninfo_(std::move(conninfo)), provider_(std::move(provider)), size_(size)
{
}
Pool::~Pool() = default;
Result Pool::Exec(const Statement &statement, const Params &params)
{
    Connection c(conninfo_, provider_);
    return c.Exec(statement, params);
}
Result Pool::ExecWithin(const Statement &statement, const Params &params, std::chrono::milliseconds)
{
    return Exec(statement, params);
}
bool Pool::Ping()
{
    return false;
}
std::string Pool::Node()
{
    return "";
}

}  // namespace nw::db
