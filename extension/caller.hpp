// Who is calling (docs/sql-api.md "Who may call what").
//
// The caller is the role in effect outside any SECURITY DEFINER frame
// (GetOuterUserId(): the session user after SET ROLE). A superuser or a member
// of number_wallet_service acts for any user. A member of number_wallet_user
// (and not of the service role) acts only for the user named by `sub` in the
// request.jwt.claims setting. Anyone else is refused (42501).
#pragma once

#include "pg.hpp"

namespace nw {

struct Caller {
    bool is_service;
    bool has_subject;   // an end user whose claims name a valid uuid
    pg_uuid_t subject;  // valid when has_subject
};

// True for a superuser or a member of number_wallet_service.
bool RoleIsService(Oid role);

// Classifies the current caller; raises 42501 for a role that is neither.
Caller CurrentCaller(void);

// Service-only functions call this first (EXECUTE is already granted only to
// the service role; this keeps a mistaken GRANT from opening them up).
void RequireService(const Caller &caller, const char *function_name);

// True when the caller may see or act on rows of `user_id`. An end user asking
// about anyone else is told NW003, exactly as if the row did not exist.
bool CallerMayActFor(const Caller &caller, const pg_uuid_t *user_id);

}  // namespace nw
