// The Ed-Fi connector's logic without the network: how API records (Data
// Standard 4 and 5) are reduced and filtered, and how the store's rows are
// derived from the staged records, scope by scope, in a real SQLite file.
#include "connectors/edfi/derive.hpp"
#include "connectors/edfi/resources.hpp"
#include "store/database.hpp"
#include "store/edfi_staging.hpp"
#include "tests/support/temp_dir.hpp"

#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace ewsd {
namespace {

using connectors::edfi::Extracted;
using connectors::edfi::Filter;
using connectors::edfi::Resource;
using nlohmann::json;

const Resource& resource(const std::string& name) {
    for (const auto& r : connectors::edfi::resources()) {
        if (r.name == name) {
            return r;
        }
    }
    throw std::invalid_argument(name);
}

Filter ds(int standard) {
    Filter f;
    f.school_year = 2022;
    f.data_standard = standard;
    f.grade_types = {"grading period"};
    return f;
}

const json grade_ds5 = json::parse(R"({
  "id": "g1", "gradeTypeDescriptor": "uri://ed-fi.org/GradeTypeDescriptor#Grading Period",
  "gradingPeriodReference": {"gradingPeriodDescriptor": "uri://ed-fi.org/GradingPeriodDescriptor#First Six Weeks",
    "gradingPeriodName": "Fall 1", "schoolId": 255901001, "schoolYear": 2022},
  "studentSectionAssociationReference": {"beginDate": "2021-08-23", "localCourseCode": "ALG-1",
    "schoolId": 255901001, "schoolYear": 2022, "sectionIdentifier": "S-ALG-1",
    "sessionName": "2021-2022 Fall Semester", "studentUniqueId": "604822"},
  "numericGradeEarned": 58, "letterGradeEarned": "F"})");

TEST(EdfiExtract, GradeOfDataStandard5IsReadByStudentWithItsReferenceKeys) {
    const Extracted e = connectors::edfi::extract(resource("grades"), grade_ds5, ds(5));
    ASSERT_EQ(e.status, Extracted::Status::staged) << e.problem;
    EXPECT_EQ(e.record.id, "g1");
    EXPECT_EQ(e.record.lookup, "604822");
    const json body = json::parse(e.record.body);
    EXPECT_EQ(body["offering"], "ALG-1|255901001|2022|2021-2022 Fall Semester");
    EXPECT_EQ(body["period"], "first six weeks|Fall 1|255901001|2022");
    EXPECT_EQ(body["numeric"], 58);
    EXPECT_EQ(body["letter"], "F");
}

TEST(EdfiExtract, DataStandard4KeysGradingPeriodsBySequenceAndCoursesCarryOneSubject) {
    json grade = grade_ds5;
    grade["gradingPeriodReference"].erase("gradingPeriodName");
    grade["gradingPeriodReference"]["periodSequence"] = 1;
    const Extracted g = connectors::edfi::extract(resource("grades"), grade, ds(4));
    ASSERT_EQ(g.status, Extracted::Status::staged) << g.problem;
    EXPECT_EQ(json::parse(g.record.body)["period"], "first six weeks|1|255901001|2022");
    // The same record read as Data Standard 5 lacks its gradingPeriodName.
    const Extracted wrong = connectors::edfi::extract(resource("grades"), grade, ds(5));
    EXPECT_EQ(wrong.status, Extracted::Status::bad);
    EXPECT_EQ(wrong.problem, "gradingPeriodReference.gradingPeriodName is missing");

    const json period = json::parse(R"({"id": "p1",
      "gradingPeriodDescriptor": "uri://ed-fi.org/GradingPeriodDescriptor#First Six Weeks",
      "periodSequence": 1, "schoolReference": {"schoolId": 255901001},
      "schoolYearTypeReference": {"schoolYear": 2022}, "beginDate": "2021-08-23",
      "endDate": "2021-10-03", "totalInstructionalDays": 29})");
    const Extracted p = connectors::edfi::extract(resource("gradingPeriods"), period, ds(4));
    ASSERT_EQ(p.status, Extracted::Status::staged) << p.problem;
    EXPECT_EQ(p.record.lookup, "first six weeks|1|255901001|2022");
    EXPECT_EQ(json::parse(p.record.body)["name"], "First Six Weeks");

    const json course4 = json::parse(R"({"id": "c1", "courseCode": "ALG-1",
      "educationOrganizationReference": {"educationOrganizationId": 255901},
      "courseTitle": "Algebra I", "numberOfParts": 1, "identificationCodes": [],
      "academicSubjectDescriptor": "uri://ed-fi.org/AcademicSubjectDescriptor#Mathematics"})");
    json course5 = course4;
    course5.erase("academicSubjectDescriptor");
    course5["academicSubjects"] = json::parse(
        R"([{"academicSubjectDescriptor": "uri://ed-fi.org/AcademicSubjectDescriptor#Mathematics"}])");
    const auto subject = [](const json& c, int standard) {
        const auto e = connectors::edfi::extract(resource("courses"), c, ds(standard));
        return json::parse(e.record.body)["subject"].get<std::string>();
    };
    EXPECT_EQ(subject(course4, 4), "uri://ed-fi.org/AcademicSubjectDescriptor#Mathematics");
    EXPECT_EQ(subject(course5, 5), "uri://ed-fi.org/AcademicSubjectDescriptor#Mathematics");
    EXPECT_EQ(subject(course5, 4), "");
}

TEST(EdfiExtract, RecordsOutsideTheSchoolsTheYearOrTheGradeTypesAreFiltered) {
    Filter f = ds(5);
    EXPECT_EQ(connectors::edfi::extract(resource("grades"), grade_ds5, f).status,
              Extracted::Status::staged);
    f.schools = {"255901044"};
    EXPECT_EQ(connectors::edfi::extract(resource("grades"), grade_ds5, f).status,
              Extracted::Status::filtered);
    f = ds(5);
    f.school_year = 2023;
    EXPECT_EQ(connectors::edfi::extract(resource("grades"), grade_ds5, f).status,
              Extracted::Status::filtered);
    json exam = grade_ds5;
    exam["gradeTypeDescriptor"] = "uri://ed-fi.org/GradeTypeDescriptor#Exam";
    EXPECT_EQ(connectors::edfi::extract(resource("grades"), exam, ds(5)).status,
              Extracted::Status::filtered);
}

TEST(EdfiExtract, AMalformedRecordNamesTheField) {
    const json event = json::parse(R"({"id": "e1",
      "attendanceEventCategoryDescriptor": "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy",
      "eventDate": "2021-13-01", "schoolReference": {"schoolId": 255901001},
      "sessionReference": {"schoolId": 255901001, "schoolYear": 2022, "sessionName": "Fall"},
      "studentReference": {"studentUniqueId": "604822"}})");
    const auto e =
        connectors::edfi::extract(resource("studentSchoolAttendanceEvents"), event, ds(5));
    EXPECT_EQ(e.status, Extracted::Status::bad);
    EXPECT_EQ(e.problem, "eventDate '2021-13-01' is not a date as YYYY-MM-DD");
    json no_student = event;
    no_student["eventDate"] = "2021-09-01";
    no_student.erase("studentReference");
    EXPECT_EQ(
        connectors::edfi::extract(resource("studentSchoolAttendanceEvents"), no_student, ds(5))
            .problem,
        "studentReference.studentUniqueId is missing");
}

// Staged records in a real store, derived as the feed does after a sync.
class EdfiDeriveTest : public ::testing::Test {
protected:
    EdfiDeriveTest() : db(dir / "ewsd.db") {
        feed.name = "ods";
        feed.type = "edfi";
        feed.edfi.school_year = 2022;
        feed.category_map.add("ABS", "Unexcused Absence");
    }

    void stage(const std::string& name, const json& item) {
        const Resource& r = resource(name);
        const Extracted e = connectors::edfi::extract(r, item, ds(5));
        ASSERT_EQ(e.status, Extracted::Status::staged) << e.problem;
        store::StagingBatch batch(db, "ods");
        std::optional<store::StagedRecord> before;
        batch.put(name, e.record, 0, before);
        batch.mark_pending(connectors::edfi::pending_for(r, e.record));
        if (before) {
            batch.mark_pending(connectors::edfi::pending_for(r, *before));
        }
        batch.commit();
    }

    void unstage(const std::string& name, const std::string& id) {
        store::StagingBatch batch(db, "ods");
        if (auto old = batch.remove(name, id)) {
            batch.mark_pending(connectors::edfi::pending_for(resource(name), *old));
        }
        batch.commit();
    }

    std::vector<connectors::LoadReport> derive() {
        return connectors::edfi::derive_pending(db, feed, {});
    }

    std::string rows(const std::string& sql) {
        SQLite::Statement q(db.sql(), sql);
        std::string out;
        while (q.executeStep()) {
            for (int i = 0; i < q.getColumnCount(); ++i) {
                out += (i ? "," : "") + q.getColumn(i).getString();
            }
            out += ";";
        }
        return out;
    }

    void stage_course_catalog() {
        stage("courses", json::parse(R"({"id": "c1", "courseCode": "ALG-1",
          "educationOrganizationReference": {"educationOrganizationId": 255901},
          "courseTitle": "Algebra I", "numberOfParts": 1, "identificationCodes": [],
          "academicSubjects": [{"academicSubjectDescriptor": "uri://ed-fi.org/AcademicSubjectDescriptor#Mathematics"}]})"));
        stage("courseOfferings", json::parse(R"({"id": "o1", "localCourseCode": "ALG-1",
          "courseReference": {"courseCode": "ALG-1", "educationOrganizationId": 255901},
          "schoolReference": {"schoolId": 255901001},
          "sessionReference": {"schoolId": 255901001, "schoolYear": 2022, "sessionName": "2021-2022 Fall Semester"}})"));
        stage("gradingPeriods", json::parse(R"({"id": "p1",
          "gradingPeriodDescriptor": "uri://ed-fi.org/GradingPeriodDescriptor#First Six Weeks",
          "gradingPeriodName": "Fall 1", "schoolReference": {"schoolId": 255901001},
          "schoolYearTypeReference": {"schoolYear": 2022}, "beginDate": "2021-08-23",
          "endDate": "2021-10-03", "totalInstructionalDays": 29})"));
    }

    testing::TempDir dir;
    store::Database db;
    core::FeedConfig feed;
};

TEST_F(EdfiDeriveTest, AGradeJoinsItsCourseOfferingCourseAndGradingPeriod) {
    stage_course_catalog();
    stage("grades", grade_ds5);
    const auto reports = derive();
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].source, "store.grades");
    EXPECT_EQ(reports[0].counts.inserted, 1);
    EXPECT_EQ(rows("SELECT student_id, school_id, section_id, course_code, course_title, subject, "
                   "grading_period, date, numeric_grade, letter_grade FROM grades"),
              "604822,255901001,S-ALG-1,ALG-1,Algebra I,Mathematics,Fall 1,2021-10-03,58.0,F;");
    EXPECT_EQ(rows("SELECT * FROM edfi_pending"), "");
    EXPECT_EQ(rows("SELECT student_id FROM dirty_students"), "604822;");

    // A course's subject changing derives every grade again.
    stage("courses", json::parse(R"({"id": "c1", "courseCode": "ALG-1",
      "educationOrganizationReference": {"educationOrganizationId": 255901},
      "courseTitle": "Algebra I", "numberOfParts": 1, "identificationCodes": [],
      "academicSubjects": [{"academicSubjectDescriptor": "uri://ed-fi.org/AcademicSubjectDescriptor#Science"}]})"));
    EXPECT_EQ(rows("SELECT kind, scope FROM edfi_pending"), "grades,*;");
    const auto again = derive();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].counts.updated, 1);
    EXPECT_EQ(rows("SELECT subject FROM grades"), "Science;");
}

TEST_F(EdfiDeriveTest, AGradeWhoseCourseOfferingIsMissingIsQuarantinedWithItsId) {
    stage("grades", grade_ds5);
    const auto reports = derive();
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].counts.quarantined, 1);
    EXPECT_EQ(rows("SELECT reason FROM quarantine"),
              "grades g1: its course offering (ALG-1|255901001|2022|2021-2022 Fall Semester) was "
              "not found;");
    EXPECT_EQ(rows("SELECT count(*) FROM grades"), "0;");
}

TEST_F(EdfiDeriveTest, AStudentsRowsAreDerivedAgainWholeSoADeletedRecordRemovesItsRow) {
    const auto ssa = [](const std::string& id, const std::string& school, const std::string& entry,
                        const std::string& exit) {
        json j = json::parse(
            R"({"entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade",
          "studentReference": {"studentUniqueId": "604822"}})");
        j["id"] = id;
        j["schoolReference"]["schoolId"] = std::stoi(school);
        j["entryDate"] = entry;
        if (!exit.empty()) {
            j["exitWithdrawDate"] = exit;
        }
        return j;
    };
    stage("students", json::parse(R"({"id": "s1", "studentUniqueId": "604822", "firstName": "Ana",
      "lastSurname": "Diaz", "birthDate": "2007-01-02"})"));
    stage("studentSchoolAssociations", ssa("a1", "255901001", "2021-08-23", "2021-11-05"));
    stage("studentSchoolAssociations", ssa("a2", "255901044", "2021-11-08", ""));
    stage("studentSchoolAttendanceEvents", json::parse(R"({"id": "e1",
      "attendanceEventCategoryDescriptor": "uri://district.example/AttendanceEventCategoryDescriptor#ABS",
      "eventDate": "2021-09-01", "schoolReference": {"schoolId": 255901001},
      "sessionReference": {"schoolId": 255901001, "schoolYear": 2022, "sessionName": "Fall"},
      "studentReference": {"studentUniqueId": "604822"}})"));
    derive();
    EXPECT_EQ(rows("SELECT student_id, school_id, entry_date, exit_date, grade_level FROM "
                   "enrollments ORDER BY entry_date"),
              "604822,255901001,2021-08-23,2021-11-05,9;604822,255901044,2021-11-08,,9;");
    EXPECT_EQ(rows("SELECT first_name, last_name FROM students"), "Ana,Diaz;");
    // A local descriptor maps through the feed's category_map, as in CSV.
    EXPECT_EQ(rows("SELECT date, category, duration FROM attendance"),
              "2021-09-01,Unexcused Absence,1.0;");

    unstage("studentSchoolAssociations", "a1");
    const auto reports = derive();
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].counts.removed, 1);
    EXPECT_EQ(rows("SELECT school_id FROM enrollments"), "255901044;");
    unstage("studentSchoolAssociations", "a2");
    derive();
    EXPECT_EQ(rows("SELECT count(*) FROM enrollments"), "0;");
    EXPECT_EQ(rows("SELECT count(*) FROM students"), "0;");
}

TEST_F(EdfiDeriveTest, AnIncidentTakesTheGravestBehaviorAndTheLongestAction) {
    stage("disciplineIncidents", json::parse(R"({"id": "i1", "incidentIdentifier": "17",
      "schoolReference": {"schoolId": 255901001}, "incidentDate": "2021-10-12"})"));
    const auto sdiba = [](const std::string& id, const std::string& behavior) {
        json j = json::parse(
            R"({"disciplineIncidentReference": {"incidentIdentifier": "17", "schoolId": 255901001},
          "studentReference": {"studentUniqueId": "604822"}})");
        j["id"] = id;
        j["behaviorDescriptor"] = "uri://ed-fi.org/BehaviorDescriptor#" + behavior;
        return j;
    };
    stage("studentDisciplineIncidentBehaviorAssociations", sdiba("b1", "School Violation"));
    stage("studentDisciplineIncidentBehaviorAssociations", sdiba("b2", "State Offense"));
    const auto action = [](const std::string& id, const std::string& what, int days) {
        json j = json::parse(R"({"disciplineDate": "2021-10-13",
          "responsibilitySchoolReference": {"schoolId": 255901001},
          "studentReference": {"studentUniqueId": "604822"},
          "studentDisciplineIncidentBehaviorAssociations": [{"studentDisciplineIncidentBehaviorAssociationReference":
            {"behaviorDescriptor": "uri://ed-fi.org/BehaviorDescriptor#State Offense", "incidentIdentifier": "17",
             "schoolId": 255901001, "studentUniqueId": "604822"}}]})");
        j["id"] = id;
        j["disciplineActionIdentifier"] = id;
        j["disciplines"] = json::array(
            {{{"disciplineDescriptor", "uri://ed-fi.org/DisciplineDescriptor#" + what}}});
        j["actualDisciplineActionLength"] = days;
        return j;
    };
    stage("disciplineActions", action("A1", "In School Suspension", 1));
    stage("disciplineActions", action("A2", "Out of School Suspension", 3));
    derive();
    EXPECT_EQ(rows("SELECT incident_id, student_id, school_id, date, behavior, action, action_days "
                   "FROM incidents"),
              "17,604822,255901001,2021-10-12,State Offense,Out of School Suspension,3.0;");
}

TEST_F(EdfiDeriveTest, AnyCalendarOfASchoolMarkingADayInstructionalMakesItOne) {
    const auto day = [](const std::string& id, const std::string& calendar, const std::string& date,
                        const std::string& event) {
        json j;
        j["id"] = id;
        j["date"] = date;
        j["calendarReference"] = {
            {"calendarCode", calendar}, {"schoolId", 255901001}, {"schoolYear", 2022}};
        j["calendarEvents"] = json::array(
            {{{"calendarEventDescriptor", "uri://ed-fi.org/CalendarEventDescriptor#" + event}}});
        return j;
    };
    stage("calendarDates", day("d1", "A", "2021-09-06", "Holiday"));
    stage("calendarDates", day("d2", "A", "2021-09-07", "Instructional day"));
    stage("calendarDates", day("d3", "B", "2021-09-06", "Make-up day"));
    stage("calendarDates", day("d4", "B", "2021-09-08", "Teacher only day"));
    derive();
    EXPECT_EQ(rows("SELECT school_id, date, instructional FROM calendar ORDER BY date"),
              "255901001,2021-09-06,1;255901001,2021-09-07,1;255901001,2021-09-08,0;");
}

} // namespace
} // namespace ewsd
