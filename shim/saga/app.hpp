// Everything a request or a reconciliation pass needs.
#pragma once

#include <atomic>
#include <memory>

#include "auth/auth.hpp"
#include "config/config.hpp"
#include "db/pool.hpp"
#include "metrics/metrics.hpp"
#include "provider/provider.hpp"

namespace nw {

struct App {
    config::Config config;
    std::unique_ptr<db::Pool> pool;
    std::unique_ptr<provider::Provider> provider;
    std::unique_ptr<auth::Verifier> verifier;
    metrics::Metrics metrics;
};

}  // namespace nw
