// CSV records to store records: header matching, every field of every kind,
// local code maps, and bad fields with their exact line:column and message.
// Rows go through a real CsvReader so positions are those of the text.
#include "connectors/csv/record_parser.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ewsd::connectors::csv {
namespace {

using store::RecordKind;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

struct Outcome {
    std::optional<std::string> header_error;
    std::vector<Record> records;
    std::vector<std::string> bad; // "line:column: message"
};

class RecordParserTest : public ::testing::Test {
protected:
    RecordParserTest() {
        feed.name = "sis";
        feed.type = "csv";
        feed.category_map.add("A", "Unexcused Absence");
        feed.category_map.add("EX", "Excused Absence");
        feed.subject_map.add("MA", "Mathematics");
        feed.behavior_map.add("FI", "School Code of Conduct");
        feed.action_map.add("ISS", "In School Suspension");
    }

    // Reads the header, then parses every row into its own Record.
    Outcome run(RecordKind kind, const std::string& csv) {
        Outcome out;
        CsvReader reader(CsvReader::from_string(csv));
        RecordParser parser(kind, feed);
        if (reader.next() != CsvReader::Status::record) {
            ADD_FAILURE() << "no header row";
            return out;
        }
        out.header_error = parser.read_header(reader.fields());
        if (out.header_error) {
            return out;
        }
        for (auto status = reader.next(); status != CsvReader::Status::end;
             status = reader.next()) {
            if (status != CsvReader::Status::record) {
                ADD_FAILURE() << "the CSV reader rejected a row: " << reader.error();
                return out;
            }
            Record record;
            if (auto bad = parser.parse(reader.fields(), record)) {
                out.bad.push_back(std::to_string(bad->line) + ":" + std::to_string(bad->column) +
                                  ": " + bad->message);
            } else {
                out.records.push_back(std::move(record));
            }
        }
        return out;
    }

    // Expects the header to be accepted and every row to parse.
    template <typename T> std::vector<T> parse_all(RecordKind kind, const std::string& csv) {
        const Outcome out = run(kind, csv);
        EXPECT_EQ(out.header_error, std::nullopt);
        EXPECT_THAT(out.bad, IsEmpty());
        std::vector<T> rows;
        for (const auto& r : out.records) {
            EXPECT_TRUE(std::holds_alternative<T>(r));
            if (const T* p = std::get_if<T>(&r)) {
                rows.push_back(*p);
            }
        }
        return rows;
    }

    std::vector<std::string> bad_rows(RecordKind kind, const std::string& csv) {
        const Outcome out = run(kind, csv);
        EXPECT_EQ(out.header_error, std::nullopt);
        EXPECT_THAT(out.records, IsEmpty());
        return out.bad;
    }

    std::optional<std::string> header_error(RecordKind kind, const std::string& header) {
        return run(kind, header + "\n").header_error;
    }

    core::FeedConfig feed;
};

const std::string students_header =
    "student_id,school_id,grade_level,first_name,last_name,entry_date,exit_date\n";
const std::string attendance_header = "student_id,school_id,date,category,duration\n";
const std::string grades_header = "student_id,school_id,section_id,course_code,course_title,"
                                  "subject,grading_period,date,numeric_grade,letter_grade\n";
const std::string incidents_header =
    "incident_id,student_id,school_id,date,behavior,action,action_days\n";
const std::string calendar_header = "school_id,date,instructional\n";

TEST(FileName, NamesEachKindsFile) {
    EXPECT_EQ(file_name(RecordKind::students), "students.csv");
    EXPECT_EQ(file_name(RecordKind::attendance), "attendance.csv");
    EXPECT_EQ(file_name(RecordKind::grades), "grades.csv");
    EXPECT_EQ(file_name(RecordKind::incidents), "incidents.csv");
    EXPECT_EQ(file_name(RecordKind::calendar), "calendar.csv");
}

// --- headers ---

TEST_F(RecordParserTest, HeaderColumnsInAnyOrderWithAnyCase) {
    const auto rows = parse_all<store::AttendanceEvent>(
        RecordKind::attendance, "Category, DATE ,school_id,Student_ID\nA,2025-09-02,101,S1\n");
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].student_id, "S1");
    EXPECT_EQ(rows[0].school_id, "101");
    EXPECT_EQ(rows[0].date, "2025-09-02");
    EXPECT_EQ(rows[0].category, "Unexcused Absence");
}

TEST_F(RecordParserTest, ExtraColumnsAreIgnoredOutsideStudents) {
    const auto rows = parse_all<store::AttendanceEvent>(
        RecordKind::attendance,
        "note,student_id,school_id,date,category,period\nlate bus,S1,101,2025-09-02,EX,3\n");
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].student_id, "S1");
    EXPECT_EQ(rows[0].category, "Excused Absence");
}

TEST_F(RecordParserTest, StudentExtraColumnsBecomeLowerCaseAttributes) {
    const auto rows = parse_all<store::Enrollment>(
        RecordKind::students,
        "IEP,grade_level,student_id,school_id,first_name,last_name,entry_date,exit_date,Home Room\n"
        "true,7,S1,101,Ana,Garcia,2025-08-18,, B12 \n");
    ASSERT_EQ(rows.size(), 1U);
    const std::map<std::string, std::string> expected{{"home room", "B12"}, {"iep", "true"}};
    EXPECT_EQ(rows[0].attributes, expected);
    EXPECT_EQ(rows[0].student_id, "S1");
    EXPECT_EQ(rows[0].grade_level, 7);
}

TEST_F(RecordParserTest, MissingRequiredColumnIsNamed) {
    EXPECT_EQ(header_error(RecordKind::attendance, "student_id,school_id,category"),
              "missing required column date (the header has: student_id, school_id, category)");
}

TEST_F(RecordParserTest, SeveralMissingColumnsAreAllNamed) {
    EXPECT_EQ(header_error(RecordKind::attendance, "student_id,duration"),
              "missing required columns school_id, date, category (the header has: student_id, "
              "duration)");
}

TEST_F(RecordParserTest, OptionalColumnsNeedNotBeInTheHeader) {
    EXPECT_EQ(header_error(RecordKind::attendance, "student_id,school_id,date,category"),
              std::nullopt);
    EXPECT_EQ(header_error(RecordKind::incidents, "incident_id,student_id,school_id,date,behavior"),
              std::nullopt);
}

TEST_F(RecordParserTest, StudentsNeedEveryDocumentedColumn) {
    EXPECT_EQ(header_error(RecordKind::students,
                           "student_id,school_id,grade_level,first_name,last_name,entry_date"),
              "missing required column exit_date (the header has: student_id, school_id, "
              "grade_level, first_name, last_name, entry_date)");
}

TEST_F(RecordParserTest, GradesNeedBothGradeColumns) {
    EXPECT_EQ(header_error(RecordKind::grades, "student_id,school_id,section_id,course_code,"
                                               "course_title,subject,grading_period,date"),
              "missing required columns numeric_grade, letter_grade (the header has: student_id, "
              "school_id, section_id, course_code, course_title, subject, grading_period, date)");
}

TEST_F(RecordParserTest, CalendarMissingInstructional) {
    EXPECT_EQ(header_error(RecordKind::calendar, "school_id,date"),
              "missing required column instructional (the header has: school_id, date)");
}

TEST_F(RecordParserTest, DuplicateColumnIsAnError) {
    EXPECT_EQ(header_error(RecordKind::attendance, "student_id,school_id,date,category,Date"),
              "column 'date' appears twice in the header");
}

TEST_F(RecordParserTest, DuplicateExtraColumnIsAnError) {
    EXPECT_EQ(header_error(RecordKind::students, "student_id,school_id,grade_level,first_name,"
                                                 "last_name,entry_date,exit_date,iep,IEP"),
              "column 'iep' appears twice in the header");
}

TEST_F(RecordParserTest, HeaderWithInvalidUtf8IsAnError) {
    EXPECT_EQ(header_error(RecordKind::attendance, "student_id,\xFF\xFE,school_id,date,category"),
              "the header is not valid UTF-8 (column 12): is this a CSV file in UTF-8?");
}

// --- students.csv ---

TEST_F(RecordParserTest, StudentEveryField) {
    const auto rows = parse_all<store::Enrollment>(
        RecordKind::students, students_header + " S1 , 101 ,06, Ana ,Garcia,2025-08-18,\n"
                                                "S2,102,K,Bo,Li,2025-08-18,2025-10-31\n");
    ASSERT_EQ(rows.size(), 2U);
    EXPECT_EQ(rows[0].student_id, "S1");
    EXPECT_EQ(rows[0].school_id, "101");
    EXPECT_EQ(rows[0].grade_level, 6);
    EXPECT_EQ(rows[0].first_name, "Ana");
    EXPECT_EQ(rows[0].last_name, "Garcia");
    EXPECT_EQ(rows[0].entry_date, "2025-08-18");
    EXPECT_EQ(rows[0].exit_date, "");
    EXPECT_TRUE(rows[0].attributes.empty());
    EXPECT_EQ(rows[1].student_id, "S2");
    EXPECT_EQ(rows[1].school_id, "102");
    EXPECT_EQ(rows[1].grade_level, 0);
    EXPECT_EQ(rows[1].exit_date, "2025-10-31");
}

TEST_F(RecordParserTest, StudentGradeLevelForms) {
    const auto rows = parse_all<store::Enrollment>(
        RecordKind::students, students_header + "S1,101,PK,,,2025-08-18,\n"
                                                "S2,101,Sixth grade,,,2025-08-18,\n"
                                                "S3,101,uri://ed-fi.org/GradeLevelDescriptor#Ninth "
                                                "grade,,,2025-08-18,\n"
                                                "S4,101,12,,,2025-08-18,2025-08-18\n");
    ASSERT_EQ(rows.size(), 4U);
    EXPECT_EQ(rows[0].grade_level, -1);
    EXPECT_EQ(rows[1].grade_level, 6);
    EXPECT_EQ(rows[2].grade_level, 9);
    EXPECT_EQ(rows[3].grade_level, 12);
    EXPECT_EQ(rows[0].first_name, ""); // names may be empty
}

TEST_F(RecordParserTest, StudentQuotedNamesKeepCommasAndQuotes) {
    const auto rows = parse_all<store::Enrollment>(
        RecordKind::students,
        students_header + "S1,101,7,\"Bo \"\"Bobby\"\"\",\"Li, Jr.\",2025-08-18,\n");
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].first_name, "Bo \"Bobby\"");
    EXPECT_EQ(rows[0].last_name, "Li, Jr.");
}

TEST_F(RecordParserTest, StudentBadGradeLevel) {
    EXPECT_THAT(bad_rows(RecordKind::students, students_header +
                                                   "S1,101,14,Ana,Garcia,2025-08-18,\n"
                                                   "S2,101,abc,Bo,Li,2025-08-18,\n"),
                ElementsAre("2:8: grade_level '14' is not a grade level (expected 1-12, K, PK or "
                            "an Ed-Fi GradeLevelDescriptor code value)",
                            "3:8: grade_level 'abc' is not a grade level (expected 1-12, K, PK or "
                            "an Ed-Fi GradeLevelDescriptor code value)"));
}

TEST_F(RecordParserTest, StudentExitBeforeEntry) {
    EXPECT_THAT(bad_rows(RecordKind::students,
                         students_header + "S1,101,7,Ana,Garcia,2025-08-18,2025-08-01\n"),
                ElementsAre("2:32: exit_date 2025-08-01 is before entry_date 2025-08-18"));
}

TEST_F(RecordParserTest, PositionAfterAMultiLineFieldIsOnItsLine) {
    EXPECT_THAT(
        bad_rows(RecordKind::students,
                 students_header + "S1,101,7,\"Ana\nMaria\",Garcia,2025-08-18,2025-08-01\n"),
        ElementsAre("3:26: exit_date 2025-08-01 is before entry_date 2025-08-18"));
}

TEST_F(RecordParserTest, StudentEmptyEntryDate) {
    EXPECT_THAT(bad_rows(RecordKind::students, students_header + "S1,101,7,Ana,Garcia,,\n"),
                ElementsAre("2:21: entry_date is empty"));
}

TEST_F(RecordParserTest, StudentBadExitDate) {
    EXPECT_THAT(bad_rows(RecordKind::students,
                         students_header + "S1,101,7,Ana,Garcia,2025-08-18,31/10/2025\n"),
                ElementsAre("2:32: exit_date '31/10/2025' is not a date as YYYY-MM-DD"));
}

TEST_F(RecordParserTest, StudentEmptyId) {
    EXPECT_THAT(
        bad_rows(RecordKind::students, students_header + "  ,101,7,Ana,Garcia,2025-08-18,\n"),
        ElementsAre("2:1: student_id is empty"));
}

TEST_F(RecordParserTest, StudentIdLongerThan64) {
    const std::string id(65, '9');
    EXPECT_THAT(bad_rows(RecordKind::students,
                         students_header + "S1," + id + ",7,Ana,Garcia,2025-08-18,\n"),
                ElementsAre("2:4: school_id is longer than 64 characters"));
}

TEST_F(RecordParserTest, StudentIdOf64IsFine) {
    const std::string id(64, '9');
    const auto rows = parse_all<store::Enrollment>(
        RecordKind::students, students_header + id + ",101,7,Ana,Garcia,2025-08-18,\n");
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].student_id, id);
}

TEST_F(RecordParserTest, StudentNameLongerThan256DoesNotEchoIt) {
    const std::string name(257, 'n');
    EXPECT_THAT(bad_rows(RecordKind::students,
                         students_header + "S1,101,7," + name + ",Garcia,2025-08-18,\n"),
                ElementsAre("2:10: first_name is longer than 256 characters"));
}

TEST_F(RecordParserTest, InvalidUtf8IsReportedAtTheField) {
    EXPECT_THAT(
        bad_rows(RecordKind::students, students_header + "S1,101,7,\xFFna,Garcia,2025-08-18,\n"),
        ElementsAre("2:10: invalid UTF-8 in the field"));
}

// --- attendance.csv ---

TEST_F(RecordParserTest, AttendanceEveryField) {
    const auto rows = parse_all<store::AttendanceEvent>(
        RecordKind::attendance,
        attendance_header + "S1,101,2025-09-02,A,\n"
                            "S1,101,2025-09-03,uri://ed-fi.org/AttendanceEventCategoryDescriptor#"
                            "Excused Absence,0.5\n"
                            "S2,102,2025-09-04,tardy, 0 \n");
    ASSERT_EQ(rows.size(), 3U);
    EXPECT_EQ(rows[0].student_id, "S1");
    EXPECT_EQ(rows[0].school_id, "101");
    EXPECT_EQ(rows[0].date, "2025-09-02");
    EXPECT_EQ(rows[0].category, "Unexcused Absence");
    EXPECT_DOUBLE_EQ(rows[0].duration, 1.0);
    EXPECT_EQ(rows[1].date, "2025-09-03");
    EXPECT_EQ(rows[1].category, "Excused Absence");
    EXPECT_DOUBLE_EQ(rows[1].duration, 0.5);
    EXPECT_EQ(rows[2].student_id, "S2");
    EXPECT_EQ(rows[2].school_id, "102");
    EXPECT_EQ(rows[2].category, "Tardy");
    EXPECT_DOUBLE_EQ(rows[2].duration, 0.0);
}

TEST_F(RecordParserTest, AttendanceLocalCodesAreCaseInsensitive) {
    const auto rows = parse_all<store::AttendanceEvent>(
        RecordKind::attendance,
        attendance_header + "S1,101,2025-09-02,ex,\nS1,101,2025-09-03,a,\n");
    ASSERT_EQ(rows.size(), 2U);
    EXPECT_EQ(rows[0].category, "Excused Absence");
    EXPECT_EQ(rows[1].category, "Unexcused Absence");
}

TEST_F(RecordParserTest, AttendanceWithoutDurationColumnDefaultsToOne) {
    const auto rows = parse_all<store::AttendanceEvent>(
        RecordKind::attendance, "student_id,school_id,date,category\nS1,101,2025-09-02,Partial\n");
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].category, "Partial");
    EXPECT_DOUBLE_EQ(rows[0].duration, 1.0);
}

TEST_F(RecordParserTest, TooFewFieldsPointsAtTheLastField) {
    EXPECT_THAT(bad_rows(RecordKind::attendance, attendance_header + "S1,101,2025-09-02,A\n"),
                ElementsAre("2:19: the row has 4 fields but the header has 5"));
}

TEST_F(RecordParserTest, TooManyFieldsPointsAtTheFirstExtraField) {
    EXPECT_THAT(
        bad_rows(RecordKind::attendance, attendance_header + "S1,101,2025-09-02,A,,extra\n"),
        ElementsAre("2:22: the row has 6 fields but the header has 5"));
}

TEST_F(RecordParserTest, AttendanceBadDate) {
    EXPECT_THAT(bad_rows(RecordKind::attendance, attendance_header + "S1,101,2025-02-30,A,\n"),
                ElementsAre("2:8: date '2025-02-30' is not a date as YYYY-MM-DD"));
}

TEST_F(RecordParserTest, AttendanceUnknownCategory) {
    EXPECT_THAT(bad_rows(RecordKind::attendance, attendance_header + "S1,101,2025-09-02,X,\n"),
                ElementsAre("2:19: unknown category 'X' (expected an Ed-Fi "
                            "AttendanceEventCategoryDescriptor code value or URI, or a local code "
                            "listed in the feed's category_map)"));
}

TEST_F(RecordParserTest, AttendanceEmptyCategory) {
    EXPECT_THAT(bad_rows(RecordKind::attendance, attendance_header + "S1,101,2025-09-02,,\n"),
                ElementsAre("2:19: category is empty"));
}

TEST_F(RecordParserTest, AttendanceDurationAboveOne) {
    EXPECT_THAT(bad_rows(RecordKind::attendance, attendance_header + "S1,101,2025-09-02,A,1.5\n"),
                ElementsAre("2:21: duration '1.5' is not a number from 0 to 1"));
}

TEST_F(RecordParserTest, AttendanceDurationNotANumber) {
    EXPECT_THAT(bad_rows(RecordKind::attendance,
                         attendance_header + "S1,101,2025-09-02,A,half\nS1,101,2025-09-02,A,-0.5\n"
                                             "S1,101,2025-09-02,A,nan\n"),
                ElementsAre("2:21: duration 'half' is not a number from 0 to 1",
                            "3:21: duration '-0.5' is not a number from 0 to 1",
                            "4:21: duration 'nan' is not a number from 0 to 1"));
}

// --- grades.csv ---

TEST_F(RecordParserTest, GradeEveryField) {
    const auto rows = parse_all<store::Grade>(
        RecordKind::grades,
        grades_header + "S1,101,SEC-1,MATH7,Math 7,MA,Six Weeks 1,2025-10-10,87.5,B+\n"
                        "S2,102,SEC-2,ROB1,,Robotics,Six Weeks 1,2025-10-11,,A\n"
                        "S3,101,SEC-3,SCI7,Science 7,uri://ed-fi.org/AcademicSubjectDescriptor#"
                        "science,Q1,2025-10-12,0,\n");
    ASSERT_EQ(rows.size(), 3U);
    EXPECT_EQ(rows[0].student_id, "S1");
    EXPECT_EQ(rows[0].school_id, "101");
    EXPECT_EQ(rows[0].section_id, "SEC-1");
    EXPECT_EQ(rows[0].course_code, "MATH7");
    EXPECT_EQ(rows[0].course_title, "Math 7");
    EXPECT_EQ(rows[0].subject, "Mathematics");
    EXPECT_EQ(rows[0].grading_period, "Six Weeks 1");
    EXPECT_EQ(rows[0].date, "2025-10-10");
    EXPECT_EQ(rows[0].numeric_grade, 87.5);
    EXPECT_EQ(rows[0].letter_grade, "B+");

    EXPECT_EQ(rows[1].course_title, "");
    EXPECT_EQ(rows[1].subject, "Robotics"); // an unknown subject is kept as written
    EXPECT_EQ(rows[1].numeric_grade, std::nullopt);
    EXPECT_EQ(rows[1].letter_grade, "A");

    EXPECT_EQ(rows[2].subject, "Science");
    EXPECT_EQ(rows[2].grading_period, "Q1");
    EXPECT_EQ(rows[2].numeric_grade, 0.0);
    EXPECT_EQ(rows[2].letter_grade, "");
}

TEST_F(RecordParserTest, NumericGradeNotANumberDoesNotEchoTheValue) {
    const auto bad =
        bad_rows(RecordKind::grades,
                 grades_header + "S1,101,SEC-1,MATH7,Math 7,MA,Six Weeks 1,2025-10-10,eighty,B\n");
    ASSERT_THAT(bad, ElementsAre("2:53: numeric_grade is not a number from 0 to 200"));
    EXPECT_THAT(bad[0], Not(HasSubstr("eighty")));
}

TEST_F(RecordParserTest, NumericGradeOutOfRangeDoesNotEchoTheValue) {
    const auto bad =
        bad_rows(RecordKind::grades,
                 grades_header + "S1,101,SEC-1,MATH7,Math 7,MA,Six Weeks 1,2025-10-10,250.5,B\n");
    ASSERT_THAT(bad, ElementsAre("2:53: numeric_grade is not a number from 0 to 200"));
    EXPECT_THAT(bad[0], Not(HasSubstr("250.5")));
}

TEST_F(RecordParserTest, BothGradesEmpty) {
    EXPECT_THAT(bad_rows(RecordKind::grades,
                         grades_header + "S1,101,SEC-1,MATH7,Math 7,MA,Six Weeks 1,2025-10-10,,\n"),
                ElementsAre("2:53: numeric_grade and letter_grade are both empty"));
}

TEST_F(RecordParserTest, GradeEmptyCourseCode) {
    EXPECT_THAT(bad_rows(RecordKind::grades,
                         grades_header + "S1,101,SEC-1,,Math 7,MA,Six Weeks 1,2025-10-10,90,A\n"),
                ElementsAre("2:14: course_code is empty"));
}

// --- incidents.csv ---

TEST_F(RecordParserTest, IncidentEveryField) {
    const auto rows = parse_all<store::Incident>(
        RecordKind::incidents, incidents_header + "I1,S1,101,2025-10-01,FI,ISS,2\n"
                                                  "I1,S2,101,2025-10-01,Other,,\n"
                                                  "I2,S3,102,2025-10-02,school violation,Lunch "
                                                  "detention,0.5\n");
    ASSERT_EQ(rows.size(), 3U);
    EXPECT_EQ(rows[0].incident_id, "I1");
    EXPECT_EQ(rows[0].student_id, "S1");
    EXPECT_EQ(rows[0].school_id, "101");
    EXPECT_EQ(rows[0].date, "2025-10-01");
    EXPECT_EQ(rows[0].behavior, "School Code of Conduct");
    EXPECT_EQ(rows[0].action, "In School Suspension");
    EXPECT_DOUBLE_EQ(rows[0].action_days, 2.0);

    EXPECT_EQ(rows[1].student_id, "S2");
    EXPECT_EQ(rows[1].behavior, "Other");
    EXPECT_EQ(rows[1].action, "");
    EXPECT_DOUBLE_EQ(rows[1].action_days, 0.0);

    EXPECT_EQ(rows[2].incident_id, "I2");
    EXPECT_EQ(rows[2].behavior, "School Violation");
    EXPECT_EQ(rows[2].action, "Lunch detention"); // an unknown action is kept as written
    EXPECT_DOUBLE_EQ(rows[2].action_days, 0.5);
}

TEST_F(RecordParserTest, IncidentWithoutActionColumns) {
    const auto rows = parse_all<store::Incident>(
        RecordKind::incidents,
        "incident_id,student_id,school_id,date,behavior\nI1,S1,101,2025-10-01,State Offense\n");
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_EQ(rows[0].behavior, "State Offense");
    EXPECT_EQ(rows[0].action, "");
    EXPECT_DOUBLE_EQ(rows[0].action_days, 0.0);
}

TEST_F(RecordParserTest, ActionDaysWithoutAction) {
    EXPECT_THAT(bad_rows(RecordKind::incidents, incidents_header + "I1,S1,101,2025-10-01,FI,,3\n"),
                ElementsAre("2:26: action_days is set but action is empty"));
}

TEST_F(RecordParserTest, ZeroActionDaysWithoutActionIsFine) {
    const auto rows = parse_all<store::Incident>(RecordKind::incidents,
                                                 incidents_header + "I1,S1,101,2025-10-01,FI,,0\n");
    ASSERT_EQ(rows.size(), 1U);
    EXPECT_DOUBLE_EQ(rows[0].action_days, 0.0);
}

TEST_F(RecordParserTest, ActionDaysOutOfRange) {
    EXPECT_THAT(
        bad_rows(RecordKind::incidents, incidents_header + "I1,S1,101,2025-10-01,FI,ISS,367\n"),
        ElementsAre("2:29: action_days '367' is not a number from 0 to 366"));
}

TEST_F(RecordParserTest, IncidentUnknownBehavior) {
    EXPECT_THAT(
        bad_rows(RecordKind::incidents, incidents_header + "I1,S1,101,2025-10-01,Fighting,,\n"),
        ElementsAre("2:22: unknown behavior 'Fighting' (expected an Ed-Fi "
                    "BehaviorDescriptor code value or URI, or a local code listed in the "
                    "feed's behavior_map)"));
}

TEST_F(RecordParserTest, ReusedRecordDoesNotKeepAnEarlierAction) {
    CsvReader reader(CsvReader::from_string(incidents_header + "I1,S1,101,2025-10-01,FI,ISS,2\n"
                                                               "I2,S1,101,2025-10-02,FI,,\n"));
    RecordParser parser(RecordKind::incidents, feed);
    ASSERT_EQ(reader.next(), CsvReader::Status::record);
    ASSERT_EQ(parser.read_header(reader.fields()), std::nullopt);
    Record record;
    ASSERT_EQ(reader.next(), CsvReader::Status::record);
    ASSERT_FALSE(parser.parse(reader.fields(), record).has_value());
    ASSERT_EQ(reader.next(), CsvReader::Status::record);
    ASSERT_FALSE(parser.parse(reader.fields(), record).has_value());
    const auto& incident = std::get<store::Incident>(record);
    EXPECT_EQ(incident.incident_id, "I2");
    EXPECT_EQ(incident.action, "");
    EXPECT_DOUBLE_EQ(incident.action_days, 0.0);
}

// --- calendar.csv ---

TEST_F(RecordParserTest, CalendarEveryField) {
    const auto rows = parse_all<store::CalendarDay>(RecordKind::calendar,
                                                    calendar_header + "101,2025-09-01,false\n"
                                                                      "101,2025-09-02,TRUE\n"
                                                                      "102,2025-09-03,1\n"
                                                                      "102,2025-09-04,no\n"
                                                                      "102,2025-09-05, Y \n");
    ASSERT_EQ(rows.size(), 5U);
    EXPECT_EQ(rows[0].school_id, "101");
    EXPECT_EQ(rows[0].date, "2025-09-01");
    EXPECT_FALSE(rows[0].instructional);
    EXPECT_TRUE(rows[1].instructional);
    EXPECT_EQ(rows[2].school_id, "102");
    EXPECT_TRUE(rows[2].instructional);
    EXPECT_FALSE(rows[3].instructional);
    EXPECT_TRUE(rows[4].instructional);
}

TEST_F(RecordParserTest, CalendarBadInstructional) {
    EXPECT_THAT(
        bad_rows(RecordKind::calendar, calendar_header + "101,2025-09-01,maybe\n101,2025-09-02,\n"),
        ElementsAre("2:16: instructional 'maybe' is not true or false",
                    "3:16: instructional '' is not true or false"));
}

TEST_F(RecordParserTest, CalendarBadDate) {
    EXPECT_THAT(bad_rows(RecordKind::calendar, calendar_header + "101,2025-9-1,true\n"),
                ElementsAre("2:5: date '2025-9-1' is not a date as YYYY-MM-DD"));
}

} // namespace
} // namespace ewsd::connectors::csv
