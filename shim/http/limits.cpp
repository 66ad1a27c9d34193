// See limits.hpp.
#include "http/limits.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace nw::http {
namespace {

// Removes the oldest eighth of `map` (by `when(value)`), at least one entry:
// a full map then takes many inserts before it needs this again.
template <typename Map, typename When>
void EvictOldest(Map &map, When when)
{
    if (map.empty())
        return;
    std::vector<std::pair<SteadyClock::time_point, typename Map::const_iterator>> order;
    order.reserve(map.size());
    for (auto it = map.cbegin(); it != map.cend(); ++it)
        order.emplace_back(when(it->second), it);
    const std::size_t evict = std::max<std::size_t>(1, map.size() / 8);
    std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(evict - 1), order.end(),
                     [](const auto &a, const auto &b) { return a.first < b.first; });
    for (std::size_t i = 0; i < evict; ++i)
        map.erase(order[i].second);
}

}  // namespace

WindowLimiter::WindowLimiter(std::chrono::seconds window, std::size_t max_keys)
    : window_(window), max_keys_(std::max<std::size_t>(1, max_keys))
{
}

// Once per window, and whenever the map is full: what has expired leaves.
void WindowLimiter::SweepLocked(SteadyClock::time_point now, bool force)
{
    if (!force && now - last_sweep_ < window_)
        return;
    last_sweep_ = now;
    for (auto it = windows_.begin(); it != windows_.end();)
        it = now - it->second.start >= window_ ? windows_.erase(it) : std::next(it);
}

void WindowLimiter::MakeRoomLocked(SteadyClock::time_point now)
{
    if (windows_.size() < max_keys_)
        return;
    SweepLocked(now, /*force=*/true);
    // Room for an eighth more, so that a full map is not swept on every insert.
    if (windows_.size() >= max_keys_ - max_keys_ / 8)
        EvictOldest(windows_, [](const Window &w) { return w.start; });
}

bool WindowLimiter::Allow(const std::string &key, int limit, SteadyClock::time_point now)
{
    std::lock_guard<std::mutex> lock(mutex_);
    SweepLocked(now, false);
    auto it = windows_.find(key);
    if (it == windows_.end()) {
        MakeRoomLocked(now);
        it = windows_.emplace(key, Window{now, 0}).first;
    } else if (now - it->second.start >= window_) {
        it->second = Window{now, 0};
    }
    return ++it->second.count <= limit;
}

std::size_t WindowLimiter::Size() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return windows_.size();
}

SearchCache::SearchCache(std::chrono::seconds ttl, std::size_t max_entries)
    : ttl_(ttl), max_entries_(std::max<std::size_t>(1, max_entries))
{
}

// Once per ttl, and whenever the map is full: what has expired leaves.
void SearchCache::SweepLocked(SteadyClock::time_point now, bool force)
{
    if (!force && now - last_sweep_ < ttl_)
        return;
    last_sweep_ = now;
    for (auto it = entries_.begin(); it != entries_.end();)
        it = now - it->second.stored >= ttl_ ? entries_.erase(it) : std::next(it);
}

void SearchCache::MakeRoomLocked(SteadyClock::time_point now)
{
    if (entries_.size() < max_entries_)
        return;
    SweepLocked(now, /*force=*/true);
    // Room for an eighth more, so that a full map is not swept on every insert.
    if (entries_.size() >= max_entries_ - max_entries_ / 8)
        EvictOldest(entries_, [](const Entry &e) { return e.stored; });
}

std::optional<nlohmann::json> SearchCache::Find(const std::string &key, SteadyClock::time_point now)
{
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = entries_.find(key);
    if (it == entries_.end())
        return std::nullopt;
    if (now - it->second.stored >= ttl_) {
        entries_.erase(it);
        return std::nullopt;
    }
    return it->second.value;
}

void SearchCache::Put(const std::string &key, nlohmann::json value, SteadyClock::time_point now)
{
    std::lock_guard<std::mutex> lock(mutex_);
    SweepLocked(now, false);
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        MakeRoomLocked(now);
        entries_.emplace(key, Entry{now, std::move(value)});
    } else {
        it->second = Entry{now, std::move(value)};
    }
}

std::size_t SearchCache::Size() const
{
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
}

}  // namespace nw::http
