// See snapshot.hpp.
#include "metrics/snapshot.hpp"

#include "db/statements.hpp"
#include "util/log.hpp"

namespace nw::metrics {

std::optional<std::vector<SnapshotRow>> ReadSnapshot(db::Pool &pool)
{
    // A scrape answers within Prometheus' timeout: it waits for a primary at most
    // as long as /api/health does, and a database that is down is nw_database_up 0.
    const db::Result r = pool.ExecWithin(db::sql::kMetricsSnapshot, {}, std::chrono::milliseconds(1500));
    if (!r.ok) {
        log::Warn("metrics: could not read the database", {{"sqlstate", r.error.sqlstate}});
        return std::nullopt;
    }
    std::vector<SnapshotRow> rows;
    rows.reserve(r.rows.size());
    for (std::size_t i = 0; i < r.rows.size(); ++i)
        rows.push_back({r.Text(i, 0), r.Text(i, 1), r.Text(i, 2), r.Text(i, 3)});
    return rows;
}

}  // namespace nw::metrics
