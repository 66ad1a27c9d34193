// Who is asking, handed to every authenticated route's handler: a handler's
// inputs are all in its signature (App, Caller, Request), as PostgREST passes
// the claims in explicitly. PreRoute authenticates; WithCaller takes that
// principal once and passes it in; the checks below take the Caller too.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <httplib.h>

#include "app/app.hpp"
#include "auth/auth.hpp"
#include "http/reply.hpp"

namespace nw::http {

struct Caller {
    auth::Principal principal;
    // The request's X-Request-Id (the client's, else the shim's own): logged,
    // and recorded in audit_log with each operator action.
    std::string request_id;
};

// A route's handler: its answer from the application, the caller and the request.
using Handler = std::function<Reply(App &, const Caller &, const httplib::Request &)>;
// The same for a handler that writes its own answer (/metrics' text).
using ResponseHandler = std::function<void(App &, const Caller &, const httplib::Request &, httplib::Response &)>;

// The httplib handler of an authenticated route: builds the Caller from what
// PreRoute authenticated and runs `handler` with it. Without an authenticated
// principal (a public path wrongly routed here) it answers 401 and never runs
// the handler.
httplib::Server::Handler WithCaller(App &app, Handler handler);
httplib::Server::Handler WithCaller(App &app, ResponseHandler handler);

// Writes a Reply: its headers, then its status and JSON body.
void SendReply(httplib::Response &res, const Reply &reply);

// A user route: service tokens act for no user here (403).
std::optional<Reply> RequireUser(const Caller &caller);
// The admin routes and /metrics: the service role or an operator (else 403).
std::optional<Reply> RequireService(const Caller &caller);

}  // namespace nw::http
