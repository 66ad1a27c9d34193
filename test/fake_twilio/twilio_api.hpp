// The Twilio endpoints the shim uses: search, buy, list, fetch and release numbers.
#pragma once

#include <httplib.h>

#include "state.hpp"

namespace fake_twilio {

void RegisterTwilioRoutes(httplib::Server &server, State &state);

// Writes a Twilio JSON error.
void SendError(httplib::Response &res, int httpStatus, int code, const std::string &message = "");

}  // namespace fake_twilio
