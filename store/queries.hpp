#pragma once
// Read-side queries behind `ewsd status` and `ewsd feeds errors`.

#include "store/database.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace ewsd::store {

struct StoreStats {
    std::int64_t students = 0;
    std::int64_t enrollments = 0;
    std::int64_t schools = 0;
    std::int64_t attendance_events = 0;
    std::int64_t absences = 0;
    std::int64_t tardies = 0;
    std::int64_t grades = 0;
    std::int64_t sections = 0;
    std::int64_t incident_rows = 0;
    std::int64_t incidents = 0;
    std::int64_t suspensions = 0;
    std::int64_t calendar_days = 0;
    std::int64_t instructional_days = 0;
    std::int64_t quarantined = 0; // in the latest load of each file
    std::int64_t dirty_students = 0;
};
StoreStats store_stats(Database& db);

struct FileStatus {
    std::string feed;
    std::string file;
    std::string status;
    std::string loaded_at;
    std::int64_t rows_read = 0;
    std::int64_t rows_quarantined = 0;
    std::string error;
};
// The latest load of every file of every feed.
std::vector<FileStatus> latest_loads(Database& db);

struct QuarantinedRow {
    std::string feed;
    std::string file;
    std::int64_t line = 0;
    std::int64_t column = 0;
    std::string reason;
    std::string loaded_at;
};
// Quarantined rows of the latest load of each file (all loads with `history`),
// optionally of one feed only.
std::vector<QuarantinedRow> quarantined_rows(Database& db, const std::string& feed, bool history);

// Students whose data changed since the evaluator last looked (ingest adds
// them; the daemon's evaluation will clear them), in id order.
std::vector<std::string> dirty_students(Database& db);

// The meta table: small named values of the store (the change sequence, the
// last evaluated date). An absent key reads as "".
std::string meta_value(Database& db, const std::string& key);
void set_meta_value(Database& db, const std::string& key, const std::string& value);

} // namespace ewsd::store
