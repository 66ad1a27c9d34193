// The checks every request passes before its route runs, in the contract's
// order: 405, 413, 401, 415 (then the route: 400, 403, the operation).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "auth/auth.hpp"
#include "app/app.hpp"

namespace nw::http {

constexpr std::size_t kMaxBodyBytes = 64 * 1024;
// X-Request-Id values kept from a request (core IsRequestId, at most this long).
constexpr std::size_t kMaxRequestIdBytes = 64;

// What the pre-routing checks learnt, for the route on the same thread.
struct RequestState {
    std::string request_id;
    std::chrono::steady_clock::time_point started;
    std::optional<auth::Principal> principal;
};
RequestState &Current();

// The methods the API answers (docs/http-api.md); any other is 405.
constexpr const char *kAllowedMethods = "GET, HEAD, POST, DELETE, OPTIONS";
bool IsAllowedMethod(const std::string &method);

// Answers 405 with Allow, and ends the connection after the answer.
void RefuseMethod(httplib::Response &res);

// Returns true when it answered (a refusal or a CORS preflight).
bool PreRoute(App &app, const httplib::Request &req, httplib::Response &res);

// Writes a JSON body with the status and headers of a Reply-like answer.
void SendJson(httplib::Response &res, int status, const nlohmann::json &body);

}  // namespace nw::http
