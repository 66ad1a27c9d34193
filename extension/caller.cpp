// See caller.hpp.
#include "caller.hpp"

extern "C" {
#include "utils/acl.h"
}

#include "core/claims.hpp"

namespace nw {

static bool IsMember(Oid member, const char *role_name)
{
    const Oid role = get_role_oid(role_name, true);
    return OidIsValid(role) && is_member_of_role(member, role);
}

// Copies the claimed subject out of the (throwing) JSON parser into a POD buffer.
static void ReadClaimedSubject(const char *claims, char out[37], Outcome *outcome)
{
    *outcome = RunGuarded("claims", [&](Outcome *) {
        const std::string sub = ClaimedSubject(claims ? claims : "");
        std::snprintf(out, 37, "%s", sub.c_str());
    });
}

bool RoleIsService(Oid role)
{
    return OidIsValid(role) && (superuser_arg(role) || IsMember(role, "number_wallet_service"));
}

Caller CurrentCaller(void)
{
    Caller caller;
    memset(&caller, 0, sizeof caller);
    const Oid outer = GetOuterUserId();
    if (superuser_arg(outer) || IsMember(outer, "number_wallet_service")) {
        caller.is_service = true;
        return caller;
    }
    if (!IsMember(outer, "number_wallet_user"))
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied for number_wallet"),
                        errhint("Grant number_wallet_service to trusted back ends, or use "
                                "number_wallet.grant_end_user() for end-user roles.")));

    const char *claims = GetConfigOption("request.jwt.claims", true, false);
    char subject[37] = "";
    Outcome outcome;
    ReadClaimedSubject(claims, subject, &outcome);
    if (!outcome.ok)
        RaiseOutcome(outcome);
    if (subject[0] != '\0') {
        Datum uuid = DirectFunctionCall1(uuid_in, CStringGetDatum(subject));
        memcpy(&caller.subject, DatumGetUUIDP(uuid), sizeof caller.subject);
        caller.has_subject = true;
    }
    return caller;
}

void RequireService(const Caller &caller, const char *function_name)
{
    if (!caller.is_service)
        ereport(ERROR,
                (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied for function %s", function_name)));
}

bool CallerMayActFor(const Caller &caller, const pg_uuid_t *user_id)
{
    if (caller.is_service)
        return true;
    return caller.has_subject && memcmp(caller.subject.data, user_id->data, UUID_LEN) == 0;
}

}  // namespace nw

extern "C" {
PG_FUNCTION_INFO_V1(nw_row_visible);
}

// number_wallet._row_visible(user_id) (row_visible before 1.4): the row rule of
// 1.0's policies. The service role sees every row; an end user sees the rows of
// its claimed subject only.
extern "C" Datum nw_row_visible(PG_FUNCTION_ARGS)
{
    if (PG_ARGISNULL(0))
        PG_RETURN_BOOL(false);
    const Oid outer = GetOuterUserId();
    if (superuser_arg(outer) || nw::IsMember(outer, "number_wallet_service"))
        PG_RETURN_BOOL(true);
    if (!nw::IsMember(outer, "number_wallet_user"))
        PG_RETURN_BOOL(false);
    const nw::Caller caller = nw::CurrentCaller();
    PG_RETURN_BOOL(nw::CallerMayActFor(caller, PG_GETARG_UUID_P(0)));
}

extern "C" {
#include "utils/snapmgr.h"
PG_FUNCTION_INFO_V1(nw_snapshot_sees);
PG_FUNCTION_INFO_V1(nw_claimed_user);
PG_FUNCTION_INFO_V1(nw_require_service);
}

// number_wallet.snapshot_sees(xmin): kept only so that a database still on
// version 1.0 or 1.1 of the SQL script (whose purchase path no longer calls
// it: 1.2 drops the function) finds its symbol. Service only. It compares raw
// xmins, which freezing keeps: see reserve_in_one for why 1.2 compares ctids.
extern "C" Datum nw_snapshot_sees(PG_FUNCTION_ARGS)
{
    nw::RequireService(nw::CurrentCaller(), "snapshot_sees");
    if (PG_ARGISNULL(0))
        PG_RETURN_BOOL(false);
    const TransactionId xid = DatumGetTransactionId(PG_GETARG_DATUM(0));
    if (TransactionIdIsCurrentTransactionId(xid))
        PG_RETURN_BOOL(true);
    PG_RETURN_BOOL(!XidInMVCCSnapshot(xid, GetActiveSnapshot()));
}

// number_wallet._claimed_user() (claimed_user before 1.4): the user whose rows
// an end user may read, or NULL. The row-level security policies compare user_id
// with (SELECT number_wallet._claimed_user()): an uncorrelated subquery, so the
// planner evaluates it once per statement (an initplan) and the comparison is
// an index condition, where a per-row function of user_id could use no index.
// NULL (no row matches) for anyone but a trusted end user: a member of
// number_wallet_user that is not the service role, with a uuid `sub` claim.
// The service role and superusers see every row through their own policy.
extern "C" Datum nw_claimed_user(PG_FUNCTION_ARGS)
{
    const Oid outer = GetOuterUserId();
    if (superuser_arg(outer) || nw::IsMember(outer, "number_wallet_service") ||
        !nw::IsMember(outer, "number_wallet_user"))
        PG_RETURN_NULL();
    const nw::Caller caller = nw::CurrentCaller();
    if (!caller.has_subject)
        PG_RETURN_NULL();
    pg_uuid_t *result = (pg_uuid_t *) palloc(sizeof(pg_uuid_t));
    memcpy(result, &caller.subject, sizeof(pg_uuid_t));
    PG_RETURN_UUID_P(result);
}

// number_wallet._require_service(function_name) (require_service before 1.4):
// the caller check of the service-only functions written in PL/pgSQL
// (record_discrepancy, resolve_discrepancy, wallet_reconcile, metrics_snapshot), the same rule as RequireService:
// a blanket GRANT of EXECUTE must not open them up (docs/sql-api.md "Defence in depth").
extern "C" Datum nw_require_service(PG_FUNCTION_ARGS)
{
    const char *name = PG_ARGISNULL(0) ? "number_wallet" : text_to_cstring(PG_GETARG_TEXT_PP(0));
    const Oid outer = GetOuterUserId();
    if (!superuser_arg(outer) && !nw::IsMember(outer, "number_wallet_service"))
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE), errmsg("permission denied for function %s", name),
                        errhint("Only the service role (number_wallet_service) may call it.")));
    PG_RETURN_VOID();
}
