// Bounded, expiring state that requests share: per-key rate windows and the
// search cache. Owned by the App (not function-local statics), so a test can
// make one, and so its size is bounded and old entries leave.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace nw::http {

using SteadyClock = std::chrono::steady_clock;

// At most `limit` events per key within `window` of the key's first event.
// Holds at most `max_keys` keys: windows that ended are swept once per
// window, and when it is full the oldest windows make room.
class WindowLimiter {
public:
    WindowLimiter(std::chrono::seconds window, std::size_t max_keys);

    // Counts one event of `key` at `now`; false when it is over `limit`.
    bool Allow(const std::string &key, int limit, SteadyClock::time_point now);
    std::size_t Size() const;

private:
    struct Window {
        SteadyClock::time_point start;
        int count = 0;
    };
    void SweepLocked(SteadyClock::time_point now, bool force);
    void MakeRoomLocked(SteadyClock::time_point now);

    const std::chrono::seconds window_;
    const std::size_t max_keys_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Window> windows_;
    SteadyClock::time_point last_sweep_{};
};

// Search answers by query, each kept for `ttl`; at most `max_entries`, swept
// like WindowLimiter.
class SearchCache {
public:
    SearchCache(std::chrono::seconds ttl, std::size_t max_entries);

    std::optional<nlohmann::json> Find(const std::string &key, SteadyClock::time_point now);
    void Put(const std::string &key, nlohmann::json value, SteadyClock::time_point now);
    std::size_t Size() const;

private:
    struct Entry {
        SteadyClock::time_point stored;
        nlohmann::json value;
    };
    void SweepLocked(SteadyClock::time_point now, bool force);
    void MakeRoomLocked(SteadyClock::time_point now);

    const std::chrono::seconds ttl_;
    const std::size_t max_entries_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    SteadyClock::time_point last_sweep_{};
};

}  // namespace nw::http
