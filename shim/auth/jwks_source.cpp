// See jwks_source.hpp.
#include "auth/jwks_source.hpp"

#include <curl/curl.h>

#include <cctype>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace nw::auth {
namespace {

constexpr std::size_t kMaxJwksBytes = 1u << 20;  // a JWKS is a few KiB

bool StartsWithNoCase(const std::string &text, const char *prefix)
{
    for (std::size_t i = 0; prefix[i] != '\0'; ++i)
        if (i >= text.size() || std::tolower(static_cast<unsigned char>(text[i])) != prefix[i])
            return false;
    return true;
}

struct CurlDeleter {
    void operator()(CURL *h) const { curl_easy_cleanup(h); }
};

size_t AppendBody(char *data, size_t size, size_t count, void *out)
{
    auto *body = static_cast<std::string *>(out);
    if (body->size() + size * count > kMaxJwksBytes)
        return 0;  // refuse anything huge
    body->append(data, size * count);
    return size * count;
}

}  // namespace

JwksFetch FetchJwksUrl(const std::string &url)
{
    JwksFetch out;
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) {
        out.error = "could not create a curl handle";
        return out;
    }
    std::string body;
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, AppendBody);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
    // The scheme CheckJwksUrl allowed, and only that one.
    curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, StartsWithNoCase(url, "https://") ? "https" : "http");
    curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "number-wallet-shim");
    long status = 0;
    const CURLcode rc = curl_easy_perform(curl.get());
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) {
        out.error = std::string("could not fetch SUPABASE_JWKS: ") + curl_easy_strerror(rc);
        return out;
    }
    if (status != 200) {
        out.error = "could not fetch SUPABASE_JWKS: HTTP status " + std::to_string(status);
        return out;
    }
    out.ok = true;
    out.document = std::move(body);
    return out;
}

JwksFetcher MakeJwksUrlFetcher(std::string url)
{
    return [url = std::move(url)] { return FetchJwksUrl(url); };
}

std::string ReadJwksFile(const std::string &path)
{
    std::ifstream file(path);
    if (!file)
        throw std::runtime_error("could not read the SUPABASE_JWKS file");
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

JwksRefresher::JwksRefresher(Verifier &verifier, std::chrono::milliseconds tick, Report report)
    : verifier_(verifier), tick_(tick), report_(std::move(report)), thread_([this] { Run(); })
{
}

JwksRefresher::~JwksRefresher()
{
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void JwksRefresher::Run()
{
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, tick_, [this] { return stop_; })) {
        lock.unlock();
        const JwksRefresh outcome = verifier_.refresh_jwks_if_due();
        if (outcome == JwksRefresh::Refreshed || outcome == JwksRefresh::Failed)
            report_(outcome, outcome == JwksRefresh::Failed ? verifier_.jwks_refresh_stats().last_error : "");
        lock.lock();
    }
}

}  // namespace nw::auth
