#pragma once
// The feeds as `ewsd run` sees them: when each is polled next (an interval,
// or daily local times), when it last brought new data, and whether it is
// stale. A feed with no new data (or only failures) for longer than its
// max_age is stale: the admin is alerted once, and again when data flows
// again; while stale, the rules reading its kinds of data are frozen.
// The last success and the stale mark are kept in the store's meta table, so
// a restart neither forgets a stale feed nor alerts about it twice.

#include "connectors/feed.hpp"
#include "core/config.hpp"
#include "store/database.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace ewsd::daemon {

struct FeedStatus {
    std::string name;
    std::int64_t max_age = 0;      // seconds; 0: never stale
    std::int64_t next_poll = 0;    // Unix seconds
    std::int64_t last_poll = 0;    // 0: not polled by this process yet
    std::int64_t last_success = 0; // the last poll that brought new input
    bool last_poll_failed = false;
    std::string last_error;
    bool stale = false;
    unsigned kinds = 0; // rules::DataKind bits it supplies
    // Since the process started (Prometheus counters).
    std::uint64_t polls_ok = 0;
    std::uint64_t polls_failed = 0;
    std::uint64_t rows_ingested = 0;
    std::uint64_t rows_quarantined = 0;
};

// The data kinds (rules::DataKind bits) a feed's source holds: a CSV file by
// its name; all of them for a source not known.
unsigned data_kind_of_source(const std::string& source);

// The next time `feed` is due after `now`: now + poll_every, or the next of
// its poll_at local times.
std::int64_t next_poll_after(const core::FeedConfig& feed, std::int64_t now);

class FeedMonitor {
public:
    // Every feed is due at once: a (re)start catches up.
    FeedMonitor(store::Database& db, const std::vector<core::FeedConfig>& feeds, std::int64_t now);

    // After a reload: feeds keep their state by name; new ones are due at once.
    void reconfigure(store::Database& db, const std::vector<core::FeedConfig>& feeds,
                     std::int64_t now);

    // Polls the feeds due at `now`, each on its own (one failing never stops
    // the others). Returns whether any data changed.
    bool poll_due(store::Database& db, std::int64_t now, const std::atomic<bool>* stop);

    // Marks feeds stale or fresh at `now`; each change is logged and queued
    // as an operational alert. Returns the number of changes.
    int check_staleness(store::Database& db, const core::NotifyConfig& notify, std::int64_t now);

    // The data kinds supplied by stale feeds (rules::DataKind bits).
    [[nodiscard]] unsigned stale_kinds() const;
    [[nodiscard]] std::int64_t next_poll() const;
    // When the next feed would turn stale, if nothing arrives (0: none will).
    [[nodiscard]] std::int64_t next_stale_at() const;
    [[nodiscard]] const std::vector<FeedStatus>& statuses() const { return m_status; }

    // "no new data for 37 h (max_age 36 h); last poll failed: ..."
    static std::string stale_reason(const FeedStatus& status, std::int64_t now);

private:
    struct Entry {
        core::FeedConfig config;
        std::unique_ptr<connectors::Feed> feed;
        std::set<std::string> files; // sources it has delivered
    };
    void add(store::Database& db, const core::FeedConfig& config, std::int64_t now);
    void record(store::Database& db, std::size_t index,
                const std::vector<connectors::LoadReport>& loads, std::int64_t now);

    std::vector<Entry> m_entries;
    std::vector<FeedStatus> m_status; // parallel to m_entries
};

} // namespace ewsd::daemon
