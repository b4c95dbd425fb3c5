#pragma once
// The records every feed (CSV, Ed-Fi) produces and the store keeps. Dates are
// ISO 8601 strings (YYYY-MM-DD), validated by the feed; descriptor values are
// canonical Ed-Fi code values.

#include <map>
#include <optional>
#include <string>

namespace ewsd::store {

// One enrollment row of a student (a student who transferred has several).
struct Enrollment {
    std::string student_id;
    std::string school_id;
    int grade_level = 0;
    std::string first_name;
    std::string last_name;
    std::string entry_date;
    std::string exit_date;                         // empty: still enrolled
    std::map<std::string, std::string> attributes; // extra columns, for rules
};

struct AttendanceEvent {
    std::string student_id;
    std::string school_id;
    std::string date;
    std::string category;
    double duration = 1.0;
};

struct Grade {
    std::string student_id;
    std::string school_id;
    std::string section_id;
    std::string course_code;
    std::string course_title;
    std::string subject;
    std::string grading_period;
    std::string date;
    std::optional<double> numeric_grade;
    std::string letter_grade;
};

struct Incident {
    std::string incident_id;
    std::string student_id;
    std::string school_id;
    std::string date;
    std::string behavior;
    std::string action; // empty: no action
    double action_days = 0;
};

struct CalendarDay {
    std::string school_id;
    std::string date;
    bool instructional = true;
};

} // namespace ewsd::store
