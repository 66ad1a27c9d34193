// Test-only control API under /__control/: inject failures, reset, inspect, configure.
// No authentication: the fake listens on loopback only.
#pragma once

#include <httplib.h>

#include "state.hpp"

namespace fake_twilio {

void RegisterControlRoutes(httplib::Server &server, State &state);

}  // namespace fake_twilio
