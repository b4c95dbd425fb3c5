// Every metric and window on hand-built student data: boundaries (the as-of
// day itself), enrollment gaps, calendars, partial days, corrections.
#include "rules/metrics.hpp"
#include "util/date.hpp"

#include <gtest/gtest.h>

namespace ewsd::rules {
namespace {

int day(const char* iso) {
    return util::to_day_number(*util::parse_iso_date(iso));
}

MetricCall call(const std::string& name, std::optional<Window> window = std::nullopt,
                std::vector<RecordFilter> filters = {}) {
    MetricCall c;
    c.name = name;
    c.window = window;
    c.filters = std::move(filters);
    return c;
}

Window days(int n) {
    return {Window::Kind::days, n};
}
Window school_days(int n) {
    return {Window::Kind::school_days, n};
}
const Window school_year{Window::Kind::school_year, 0};
const Window grading_period{Window::Kind::grading_period, 0};

class MetricsTest : public ::testing::Test {
protected:
    MetricsTest() {
        settings.school_year_start = day("2025-08-18");
        settings.pass_mark_for = [](const std::string& school) {
            return school == "102" ? 70.0 : 65.0;
        };
        student.student_id = "S1";
        student.attributes = {{"iep", "true"}};
        // Enrolled at 101 (no calendar: Mon-Fri) until Fri 2025-10-03, then at
        // 102 from Wed 2025-10-08 (a gap of two school days).
        student.enrollments = {{"101", day("2025-08-18"), day("2025-10-03"), 7},
                               {"102", day("2025-10-08"), store::still_enrolled, 7}};
        // 102's calendar: weekdays from 2025-10-08, except a holiday on Fri 2025-10-10.
        std::vector<int> cal;
        for (int d = day("2025-10-06"); d <= day("2025-12-19"); ++d) {
            const std::chrono::weekday wd{std::chrono::sys_days{std::chrono::days{d}}};
            if (wd != std::chrono::Saturday && wd != std::chrono::Sunday &&
                d != day("2025-10-10")) {
                cal.push_back(d);
            }
        }
        calendars.set("102", cal);
    }

    double metric(const MetricCall& c, const char* as_of) {
        StudentMetrics m(student, calendars, settings, day(as_of));
        return m.metric(c);
    }

    store::StudentData student;
    store::Calendars calendars;
    MetricSettings settings;
};

TEST_F(MetricsTest, AbsencesSumDurationsInsideTheWindowIncludingTheAsOfDay) {
    student.attendance = {{day("2025-09-01"), "Unexcused Absence", 1},
                          {day("2025-09-02"), "Excused Absence", 0.5},
                          {day("2025-09-03"), "Tardy", 1},
                          {day("2025-09-30"), "Unexcused Absence", 1}};
    // 30d ending 2025-09-30 is 09-01 .. 09-30.
    EXPECT_DOUBLE_EQ(metric(call("absences", days(30)), "2025-09-30"), 2.5);
    // 29d starts 09-02: 09-01 drops out.
    EXPECT_DOUBLE_EQ(metric(call("absences", days(29)), "2025-09-30"), 1.5);
    // The as-of day itself counts; the next day does not exist yet.
    EXPECT_DOUBLE_EQ(metric(call("absences", days(1)), "2025-09-30"), 1);
    EXPECT_DOUBLE_EQ(metric(call("absences", days(1)), "2025-09-29"), 0);
    EXPECT_DOUBLE_EQ(metric(call("excused_absences", school_year), "2025-09-30"), 0.5);
    EXPECT_DOUBLE_EQ(metric(call("unexcused_absences", school_year), "2025-09-30"), 2);
    EXPECT_DOUBLE_EQ(metric(call("tardies", school_year), "2025-09-30"), 1);
    EXPECT_DOUBLE_EQ(metric(call("absences", {Window{Window::Kind::weeks, 1}}), "2025-09-07"), 1.5);
}

TEST_F(MetricsTest, AMonthWindowIsTheLatestSuchMonthUpToTheAsOfDate) {
    student.attendance = {{day("2025-08-29"), "Unexcused Absence", 1},
                          {day("2025-09-01"), "Unexcused Absence", 1},
                          {day("2025-09-30"), "Excused Absence", 1},
                          {day("2025-10-01"), "Unexcused Absence", 1}};
    const Window september{Window::Kind::month, 9};
    EXPECT_DOUBLE_EQ(metric(call("absences", september), "2025-09-15"), 1); // so far
    EXPECT_DOUBLE_EQ(metric(call("absences", september), "2025-09-30"), 2);
    EXPECT_DOUBLE_EQ(metric(call("absences", september), "2026-03-01"), 2); // last September
    // Before September 2025 began, the latest September is 2024's.
    EXPECT_DOUBLE_EQ(metric(call("absences", september), "2025-08-31"), 0);
    EXPECT_EQ(september.to_text(), "september");
}

TEST_F(MetricsTest, EnrolledDaysFollowEnrollmentsAndCalendars) {
    // 2025-08-18 .. 2025-10-03 at 101, Mon-Fri: 7 weeks = 35 days (Labor Day is
    // not special without a calendar).
    EXPECT_DOUBLE_EQ(metric(call("enrolled_days", school_year), "2025-10-03"), 35);
    // 10-06 and 10-07 fall in the gap; 10-08, 10-09 at 102; 10-10 a holiday there.
    EXPECT_DOUBLE_EQ(metric(call("enrolled_days", school_year), "2025-10-10"), 37);
    EXPECT_DOUBLE_EQ(metric(call("enrolled_days", school_year), "2025-10-13"), 38);
    // Before the student ever enrolled: no days, so the rate is 0, not a division by zero.
    EXPECT_DOUBLE_EQ(metric(call("absence_rate", school_year), "2025-08-17"), 0);
}

TEST_F(MetricsTest, RatesAndSchoolDayWindows) {
    student.attendance = {{day("2025-10-09"), "Unexcused Absence", 1},
                          {day("2025-10-13"), "Excused Absence", 0.5}};
    // The last 4 school days up to Tue 10-14: 10-08, 10-09, 10-13, 10-14.
    EXPECT_DOUBLE_EQ(metric(call("enrolled_days", school_days(4)), "2025-10-14"), 4);
    EXPECT_DOUBLE_EQ(metric(call("absences", school_days(4)), "2025-10-14"), 1.5);
    EXPECT_DOUBLE_EQ(metric(call("absence_rate", school_days(4)), "2025-10-14"), 0.375);
    EXPECT_DOUBLE_EQ(metric(call("attendance_rate", school_days(4)), "2025-10-14"), 0.625);
    // The last 2 school days are 10-13 and 10-14.
    EXPECT_DOUBLE_EQ(metric(call("absences", school_days(2)), "2025-10-14"), 0.5);
}

TEST_F(MetricsTest, ConsecutiveAbsencesRunBackFromTheLatestSchoolDay) {
    student.attendance = {{day("2025-09-25"), "Unexcused Absence", 1},
                          {day("2025-09-26"), "Unexcused Absence", 1},
                          {day("2025-09-29"), "Excused Absence", 1},
                          {day("2025-09-30"), "Tardy", 1}};
    // Thu, Fri, (weekend), Mon: 3 school days in a row.
    EXPECT_DOUBLE_EQ(metric(call("consecutive_absences"), "2025-09-29"), 3);
    // On a Sunday the latest school day is Friday.
    EXPECT_DOUBLE_EQ(metric(call("consecutive_absences"), "2025-09-28"), 2);
    // Tuesday a tardy, not an absence: the run is over.
    EXPECT_DOUBLE_EQ(metric(call("consecutive_absences"), "2025-09-30"), 0);
}

TEST_F(MetricsTest, IncidentsAreDistinctAndFilterable) {
    student.incidents = {{"I1", day("2025-09-10"), "School Code of Conduct", "", 0},
                         {"I2", day("2025-09-20"), "State Offense", "Out of School Suspension", 3},
                         {"I3", day("2025-10-20"), "School Violation", "In School Suspension", 1.5},
                         {"I4", day("2025-10-21"), "Other", "Removal from Classroom", 1}};
    EXPECT_DOUBLE_EQ(metric(call("incidents", school_year), "2025-10-31"), 4);
    EXPECT_DOUBLE_EQ(metric(call("incidents", school_year), "2025-09-20"), 2);
    EXPECT_DOUBLE_EQ(metric(call("incidents", school_year,
                                 {{"behavior", RecordFilter::Op::equal, {"State Offense"}, ""}}),
                            "2025-10-31"),
                     1);
    EXPECT_DOUBLE_EQ(
        metric(call("incidents", school_year,
                    {{"behavior", RecordFilter::Op::not_in, {"State Offense", "Other"}, ""}}),
               "2025-10-31"),
        2);
    EXPECT_DOUBLE_EQ(metric(call("suspensions", school_year), "2025-10-31"), 2);
    EXPECT_DOUBLE_EQ(metric(call("suspension_days", school_year), "2025-10-31"), 4.5);
    EXPECT_DOUBLE_EQ(metric(call("suspensions", days(30)), "2025-10-31"), 1);
}

TEST_F(MetricsTest, FailingGradesUseEachSectionsLatestGrade) {
    student.grades = {
        {"M", "101", "MATH-07", "Mathematics", "P1", day("2025-09-26"), 60.0, ""},
        {"E", "101", "ENG-07", "English Language and Literature", "P1", day("2025-09-26"), 80.0,
         ""},
        {"A", "101", "ART-07", "Fine and Performing Arts", "P1", day("2025-09-26"), std::nullopt,
         "F"},
        // A correction later in the same period replaces the failing math grade.
        {"M", "101", "MATH-07", "Mathematics", "P1", day("2025-09-29"), 66.0, ""},
    };
    EXPECT_DOUBLE_EQ(metric(call("failing_grades", school_year), "2025-09-27"), 2);
    EXPECT_DOUBLE_EQ(metric(call("failing_grades", school_year), "2025-09-30"), 1);
    EXPECT_DOUBLE_EQ(metric(call("failing_grades", school_year,
                                 {{"subject",
                                   RecordFilter::Op::in,
                                   {"Mathematics", "English Language and Literature"},
                                   ""}}),
                            "2025-09-27"),
                     1);
    // Letter-only grades count for failing, not for the average.
    EXPECT_DOUBLE_EQ(metric(call("average_grade", school_year), "2025-09-30"), 73);
}

TEST_F(MetricsTest, PassMarkIsPerSchool) {
    student.grades = {{"X", "102", "SCI-07", "Science", "P2", day("2025-11-07"), 68.0, ""}};
    EXPECT_DOUBLE_EQ(metric(call("failing_grades", school_year), "2025-11-30"), 1); // 68 < 70
    student.grades[0].school_id = "101";
    EXPECT_DOUBLE_EQ(metric(call("failing_grades", school_year), "2025-11-30"), 0); // 68 >= 65
}

TEST_F(MetricsTest, GradingPeriodWindowAndGradeChange) {
    student.grades = {{"M", "101", "MATH-07", "Mathematics", "P1", day("2025-09-26"), 90.0, ""},
                      {"E", "101", "ENG-07", "English", "P1", day("2025-09-26"), 80.0, ""},
                      {"M", "102", "MATH-07", "Mathematics", "P2", day("2025-11-07"), 60.0, ""},
                      {"E", "102", "ENG-07", "English", "P2", day("2025-11-07"), 60.0, ""}};
    EXPECT_DOUBLE_EQ(metric(call("failing_grades", grading_period), "2025-10-15"), 0);
    EXPECT_DOUBLE_EQ(metric(call("failing_grades", grading_period), "2025-11-10"), 2);
    EXPECT_DOUBLE_EQ(metric(call("grade_change"), "2025-11-10"), -25);
    EXPECT_DOUBLE_EQ(metric(call("grade_change"), "2025-10-15"), 0); // one period only
    // Attendance over the grading period starts the day after the previous period's grades.
    student.attendance = {{day("2025-09-26"), "Unexcused Absence", 1},
                          {day("2025-09-29"), "Unexcused Absence", 1}};
    EXPECT_DOUBLE_EQ(metric(call("absences", grading_period), "2025-11-10"), 1);
}

TEST_F(MetricsTest, APeriodPostedTheSameDayDoesNotHideTheCurrentPeriod) {
    student.grades = {
        {"M", "102", "MATH-07", "Mathematics", "Six Weeks 2", day("2025-11-14"), 80.0, ""},
        {"M", "102", "MATH-07", "Mathematics", "Six Weeks 3", day("2026-01-08"), 60.0, ""},
        // A semester grade in another section, posted the same day.
        {"A", "102", "ART-07", "Fine and Performing Arts", "Semester 1", day("2026-01-08"), 90.0,
         ""},
    };
    EXPECT_DOUBLE_EQ(metric(call("failing_grades", grading_period), "2026-01-30"), 1);
    EXPECT_DOUBLE_EQ(metric(call("average_grade", grading_period), "2026-01-30"), 75);
}

TEST_F(MetricsTest, ALateCorrectionToAnEarlierPeriodDoesNotMakeItCurrent) {
    student.grades = {
        {"M", "102", "MATH-07", "Mathematics", "P1", day("2025-09-26"), 50.0, ""},
        {"M", "102", "MATH-07", "Mathematics", "P2", day("2025-11-07"), 60.0, ""},
        {"E", "102", "ENG-07", "English", "P2", day("2025-11-07"), 90.0, ""},
        // P1's grade corrected after P2's grades were posted.
        {"M", "102", "MATH-07", "Mathematics", "P1", day("2025-11-12"), 75.0, ""},
    };
    // The current period is still P2: math 60 fails (school 102 passes at 70).
    EXPECT_DOUBLE_EQ(metric(call("failing_grades", grading_period), "2025-11-20"), 1);
    // P2 average 75 minus P1's (corrected) 75.
    EXPECT_DOUBLE_EQ(metric(call("grade_change"), "2025-11-20"), 0);
    // Attendance over the period starts after P1's last grade before P2 began.
    student.attendance = {{day("2025-09-26"), "Unexcused Absence", 1},
                          {day("2025-09-29"), "Unexcused Absence", 1},
                          {day("2025-11-13"), "Unexcused Absence", 1}};
    EXPECT_DOUBLE_EQ(metric(call("absences", grading_period), "2025-11-20"), 2);
}

TEST_F(MetricsTest, AttributesComeFromTheCurrentEnrollment) {
    StudentMetrics before(student, calendars, settings, day("2025-09-01"));
    EXPECT_EQ(before.attribute("school_id").string, "101");
    StudentMetrics after(student, calendars, settings, day("2025-11-01"));
    EXPECT_EQ(after.attribute("school_id").string, "102");
    EXPECT_DOUBLE_EQ(after.attribute("grade_level").number, 7);
    EXPECT_EQ(after.attribute("iep").string, "true");
    EXPECT_EQ(after.attribute("ell").string, "");
}

} // namespace
} // namespace ewsd::rules
