#pragma once
// A folder into which the SIS drops its nightly exports (students.csv,
// attendance.csv, grades.csv, incidents.csv, calendar.csv). See docs/feeds.md.

#include "connectors/feed.hpp"

#include <filesystem>

namespace ewsd::connectors::csv {

class CsvFeed : public Feed {
public:
    explicit CsvFeed(core::FeedConfig config);

    [[nodiscard]] const std::string& name() const override { return m_config.name; }
    std::vector<LoadReport> poll(store::Database& db, const PollOptions& options) override;

    // Loads one file of the folder (exposed for tests).
    LoadReport load_file(store::Database& db, store::RecordKind kind, const PollOptions& options);

private:
    core::FeedConfig m_config;
};

} // namespace ewsd::connectors::csv
