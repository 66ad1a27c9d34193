// The two web pages (docs/web.md): the buyer page at /, the operator page at
// /admin, their assets under /assets/, and the public routes they sign in
// with (GET /api/config, POST /api/demo/session). The files are the project's
// web/ folder (WEB_ROOT), read once when `serve` starts.
#pragma once

#include <httplib.h>

#include "app/app.hpp"

namespace nw::http {

// Loads the pages' files and registers /, /admin, /assets/*, /api/config and
// /api/demo/session. Missing files are logged and then answer 404; the API
// is served either way.
void RegisterWebRoutes(App &app, httplib::Server &server);

// Routes that need no token: the pages, their assets and the two sign-in routes.
bool IsWebPublic(const httplib::Request &req);

// POST /api/demo/session may come with an empty body (Content-Length: 0)
// and then without a Content-Type.
bool IsBodyOptional(const httplib::Request &req);

// The route template of a web path ("/", "/admin", "/assets/{file}",
// "/api/config", "/api/demo/session"), or nullptr.
const char *WebRouteTemplate(const std::string &path);

}  // namespace nw::http
