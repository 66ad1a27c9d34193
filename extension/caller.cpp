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
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied for number_wallet"),
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
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied for function %s", function_name)));
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

// number_wallet.row_visible(user_id): the row-level security rule. The service
// role sees every row; an end user sees the rows of its claimed subject only.
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
}

// number_wallet.snapshot_sees(xmin): whether the running statement's snapshot
// sees the transaction that wrote a row version (ours, or committed before
// the snapshot). purchase_number uses it to know its snapshot is as fresh as
// the wallet row it locked.
extern "C" Datum nw_snapshot_sees(PG_FUNCTION_ARGS)
{
    if (PG_ARGISNULL(0))
        PG_RETURN_BOOL(false);
    const TransactionId xid = DatumGetTransactionId(PG_GETARG_DATUM(0));
    if (TransactionIdIsCurrentTransactionId(xid))
        PG_RETURN_BOOL(true);
    PG_RETURN_BOOL(!XidInMVCCSnapshot(xid, GetActiveSnapshot()));
}
