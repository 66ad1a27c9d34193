// The HTTP exchange with Twilio, behind a function type so tests can replace it.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace nw::twilio {

struct HttpRequest {
    std::string method;      // GET, POST, DELETE
    std::string url;         // absolute; never contains credentials
    std::string body;        // form-encoded, POST only
    long timeoutMs = 15000;  // total time for this exchange
    long connectTimeoutMs = 15000;
    // A request that must never be sent twice (the buy): it goes out on a new
    // connection that is closed after it. libcurl resends a request, POST
    // included, on a new connection when a reused kept-alive connection dies
    // before any byte of the answer; on a fresh connection it never does.
    bool freshConnection = false;
};

// How an exchange ended when no complete response arrived.
enum class TransportFailure {
    None,            // a complete response: see status and body
    NotSent,         // could not resolve/connect/complete TLS: the request never reached the server
    Timeout,         // the timeout expired (the server may have acted on the request)
    ConnectionLost,  // reset or closed mid-exchange (the server may have acted on the request)
    Other,           // anything else (response too large, internal curl error, …)
};

struct HttpResponse {
    TransportFailure failure = TransportFailure::None;
    std::string failureMessage;  // set when failure != None; no credentials
    long status = 0;             // HTTP status when failure == None
    std::string body;
    std::optional<long> retryAfterSeconds;  // from a Retry-After header in delta-seconds
};

using Transport = std::function<HttpResponse(const HttpRequest &)>;

struct Credentials {
    std::string username;  // API key SID (SK…) or account SID (AC…)
    std::string password;  // API key secret or auth token
};

// A libcurl transport: one easy handle per exchange (so it is safe to call from
// many threads at once), HTTP Basic auth, no redirects, http/https only, body
// capped at 8 MiB. The credentials live only inside the returned function.
Transport MakeCurlTransport(Credentials credentials);

// curl_global_init(CURL_GLOBAL_DEFAULT), exactly once per process. Called by
// MakeCurlTransport; other curl users in the process may call it too.
void EnsureCurlGlobalInit();

}  // namespace nw::twilio
