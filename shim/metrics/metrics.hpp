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

// Label values for request counters, each from a fixed set whatever a client
// sends (every new label value is a new series held for the process's life).
// The method: GET, HEAD, POST, DELETE, OPTIONS, else "other".
const char *MethodLabel(const std::string &method);
// The status: a code the shim answers, else its class ("4xx"), else "other".
std::string StatusLabel(int status);
// `method="…",route="…",status="…"` for nw_http_requests_total; `route` must
// come from a fixed set too (http::RouteTemplate).
std::string HttpRequestLabels(const std::string &method, const char *route, int status);

}  // namespace nw::metrics
