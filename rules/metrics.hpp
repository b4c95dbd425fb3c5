#pragma once
// The metrics of one student as of one date, computed from StudentData: the
// EvalContext the evaluator runs rules against. Pure: no clock, no I/O.

#include "rules/expr.hpp"
#include "store/student_data.hpp"

#include <functional>
#include <set>
#include <string>

namespace ewsd::rules {

struct MetricSettings {
    int school_year_start = 0;                               // day number
    std::function<double(const std::string&)> pass_mark_for; // by school id
};

class StudentMetrics : public EvalContext {
public:
    StudentMetrics(const store::StudentData& student, const store::Calendars& calendars,
                   const MetricSettings& settings, int as_of);

    double metric(const MetricCall& call) override;
    Value attribute(const std::string& name) override;
    bool flagged(const std::string& rule_id) override;
    double flagged_domains() override;

    // The evaluator tells which rules fire, so composite rules can ask.
    void set_fired(std::set<std::string> rule_ids, std::set<std::string> domains);

    // The student's enrollment on the as-of date (else the latest before it).
    [[nodiscard]] const store::EnrollmentSpan* current_enrollment() const { return m_current; }
    // The student's instructional days up to the as-of date, ascending.
    [[nodiscard]] const std::vector<int>& enrolled_days() const { return m_days; }

private:
    struct Range {
        int from;
        int to;
    };
    Range range(const Window& window) const;
    struct Period {
        std::string name;
        int first = 0; // its first and last grade dated on or before the as-of date
        int last = 0;
    };
    // Grading periods with grades up to the as-of date, the current one last.
    std::vector<Period> periods() const;
    int count_enrolled(Range r) const;
    double absences(Range r, bool excused, bool unexcused) const;
    double incident_metric(const MetricCall& call, Range r) const;
    double grade_metric(const MetricCall& call, Range r) const;
    double grade_change() const;
    double consecutive_absences() const;

    const store::StudentData& m_student;
    const store::Calendars& m_calendars;
    const MetricSettings& m_settings;
    int m_as_of;
    const store::EnrollmentSpan* m_current = nullptr;
    std::vector<int> m_days;
    std::set<std::string> m_fired;
    std::set<std::string> m_fired_domains;
};

} // namespace ewsd::rules
