#include "store/queries.hpp"

#include <SQLiteCpp/Statement.h>

namespace ewsd::store {

namespace {

std::int64_t count(Database& db, const char* sql) {
    return db.sql().execAndGet(sql).getInt64();
}

constexpr const char* latest_load_ids = R"sql(
SELECT max(load_id) FROM file_loads GROUP BY feed_id, file)sql";

} // namespace

StoreStats store_stats(Database& db) {
    StoreStats s;
    s.students = count(db, "SELECT count(*) FROM students");
    s.enrollments = count(db, "SELECT count(*) FROM enrollments");
    s.schools = count(db, "SELECT count(DISTINCT school_id) FROM enrollments");
    s.attendance_events = count(db, "SELECT count(*) FROM attendance");
    s.absences = count(db, "SELECT count(*) FROM attendance WHERE category IN "
                           "('Excused Absence', 'Unexcused Absence')");
    s.tardies = count(db, "SELECT count(*) FROM attendance WHERE category = 'Tardy'");
    s.grades = count(db, "SELECT count(*) FROM grades");
    s.sections = count(db, "SELECT count(DISTINCT section_id) FROM grades");
    s.incident_rows = count(db, "SELECT count(*) FROM incidents");
    s.incidents = count(db, "SELECT count(DISTINCT incident_id) FROM incidents");
    s.suspensions = count(db, "SELECT count(*) FROM incidents WHERE action IN "
                              "('In School Suspension', 'Out of School Suspension')");
    s.calendar_days = count(db, "SELECT count(*) FROM calendar");
    s.instructional_days = count(db, "SELECT count(*) FROM calendar WHERE instructional = 1");
    s.quarantined =
        db.sql()
            .execAndGet(std::string("SELECT count(*) FROM quarantine WHERE load_id IN (") +
                        latest_load_ids + ")")
            .getInt64();
    s.dirty_students = count(db, "SELECT count(*) FROM dirty_students");
    return s;
}

std::vector<FileStatus> latest_loads(Database& db) {
    SQLite::Statement q(db.sql(), std::string(R"sql(
SELECT f.name, l.file, l.status, l.loaded_at, l.rows_read, l.rows_quarantined, coalesce(l.error, '')
FROM file_loads l JOIN feeds f USING (feed_id)
WHERE l.load_id IN ()sql") + latest_load_ids +
                                      ") ORDER BY f.name, l.file");
    std::vector<FileStatus> out;
    while (q.executeStep()) {
        out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(),
                       q.getColumn(2).getString(), q.getColumn(3).getString(),
                       q.getColumn(4).getInt64(), q.getColumn(5).getInt64(),
                       q.getColumn(6).getString()});
    }
    return out;
}

std::vector<QuarantinedRow> quarantined_rows(Database& db, const std::string& feed, bool history) {
    std::string sql = R"sql(
SELECT f.name, l.file, q.line, q.col, q.reason, l.loaded_at
FROM quarantine q JOIN file_loads l USING (load_id) JOIN feeds f USING (feed_id)
WHERE (?1 = '' OR f.name = ?1))sql";
    if (!history) {
        sql += std::string(" AND l.load_id IN (") + latest_load_ids + ")";
    }
    sql += " ORDER BY f.name, l.file, l.load_id, q.line, q.col";
    SQLite::Statement q(db.sql(), sql);
    q.bind(1, feed);
    std::vector<QuarantinedRow> out;
    while (q.executeStep()) {
        out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(),
                       q.getColumn(2).getInt64(), q.getColumn(3).getInt64(),
                       q.getColumn(4).getString(), q.getColumn(5).getString()});
    }
    return out;
}

std::vector<std::string> dirty_students(Database& db) {
    SQLite::Statement q(db.sql(), "SELECT student_id FROM dirty_students ORDER BY student_id");
    std::vector<std::string> out;
    while (q.executeStep()) {
        out.push_back(q.getColumn(0).getString());
    }
    return out;
}

std::string meta_value(Database& db, const std::string& key) {
    SQLite::Statement q(db.sql(), "SELECT value FROM meta WHERE key = ?");
    q.bind(1, key);
    return q.executeStep() ? q.getColumn(0).getString() : std::string();
}

void set_meta_value(Database& db, const std::string& key, const std::string& value) {
    SQLite::Statement q(db.sql(), "INSERT INTO meta (key, value) VALUES (?, ?) "
                                  "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    q.bind(1, key);
    q.bind(2, value);
    q.exec();
}

} // namespace ewsd::store
