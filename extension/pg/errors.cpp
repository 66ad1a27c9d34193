// Raising the contract's errors from glue code (docs/sql-api.md "Errors").
#include "pg/errors.hpp"

namespace nw {

void RaiseOutcome(const Outcome &outcome)
{
    const char *s = outcome.sqlstate;
    const int code = MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
    if (outcome.detail[0] != '\0')
        ereport(ERROR, (errcode(code), errmsg("%s", outcome.message), errdetail("%s", outcome.detail)));
    ereport(ERROR, (errcode(code), errmsg("%s", outcome.message)));
}

void RaiseInvalid(const char *message)
{
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", message)));
}

}  // namespace nw
