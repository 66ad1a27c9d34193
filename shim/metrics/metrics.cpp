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

const char *MethodLabel(const std::string &method)
{
    for (const char *known : {"GET", "HEAD", "POST", "DELETE", "OPTIONS"})
        if (method == known)
            return known;
    return "other";
}

std::string StatusLabel(int status)
{
    static const int kKnown[] = {100, 200, 201, 202, 204, 400, 401, 402, 403, 404, 405, 409,
                                 411, 413, 414, 415, 416, 422, 429, 500, 502, 503, 504};
    for (int known : kKnown)
        if (status == known)
            return std::to_string(status);
    if (status >= 100 && status < 600)
        return std::to_string(status / 100) + "xx";
    return "other";
}

std::string HttpRequestLabels(const std::string &method, const char *route, int status)
{
    return std::string("method=\"") + MethodLabel(method) + "\",route=\"" + route + "\",status=\"" +
           StatusLabel(status) + "\"";
}

}  // namespace nw::metrics
