// The operator routes of docs/http-api.md "Operators": actions with a reason
// (each audited in the database with the request's actor and X-Request-Id),
// support look-ups and the audit log. The service role and operators
// (Principal::is_admin) may use them; anyone else is 403.
#pragma once

#include <initializer_list>
#include <string>

#include <httplib.h>

#include "app/app.hpp"
#include "db/pool.hpp"
#include "http/caller.hpp"
#include "http/reply.hpp"

namespace nw::http {

void RegisterAdminRoutes(App &app, httplib::Server &server);

// The route template of an operator path ("/api/admin/numbers/{id}/fail"), or nullptr.
const char *AdminRouteTemplate(const std::string &path);

// The actor and request id every audited statement starts with ($1, $2), from
// the caller, followed by `rest`.
db::Params AuditParams(const Caller &caller, std::initializer_list<db::Value> rest);

// The handlers RegisterAdminRoutes binds with WithCaller: each answers from
// its arguments alone (a path id is req.matches[1]). Per route: 404 (a
// malformed id), 400 (input), 403 (who), then the operation.
Reply ForceFail(App &app, const Caller &caller, const httplib::Request &req);      // POST …/numbers/{id}/fail
Reply ForceConfirm(App &app, const Caller &caller, const httplib::Request &req);   // POST …/numbers/{id}/confirm
Reply ForceRelease(App &app, const Caller &caller, const httplib::Request &req);   // POST …/numbers/{id}/release
Reply AdjustBalance(App &app, const Caller &caller, const httplib::Request &req);  // POST …/wallets/{userId}/adjust
Reply ResolveDiscrepancy(App &app, const Caller &caller,
                         const httplib::Request &req);                            // POST …/discrepancies/{id}/resolve
Reply AuditLog(App &app, const Caller &caller, const httplib::Request &req);      // GET /api/admin/audit
Reply AdminNumbers(App &app, const Caller &caller, const httplib::Request &req);  // GET /api/admin/numbers
Reply AdminUser(App &app, const Caller &caller, const httplib::Request &req);     // GET /api/admin/users/{userId}

}  // namespace nw::http
