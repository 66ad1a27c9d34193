// See caller.hpp.
#include "http/caller.hpp"

#include <utility>

#include "http/request_checks.hpp"

namespace nw::http {
namespace {

Reply NobodyAuthenticated()
{
    return Error(401, "UNAUTHORIZED", "a valid bearer token is required");
}

}  // namespace

void SendReply(httplib::Response &res, const Reply &reply)
{
    for (const auto &[name, value] : reply.headers)
        res.set_header(name, value);
    SendJson(res, reply.status, reply.body);
}

httplib::Server::Handler WithCaller(App &app, Handler handler)
{
    return [&app, handler = std::move(handler)](const httplib::Request &req, httplib::Response &res) {
        const std::optional<Caller> caller = TakeCaller();
        SendReply(res, caller ? handler(app, *caller, req) : NobodyAuthenticated());
    };
}

httplib::Server::Handler WithCaller(App &app, ResponseHandler handler)
{
    return [&app, handler = std::move(handler)](const httplib::Request &req, httplib::Response &res) {
        const std::optional<Caller> caller = TakeCaller();
        if (!caller)
            return SendReply(res, NobodyAuthenticated());
        handler(app, *caller, req, res);
    };
}

std::optional<Reply> RequireUser(const Caller &caller)
{
    if (caller.principal.is_service())
        return Error(403, "FORBIDDEN", "this route is for end users; service tokens use the admin routes");
    return std::nullopt;
}

std::optional<Reply> RequireService(const Caller &caller)
{
    if (!caller.principal.is_admin())
        return Error(403, "FORBIDDEN", "this route needs an operator or the service role");
    return std::nullopt;
}

}  // namespace nw::http
