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
#include "http/caller.hpp"

namespace nw::http {

constexpr std::size_t kMaxBodyBytes = 64 * 1024;
// X-Request-Id values kept from a request (core IsRequestId, at most this long).
constexpr std::size_t kMaxRequestIdBytes = 64;

// The request pipeline's own per-thread state: PreRoute sets it, and
// server.cpp's access log and exception handler read it (cpp-httplib 0.11.4
// gives them nothing else per request). Handlers never read it: they get a
// Caller (http/caller.hpp).
struct RequestState {
    std::string request_id;
    std::chrono::steady_clock::time_point started;
};
RequestState &Current();

// The caller PreRoute authenticated for the request this thread is serving,
// taken out (a second call finds none); none for a public path or when
// PreRoute answered itself. Only WithCaller calls it.
std::optional<Caller> TakeCaller();

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
