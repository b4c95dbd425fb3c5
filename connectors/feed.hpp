#pragma once
// The narrow interface every incoming feed implements (CSV folder now, Ed-Fi
// API later): one poll loads whatever is new into the store and says what it did.

#include "core/config.hpp"
#include "store/database.hpp"
#include "store/file_load.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ewsd::connectors {

struct LoadReport {
    enum class Status {
        loaded,    // committed; counts are set
        unchanged, // identical to the last load (same content hash): skipped
        waiting,   // still being written (modified too recently); retried next poll
        rejected,  // refused whole; the store is unchanged; message says why
        failed,    // could not be read or stored this time; retried next poll
    };
    std::string feed;
    std::string source; // file name (or API resource)
    Status status = Status::loaded;
    store::LoadCounts counts;
    std::string message;
    // The source was written since this feed last saw it: new data, or the
    // same data exported again. What keeps a feed fresh (the stale-data guard).
    bool new_input = false;
};
const char* to_string(LoadReport::Status status);

struct PollOptions {
    bool force = false; // load even a file whose content hash matches the last load
    // Set when the daemon is stopping: a load in progress rolls back.
    const std::atomic<bool>* stop = nullptr;
};

class Feed {
public:
    virtual ~Feed() = default;
    [[nodiscard]] virtual const std::string& name() const = 0;
    virtual std::vector<LoadReport> poll(store::Database& db, const PollOptions& options) = 0;
};

std::unique_ptr<Feed> make_feed(const core::FeedConfig& config);

// The kind of store rows a report's source carries: a CSV file name, an Ed-Fi
// resource, or the rows an Ed-Fi feed derives ("store.grades"); nullopt if unknown.
std::optional<store::RecordKind> record_kind_of_source(const std::string& source);

} // namespace ewsd::connectors
