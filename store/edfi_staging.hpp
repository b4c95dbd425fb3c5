#pragma once
// The staging area of Ed-Fi ODS/API feeds: the API's records, reduced to the
// fields ewsd reads, and the derivations their changes leave pending. Each
// call that writes runs inside the caller's transaction (StagingBatch), so a
// page of records, its pending derivations and nothing else commit together.

#include "store/database.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ewsd::store {

struct StagedRecord {
    std::string id;     // the API's resource id
    std::string lookup; // the key it is read by: a student, a school, a natural key
    std::string body;   // JSON
};

// A derivation left pending: `kind` is a store::RecordKind name; `scope` a
// student id, a school id (calendar) or "*".
struct PendingScope {
    std::string kind;
    std::string scope;
};

enum class StageOutcome { inserted, updated, unchanged };

// One transaction over the staging area of one feed.
class StagingBatch {
public:
    StagingBatch(Database& db, const std::string& feed);
    ~StagingBatch();
    StagingBatch(const StagingBatch&) = delete;
    StagingBatch& operator=(const StagingBatch&) = delete;

    // Stores a record (marking it seen by full load `sync`, when not 0); the
    // record as it was before, if it changed, is returned through `before`.
    StageOutcome put(const std::string& resource, const StagedRecord& record, std::int64_t sync,
                     std::optional<StagedRecord>& before);
    // Removes a record by id; returns it as it was, if it was there.
    std::optional<StagedRecord> remove(const std::string& resource, const std::string& id);
    // Removes the records of `resource` not seen by full load `sync`, calling
    // `removed` with each.
    void remove_unseen(const std::string& resource, std::int64_t sync,
                       const std::function<void(const StagedRecord&)>& removed);
    void mark_pending(const PendingScope& pending);
    void set_cursor(const std::string& resource, const std::string& cursor);
    void commit();

private:
    Database& m_db;
    std::int64_t m_feed_id = 0;
    std::optional<SQLite::Transaction> m_txn;
    std::unique_ptr<SQLite::Statement> m_get;
    std::unique_ptr<SQLite::Statement> m_put;
    std::unique_ptr<SQLite::Statement> m_pending;
};

// Reading the staging area of one feed.
class StagingReader {
public:
    StagingReader(Database& db, const std::string& feed);
    ~StagingReader();
    StagingReader(const StagingReader&) = delete;
    StagingReader& operator=(const StagingReader&) = delete;
    // The records of `resource` read by `lookup`.
    std::vector<StagedRecord> by_lookup(const std::string& resource, const std::string& lookup);
    // Every distinct lookup of `resource`, in order, until `fn` returns false.
    void each_lookup(const std::string& resource,
                     const std::function<bool(const std::string&)>& fn);

private:
    Database& m_db;
    std::int64_t m_feed_id = 0;
    std::unique_ptr<SQLite::Statement> m_by_lookup;
};

std::optional<std::string> feed_cursor(Database& db, const std::string& feed,
                                       const std::string& resource);
// The kinds with pending derivations, and the pending scopes of one kind.
std::set<std::string> pending_kinds(Database& db, const std::string& feed);
std::vector<std::string> pending_scopes(Database& db, const std::string& feed,
                                        const std::string& kind);
// Clears pending derivations of one kind (inside the caller's transaction).
void clear_pending(Database& db, const std::string& feed, const std::string& kind);

} // namespace ewsd::store
