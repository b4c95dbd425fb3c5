#include "rules/metrics.hpp"

#include "util/date.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

namespace ewsd::rules {

namespace {

bool is_absence(const std::string& category) {
    return category == "Excused Absence" || category == "Unexcused Absence";
}

bool is_suspension(const std::string& action) {
    return action == "In School Suspension" || action == "Out of School Suspension";
}

bool matches(const std::vector<RecordFilter>& filters,
             const std::function<const std::string&(const std::string&)>& field) {
    for (const auto& f : filters) {
        const std::string& v = field(f.field);
        const bool found = std::find(f.values.begin(), f.values.end(), v) != f.values.end();
        const bool ok =
            (f.op == RecordFilter::Op::equal || f.op == RecordFilter::Op::in) ? found : !found;
        if (!ok) {
            return false;
        }
    }
    return true;
}

} // namespace

StudentMetrics::StudentMetrics(const store::StudentData& student, const store::Calendars& calendars,
                               const MetricSettings& settings, int as_of)
    : m_student(student), m_calendars(calendars), m_settings(settings), m_as_of(as_of),
      m_current(store::current_enrollment(student, as_of)) {
    // Instructional days of the schools the student was enrolled in, up to the
    // as-of date (and no more than a year before the school year began).
    for (const auto& e : student.enrollments) {
        const int from = std::max(e.entry, settings.school_year_start - 366);
        m_calendars.instructional_days(e.school_id, from, std::min(e.exit, as_of), m_days);
    }
    if (student.enrollments.size() > 1) { // overlapping enrollments count a day once
        std::sort(m_days.begin(), m_days.end());
        m_days.erase(std::unique(m_days.begin(), m_days.end()), m_days.end());
    }
}

void StudentMetrics::set_fired(std::set<std::string> rule_ids, std::set<std::string> domains) {
    m_fired = std::move(rule_ids);
    m_fired_domains = std::move(domains);
}

std::vector<StudentMetrics::Period> StudentMetrics::periods() const {
    // A period begins when its first grade is posted; a correction to an
    // earlier period, posted later, does not make that period the current one.
    std::map<std::string, Period> by_name;
    for (const auto& g : m_student.grades) {
        if (g.day > m_as_of) {
            break; // grades are sorted by day
        }
        const auto [it, inserted] =
            by_name.try_emplace(g.grading_period, Period{g.grading_period, g.day, g.day});
        it->second.last = std::max(it->second.last, g.day);
    }
    std::vector<Period> out;
    for (auto& [name, period] : by_name) {
        out.push_back(std::move(period));
    }
    std::sort(out.begin(), out.end(), [](const Period& a, const Period& b) {
        return std::tie(a.first, a.last, a.name) < std::tie(b.first, b.last, b.name);
    });
    return out;
}

StudentMetrics::Range StudentMetrics::range(const Window& window) const {
    switch (window.kind) {
    case Window::Kind::days:
        return {m_as_of - window.count + 1, m_as_of};
    case Window::Kind::weeks:
        return {m_as_of - 7 * window.count + 1, m_as_of};
    case Window::Kind::school_days: {
        const auto end = std::upper_bound(m_days.begin(), m_days.end(), m_as_of);
        const auto n = std::min<std::ptrdiff_t>(window.count, end - m_days.begin());
        return {n == 0 ? m_as_of + 1 : *(end - n), m_as_of};
    }
    case Window::Kind::school_year:
        return {m_settings.school_year_start, m_as_of};
    case Window::Kind::grading_period: {
        // From the day after the last grade of another period posted before
        // the current period began, to the as-of date.
        const auto all = periods();
        int start = m_settings.school_year_start;
        if (!all.empty()) {
            const int current_first = all.back().first;
            for (const auto& g : m_student.grades) {
                if (g.day < current_first) {
                    start = std::max(start, g.day + 1);
                }
            }
        }
        return {start, m_as_of};
    }
    case Window::Kind::all:
        return {-(1 << 30), m_as_of};
    case Window::Kind::month: {
        // The latest such month that began on or before the as-of date.
        const util::Date as_of = util::from_day_number(m_as_of);
        auto year = as_of.year();
        if (static_cast<int>(static_cast<unsigned>(as_of.month())) < window.count) {
            --year;
        }
        const std::chrono::month month{static_cast<unsigned>(window.count)};
        const int first = util::to_day_number(util::Date{year, month, std::chrono::day{1}});
        const int last = util::to_day_number(
            util::Date{std::chrono::year_month_day_last{year, std::chrono::month_day_last{month}}});
        return {first, std::min(last, m_as_of)};
    }
    }
    throw std::logic_error("unknown window");
}

int StudentMetrics::count_enrolled(Range r) const {
    const auto lo = std::lower_bound(m_days.begin(), m_days.end(), r.from);
    const auto hi = std::upper_bound(m_days.begin(), m_days.end(), r.to);
    return static_cast<int>(hi - lo);
}

double StudentMetrics::absences(Range r, bool excused, bool unexcused) const {
    double total = 0;
    for (const auto& a : m_student.attendance) {
        if (a.day < r.from || a.day > r.to) {
            continue;
        }
        if ((excused && a.category == "Excused Absence") ||
            (unexcused && a.category == "Unexcused Absence")) {
            total += a.duration;
        }
    }
    return total;
}

double StudentMetrics::consecutive_absences() const {
    std::set<int> absent;
    for (const auto& a : m_student.attendance) {
        if (is_absence(a.category) && a.duration > 0) {
            absent.insert(a.day);
        }
    }
    double run = 0;
    auto it = std::upper_bound(m_days.begin(), m_days.end(), m_as_of);
    while (it != m_days.begin()) {
        --it;
        if (absent.count(*it) == 0) {
            break;
        }
        ++run;
    }
    return run;
}

double StudentMetrics::incident_metric(const MetricCall& call, Range r) const {
    std::map<std::string, double> days_by_incident;
    for (const auto& i : m_student.incidents) {
        if (i.day < r.from || i.day > r.to) {
            continue;
        }
        const auto field = [&](const std::string& name) -> const std::string& {
            return name == "action" ? i.action : i.behavior;
        };
        if (!matches(call.filters, field)) {
            continue;
        }
        if (call.name == "incidents") {
            days_by_incident.emplace(i.incident_id, 0);
        } else if (is_suspension(i.action)) {
            days_by_incident[i.incident_id] = i.action_days;
        }
    }
    if (call.name == "suspension_days") {
        double total = 0;
        for (const auto& [id, days] : days_by_incident) {
            total += days;
        }
        return total;
    }
    return static_cast<double>(days_by_incident.size());
}

double StudentMetrics::grade_metric(const MetricCall& call, Range r) const {
    // Each section's latest grade dated in the window; over `grading_period`,
    // the grades of the current period.
    std::set<std::string> current; // empty: any period
    if (call.window && call.window->kind == Window::Kind::grading_period) {
        const auto all = periods();
        if (all.empty()) {
            return 0;
        }
        // Periods that began the same day (a semester grade posted with the
        // last six-weeks grades) are current together.
        for (const auto& p : all) {
            if (p.first == all.back().first) {
                current.insert(p.name);
            }
        }
        r.from = -(1 << 30);
    }
    std::map<std::string, const store::GradeRow*> latest;
    for (const auto& g : m_student.grades) {
        if (g.day < r.from || g.day > r.to ||
            (!current.empty() && current.count(g.grading_period) == 0)) {
            continue;
        }
        const auto field = [&](const std::string& name) -> const std::string& {
            return name == "course_code" ? g.course_code : g.subject;
        };
        if (matches(call.filters, field)) {
            latest[g.section_id] = &g; // sorted by day: the last one wins
        }
    }
    if (call.name == "failing_grades") {
        int failing = 0;
        for (const auto& [section, g] : latest) {
            const double mark =
                m_settings.pass_mark_for ? m_settings.pass_mark_for(g->school_id) : 65;
            if (g->numeric ? *g->numeric < mark : (g->letter == "F" || g->letter == "f")) {
                ++failing;
            }
        }
        return failing;
    }
    double sum = 0;
    int n = 0;
    for (const auto& [section, g] : latest) {
        if (g->numeric) {
            sum += *g->numeric;
            ++n;
        }
    }
    return n == 0 ? 0 : sum / n;
}

double StudentMetrics::grade_change() const {
    const auto all = periods();
    if (all.size() < 2) {
        return 0;
    }
    const auto average = [&](const std::string& period) {
        std::map<std::string, double> by_section; // each section's latest grade
        for (const auto& g : m_student.grades) {
            if (g.day <= m_as_of && g.grading_period == period && g.numeric) {
                by_section[g.section_id] = *g.numeric;
            }
        }
        double sum = 0;
        for (const auto& [section, grade] : by_section) {
            sum += grade;
        }
        return by_section.empty() ? 0.0 : sum / static_cast<double>(by_section.size());
    };
    return average(all.back().name) - average(all[all.size() - 2].name);
}

double StudentMetrics::metric(const MetricCall& call) {
    const std::string& n = call.name;
    if (n == "consecutive_absences") {
        return consecutive_absences();
    }
    if (n == "grade_change") {
        return grade_change();
    }
    if (!call.window) {
        throw std::logic_error("metric " + n + " needs a window");
    }
    const Range r = range(*call.window);
    if (n == "absences") {
        return absences(r, true, true);
    }
    if (n == "excused_absences") {
        return absences(r, true, false);
    }
    if (n == "unexcused_absences") {
        return absences(r, false, true);
    }
    if (n == "tardies") {
        return static_cast<double>(std::count_if(
            m_student.attendance.begin(), m_student.attendance.end(), [&](const auto& a) {
                return a.day >= r.from && a.day <= r.to && a.category == "Tardy";
            }));
    }
    if (n == "enrolled_days") {
        return count_enrolled(r);
    }
    if (n == "absence_rate" || n == "attendance_rate") {
        const int days = count_enrolled(r);
        const double rate = days == 0 ? 0 : absences(r, true, true) / days;
        return n == "absence_rate" ? rate : 1 - rate;
    }
    if (n == "incidents" || n == "suspensions" || n == "suspension_days") {
        return incident_metric(call, r);
    }
    if (n == "failing_grades" || n == "average_grade") {
        return grade_metric(call, r);
    }
    throw std::logic_error("unknown metric " + n);
}

Value StudentMetrics::attribute(const std::string& name) {
    if (name == "grade_level") {
        return Value::of(static_cast<double>(m_current ? m_current->grade_level : 0));
    }
    if (name == "school_id") {
        return Value::of(m_current ? m_current->school_id : std::string());
    }
    const auto it = m_student.attributes.find(name);
    return Value::of(it == m_student.attributes.end() ? std::string() : it->second);
}

bool StudentMetrics::flagged(const std::string& rule_id) {
    return m_fired.count(rule_id) != 0;
}

double StudentMetrics::flagged_domains() {
    return static_cast<double>(m_fired_domains.size());
}

} // namespace ewsd::rules
