// The HTTP API of docs/http-api.md on cpp-httplib.
#pragma once

#include "app/app.hpp"

namespace nw::http {

// Serves until SIGTERM/SIGINT; runs the reconciler every
// RECONCILE_INTERVAL_SECONDS meanwhile. Returns the process exit status.
int Serve(App &app);

}  // namespace nw::http
