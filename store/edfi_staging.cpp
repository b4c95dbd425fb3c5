#include "store/edfi_staging.hpp"

#include "store/file_load.hpp"
#include "util/date.hpp"

#include <chrono>

namespace ewsd::store {

StagingBatch::StagingBatch(Database& db, const std::string& feed) : m_db(db) {
    m_txn.emplace(db.sql(), SQLite::TransactionBehavior::IMMEDIATE);
    m_feed_id = feed_id(db, feed);
    m_get = std::make_unique<SQLite::Statement>(
        db.sql(), "SELECT lookup, body FROM edfi_records WHERE feed_id = ? AND resource = ? AND "
                  "id = ?");
    m_put = std::make_unique<SQLite::Statement>(db.sql(), R"sql(
INSERT INTO edfi_records (feed_id, resource, id, lookup, body, seen_sync) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (feed_id, resource, id) DO UPDATE SET lookup = excluded.lookup, body = excluded.body,
    seen_sync = CASE WHEN excluded.seen_sync <> 0 THEN excluded.seen_sync ELSE seen_sync END)sql");
    m_pending = std::make_unique<SQLite::Statement>(
        db.sql(), "INSERT OR IGNORE INTO edfi_pending (feed_id, kind, scope) VALUES (?, ?, ?)");
}

StagingBatch::~StagingBatch() {
    m_get.reset();
    m_put.reset();
    m_pending.reset();
    m_txn.reset(); // rolls back unless committed
}

StageOutcome StagingBatch::put(const std::string& resource, const StagedRecord& record,
                               std::int64_t sync, std::optional<StagedRecord>& before) {
    before.reset();
    m_get->bind(1, m_feed_id);
    m_get->bind(2, resource);
    m_get->bind(3, record.id);
    StageOutcome outcome = StageOutcome::inserted;
    if (m_get->executeStep()) {
        StagedRecord old{record.id, m_get->getColumn(0).getString(),
                         m_get->getColumn(1).getString()};
        if (old.lookup == record.lookup && old.body == record.body) {
            outcome = StageOutcome::unchanged;
        } else {
            outcome = StageOutcome::updated;
            before = std::move(old);
        }
    }
    m_get->reset();
    if (outcome == StageOutcome::unchanged && sync == 0) {
        return outcome;
    }
    m_put->bind(1, m_feed_id);
    m_put->bind(2, resource);
    m_put->bind(3, record.id);
    m_put->bind(4, record.lookup);
    m_put->bind(5, record.body);
    m_put->bind(6, sync);
    m_put->exec();
    m_put->reset();
    return outcome;
}

std::optional<StagedRecord> StagingBatch::remove(const std::string& resource,
                                                 const std::string& id) {
    SQLite::Statement q(m_db.sql(), "DELETE FROM edfi_records WHERE feed_id = ? AND resource = ? "
                                    "AND id = ? RETURNING lookup, body");
    q.bind(1, m_feed_id);
    q.bind(2, resource);
    q.bind(3, id);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    StagedRecord old{id, q.getColumn(0).getString(), q.getColumn(1).getString()};
    while (q.executeStep()) {
    }
    return old;
}

void StagingBatch::remove_unseen(const std::string& resource, std::int64_t sync,
                                 const std::function<void(const StagedRecord&)>& removed) {
    SQLite::Statement q(m_db.sql(), "DELETE FROM edfi_records WHERE feed_id = ? AND resource = ? "
                                    "AND seen_sync <> ? RETURNING id, lookup, body");
    q.bind(1, m_feed_id);
    q.bind(2, resource);
    q.bind(3, sync);
    while (q.executeStep()) {
        removed(StagedRecord{q.getColumn(0).getString(), q.getColumn(1).getString(),
                             q.getColumn(2).getString()});
    }
}

void StagingBatch::mark_pending(const PendingScope& pending) {
    m_pending->bind(1, m_feed_id);
    m_pending->bind(2, pending.kind);
    m_pending->bind(3, pending.scope);
    m_pending->exec();
    m_pending->reset();
}

void StagingBatch::set_cursor(const std::string& resource, const std::string& cursor) {
    SQLite::Statement q(m_db.sql(), R"sql(
INSERT INTO feed_cursors (feed_id, resource, cursor, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (feed_id, resource) DO UPDATE SET cursor = excluded.cursor,
    updated_at = excluded.updated_at)sql");
    q.bind(1, m_feed_id);
    q.bind(2, resource);
    q.bind(3, cursor);
    q.bind(4, util::format_timestamp_utc(std::chrono::system_clock::now()));
    q.exec();
}

void StagingBatch::commit() {
    m_get.reset();
    m_put.reset();
    m_pending.reset();
    m_txn->commit();
    m_txn.reset();
}

StagingReader::StagingReader(Database& db, const std::string& feed)
    : m_db(db), m_feed_id(feed_id(db, feed)) {}

StagingReader::~StagingReader() = default;

std::vector<StagedRecord> StagingReader::by_lookup(const std::string& resource,
                                                   const std::string& lookup) {
    if (!m_by_lookup) {
        m_by_lookup = std::make_unique<SQLite::Statement>(
            // Without INDEXED BY, SQLite scans the primary key's (feed_id,
            // resource) range instead: a whole resource read per student.
            m_db.sql(), "SELECT id, body FROM edfi_records INDEXED BY edfi_records_by_lookup "
                        "WHERE feed_id = ? AND resource = ? AND lookup = ? ORDER BY id");
    }
    SQLite::Statement& q = *m_by_lookup;
    q.bind(1, m_feed_id);
    q.bind(2, resource);
    q.bind(3, lookup);
    std::vector<StagedRecord> out;
    while (q.executeStep()) {
        out.push_back(StagedRecord{q.getColumn(0).getString(), lookup, q.getColumn(1).getString()});
    }
    q.reset();
    return out;
}

void StagingReader::each_lookup(const std::string& resource,
                                const std::function<bool(const std::string&)>& fn) {
    SQLite::Statement q(m_db.sql(), "SELECT DISTINCT lookup FROM edfi_records WHERE feed_id = ? "
                                    "AND resource = ? ORDER BY lookup");
    q.bind(1, m_feed_id);
    q.bind(2, resource);
    while (q.executeStep()) {
        if (!fn(q.getColumn(0).getString())) {
            return;
        }
    }
}

std::optional<std::string> feed_cursor(Database& db, const std::string& feed,
                                       const std::string& resource) {
    SQLite::Statement q(db.sql(), "SELECT c.cursor FROM feed_cursors c JOIN feeds f USING "
                                  "(feed_id) WHERE f.name = ? AND c.resource = ?");
    q.bind(1, feed);
    q.bind(2, resource);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return q.getColumn(0).getString();
}

std::set<std::string> pending_kinds(Database& db, const std::string& feed) {
    SQLite::Statement q(db.sql(), "SELECT DISTINCT p.kind FROM edfi_pending p JOIN feeds f USING "
                                  "(feed_id) WHERE f.name = ?");
    q.bind(1, feed);
    std::set<std::string> out;
    while (q.executeStep()) {
        out.insert(q.getColumn(0).getString());
    }
    return out;
}

std::vector<std::string> pending_scopes(Database& db, const std::string& feed,
                                        const std::string& kind) {
    SQLite::Statement q(db.sql(), "SELECT p.scope FROM edfi_pending p JOIN feeds f USING "
                                  "(feed_id) WHERE f.name = ? AND p.kind = ? ORDER BY p.scope");
    q.bind(1, feed);
    q.bind(2, kind);
    std::vector<std::string> out;
    while (q.executeStep()) {
        out.push_back(q.getColumn(0).getString());
    }
    return out;
}

void clear_pending(Database& db, const std::string& feed, const std::string& kind) {
    SQLite::Statement q(db.sql(), "DELETE FROM edfi_pending WHERE feed_id = (SELECT feed_id FROM "
                                  "feeds WHERE name = ?) AND kind = ?");
    q.bind(1, feed);
    q.bind(2, kind);
    q.exec();
}

} // namespace ewsd::store
