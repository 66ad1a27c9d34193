// The shim's service container: everything a request or a reconciliation pass needs.
// http/ and saga/ both take it; it includes no handler and no saga.
#pragma once

#include <atomic>
#include <memory>

#include "auth/auth.hpp"
#include "config/config.hpp"
#include "db/pool.hpp"
#include "http/limits.hpp"
#include "metrics/metrics.hpp"
#include "provider/provider.hpp"

namespace nw {

struct App {
    config::Config config;
    std::unique_ptr<db::Pool> pool;
    std::unique_ptr<provider::Provider> provider;
    std::unique_ptr<auth::Verifier> verifier;
    metrics::Metrics metrics;
    // State the HTTP layer keeps between requests (bounded, expiring).
    http::WindowLimiter search_limits{std::chrono::seconds(60), 100000};  // 30 searches a minute per user
    http::SearchCache search_cache{std::chrono::seconds(30), 1000};       // answers kept 30 s
    http::WindowLimiter ip_limits{std::chrono::seconds(60), 100000};      // IP_RATE_LIMIT_PER_MINUTE
};

}  // namespace nw
