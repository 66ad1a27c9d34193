// number_wallet._boundary_selftest(kind) (boundary_selftest before 1.4): proves
// the C++/PostgreSQL guard in the regression suite. Each kind throws a different
// C++ exception inside RunGuarded; each must come out as a clean ERROR that
// aborts the transaction and leaves the session usable. Superuser-only (EXECUTE
// revoked from PUBLIC).
#include "pg.hpp"

#include <stdexcept>
#include <string>
#include <vector>

extern "C" {
PG_FUNCTION_INFO_V1(nw_boundary_selftest);
}

namespace nw {

static Datum BoundarySelftest(FunctionCallInfo fcinfo)
{
    if (!superuser())
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("must be superuser")));
    const char *kind = PG_ARGISNULL(0) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(0));
    Outcome outcome = RunGuarded("_boundary_selftest", [&](Outcome *) {
        const std::string k = kind;  // objects with destructors live only in here
        std::vector<int> live(16, 1);
        if (k == "runtime_error")
            throw std::runtime_error("thrown on purpose");
        if (k == "bad_alloc")
            throw std::bad_alloc();
        if (k == "non_std")
            throw 42;
        if (k == "length_error")
            live.resize(live.max_size() + 1);  // throws std::length_error from the library
    });
    if (!outcome.ok)
        RaiseOutcome(outcome);
    PG_RETURN_TEXT_P(cstring_to_text("no exception"));
}

}  // namespace nw

extern "C" Datum nw_boundary_selftest(PG_FUNCTION_ARGS)
{
    return nw::BoundarySelftest(fcinfo);
}
