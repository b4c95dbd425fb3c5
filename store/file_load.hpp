#pragma once
// Writing one feed file into the store: one transaction per file, so a crash
// or a kill at any moment leaves the store as it was before or after the file.

#include "store/database.hpp"
#include "store/records.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

namespace ewsd::store {

enum class RecordKind { students, attendance, grades, incidents, calendar };
const char* to_string(RecordKind kind);

enum class RowOutcome { inserted, updated, unchanged };

struct FileFingerprint {
    std::string sha256;
    std::int64_t size = 0;
    std::int64_t mtime_ns = 0;
};

struct LoadCounts {
    std::int64_t read = 0;
    std::int64_t inserted = 0;
    std::int64_t updated = 0;
    std::int64_t unchanged = 0;
    std::int64_t removed = 0;
    std::int64_t quarantined = 0;
};

class FileLoad {
public:
    // Begins the transaction. `snapshot`: on commit, remove this feed's rows
    // of this kind that the file did not contain.
    FileLoad(Database& db, const std::string& feed, const std::string& file, RecordKind kind,
             bool snapshot);
    ~FileLoad();
    FileLoad(const FileLoad&) = delete;
    FileLoad& operator=(const FileLoad&) = delete;

    RowOutcome put(const Enrollment& row);
    RowOutcome put(const AttendanceEvent& row);
    RowOutcome put(const Grade& row);
    RowOutcome put(const Incident& row);
    RowOutcome put(const CalendarDay& row);
    void quarantine(int line, int column, const std::string& reason);
    // This load holds every row of one student (of one school, for the
    // calendar) that its feed has: on commit, the feed's rows of this kind for
    // that scope which the load did not put are removed. For feeds that derive
    // a student's rows again (Ed-Fi), where a snapshot is the whole file.
    void replace_scope(const std::string& scope);

    // Applies snapshot removal, records the load and commits.
    LoadCounts commit(const FileFingerprint& fingerprint);
    // Leaves the store as it was (also done by the destructor when not committed).
    void rollback();

    [[nodiscard]] const LoadCounts& counts() const { return m_counts; }

    // What the last upsert did; set by SQL functions its statement calls.
    struct UpsertProbe {
        bool existed = false;
        bool changed = false;
    };
    [[nodiscard]] std::int64_t load_id() const { return m_load_id; }

private:
    SQLite::Statement& upsert();
    RowOutcome run_upsert(SQLite::Statement& stmt);
    void release_statements();
    RowOutcome count(RowOutcome outcome);
    void remove_unseen();
    void bind_provenance(SQLite::Statement& stmt, int first_index, std::int64_t seq);

    Database& m_db;
    RecordKind m_kind;
    bool m_snapshot;
    std::optional<SQLite::Transaction> m_txn;
    std::int64_t m_feed_id = 0;
    std::int64_t m_load_id = 0;
    std::int64_t m_seq = 0;
    UpsertProbe m_probe;
    std::unique_ptr<SQLite::Statement> m_upsert;
    std::unique_ptr<SQLite::Statement> m_upsert_student;
    std::unique_ptr<SQLite::Statement> m_quarantine;
    std::unordered_set<std::string> m_dirty_students;
    std::unordered_set<std::string> m_dirty_schools; // schools whose calendar changed
    std::unordered_set<std::string> m_scopes;        // replace_scope()
    LoadCounts m_counts;
};

// The latest load of a feed's file, if any.
struct LastLoad {
    std::string status; // "loaded" or "rejected"
    std::string sha256;
    std::int64_t size = 0;
    std::int64_t mtime_ns = 0;
};
std::optional<LastLoad> last_load(Database& db, const std::string& feed, const std::string& file);

// Records a file rejected whole (in its own transaction; the data is untouched).
void record_rejected(Database& db, const std::string& feed, const std::string& file, bool snapshot,
                     const FileFingerprint& fingerprint, const std::string& error);

std::int64_t feed_id(Database& db, const std::string& feed);

} // namespace ewsd::store
