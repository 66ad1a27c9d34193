// The operator routes of docs/http-api.md "Operators": actions with a reason
// (each audited in the database with the request's actor and X-Request-Id),
// support look-ups and the audit log. The service role and operators
// (Principal::is_admin) may use them; anyone else is 403.
#pragma once

#include <string>

#include <httplib.h>

#include "app/app.hpp"

namespace nw::http {

void RegisterAdminRoutes(App &app, httplib::Server &server);

// The route template of an operator path ("/api/admin/numbers/{id}/fail"), or nullptr.
const char *AdminRouteTemplate(const std::string &path);

}  // namespace nw::http
