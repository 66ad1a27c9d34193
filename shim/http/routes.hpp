// The routes of docs/http-api.md; each runs after PreRoute's checks.
#pragma once

#include <string>

#include <httplib.h>

#include "app/app.hpp"
#include "http/caller.hpp"
#include "http/reply.hpp"

namespace nw::http {

void RegisterRoutes(App &app, httplib::Server &server);

// The route template a path belongs to ("/api/numbers/{id}"), or "other":
// a metric label from a fixed set, whatever path a client sends.
const char *RouteTemplate(const std::string &path);

// The handlers RegisterRoutes binds with WithCaller: each answers from its
// arguments alone (a path id is req.matches[1]). Per route: 400 (input), 403
// (who), then the operation.
Reply Available(App &app, const Caller &caller, const httplib::Request &req);         // GET /api/numbers/available
Reply PurchaseRoute(App &app, const Caller &caller, const httplib::Request &req);     // POST /api/numbers/purchase
Reply ListNumbers(App &app, const Caller &caller, const httplib::Request &req);       // GET /api/numbers
Reply GetNumber(App &app, const Caller &caller, const httplib::Request &req);         // GET /api/numbers/{id}
Reply ReleaseRoute(App &app, const Caller &caller, const httplib::Request &req);      // DELETE …/{id}/release
Reply RefundQuoteRoute(App &app, const Caller &caller, const httplib::Request &req);  // GET …/{id}/refund-quote
Reply GetWallet(App &app, const Caller &caller, const httplib::Request &req);         // GET /api/wallet
Reply ListTransactions(App &app, const Caller &caller, const httplib::Request &req);  // GET /api/transactions
Reply Topup(App &app, const Caller &caller, const httplib::Request &req);             // POST /api/wallet/topup
Reply Interventions(App &app, const Caller &caller, const httplib::Request &req);     // GET /api/admin/interventions
Reply Summary(App &app, const Caller &caller, const httplib::Request &req);           // GET /api/admin/summary
void MetricsRoute(App &app, const Caller &caller, const httplib::Request &req, httplib::Response &res);  // /metrics

}  // namespace nw::http
