#include "store/student_data.hpp"

#include "util/date.hpp"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

namespace ewsd::store {

namespace {

int day_of(const std::string& iso) {
    const auto date = util::parse_iso_date(iso);
    return date ? util::to_day_number(*date) : 0;
}

bool weekday(int day) {
    const std::chrono::weekday wd{std::chrono::sys_days{std::chrono::days{day}}};
    return wd != std::chrono::Saturday && wd != std::chrono::Sunday;
}

constexpr const char* enrollments_sql =
    "SELECT e.student_id, e.school_id, e.entry_date, coalesce(e.exit_date, ''), e.grade_level, "
    "coalesce(s.attributes, '{}') FROM enrollments e LEFT JOIN students s USING (student_id)";
constexpr const char* attendance_sql =
    "SELECT student_id, date, category, duration FROM attendance";
constexpr const char* grades_sql =
    "SELECT student_id, section_id, school_id, course_code, subject, grading_period, date, "
    "numeric_grade, coalesce(letter_grade, '') FROM grades";
constexpr const char* incidents_sql =
    "SELECT student_id, incident_id, date, behavior, coalesce(action, ''), action_days "
    "FROM incidents";

void add_enrollment(StudentData& s, SQLite::Statement& q) {
    const std::string exit = q.getColumn(3).getString();
    s.enrollments.push_back({q.getColumn(1).getString(), day_of(q.getColumn(2).getString()),
                             exit.empty() ? still_enrolled : day_of(exit),
                             q.getColumn(4).getInt()});
    if (s.attributes.empty()) {
        const auto attributes = nlohmann::json::parse(q.getColumn(5).getString(), nullptr, false);
        if (attributes.is_object()) {
            for (const auto& [key, value] : attributes.items()) {
                s.attributes[key] = value.is_string() ? value.get<std::string>() : value.dump();
            }
        }
    }
}

void add_attendance(StudentData& s, SQLite::Statement& q) {
    s.attendance.push_back({day_of(q.getColumn(1).getString()), q.getColumn(2).getString(),
                            q.getColumn(3).getDouble()});
}

void add_grade(StudentData& s, SQLite::Statement& q) {
    GradeRow g{q.getColumn(1).getString(),
               q.getColumn(2).getString(),
               q.getColumn(3).getString(),
               q.getColumn(4).getString(),
               q.getColumn(5).getString(),
               day_of(q.getColumn(6).getString()),
               std::nullopt,
               q.getColumn(8).getString()};
    if (!q.getColumn(7).isNull()) {
        g.numeric = q.getColumn(7).getDouble();
    }
    s.grades.push_back(std::move(g));
}

void add_incident(StudentData& s, SQLite::Statement& q) {
    s.incidents.push_back({q.getColumn(1).getString(), day_of(q.getColumn(2).getString()),
                           q.getColumn(3).getString(), q.getColumn(4).getString(),
                           q.getColumn(5).getDouble()});
}

void sort_rows(StudentData& s) {
    const auto by_day = [](const auto& a, const auto& b) { return a.day < b.day; };
    std::stable_sort(s.attendance.begin(), s.attendance.end(), by_day);
    std::stable_sort(s.grades.begin(), s.grades.end(), by_day);
    std::stable_sort(s.incidents.begin(), s.incidents.end(), by_day);
    std::stable_sort(s.enrollments.begin(), s.enrollments.end(),
                     [](const auto& a, const auto& b) { return a.entry < b.entry; });
}

// One ordered cursor over a table, advanced student by student.
class Cursor {
public:
    Cursor(SQLite::Database& db, const std::string& sql,
           void (*add)(StudentData&, SQLite::Statement&))
        : m_query(db, sql + " ORDER BY student_id"), m_add(add) {
        step();
    }
    [[nodiscard]] bool valid() const { return m_valid; }
    [[nodiscard]] const std::string& key() const { return m_key; }
    // Adds every row of `student_id` (skipping rows of students before it).
    void take(StudentData& s) {
        while (m_valid && m_key < s.student_id) {
            step();
        }
        while (m_valid && m_key == s.student_id) {
            m_add(s, m_query);
            step();
        }
    }

private:
    void step() {
        m_valid = m_query.executeStep();
        if (m_valid) {
            m_key = m_query.getColumn(0).getString();
        }
    }

    SQLite::Statement m_query;
    void (*m_add)(StudentData&, SQLite::Statement&);
    bool m_valid = false;
    std::string m_key;
};

} // namespace

Calendars::Calendars(Database& db) {
    SQLite::Statement q(
        db.sql(), "SELECT school_id, date FROM calendar WHERE instructional = 1 ORDER BY 1, 2");
    while (q.executeStep()) {
        m_days[q.getColumn(0).getString()].push_back(day_of(q.getColumn(1).getString()));
    }
}

void Calendars::set(const std::string& school_id, std::vector<int> instructional_days) {
    std::sort(instructional_days.begin(), instructional_days.end());
    m_days[school_id] = std::move(instructional_days);
}

void Calendars::instructional_days(const std::string& school_id, int from, int to,
                                   std::vector<int>& out) const {
    if (from > to) {
        return;
    }
    const auto it = m_days.find(school_id);
    if (it == m_days.end()) {
        for (int d = from; d <= to; ++d) {
            if (weekday(d)) {
                out.push_back(d);
            }
        }
        return;
    }
    const auto& days = it->second;
    out.insert(out.end(), std::lower_bound(days.begin(), days.end(), from),
               std::upper_bound(days.begin(), days.end(), to));
}

bool Calendars::instructional(const std::string& school_id, int day) const {
    const auto it = m_days.find(school_id);
    if (it == m_days.end()) {
        return weekday(day);
    }
    return std::binary_search(it->second.begin(), it->second.end(), day);
}

struct StudentReader::Statements {
    SQLite::Statement enrollments;
    SQLite::Statement attendance;
    SQLite::Statement grades;
    SQLite::Statement incidents;
    explicit Statements(SQLite::Database& db)
        : enrollments(db, std::string(enrollments_sql) + " WHERE student_id = ?"),
          attendance(db, std::string(attendance_sql) + " WHERE student_id = ?"),
          grades(db, std::string(grades_sql) + " WHERE student_id = ?"),
          incidents(db, std::string(incidents_sql) + " WHERE student_id = ?") {}
};

StudentReader::StudentReader(Database& db)
    : m_db(db), m_statements(std::make_unique<Statements>(db.sql())) {}

StudentReader::~StudentReader() = default;

std::optional<StudentData> StudentReader::read(const std::string& student_id) {
    StudentData s;
    s.student_id = student_id;
    const auto fill = [&](SQLite::Statement& q, void (*add)(StudentData&, SQLite::Statement&)) {
        q.reset();
        q.bind(1, student_id);
        while (q.executeStep()) {
            add(s, q);
        }
    };
    fill(m_statements->enrollments, add_enrollment);
    if (s.enrollments.empty()) {
        return std::nullopt;
    }
    fill(m_statements->attendance, add_attendance);
    fill(m_statements->grades, add_grade);
    fill(m_statements->incidents, add_incident);
    sort_rows(s);
    return s;
}

void StudentReader::for_each(const std::function<void(const StudentData&)>& visit) {
    Cursor enrollments(m_db.sql(), enrollments_sql, add_enrollment);
    Cursor attendance(m_db.sql(), attendance_sql, add_attendance);
    Cursor grades(m_db.sql(), grades_sql, add_grade);
    Cursor incidents(m_db.sql(), incidents_sql, add_incident);
    while (enrollments.valid()) {
        StudentData s;
        s.student_id = enrollments.key();
        enrollments.take(s);
        attendance.take(s);
        grades.take(s);
        incidents.take(s);
        sort_rows(s);
        visit(s);
    }
}

} // namespace ewsd::store
