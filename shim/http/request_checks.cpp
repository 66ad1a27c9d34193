// See request_checks.hpp.
#include "http/request_checks.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <mutex>

#include "http/connection.hpp"
#include "http/reply.hpp"
#include "http/web.hpp"
#include "util/ids.hpp"
#include "core/validation.hpp"

namespace nw::http {
namespace {

bool IsPublic(const httplib::Request &req)
{
    return req.path == "/api/health" || IsWebPublic(req);
}

// Only POST carries a body here (PUT and PATCH are refused with 405).
bool HasBodyMethod(const std::string &method)
{
    return method == "POST";
}

// Whatever body the client sent is left unread; DecideConnection (the
// post-routing step) then ends the connection, so those bytes are never
// taken for the next request.
void Refuse(httplib::Response &res, const Reply &reply)
{
    // Without a Content-Length (411) or over the limit (413), where the body
    // ends is not known or not worth reading: end the connection in any case.
    if (reply.status == 411 || reply.status == 413)
        CurrentConnection().close_after = true;
    for (const auto &[name, value] : reply.headers)
        res.set_header(name, value);
    SendJson(res, reply.status, reply.body);
}

void CorsHeaders(const App &app, const httplib::Request &req, httplib::Response &res)
{
    const std::string origin = req.get_header_value("Origin");
    if (origin.empty())
        return;
    const auto &allowed = app.config.cors_origins;
    if (std::find(allowed.begin(), allowed.end(), origin) == allowed.end() &&
        std::find(allowed.begin(), allowed.end(), "*") == allowed.end())
        return;
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
    res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, X-Request-Id");
    res.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
    res.set_header("Access-Control-Expose-Headers", "Location, Retry-After, X-Request-Id");
    res.set_header("Access-Control-Max-Age", "600");
}

// IP_RATE_LIMIT_PER_MINUTE: a one-minute window per client address.
bool IpLimited(App &app, const httplib::Request &req)
{
    if (app.config.ip_rate_limit_per_minute <= 0)
        return false;
    return !app.ip_limits.Allow(req.remote_addr, app.config.ip_rate_limit_per_minute, std::chrono::steady_clock::now());
}

// Verified tokens, remembered until they stop being acceptable (exp + leeway),
// so a busy client does not pay a signature check per request.
class PrincipalCache {
public:
    std::optional<auth::Principal> Find(const std::string &header)
    {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto it = entries_.find(header);
        if (it == entries_.end())
            return std::nullopt;
        if (std::time(nullptr) >= it->second.accept_until) {
            entries_.erase(it);
            return std::nullopt;
        }
        return it->second;
    }
    void Remember(const std::string &header, const auth::Principal &principal)
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (entries_.size() >= 4096)
            entries_.clear();
        entries_[header] = principal;
    }

private:
    std::mutex mutex_;
    std::map<std::string, auth::Principal> entries_;
};

// The verifier's verdict, from the cache when this header was verified before.
auth::AuthResult Authenticate(App &app, const std::string &header)
{
    static PrincipalCache cache;
    const bool cacheable = header.size() <= 8192;  // bounds what the cache holds
    if (cacheable)
        if (auto cached = cache.Find(header))
            return auth::AuthResult::success(std::move(*cached));
    auth::AuthResult result = app.verifier->authenticate(header);
    if (!result) {
        app.metrics.Inc("nw_auth_failures_total", "reason=\"" + std::string(auth::to_string(result.failure)) + "\"");
        return result;
    }
    if (cacheable)
        cache.Remember(header, *result.principal);
    return result;
}

// Who PreRoute authenticated, until WithCaller takes it.
thread_local std::optional<auth::Principal> authenticated;

}  // namespace

RequestState &Current()
{
    thread_local RequestState state;
    return state;
}

std::optional<Caller> TakeCaller()
{
    if (!authenticated)
        return std::nullopt;
    Caller caller{std::move(*authenticated), Current().request_id};
    authenticated.reset();
    return caller;
}

void SendJson(httplib::Response &res, int status, const nlohmann::json &body)
{
    res.status = status;
    res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

bool IsAllowedMethod(const std::string &method)
{
    return method == "GET" || method == "HEAD" || method == "POST" || method == "DELETE" || method == "OPTIONS";
}

void RefuseMethod(httplib::Response &res)
{
    CurrentConnection().close_after = true;
    res.set_header("Allow", kAllowedMethods);
    Refuse(res, Error(405, "METHOD_NOT_ALLOWED", "this method is not allowed; use GET, HEAD, POST, DELETE or OPTIONS"));
}

bool PreRoute(App &app, const httplib::Request &req, httplib::Response &res)
{
    CurrentConnection().pre_routed = true;
    RequestState &state = Current();
    state.started = std::chrono::steady_clock::now();
    authenticated.reset();
    const std::string given_id = req.get_header_value("X-Request-Id");
    // A client's (or the proxy's) X-Request-Id is kept when it is a plain
    // token of at most 64 characters; else the shim makes one. It is logged and
    // recorded in audit_log (number_wallet.request_id) for operator actions.
    state.request_id = (given_id.size() <= kMaxRequestIdBytes && IsRequestId(given_id)) ? given_id : RandomUuid();
    res.set_header("X-Request-Id", state.request_id);
    CorsHeaders(app, req, res);

    // 405 before anything else: cpp-httplib 0.11.4 reads a body for PUT, PATCH
    // and PRI, and without a Content-Length it reads until the client stops,
    // without bound. A refusal here happens before httplib reads any body.
    if (!IsAllowedMethod(req.method)) {
        RefuseMethod(res);
        return true;
    }
    // Two Content-Lengths (or one with a Transfer-Encoding, refused below):
    // where this request ends is ambiguous, so nothing after it is read.
    if (req.get_header_value_count("Content-Length") > 1) {
        CurrentConnection().close_after = true;
        Refuse(res, Error(400, "INVALID_REQUEST", "a request has at most one Content-Length"));
        return true;
    }
    if (IpLimited(app, req)) {
        Reply r = Error(429, "RATE_LIMITED", "too many requests from this address");
        r.headers.emplace_back("Retry-After", "60");
        Refuse(res, r);
        return true;
    }
    // cpp-httplib 0.11.4 would answer Range itself (and has a known memory bug there).
    if (req.has_header("Range")) {
        Refuse(res, Error(416, "INVALID_REQUEST", "range requests are not supported"));
        // httplib applies the parsed ranges to any routed answer, this refusal
        // included (a body of `{"` was sent, found by fuzz_http). The Request
        // is httplib's own non-const object, handed to handlers as const.
        const_cast<httplib::Request &>(req).ranges.clear();
        return true;
    }
    // A CORS preflight needs no token.
    if (req.method == "OPTIONS") {
        res.status = 204;
        return true;
    }
    // 413: the body is bounded however it comes. cpp-httplib 0.11.4 checks only
    // Content-Length, so chunked or compressed bodies are refused unread.
    if (req.has_header("Transfer-Encoding") ||
        (req.has_header("Content-Encoding") && req.get_header_value("Content-Encoding") != "identity")) {
        Refuse(res,
               Error(413, "PAYLOAD_TOO_LARGE",
                     "chunked or compressed request bodies are not accepted; send at most 64 KiB with Content-Length"));
        return true;
    }
    if (req.has_header("Content-Length")) {
        const std::string length = req.get_header_value("Content-Length");
        const bool digits = !length.empty() && length.size() < 12 &&
                            std::all_of(length.begin(), length.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits || std::stoull(length) > kMaxBodyBytes) {
            Refuse(res, Error(413, "PAYLOAD_TOO_LARGE", "request bodies are limited to 64 KiB"));
            return true;
        }
    } else if (HasBodyMethod(req.method)) {
        Refuse(res, Error(411, "INVALID_REQUEST", "a request body needs a Content-Length"));
        return true;
    }
    // 401 (also for /metrics, and before a malformed path id is noticed).
    if (!IsPublic(req)) {
        auth::AuthResult result = Authenticate(app, req.get_header_value("Authorization"));
        if (!result) {
            res.set_header("WWW-Authenticate", auth::www_authenticate(result.failure));
            Refuse(res, Error(401, "UNAUTHORIZED", "a valid bearer token is required"));
            return true;
        }
        authenticated = std::move(result.principal);
    }
    // 415: bodies are JSON.
    const bool no_body = !req.has_header("Content-Length") || req.get_header_value("Content-Length") == "0";
    if (HasBodyMethod(req.method) && !(IsBodyOptional(req) && no_body)) {
        std::string type = req.get_header_value("Content-Type");
        std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
        std::string media = type.substr(0, type.find(';'));
        media.erase(std::remove(media.begin(), media.end(), ' '), media.end());
        if (media != "application/json") {
            Refuse(res, Error(415, "UNSUPPORTED_MEDIA_TYPE", "request bodies must be application/json"));
            return true;
        }
    }
    return false;
}

}  // namespace nw::http
