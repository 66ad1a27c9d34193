// The routes of docs/http-api.md; each runs after PreRoute's checks.
#pragma once

#include <httplib.h>

#include "app/app.hpp"

namespace nw::http {

void RegisterRoutes(App &app, httplib::Server &server);

// The route template a path belongs to ("/api/numbers/{id}"), or "other":
// a metric label from a fixed set, whatever path a client sends.
const char *RouteTemplate(const std::string &path);

}  // namespace nw::http
