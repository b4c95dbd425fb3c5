#include "store/file_load.hpp"

#include "store/queries.hpp"
#include "util/date.hpp"

#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <stdexcept>

namespace ewsd::store {

namespace {

// Provenance columns bound after each kind's own columns: feed_id, seen_load, seq.
constexpr const char* students_sql = R"sql(
INSERT INTO students (student_id, first_name, last_name, attributes,
                      feed_id, seen_load, changed_seq)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (student_id) DO UPDATE SET
    changed_seq = CASE WHEN first_name IS NOT excluded.first_name
                         OR last_name IS NOT excluded.last_name
                         OR attributes IS NOT excluded.attributes
                       THEN ewsd_changed(excluded.changed_seq) ELSE changed_seq END,
    first_name = excluded.first_name, last_name = excluded.last_name,
    attributes = excluded.attributes, feed_id = excluded.feed_id, seen_load = ewsd_existed(excluded.seen_load))sql";

constexpr const char* enrollments_sql = R"sql(
INSERT INTO enrollments (student_id, school_id, entry_date, exit_date, grade_level,
                         feed_id, seen_load, changed_seq)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT (student_id, school_id, entry_date) DO UPDATE SET
    changed_seq = CASE WHEN exit_date IS NOT excluded.exit_date
                         OR grade_level IS NOT excluded.grade_level
                       THEN ewsd_changed(excluded.changed_seq) ELSE changed_seq END,
    exit_date = excluded.exit_date, grade_level = excluded.grade_level,
    feed_id = excluded.feed_id, seen_load = ewsd_existed(excluded.seen_load))sql";

constexpr const char* attendance_sql = R"sql(
INSERT INTO attendance (student_id, date, category, school_id, duration,
                        feed_id, seen_load, changed_seq)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT (student_id, date, category) DO UPDATE SET
    changed_seq = CASE WHEN school_id IS NOT excluded.school_id
                         OR duration IS NOT excluded.duration
                       THEN ewsd_changed(excluded.changed_seq) ELSE changed_seq END,
    school_id = excluded.school_id, duration = excluded.duration,
    feed_id = excluded.feed_id, seen_load = ewsd_existed(excluded.seen_load))sql";

constexpr const char* grades_sql = R"sql(
INSERT INTO grades (student_id, section_id, grading_period, school_id, course_code, course_title,
                    subject, date, numeric_grade, letter_grade,
                    feed_id, seen_load, changed_seq)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
ON CONFLICT (student_id, section_id, grading_period) DO UPDATE SET
    changed_seq = CASE WHEN school_id IS NOT excluded.school_id
                         OR course_code IS NOT excluded.course_code
                         OR course_title IS NOT excluded.course_title
                         OR subject IS NOT excluded.subject
                         OR date IS NOT excluded.date
                         OR numeric_grade IS NOT excluded.numeric_grade
                         OR letter_grade IS NOT excluded.letter_grade
                       THEN ewsd_changed(excluded.changed_seq) ELSE changed_seq END,
    school_id = excluded.school_id, course_code = excluded.course_code,
    course_title = excluded.course_title, subject = excluded.subject, date = excluded.date,
    numeric_grade = excluded.numeric_grade, letter_grade = excluded.letter_grade,
    feed_id = excluded.feed_id, seen_load = ewsd_existed(excluded.seen_load))sql";

constexpr const char* incidents_sql = R"sql(
INSERT INTO incidents (incident_id, student_id, school_id, date, behavior, action, action_days,
                       feed_id, seen_load, changed_seq)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT (incident_id, student_id) DO UPDATE SET
    changed_seq = CASE WHEN school_id IS NOT excluded.school_id
                         OR date IS NOT excluded.date
                         OR behavior IS NOT excluded.behavior
                         OR action IS NOT excluded.action
                         OR action_days IS NOT excluded.action_days
                       THEN ewsd_changed(excluded.changed_seq) ELSE changed_seq END,
    school_id = excluded.school_id, date = excluded.date, behavior = excluded.behavior,
    action = excluded.action, action_days = excluded.action_days,
    feed_id = excluded.feed_id, seen_load = ewsd_existed(excluded.seen_load))sql";

constexpr const char* calendar_sql = R"sql(
INSERT INTO calendar (school_id, date, instructional, feed_id, seen_load, changed_seq)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (school_id, date) DO UPDATE SET
    changed_seq = CASE WHEN instructional IS NOT excluded.instructional
                       THEN ewsd_changed(excluded.changed_seq) ELSE changed_seq END,
    instructional = excluded.instructional,
    feed_id = excluded.feed_id, seen_load = ewsd_existed(excluded.seen_load))sql";

const char* table_of(RecordKind kind) {
    switch (kind) {
    case RecordKind::students:
        return "enrollments";
    case RecordKind::attendance:
        return "attendance";
    case RecordKind::grades:
        return "grades";
    case RecordKind::incidents:
        return "incidents";
    case RecordKind::calendar:
        return "calendar";
    }
    throw std::logic_error("unknown record kind");
}

const char* upsert_sql(RecordKind kind) {
    switch (kind) {
    case RecordKind::students:
        return enrollments_sql;
    case RecordKind::attendance:
        return attendance_sql;
    case RecordKind::grades:
        return grades_sql;
    case RecordKind::incidents:
        return incidents_sql;
    case RecordKind::calendar:
        return calendar_sql;
    }
    throw std::logic_error("unknown record kind");
}

// The upserts report what they did through these two functions, called from
// their DO UPDATE clause: one statement per row, where RETURNING would build an
// ephemeral table per row and cost more than the insert itself.
void probe_existed(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
    static_cast<FileLoad::UpsertProbe*>(sqlite3_user_data(ctx))->existed = true;
    sqlite3_result_value(ctx, argv[0]);
}

void probe_changed(sqlite3_context* ctx, int /*argc*/, sqlite3_value** argv) {
    static_cast<FileLoad::UpsertProbe*>(sqlite3_user_data(ctx))->changed = true;
    sqlite3_result_value(ctx, argv[0]);
}

std::string now_utc() {
    return util::format_timestamp_utc(std::chrono::system_clock::now());
}

void insert_load(SQLite::Database& db, std::int64_t feed, const std::string& file,
                 const std::string& status, bool snapshot, const FileFingerprint& fp,
                 const std::string& error) {
    SQLite::Statement q(db, "INSERT INTO file_loads (feed_id, file, status, sha256, size, "
                            "mtime_ns, loaded_at, mode, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.bind(1, feed);
    q.bind(2, file);
    q.bind(3, status);
    q.bind(4, fp.sha256);
    q.bind(5, fp.size);
    q.bind(6, fp.mtime_ns);
    q.bind(7, now_utc());
    q.bind(8, snapshot ? "snapshot" : "delta");
    if (error.empty()) {
        q.bind(9);
    } else {
        q.bind(9, error);
    }
    q.exec();
}

} // namespace

const char* to_string(RecordKind kind) {
    switch (kind) {
    case RecordKind::students:
        return "students";
    case RecordKind::attendance:
        return "attendance";
    case RecordKind::grades:
        return "grades";
    case RecordKind::incidents:
        return "incidents";
    case RecordKind::calendar:
        return "calendar";
    }
    return "?";
}

std::int64_t feed_id(Database& db, const std::string& feed) {
    SQLite::Statement insert(db.sql(), "INSERT OR IGNORE INTO feeds (name) VALUES (?)");
    insert.bind(1, feed);
    insert.exec();
    SQLite::Statement q(db.sql(), "SELECT feed_id FROM feeds WHERE name = ?");
    q.bind(1, feed);
    q.executeStep();
    return q.getColumn(0).getInt64();
}

FileLoad::FileLoad(Database& db, const std::string& feed, const std::string& file, RecordKind kind,
                   bool snapshot)
    : m_db(db), m_kind(kind), m_snapshot(snapshot) {
    m_txn.emplace(db.sql(), SQLite::TransactionBehavior::IMMEDIATE);
    m_feed_id = feed_id(db, feed);
    insert_load(db.sql(), m_feed_id, file, "loaded", snapshot, {}, "");
    m_load_id = db.sql().getLastInsertRowid();
    const std::string seq = meta_value(db, "seq");
    m_seq = seq.empty() ? 0 : std::stoll(seq);
    db.sql().createFunction("ewsd_existed", 1, false, &m_probe, probe_existed);
    db.sql().createFunction("ewsd_changed", 1, false, &m_probe, probe_changed);
    m_upsert = std::make_unique<SQLite::Statement>(db.sql(), upsert_sql(kind));
    if (kind == RecordKind::students) {
        m_upsert_student = std::make_unique<SQLite::Statement>(db.sql(), students_sql);
    }
    m_quarantine = std::make_unique<SQLite::Statement>(
        db.sql(), "INSERT INTO quarantine (load_id, line, col, reason) VALUES (?, ?, ?, ?)");
}

FileLoad::~FileLoad() {
    if (m_txn) {
        rollback();
    }
}

void FileLoad::release_statements() {
    m_upsert.reset();
    m_upsert_student.reset();
    m_quarantine.reset();
    // The functions point at this object; nothing may call them once it is gone.
    sqlite3_create_function_v2(m_db.sql().getHandle(), "ewsd_existed", 1, SQLITE_UTF8, nullptr,
                               nullptr, nullptr, nullptr, nullptr);
    sqlite3_create_function_v2(m_db.sql().getHandle(), "ewsd_changed", 1, SQLITE_UTF8, nullptr,
                               nullptr, nullptr, nullptr, nullptr);
}

void FileLoad::rollback() {
    release_statements();
    m_txn.reset(); // SQLite::Transaction rolls back when destroyed uncommitted
}

void FileLoad::bind_provenance(SQLite::Statement& stmt, int first_index, std::int64_t seq) {
    stmt.bind(first_index, m_feed_id);
    stmt.bind(first_index + 1, m_load_id);
    stmt.bind(first_index + 2, seq);
}

RowOutcome FileLoad::run_upsert(SQLite::Statement& stmt) {
    m_probe = {};
    stmt.exec();
    stmt.reset();
    if (!m_probe.existed) {
        return RowOutcome::inserted;
    }
    return m_probe.changed ? RowOutcome::updated : RowOutcome::unchanged;
}

RowOutcome FileLoad::count(RowOutcome outcome) {
    ++m_counts.read;
    switch (outcome) {
    case RowOutcome::inserted:
        ++m_counts.inserted;
        break;
    case RowOutcome::updated:
        ++m_counts.updated;
        break;
    case RowOutcome::unchanged:
        ++m_counts.unchanged;
        break;
    }
    return outcome;
}

RowOutcome FileLoad::put(const Enrollment& row) {
    SQLite::Statement& student = *m_upsert_student;
    const std::string attributes = nlohmann::json(row.attributes).dump();
    const std::int64_t student_seq = ++m_seq;
    student.bindNoCopy(1, row.student_id);
    student.bindNoCopy(2, row.first_name);
    student.bindNoCopy(3, row.last_name);
    student.bindNoCopy(4, attributes);
    bind_provenance(student, 5, student_seq);
    const RowOutcome student_outcome = run_upsert(student);

    SQLite::Statement& enrollment = *m_upsert;
    const std::int64_t seq = ++m_seq;
    enrollment.bindNoCopy(1, row.student_id);
    enrollment.bindNoCopy(2, row.school_id);
    enrollment.bindNoCopy(3, row.entry_date);
    if (row.exit_date.empty()) {
        enrollment.bind(4);
    } else {
        enrollment.bindNoCopy(4, row.exit_date);
    }
    enrollment.bind(5, row.grade_level);
    bind_provenance(enrollment, 6, seq);
    RowOutcome outcome = run_upsert(enrollment);
    if (outcome == RowOutcome::unchanged && student_outcome != RowOutcome::unchanged) {
        outcome = RowOutcome::updated;
    }
    if (outcome != RowOutcome::unchanged) {
        m_dirty_students.insert(row.student_id);
    }
    return count(outcome);
}

RowOutcome FileLoad::put(const AttendanceEvent& row) {
    SQLite::Statement& stmt = *m_upsert;
    const std::int64_t seq = ++m_seq;
    stmt.bindNoCopy(1, row.student_id);
    stmt.bindNoCopy(2, row.date);
    stmt.bindNoCopy(3, row.category);
    stmt.bindNoCopy(4, row.school_id);
    stmt.bind(5, row.duration);
    bind_provenance(stmt, 6, seq);
    const RowOutcome outcome = run_upsert(stmt);
    if (outcome != RowOutcome::unchanged) {
        m_dirty_students.insert(row.student_id);
    }
    return count(outcome);
}

RowOutcome FileLoad::put(const Grade& row) {
    SQLite::Statement& stmt = *m_upsert;
    const std::int64_t seq = ++m_seq;
    stmt.bindNoCopy(1, row.student_id);
    stmt.bindNoCopy(2, row.section_id);
    stmt.bindNoCopy(3, row.grading_period);
    stmt.bindNoCopy(4, row.school_id);
    stmt.bindNoCopy(5, row.course_code);
    stmt.bindNoCopy(6, row.course_title);
    stmt.bindNoCopy(7, row.subject);
    stmt.bindNoCopy(8, row.date);
    if (row.numeric_grade) {
        stmt.bind(9, *row.numeric_grade);
    } else {
        stmt.bind(9);
    }
    if (row.letter_grade.empty()) {
        stmt.bind(10);
    } else {
        stmt.bindNoCopy(10, row.letter_grade);
    }
    bind_provenance(stmt, 11, seq);
    const RowOutcome outcome = run_upsert(stmt);
    if (outcome != RowOutcome::unchanged) {
        m_dirty_students.insert(row.student_id);
    }
    return count(outcome);
}

RowOutcome FileLoad::put(const Incident& row) {
    SQLite::Statement& stmt = *m_upsert;
    const std::int64_t seq = ++m_seq;
    stmt.bindNoCopy(1, row.incident_id);
    stmt.bindNoCopy(2, row.student_id);
    stmt.bindNoCopy(3, row.school_id);
    stmt.bindNoCopy(4, row.date);
    stmt.bindNoCopy(5, row.behavior);
    if (row.action.empty()) {
        stmt.bind(6);
    } else {
        stmt.bindNoCopy(6, row.action);
    }
    stmt.bind(7, row.action_days);
    bind_provenance(stmt, 8, seq);
    const RowOutcome outcome = run_upsert(stmt);
    if (outcome != RowOutcome::unchanged) {
        m_dirty_students.insert(row.student_id);
    }
    return count(outcome);
}

RowOutcome FileLoad::put(const CalendarDay& row) {
    SQLite::Statement& stmt = *m_upsert;
    const std::int64_t seq = ++m_seq;
    stmt.bindNoCopy(1, row.school_id);
    stmt.bindNoCopy(2, row.date);
    stmt.bind(3, row.instructional ? 1 : 0);
    bind_provenance(stmt, 4, seq);
    const RowOutcome outcome = run_upsert(stmt);
    if (outcome != RowOutcome::unchanged) {
        m_dirty_schools.insert(row.school_id);
    }
    return count(outcome);
}

void FileLoad::quarantine(int line, int column, const std::string& reason) {
    ++m_counts.read;
    ++m_counts.quarantined;
    m_quarantine->bind(1, m_load_id);
    m_quarantine->bind(2, line);
    m_quarantine->bind(3, column);
    m_quarantine->bindNoCopy(4, reason);
    m_quarantine->exec();
    m_quarantine->reset();
}

void FileLoad::replace_scope(const std::string& scope) {
    m_scopes.insert(scope);
}

void FileLoad::remove_unseen() {
    const std::string table = table_of(m_kind);
    const bool per_student = m_kind != RecordKind::calendar;
    const std::string scope_column = per_student ? "student_id" : "school_id";
    auto& dirty = per_student ? m_dirty_students : m_dirty_schools;
    const auto remove = [&](const std::string& where, const std::string* scope) {
        const auto bind = [&](SQLite::Statement& q) {
            q.bind(1, m_feed_id);
            q.bind(2, m_load_id);
            if (scope != nullptr) {
                q.bind(3, *scope);
            }
        };
        SQLite::Statement rows(m_db.sql(), "DELETE FROM " + table +
                                               " WHERE feed_id = ? AND seen_load <> ?" + where +
                                               " RETURNING " + scope_column);
        bind(rows);
        while (rows.executeStep()) {
            ++m_counts.removed;
            dirty.insert(rows.getColumn(0).getString());
        }
        if (m_kind == RecordKind::students) {
            // A student none of whose enrollments remain is gone from the roster.
            SQLite::Statement students(
                m_db.sql(), "DELETE FROM students WHERE feed_id = ? AND seen_load <> ?" + where);
            bind(students);
            students.exec();
        }
    };
    if (m_snapshot) {
        remove("", nullptr);
        return;
    }
    for (const auto& scope : m_scopes) {
        remove(" AND " + scope_column + " = ?", &scope);
    }
}

LoadCounts FileLoad::commit(const FileFingerprint& fingerprint) {
    if (!m_txn) {
        throw std::logic_error("file load already finished");
    }
    if (m_snapshot || !m_scopes.empty()) {
        remove_unseen();
    }
    SQLite::Statement dirty(m_db.sql(),
                            "INSERT OR IGNORE INTO dirty_students (student_id) VALUES (?)");
    for (const auto& id : m_dirty_students) {
        dirty.bindNoCopy(1, id);
        dirty.exec();
        dirty.reset();
    }
    // A changed calendar changes every enrolled day count of the school.
    SQLite::Statement school(m_db.sql(), "INSERT OR IGNORE INTO dirty_students (student_id) "
                                         "SELECT student_id FROM enrollments WHERE school_id = ?");
    for (const auto& id : m_dirty_schools) {
        school.bindNoCopy(1, id);
        school.exec();
        school.reset();
    }
    set_meta_value(m_db, "seq", std::to_string(m_seq));
    SQLite::Statement load(m_db.sql(), R"sql(
UPDATE file_loads SET sha256 = ?, size = ?, mtime_ns = ?, loaded_at = ?, rows_read = ?,
    rows_new = ?, rows_updated = ?, rows_unchanged = ?, rows_removed = ?, rows_quarantined = ?
WHERE load_id = ?)sql");
    load.bind(1, fingerprint.sha256);
    load.bind(2, fingerprint.size);
    load.bind(3, fingerprint.mtime_ns);
    load.bind(4, now_utc());
    load.bind(5, m_counts.read);
    load.bind(6, m_counts.inserted);
    load.bind(7, m_counts.updated);
    load.bind(8, m_counts.unchanged);
    load.bind(9, m_counts.removed);
    load.bind(10, m_counts.quarantined);
    load.bind(11, m_load_id);
    load.exec();
    release_statements();
    m_txn->commit();
    m_txn.reset();
    return m_counts;
}

std::optional<LastLoad> last_load(Database& db, const std::string& feed, const std::string& file) {
    SQLite::Statement q(db.sql(), R"sql(
SELECT l.status, l.sha256, l.size, l.mtime_ns FROM file_loads l JOIN feeds f USING (feed_id)
WHERE f.name = ? AND l.file = ? ORDER BY l.load_id DESC LIMIT 1)sql");
    q.bind(1, feed);
    q.bind(2, file);
    if (!q.executeStep()) {
        return std::nullopt;
    }
    return LastLoad{q.getColumn(0).getString(), q.getColumn(1).getString(),
                    q.getColumn(2).getInt64(), q.getColumn(3).getInt64()};
}

void record_rejected(Database& db, const std::string& feed, const std::string& file, bool snapshot,
                     const FileFingerprint& fingerprint, const std::string& error) {
    SQLite::Transaction txn(db.sql(), SQLite::TransactionBehavior::IMMEDIATE);
    insert_load(db.sql(), feed_id(db, feed), file, "rejected", snapshot, fingerprint, error);
    txn.commit();
}

} // namespace ewsd::store
