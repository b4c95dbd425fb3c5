#pragma once
// A folder into which the SIS drops its nightly exports (students.csv,
// attendance.csv, grades.csv, incidents.csv, calendar.csv). See docs/feeds.md.

#include "connectors/feed.hpp"

#include <cstdint>
#include <filesystem>
#include <map>

namespace ewsd::connectors::csv {

class CsvFeed : public Feed {
public:
    explicit CsvFeed(core::FeedConfig config);

    [[nodiscard]] const std::string& name() const override { return m_config.name; }
    std::vector<LoadReport> poll(store::Database& db, const PollOptions& options) override;

    // Loads one file of the folder (exposed for tests).
    LoadReport load_file(store::Database& db, store::RecordKind kind, const PollOptions& options);

private:
    struct Seen {
        std::int64_t size = 0;
        std::int64_t mtime_ns = 0;
    };
    core::FeedConfig m_config;
    // Each file as last seen by this process, so that a file left in place is
    // neither hashed again at every poll nor taken for a new export.
    std::map<std::string, Seen> m_seen;
};

} // namespace ewsd::connectors::csv
