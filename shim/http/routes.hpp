// The routes of DESIGN §3; each runs after PreRoute's checks.
#pragma once

#include <httplib.h>

#include "saga/app.hpp"

namespace nw::http {

void RegisterRoutes(App &app, httplib::Server &server);

}  // namespace nw::http
