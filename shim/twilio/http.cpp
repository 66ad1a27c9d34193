#include "twilio/http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "twilio/errors.hpp"
#include "twilio/retry.hpp"

namespace nw::twilio {
namespace {

constexpr std::size_t kMaxBodyBytes = 8u << 20;

struct Exchange {
    std::string body;
    bool tooLarge = false;
    std::optional<long> retryAfterSeconds;
};

size_t OnBody(char *data, size_t size, size_t nmemb, void *user)
{
    auto *ex = static_cast<Exchange *>(user);
    size_t n = size * nmemb;
    if (ex->body.size() + n > kMaxBodyBytes) {
        ex->tooLarge = true;
        return 0;  // makes curl abort with CURLE_WRITE_ERROR
    }
    ex->body.append(data, n);
    return n;
}

bool StartsWithNoCase(const char *data, size_t len, std::string_view prefix)
{
    if (len < prefix.size())
        return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
        char a = data[i];
        if (a >= 'A' && a <= 'Z')
            a = static_cast<char>(a - 'A' + 'a');
        if (a != prefix[i])
            return false;
    }
    return true;
}

size_t OnHeader(char *data, size_t size, size_t nmemb, void *user)
{
    auto *ex = static_cast<Exchange *>(user);
    size_t n = size * nmemb;
    // A new status line (e.g. after "100 Continue") starts a new header block.
    if (StartsWithNoCase(data, n, "http/"))
        ex->retryAfterSeconds.reset();
    constexpr std::string_view kName = "retry-after:";
    if (StartsWithNoCase(data, n, kName)) {
        ex->retryAfterSeconds = ParseRetryAfter(std::string_view(data + kName.size(), n - kName.size()));
    }
    return n;
}

TransportFailure ClassifyCurlError(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:  // TLS handshake: no HTTP bytes sent yet
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return TransportFailure::NotSent;
    case CURLE_OPERATION_TIMEDOUT:
        return TransportFailure::Timeout;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return TransportFailure::ConnectionLost;
    default:
        return TransportFailure::Other;
    }
}

struct CurlDeleter {
    void operator()(CURL *h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
    void operator()(curl_slist *l) const { curl_slist_free_all(l); }
};

// Each thread keeps one easy handle, reset before every request: curl keeps
// the connection cache (and the DNS and TLS session caches) in it, so a
// thread's next request to Twilio reuses its kept-alive connection instead of
// a new TCP and TLS handshake. (libcurl does not support sharing one
// connection cache between concurrent threads through a share object.)
CURL *ThreadHandle()
{
    thread_local std::unique_ptr<CURL, CurlDeleter> handle(curl_easy_init());
    if (handle)
        curl_easy_reset(handle.get());
    return handle.get();
}

HttpResponse perform(const Credentials &creds, const HttpRequest &req)
{
    HttpResponse out;
    CURL *h = ThreadHandle();
    if (!h) {
        out.failure = TransportFailure::NotSent;
        out.failureMessage = "could not create a curl handle";
        return out;
    }
    Exchange ex;
    char errbuf[CURL_ERROR_SIZE] = {0};

    curl_slist *raw = nullptr;
    raw = curl_slist_append(raw, "Accept: application/json");
    raw = curl_slist_append(raw, "Expect:");  // no 100-continue round trip
    if (req.method == "POST")
        raw = curl_slist_append(raw, "Content-Type: application/x-www-form-urlencoded");
    std::unique_ptr<curl_slist, SlistDeleter> headers(raw);

    // The handle outlives this call: leave it no pointer into this frame.
    struct ForgetFrame {
        CURL *h;
        ~ForgetFrame()
        {
            curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
            curl_easy_setopt(h, CURLOPT_WRITEDATA, nullptr);
            curl_easy_setopt(h, CURLOPT_HEADERDATA, nullptr);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, nullptr);
        }
    } forget{h};

    long timeout = req.timeoutMs > 0 ? req.timeoutMs : 1;
    long connectTimeout = req.connectTimeoutMs > 0 ? std::min(req.connectTimeoutMs, timeout) : timeout;

    curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 1L);  // one host: one kept-alive connection per thread
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // required for timeouts in threaded programs
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connectTimeout);
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(h, CURLOPT_USERNAME, creds.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, creds.password.c_str());
    curl_easy_setopt(h, CURLOPT_USERAGENT, "number-wallet-shim");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ex);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex);
    if (req.freshConnection) {
        // Not a kept-alive connection (libcurl retries only requests sent on a
        // reused one), and not kept for later requests either: curl_easy_reset
        // clears both options before this handle's next request.
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    }
    if (req.method == "POST") {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.c_str());
    } else if (req.method == "DELETE") {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }

    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        out.failure = ex.tooLarge ? TransportFailure::Other : ClassifyCurlError(rc);
        // curl's messages name hosts and ports, never the credentials set above.
        out.failureMessage = ex.tooLarge ? std::string("response body larger than 8 MiB")
                                         : SanitizeText(std::string(curl_easy_strerror(rc)) +
                                                        (errbuf[0] ? std::string(": ") + errbuf : std::string()));
        return out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out.status);
    out.body = std::move(ex.body);
    out.retryAfterSeconds = ex.retryAfterSeconds;
    return out;
}

}  // namespace

void EnsureCurlGlobalInit()
{
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            throw std::runtime_error("curl_global_init failed");
        }
    });
}

Transport MakeCurlTransport(Credentials credentials)
{
    EnsureCurlGlobalInit();
    auto creds = std::make_shared<const Credentials>(std::move(credentials));
    return [creds](const HttpRequest &req) { return perform(*creds, req); };
}

}  // namespace nw::twilio
