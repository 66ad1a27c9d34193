// Reading number_wallet.metrics_snapshot() for /metrics.
#pragma once

#include <optional>
#include <vector>

#include "db/pool.hpp"
#include "metrics/metrics.hpp"

namespace nw::metrics {

// The rows of metrics_snapshot(), or nullopt when the database could not be
// read (then /metrics says nw_database_up 0).
std::optional<std::vector<SnapshotRow>> ReadSnapshot(db::Pool &pool);

}  // namespace nw::metrics
