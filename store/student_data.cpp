#include "store/student_data.hpp"

#include "util/date.hpp"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

namespace ewsd::store {

namespace {

int day_of(std::string_view iso) {
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

// Reading a whole district allocates little: rows of the previous student are
// overwritten in place (their strings keep their buffers), and text columns
// are copied straight from SQLite's buffer.
struct Used {
    std::size_t enrollments = 0;
    std::size_t attendance = 0;
    std::size_t grades = 0;
    std::size_t incidents = 0;
};

template <typename Row> Row& slot(std::vector<Row>& rows, std::size_t& used) {
    if (used == rows.size()) {
        rows.emplace_back();
    }
    return rows[used++];
}

void text(SQLite::Statement& q, int index, std::string& out) {
    const SQLite::Column column = q.getColumn(index);
    out.assign(column.getText(), static_cast<std::size_t>(column.getBytes()));
}

int day_at(SQLite::Statement& q, int index) {
    const SQLite::Column column = q.getColumn(index);
    return day_of(std::string_view(column.getText(), static_cast<std::size_t>(column.getBytes())));
}

void add_enrollment(StudentData& s, Used& used, SQLite::Statement& q) {
    EnrollmentSpan& e = slot(s.enrollments, used.enrollments);
    text(q, 1, e.school_id);
    e.entry = day_at(q, 2);
    e.exit = q.getColumn(3).getBytes() == 0 ? still_enrolled : day_at(q, 3);
    e.grade_level = q.getColumn(4).getInt();
    if (used.enrollments == 1) {
        s.attributes.clear();
        const auto attributes = nlohmann::json::parse(q.getColumn(5).getString(), nullptr, false);
        if (attributes.is_object()) {
            for (const auto& [key, value] : attributes.items()) {
                s.attributes[key] = value.is_string() ? value.get<std::string>() : value.dump();
            }
        }
    }
}

void add_attendance(StudentData& s, Used& used, SQLite::Statement& q) {
    AttendanceRow& a = slot(s.attendance, used.attendance);
    a.day = day_at(q, 1);
    text(q, 2, a.category);
    a.duration = q.getColumn(3).getDouble();
}

void add_grade(StudentData& s, Used& used, SQLite::Statement& q) {
    GradeRow& g = slot(s.grades, used.grades);
    text(q, 1, g.section_id);
    text(q, 2, g.school_id);
    text(q, 3, g.course_code);
    text(q, 4, g.subject);
    text(q, 5, g.grading_period);
    g.day = day_at(q, 6);
    if (q.getColumn(7).isNull()) {
        g.numeric.reset();
    } else {
        g.numeric = q.getColumn(7).getDouble();
    }
    text(q, 8, g.letter);
}

void add_incident(StudentData& s, Used& used, SQLite::Statement& q) {
    IncidentRow& i = slot(s.incidents, used.incidents);
    text(q, 1, i.incident_id);
    i.day = day_at(q, 2);
    text(q, 3, i.behavior);
    text(q, 4, i.action);
    i.action_days = q.getColumn(5).getDouble();
}

using AddRow = void (*)(StudentData&, Used&, SQLite::Statement&);

// Drops the rows a previous student left beyond this one's.
void trim(StudentData& s, const Used& used) {
    s.enrollments.resize(used.enrollments);
    s.attendance.resize(used.attendance);
    s.grades.resize(used.grades);
    s.incidents.resize(used.incidents);
}

// One ordered cursor over a table, advanced student by student.
class Cursor {
public:
    // With `up_to` (an ISO date), rows dated after it are not read.
    Cursor(SQLite::Database& db, const std::string& sql, AddRow add, const std::string& up_to = {})
        : m_query(db, sql + (up_to.empty() ? "" : " WHERE +date <= ?") + " ORDER BY student_id"),
          m_add(add) {
        if (!up_to.empty()) {
            m_query.bind(1, up_to);
        }
        step();
    }
    [[nodiscard]] bool valid() const { return m_valid; }
    [[nodiscard]] const std::string& key() const { return m_key; }
    // Adds every row of `student_id` (skipping rows of students before it).
    void take(StudentData& s, Used& used) {
        while (m_valid && m_key < s.student_id) {
            step();
        }
        while (m_valid && m_key == s.student_id) {
            m_add(s, used, m_query);
            step();
        }
    }

private:
    void step() {
        m_valid = m_query.executeStep();
        if (m_valid) {
            text(m_query, 0, m_key);
        }
    }

    SQLite::Statement m_query;
    AddRow m_add;
    bool m_valid = false;
    std::string m_key;
};

} // namespace

void sort_rows(StudentData& s) {
    const auto by_day = [](const auto& a, const auto& b) { return a.day < b.day; };
    std::stable_sort(s.attendance.begin(), s.attendance.end(), by_day);
    std::stable_sort(s.grades.begin(), s.grades.end(), by_day);
    std::stable_sort(s.incidents.begin(), s.incidents.end(), by_day);
    std::stable_sort(s.enrollments.begin(), s.enrollments.end(),
                     [](const auto& a, const auto& b) { return a.entry < b.entry; });
}

const EnrollmentSpan* current_enrollment(const StudentData& student, int day) {
    const EnrollmentSpan* current = nullptr;
    for (const auto& e : student.enrollments) {
        if (e.entry <= day) {
            current = &e; // enrollments are sorted by entry date
        }
    }
    if (current == nullptr && !student.enrollments.empty()) {
        current = &student.enrollments.front();
    }
    return current;
}

Calendars::Calendars(Database& db) {
    // Every school with calendar rows gets an entry, even one without an
    // instructional day (it then has none, rather than Monday to Friday).
    SQLite::Statement q(db.sql(),
                        "SELECT school_id, date, instructional FROM calendar ORDER BY 1, 2");
    while (q.executeStep()) {
        auto& days = m_days[q.getColumn(0).getString()];
        if (q.getColumn(2).getInt() != 0) {
            days.push_back(day_at(q, 1));
        }
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
    Used used;
    const auto fill = [&](SQLite::Statement& q, AddRow add) {
        q.reset();
        q.bind(1, student_id);
        while (q.executeStep()) {
            add(s, used, q);
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

void StudentReader::for_each(const std::function<void(const StudentData&)>& visit,
                             const std::string& up_to) {
    Cursor enrollments(m_db.sql(), enrollments_sql, add_enrollment);
    Cursor attendance(m_db.sql(), attendance_sql, add_attendance, up_to);
    Cursor grades(m_db.sql(), grades_sql, add_grade, up_to);
    Cursor incidents(m_db.sql(), incidents_sql, add_incident, up_to);
    StudentData s;
    while (enrollments.valid()) {
        s.student_id = enrollments.key();
        Used used;
        enrollments.take(s, used);
        attendance.take(s, used);
        grades.take(s, used);
        incidents.take(s, used);
        trim(s, used);
        sort_rows(s);
        visit(s);
    }
}

} // namespace ewsd::store
