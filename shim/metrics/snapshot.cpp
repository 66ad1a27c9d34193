// See snapshot.hpp.
#include "metrics/snapshot.hpp"

#include "db/statements.hpp"
#include "util/log.hpp"

namespace nw::metrics {

std::optional<std::vector<SnapshotRow>> ReadSnapshot(db::Pool &pool)
{
    const db::Result r = pool.Exec(db::sql::kMetricsSnapshot, {});
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
