#include "store/student_data.hpp"

#include "util/date.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <string_view>
#include <thread>

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

// The read path uses SQLite's C API directly: SQLite::Statement::getColumn()
// makes a Column holding a shared_ptr to the statement, and that atomic
// reference count cost a tenth of a full scan.
class RawStatement {
public:
    RawStatement(SQLite::Database& db, const std::string& sql) {
        if (sqlite3_prepare_v2(db.getHandle(), sql.c_str(), -1, &m_stmt, nullptr) != SQLITE_OK) {
            const std::string message = sqlite3_errmsg(db.getHandle());
            sqlite3_finalize(m_stmt);
            throw std::runtime_error("cannot prepare a query: " + message);
        }
    }
    ~RawStatement() { sqlite3_finalize(m_stmt); }
    RawStatement(const RawStatement&) = delete;
    RawStatement& operator=(const RawStatement&) = delete;

    void bind(const char* name, const std::string& value) {
        const int index = sqlite3_bind_parameter_index(m_stmt, name);
        sqlite3_bind_text(m_stmt, index, value.data(), static_cast<int>(value.size()),
                          SQLITE_TRANSIENT);
    }
    bool step() {
        const int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW) {
            return true;
        }
        if (rc == SQLITE_DONE) {
            return false;
        }
        throw std::runtime_error(std::string("reading the store: ") +
                                 sqlite3_errmsg(sqlite3_db_handle(m_stmt)));
    }
    void reset() {
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
    }
    [[nodiscard]] sqlite3_stmt* get() const { return m_stmt; }

private:
    sqlite3_stmt* m_stmt = nullptr;
};

std::string_view view(RawStatement& q, int index) {
    sqlite3_stmt* stmt = q.get();
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, index));
    const auto bytes = static_cast<std::size_t>(sqlite3_column_bytes(stmt, index));
    return text == nullptr ? std::string_view() : std::string_view(text, bytes);
}

void text(RawStatement& q, int index, std::string& out) {
    const std::string_view v = view(q, index);
    out.assign(v.data(), v.size());
}

double real(RawStatement& q, int index) {
    return sqlite3_column_double(q.get(), index);
}

bool is_null(RawStatement& q, int index) {
    return sqlite3_column_type(q.get(), index) == SQLITE_NULL;
}

int day_at(RawStatement& q, int index) {
    return day_of(view(q, index));
}

void add_enrollment(StudentData& s, Used& used, RawStatement& q) {
    EnrollmentSpan& e = slot(s.enrollments, used.enrollments);
    text(q, 1, e.school_id);
    e.entry = day_at(q, 2);
    e.exit = view(q, 3).empty() ? still_enrolled : day_at(q, 3);
    e.grade_level = sqlite3_column_int(q.get(), 4);
    if (used.enrollments == 1) {
        s.attributes.clear();
        const auto attributes = nlohmann::json::parse(view(q, 5), nullptr, false);
        if (attributes.is_object()) {
            for (const auto& [key, value] : attributes.items()) {
                s.attributes[key] = value.is_string() ? value.get<std::string>() : value.dump();
            }
        }
    }
}

void add_attendance(StudentData& s, Used& used, RawStatement& q) {
    AttendanceRow& a = slot(s.attendance, used.attendance);
    a.day = day_at(q, 1);
    text(q, 2, a.category);
    a.duration = real(q, 3);
}

void add_grade(StudentData& s, Used& used, RawStatement& q) {
    GradeRow& g = slot(s.grades, used.grades);
    text(q, 1, g.section_id);
    text(q, 2, g.school_id);
    text(q, 3, g.course_code);
    text(q, 4, g.subject);
    text(q, 5, g.grading_period);
    g.day = day_at(q, 6);
    if (is_null(q, 7)) {
        g.numeric.reset();
    } else {
        g.numeric = real(q, 7);
    }
    text(q, 8, g.letter);
}

void add_incident(StudentData& s, Used& used, RawStatement& q) {
    IncidentRow& i = slot(s.incidents, used.incidents);
    text(q, 1, i.incident_id);
    i.day = day_at(q, 2);
    text(q, 3, i.behavior);
    text(q, 4, i.action);
    i.action_days = real(q, 5);
}

using AddRow = void (*)(StudentData&, Used&, RawStatement&);

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
    // With `up_to` (an ISO date), rows dated after it are not read; only
    // students in `range` are.
    Cursor(SQLite::Database& db, const std::string& sql, AddRow add, const StudentRange& range,
           const std::string& up_to = {})
        : m_query(db, sql + " WHERE student_id >= :from" +
                          (range.to.empty() ? "" : " AND student_id < :to") +
                          (up_to.empty() ? "" : " AND +date <= :up_to") + " ORDER BY student_id"),
          m_add(add) {
        m_query.bind(":from", range.from);
        if (!range.to.empty()) {
            m_query.bind(":to", range.to);
        }
        if (!up_to.empty()) {
            m_query.bind(":up_to", up_to);
        }
        step();
    }
    [[nodiscard]] bool valid() const { return m_valid; }
    // The current row's student_id (valid until the next step).
    [[nodiscard]] std::string_view key() { return view(m_query, 0); }
    // Adds every row of `student_id` (skipping rows of students before it).
    void take(StudentData& s, Used& used) {
        while (m_valid && key() < s.student_id) {
            step();
        }
        while (m_valid && key() == s.student_id) {
            m_add(s, used, m_query);
            step();
        }
    }

private:
    void step() { m_valid = m_query.step(); }

    RawStatement m_query;
    AddRow m_add;
    bool m_valid = false;
};

} // namespace

namespace {

// Stable by day. Rows mostly arrive in day order (attendance and incidents
// are read in it); grades come by section, so they are reordered through an
// index permutation: one move per row instead of a merge sort's many, and no
// allocation once the buffers of a thread have grown.
template <typename Row> void sort_by_day(std::vector<Row>& rows) {
    const auto by_day = [](const Row& a, const Row& b) { return a.day < b.day; };
    if (std::is_sorted(rows.begin(), rows.end(), by_day)) {
        return;
    }
    thread_local std::vector<std::pair<int, std::uint32_t>> keys;
    thread_local std::vector<Row> sorted;
    keys.clear();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        keys.emplace_back(rows[i].day, static_cast<std::uint32_t>(i));
    }
    std::sort(keys.begin(), keys.end()); // (day, index): stable
    sorted.resize(rows.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
        sorted[i] = std::move(rows[keys[i].second]);
    }
    rows.swap(sorted);
}

} // namespace

void sort_rows(StudentData& s) {
    sort_by_day(s.attendance);
    sort_by_day(s.grades);
    sort_by_day(s.incidents);
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
    RawStatement q(db.sql(), "SELECT school_id, date, instructional FROM calendar ORDER BY 1, 2");
    while (q.step()) {
        auto& days = m_days[std::string(view(q, 0))];
        if (sqlite3_column_int(q.get(), 2) != 0) {
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
    RawStatement enrollments;
    RawStatement attendance;
    RawStatement grades;
    RawStatement incidents;
    explicit Statements(SQLite::Database& db)
        : enrollments(db, std::string(enrollments_sql) + " WHERE student_id = :id"),
          attendance(db, std::string(attendance_sql) + " WHERE student_id = :id"),
          grades(db, std::string(grades_sql) + " WHERE student_id = :id"),
          incidents(db, std::string(incidents_sql) + " WHERE student_id = :id") {}
};

StudentReader::StudentReader(Database& db)
    : m_db(db), m_statements(std::make_unique<Statements>(db.sql())) {}

StudentReader::~StudentReader() = default;

std::optional<StudentData> StudentReader::read(const std::string& student_id) {
    StudentData s;
    s.student_id = student_id;
    Used used;
    const auto fill = [&](RawStatement& q, AddRow add) {
        q.reset();
        q.bind(":id", student_id);
        while (q.step()) {
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
                             const std::string& up_to, const StudentRange& range) {
    Cursor enrollments(m_db.sql(), enrollments_sql, add_enrollment, range);
    Cursor attendance(m_db.sql(), attendance_sql, add_attendance, range, up_to);
    Cursor grades(m_db.sql(), grades_sql, add_grade, range, up_to);
    Cursor incidents(m_db.sql(), incidents_sql, add_incident, range, up_to);
    StudentData s;
    while (enrollments.valid()) {
        s.student_id.assign(enrollments.key());
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

std::vector<StudentRange> student_ranges(Database& db, std::size_t students_per_range) {
    const std::size_t per = std::max<std::size_t>(students_per_range, 1);
    std::vector<StudentRange> ranges{StudentRange{"", ""}};
    SQLite::Statement q(db.sql(), "SELECT DISTINCT student_id FROM enrollments ORDER BY 1");
    for (std::size_t n = 0; q.executeStep(); ++n) {
        if (n > 0 && n % per == 0) {
            std::string id = q.getColumn(0).getString();
            ranges.back().to = id;
            ranges.push_back(StudentRange{std::move(id), ""});
        }
    }
    return ranges;
}

void for_each_parallel(const std::filesystem::path& database, const std::string& up_to,
                       unsigned threads, const ParallelVisit& visit, const ParallelEmit& emit) {
    Database main(database);
    const std::vector<StudentRange> ranges = student_ranges(main, 2000);
    threads = std::max(1U, threads);
    // Each range's output waits, in order, until the ranges before it are
    // emitted; at most `window` ranges are in flight, so memory stays bounded.
    const std::size_t window = 2 * static_cast<std::size_t>(threads);
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::optional<std::string>> done(ranges.size());
    std::size_t next = 0;    // the next range a worker takes
    std::size_t emitted = 0; // ranges emitted so far
    std::exception_ptr failure;

    const auto work = [&] {
        try {
            Database db(database);
            StudentReader reader(db);
            for (;;) {
                std::size_t index = 0;
                {
                    std::unique_lock lock(mutex);
                    changed.wait(lock, [&] {
                        return failure || next >= ranges.size() || next < emitted + window;
                    });
                    if (failure || next >= ranges.size()) {
                        return;
                    }
                    index = next++;
                }
                std::string out;
                reader.for_each([&](const StudentData& s) { visit(s, out); }, up_to, ranges[index]);
                {
                    const std::lock_guard lock(mutex);
                    done[index] = std::move(out);
                }
                changed.notify_all();
            }
        } catch (...) {
            const std::lock_guard lock(mutex);
            if (!failure) {
                failure = std::current_exception();
            }
            changed.notify_all();
        }
    };
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) {
        workers.emplace_back(work);
    }
    for (; emitted < ranges.size();) {
        std::string out;
        {
            std::unique_lock lock(mutex);
            changed.wait(lock, [&] { return failure || done[emitted].has_value(); });
            if (failure) {
                break;
            }
            out = std::move(*done[emitted]);
            done[emitted].reset();
        }
        try {
            emit(out);
        } catch (...) {
            // The workers must stop and be joined before the exception leaves.
            const std::lock_guard lock(mutex);
            failure = std::current_exception();
        }
        {
            const std::lock_guard lock(mutex);
            ++emitted;
        }
        changed.notify_all();
    }
    for (auto& w : workers) {
        w.join();
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
}

} // namespace ewsd::store
