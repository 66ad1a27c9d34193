// Prometheus counters for /metrics.
#pragma once

#include <map>
#include <mutex>
#include <string>

namespace nw::metrics {

class Metrics {
  public:
    // name{labels} += 1; labels is Prometheus label text such as `route="x",status="200"`.
    void Inc(const std::string &name, const std::string &labels = "");
    std::string Render() const;

  private:
    mutable std::mutex mutex_;
    std::map<std::string, std::map<std::string, long long>> counters_;
};

}  // namespace nw::metrics
