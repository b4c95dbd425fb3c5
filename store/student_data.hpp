#pragma once
// The read model the evaluator works on: everything about one student, and
// the schools' calendars. Dates are day numbers (days since 1970-01-01).

#include "store/database.hpp"

#include <SQLiteCpp/Statement.h>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace ewsd::store {

struct EnrollmentSpan {
    std::string school_id;
    int entry = 0;
    int exit = 0; // inclusive; a large number when still enrolled
    int grade_level = 0;
};

struct AttendanceRow {
    int day = 0;
    std::string category;
    double duration = 1;
};

struct GradeRow {
    std::string section_id;
    std::string school_id;
    std::string course_code;
    std::string subject;
    std::string grading_period;
    int day = 0;
    std::optional<double> numeric;
    std::string letter;
};

struct IncidentRow {
    std::string incident_id;
    int day = 0;
    std::string behavior;
    std::string action;
    double action_days = 0;
};

struct StudentData {
    std::string student_id;
    std::map<std::string, std::string> attributes;
    std::vector<EnrollmentSpan> enrollments; // by entry date
    std::vector<AttendanceRow> attendance;   // by day
    std::vector<GradeRow> grades;            // by day
    std::vector<IncidentRow> incidents;      // by day
};

inline constexpr int still_enrolled = 1 << 30;

// Orders a student's rows as the evaluator expects: events by day (stable,
// so rows of one day keep their order), enrollments by entry date.
void sort_rows(StudentData& student);

// The student's enrollment on `day` (the latest that began by then), else the
// first one; null when the student has none.
const EnrollmentSpan* current_enrollment(const StudentData& student, int day);

// Instructional days per school, from calendar.csv; a school without rows
// counts Monday to Friday.
class Calendars {
public:
    explicit Calendars(Database& db);
    Calendars() = default;
    void set(const std::string& school_id, std::vector<int> instructional_days);
    [[nodiscard]] bool instructional(const std::string& school_id, int day) const;
    // Appends the school's instructional days in [from, to], ascending.
    void instructional_days(const std::string& school_id, int from, int to,
                            std::vector<int>& out) const;

private:
    std::unordered_map<std::string, std::vector<int>> m_days; // sorted
};

// A range of student ids: from <= id < to; an empty `to` is unbounded.
struct StudentRange {
    std::string from;
    std::string to;
};

// Reads students from the store: one by one, or all of them in one ordered
// pass (every table is keyed by student first, so this is a merge of
// sequential scans, never the whole district in memory).
class StudentReader {
public:
    explicit StudentReader(Database& db);
    ~StudentReader();
    StudentReader(const StudentReader&) = delete;
    StudentReader& operator=(const StudentReader&) = delete;

    std::optional<StudentData> read(const std::string& student_id);
    // Calls `visit` for every enrolled student, in student_id order. With
    // `up_to` (YYYY-MM-DD), events dated after it are left out: an evaluation
    // as of that date never looks at them.
    void for_each(const std::function<void(const StudentData&)>& visit,
                  const std::string& up_to = {}, const StudentRange& range = {});

private:
    Database& m_db;
    struct Statements;
    std::unique_ptr<Statements> m_statements;
};

// The enrolled students cut into consecutive ranges of about this many.
std::vector<StudentRange> student_ranges(Database& db, std::size_t students_per_range);

// Visits every enrolled student, like StudentReader::for_each, from `threads`
// workers, each reading ranges of students through its own connection.
// `visit` runs concurrently and appends what it has to say about a student to
// the string of that student's range; `emit` gets those strings on the
// calling thread, in student order. A worker's exception is rethrown here.
using ParallelVisit = std::function<void(const StudentData&, std::string& out)>;
using ParallelEmit = std::function<void(std::string& out)>;
void for_each_parallel(const std::filesystem::path& database, const std::string& up_to,
                       unsigned threads, const ParallelVisit& visit, const ParallelEmit& emit);

} // namespace ewsd::store
