// Where SUPABASE_JWKS comes from: a file, read once at start, or a URL, fetched
// at start and again while the shim serves (see Verifier::refresh_jwks_if_due).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "auth/auth.hpp"

namespace nw::auth {

// One GET of the URL (checked by config::CheckJwksUrl) with libcurl: status
// 200, at most 1 MiB, no redirects, 10 s in all. Safe from any thread.
JwksFetch FetchJwksUrl(const std::string &url);

// A fetcher for VerifierConfig::jwks_fetcher.
JwksFetcher MakeJwksUrlFetcher(std::string url);

// The text of a JWKS file. Throws std::runtime_error naming SUPABASE_JWKS.
std::string ReadJwksFile(const std::string &path);

// A background thread that asks the verifier every `tick` whether a refresh is
// due (so no request waits on a periodic fetch) and reports each outcome other
// than NotDue. Stops and joins when destroyed.
class JwksRefresher {
public:
    using Report = std::function<void(JwksRefresh outcome, const std::string &error)>;
    JwksRefresher(Verifier &verifier, std::chrono::milliseconds tick, Report report);
    ~JwksRefresher();
    JwksRefresher(const JwksRefresher &) = delete;
    JwksRefresher &operator=(const JwksRefresher &) = delete;

private:
    void Run();

    Verifier &verifier_;
    std::chrono::milliseconds tick_;
    Report report_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace nw::auth
