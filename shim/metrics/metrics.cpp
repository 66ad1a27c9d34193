// See metrics.hpp.
#include "metrics/metrics.hpp"

namespace nw::metrics {

void Metrics::Inc(const std::string &name, const std::string &labels)
{
    std::lock_guard<std::mutex> lock(mutex_);
    ++counters_[name][labels];
}

std::string Metrics::Render() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    for (const auto &[name, series] : counters_) {
        out += "# TYPE " + name + " counter\n";
        for (const auto &[labels, value] : series)
            out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(value) + "\n";
    }
    return out;
}

}  // namespace nw::metrics
