// The CSV feed writing into a real SQLite file: idempotence, snapshot and
// delta semantics, corrections, quarantine, rejection and pickup rules.
#include "connectors/csv/csv_feed.hpp"
#include "store/database.hpp"
#include "store/queries.hpp"
#include "store/student_data.hpp"
#include "tests/support/temp_dir.hpp"
#include "util/date.hpp"

#include <SQLiteCpp/Statement.h>
#include <atomic>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>

namespace ewsd {
namespace {

using connectors::LoadReport;
using testing::TempDir;
using testing::write_file;

const std::string students_csv =
    "student_id,school_id,grade_level,first_name,last_name,entry_date,exit_date,iep\n"
    "S1,101,7,Ana,Garcia,2025-08-18,,true\n"
    "S2,101,8,Bo,Li,2025-08-18,2025-10-31,false\n"
    "S2,102,8,Bo,Li,2025-11-03,,false\n";

const std::string attendance_csv = "student_id,school_id,date,category,duration\n"
                                   "S1,101,2025-09-02,A,\n"
                                   "S1,101,2025-09-03,EX,0.5\n"
                                   "S2,101,2025-09-03,T,\n";

class IngestTest : public ::testing::Test {
protected:
    IngestTest() : db(dir / "state/ewsd.db") {}

    core::FeedConfig feed_config(const std::string& name = "sis",
                                 core::FeedMode mode = core::FeedMode::snapshot) {
        core::FeedConfig c;
        c.name = name;
        c.type = "csv";
        c.path = dir / ("feeds-" + name);
        c.mode = mode;
        c.settle_time = std::chrono::seconds(0);
        c.category_map.add("A", "Unexcused Absence");
        c.category_map.add("EX", "Excused Absence");
        c.category_map.add("T", "Tardy");
        return c;
    }

    void drop(const core::FeedConfig& feed, const std::string& file, const std::string& content) {
        write_file(feed.path / file, content);
    }

    std::vector<LoadReport> poll(const core::FeedConfig& feed, bool force = false) {
        connectors::csv::CsvFeed csv(feed);
        return csv.poll(db, {force});
    }

    LoadReport report_for(const std::vector<LoadReport>& reports, const std::string& file) {
        for (const auto& r : reports) {
            if (r.source == file) {
                return r;
            }
        }
        throw std::runtime_error("no report for " + file);
    }

    std::int64_t count(const std::string& sql) { return db.sql().execAndGet(sql).getInt64(); }

    // Every data row, for before/after comparisons.
    std::string dump() {
        std::string out;
        for (const char* table :
             {"students", "enrollments", "attendance", "grades", "incidents", "calendar"}) {
            SQLite::Statement q(db.sql(),
                                std::string("SELECT * FROM ") + table + " ORDER BY 1, 2, 3");
            while (q.executeStep()) {
                out += table;
                for (int i = 0; i < q.getColumnCount(); ++i) {
                    // seen_load is the one column a reload of identical rows moves.
                    if (std::string(q.getColumnName(i)) != "seen_load") {
                        out += "|" + q.getColumn(i).getString();
                    }
                }
                out += "\n";
            }
        }
        return out;
    }

    TempDir dir;
    store::Database db;
};

TEST_F(IngestTest, LoadsEveryKindWithCounts) {
    const auto feed = feed_config();
    drop(feed, "students.csv", students_csv);
    drop(feed, "attendance.csv", attendance_csv);
    drop(feed, "grades.csv",
         "student_id,school_id,section_id,course_code,course_title,subject,grading_period,date,"
         "numeric_grade,letter_grade\n"
         "S1,101,101-M7-1,MATH-07,Mathematics 7,Mathematics,Six Weeks 1,2025-09-26,58.5,F\n"
         "S1,101,101-E7-1,ENG-07,English 7,English Language and Literature,Six Weeks 1,"
         "2025-09-26,,B\n");
    drop(feed, "incidents.csv",
         "incident_id,student_id,school_id,date,behavior,action,action_days\n"
         "I1,S1,101,2025-10-01,School Code of Conduct,In School Suspension,2\n"
         "I1,S2,101,2025-10-01,School Code of Conduct,,\n");
    drop(feed, "calendar.csv",
         "school_id,date,instructional\n101,2025-09-01,false\n101,2025-09-02,true\n");

    const auto reports = poll(feed);
    ASSERT_EQ(reports.size(), 5U);
    // Calendar and students come first, so enrollments exist before events.
    EXPECT_EQ(reports[0].source, "calendar.csv");
    EXPECT_EQ(reports[1].source, "students.csv");
    for (const auto& r : reports) {
        EXPECT_EQ(r.status, LoadReport::Status::loaded) << r.source << ": " << r.message;
        EXPECT_EQ(r.counts.read, r.counts.inserted) << r.source;
        EXPECT_EQ(r.counts.quarantined, 0) << r.source;
    }
    EXPECT_EQ(report_for(reports, "students.csv").counts.inserted, 3);
    EXPECT_EQ(count("SELECT count(*) FROM students"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM enrollments WHERE student_id = 'S2'"), 2);
    EXPECT_EQ(
        db.sql().execAndGet("SELECT attributes FROM students WHERE student_id = 'S1'").getString(),
        R"({"iep":"true"})");
    EXPECT_EQ(db.sql()
                  .execAndGet("SELECT category || ':' || duration FROM attendance "
                              "WHERE student_id = 'S1' AND date = '2025-09-03'")
                  .getString(),
              "Excused Absence:0.5");
    EXPECT_EQ(
        count("SELECT count(*) FROM grades WHERE numeric_grade IS NULL AND letter_grade = 'B'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM incidents WHERE action IS NULL AND student_id = 'S2'"),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM calendar WHERE instructional = 1"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM dirty_students"), 2);
}

// The calendar is not per student, but a changed one changes every enrolled
// day count of its school: its students are re-evaluated.
TEST_F(IngestTest, ACalendarChangeMarksTheSchoolsStudentsChanged) {
    const auto feed = feed_config();
    drop(feed, "students.csv", students_csv);
    drop(feed, "calendar.csv", "school_id,date,instructional\n101,2025-09-01,true\n");
    poll(feed);
    db.sql().exec("DELETE FROM dirty_students");
    drop(feed, "calendar.csv", "school_id,date,instructional\n101,2025-09-01,true\n");
    poll(feed); // identical: nothing changed
    EXPECT_EQ(count("SELECT count(*) FROM dirty_students"), 0);
    drop(feed, "calendar.csv", "school_id,date,instructional\n101,2025-09-01,false\n");
    poll(feed);
    EXPECT_EQ(count("SELECT count(*) FROM dirty_students"),
              count("SELECT count(DISTINCT student_id) FROM enrollments WHERE school_id = '101'"));
    EXPECT_GT(count("SELECT count(*) FROM dirty_students"), 0);
    // A calendar day removed by a snapshot counts as a change too.
    db.sql().exec("DELETE FROM dirty_students");
    drop(feed, "calendar.csv", "school_id,date,instructional\n101,2025-09-02,true\n");
    poll(feed);
    EXPECT_GT(count("SELECT count(*) FROM dirty_students"), 0);
}

TEST_F(IngestTest, LoadingTheSameFilesAgainChangesNothing) {
    const auto feed = feed_config();
    drop(feed, "students.csv", students_csv);
    drop(feed, "attendance.csv", attendance_csv);
    poll(feed);
    const std::string before = dump();

    // The content hash makes an identical file a no-op...
    for (const auto& r : poll(feed)) {
        EXPECT_EQ(r.status, LoadReport::Status::unchanged) << r.source;
    }
    // ...and even forced through, every row is unchanged.
    const auto forced = poll(feed, true);
    const auto attendance = report_for(forced, "attendance.csv");
    EXPECT_EQ(attendance.status, LoadReport::Status::loaded);
    EXPECT_EQ(attendance.counts.read, 3);
    EXPECT_EQ(attendance.counts.unchanged, 3);
    EXPECT_EQ(attendance.counts.inserted + attendance.counts.updated + attendance.counts.removed,
              0);
    EXPECT_EQ(report_for(forced, "students.csv").counts.unchanged, 3);

    // No data row changed, not even its change sequence number.
    EXPECT_EQ(dump(), before);
}

// What keeps a feed fresh for the stale-data guard: a file written since the
// feed last saw it, even with the same content (the nightly export ran).
TEST_F(IngestTest, NewInputIsAFileWrittenSinceTheFeedLastSawIt) {
    const auto feed = feed_config();
    drop(feed, "attendance.csv", attendance_csv);
    connectors::csv::CsvFeed csv(feed);
    const auto first = report_for(csv.poll(db, {}), "attendance.csv");
    EXPECT_EQ(first.status, LoadReport::Status::loaded);
    EXPECT_TRUE(first.new_input);

    const auto untouched = report_for(csv.poll(db, {}), "attendance.csv");
    EXPECT_EQ(untouched.status, LoadReport::Status::unchanged);
    EXPECT_EQ(untouched.message, "not modified since the last load; skipped");
    EXPECT_FALSE(untouched.new_input);

    // The same content exported again: no data change, but new input, once.
    const auto path = feed.path / "attendance.csv";
    std::filesystem::last_write_time(path, std::filesystem::last_write_time(path) +
                                               std::chrono::seconds(60));
    const auto again = report_for(csv.poll(db, {}), "attendance.csv");
    EXPECT_EQ(again.status, LoadReport::Status::unchanged);
    EXPECT_EQ(again.message, "identical to the last load; skipped");
    EXPECT_TRUE(again.new_input);
    EXPECT_FALSE(report_for(csv.poll(db, {}), "attendance.csv").new_input);

    // A new process sees the file as the store last loaded it.
    connectors::csv::CsvFeed restarted(feed);
    EXPECT_TRUE(report_for(restarted.poll(db, {}), "attendance.csv").new_input);
    EXPECT_FALSE(report_for(restarted.poll(db, {}), "attendance.csv").new_input);
}

TEST_F(IngestTest, AStopRequestRollsBackTheFileBeingLoaded) {
    const auto feed = feed_config();
    std::string big = "student_id,school_id,date,category,duration\n";
    for (int i = 0; i < 10000; ++i) {
        big += "S1,101,2025-09-02,A,\n";
    }
    drop(feed, "attendance.csv", big);
    const std::string before = dump();
    std::atomic<bool> stop{true};
    connectors::csv::CsvFeed csv(feed);
    connectors::PollOptions options;
    options.stop = &stop;
    const auto stopped = report_for(csv.poll(db, options), "attendance.csv");
    EXPECT_EQ(stopped.status, LoadReport::Status::waiting);
    EXPECT_EQ(dump(), before);
    stop = false;
    EXPECT_EQ(report_for(csv.poll(db, options), "attendance.csv").status,
              LoadReport::Status::loaded);
}

TEST_F(IngestTest, SnapshotRemovesRowsAbsentFromTheNewerFile) {
    const auto feed = feed_config();
    drop(feed, "attendance.csv", attendance_csv);
    poll(feed);
    // The SIS corrected an absence away.
    drop(feed, "attendance.csv",
         "student_id,school_id,date,category,duration\nS1,101,2025-09-02,A,\nS2,101,2025-09-03,T,"
         "\n");
    const auto r = report_for(poll(feed), "attendance.csv");
    EXPECT_EQ(r.counts.removed, 1);
    EXPECT_EQ(r.counts.unchanged, 2);
    EXPECT_EQ(
        count("SELECT count(*) FROM attendance WHERE date = '2025-09-03' AND student_id = 'S1'"),
        0);
    EXPECT_EQ(count("SELECT count(*) FROM attendance"), 2);
}

TEST_F(IngestTest, SnapshotRemovesStudentsNoLongerOnTheRoster) {
    const auto feed = feed_config();
    drop(feed, "students.csv", students_csv);
    poll(feed);
    drop(feed, "students.csv",
         "student_id,school_id,grade_level,first_name,last_name,entry_date,exit_date,iep\n"
         "S1,101,7,Ana,Garcia,2025-08-18,,true\n");
    const auto r = report_for(poll(feed), "students.csv");
    EXPECT_EQ(r.counts.removed, 2);
    EXPECT_EQ(count("SELECT count(*) FROM students"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM enrollments"), 1);
}

TEST_F(IngestTest, DeltaKeepsRowsAbsentFromTheNewerFile) {
    const auto feed = feed_config("sis", core::FeedMode::delta);
    drop(feed, "attendance.csv", attendance_csv);
    poll(feed);
    drop(feed, "attendance.csv",
         "student_id,school_id,date,category,duration\nS1,101,2025-09-10,A,\n");
    const auto r = report_for(poll(feed), "attendance.csv");
    EXPECT_EQ(r.counts.inserted, 1);
    EXPECT_EQ(r.counts.removed, 0);
    EXPECT_EQ(count("SELECT count(*) FROM attendance"), 4);
}

TEST_F(IngestTest, ALaterRowWithTheSameKeyIsACorrection) {
    const auto feed = feed_config("sis", core::FeedMode::delta);
    drop(feed, "attendance.csv", attendance_csv);
    poll(feed);
    drop(feed, "attendance.csv",
         "student_id,school_id,date,category,duration\nS1,101,2025-09-03,EX,1\n");
    const auto r = report_for(poll(feed), "attendance.csv");
    EXPECT_EQ(r.counts.updated, 1);
    EXPECT_EQ(r.counts.inserted, 0);
    EXPECT_DOUBLE_EQ(db.sql()
                         .execAndGet("SELECT duration FROM attendance WHERE student_id = 'S1' AND "
                                     "date = '2025-09-03'")
                         .getDouble(),
                     1.0);
    // Within one file, the later of two rows with the same key wins.
    drop(feed, "attendance.csv",
         "student_id,school_id,date,category,duration\n"
         "S1,101,2025-09-04,A,1\nS1,101,2025-09-04,A,0.5\n");
    const auto again = report_for(poll(feed), "attendance.csv");
    EXPECT_EQ(again.counts.inserted, 1);
    EXPECT_EQ(again.counts.updated, 1);
    EXPECT_DOUBLE_EQ(db.sql()
                         .execAndGet("SELECT duration FROM attendance WHERE student_id = 'S1' AND "
                                     "date = '2025-09-04'")
                         .getDouble(),
                     0.5);
}

TEST_F(IngestTest, SnapshotOfOneFeedLeavesAnotherFeedsRows) {
    const auto a = feed_config("school-a");
    const auto b = feed_config("school-b");
    drop(a, "attendance.csv", "student_id,school_id,date,category\nS1,101,2025-09-02,A\n");
    drop(b, "attendance.csv", "student_id,school_id,date,category\nS9,201,2025-09-02,A\n");
    poll(a);
    poll(b);
    drop(a, "attendance.csv", "student_id,school_id,date,category\nS1,101,2025-09-05,A\n");
    const auto r = report_for(poll(a), "attendance.csv");
    EXPECT_EQ(r.counts.removed, 1);
    EXPECT_EQ(count("SELECT count(*) FROM attendance WHERE student_id = 'S9'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM attendance WHERE student_id = 'S1'"), 1);
}

TEST_F(IngestTest, BadRowsAreQuarantinedAndTheRestLoaded) {
    const auto feed = feed_config();
    drop(feed, "attendance.csv",
         "student_id,school_id,date,category,duration\n"
         "S1,101,2025-09-02,A,\n"
         "S1,101,2025-02-30,A,\n"
         "S1,101,2025-09-04,Sick,\n"
         "S1,101,2025-09-05,A,2\n"
         "S1,101,\"2025-09-06,A,\n");
    const auto r = report_for(poll(feed), "attendance.csv");
    EXPECT_EQ(r.status, LoadReport::Status::loaded);
    EXPECT_EQ(r.counts.read, 5);
    EXPECT_EQ(r.counts.inserted, 1);
    EXPECT_EQ(r.counts.quarantined, 4);
    const auto rows = store::quarantined_rows(db, "", false);
    ASSERT_EQ(rows.size(), 4U);
    EXPECT_EQ(rows[0].line, 3);
    EXPECT_EQ(rows[0].column, 8);
    EXPECT_EQ(rows[0].reason, "date '2025-02-30' is not a date as YYYY-MM-DD");
    EXPECT_EQ(rows[1].line, 4);
    EXPECT_EQ(rows[1].column, 19);
    EXPECT_NE(rows[1].reason.find("unknown category 'Sick'"), std::string::npos);
    EXPECT_EQ(rows[2].line, 5);
    EXPECT_EQ(rows[2].column, 21);
    EXPECT_EQ(rows[2].reason, "duration '2' is not a number from 0 to 1");
    EXPECT_EQ(rows[3].line, 6);
    EXPECT_EQ(rows[3].column, 8);
    EXPECT_NE(rows[3].reason.find("unterminated quoted field"), std::string::npos);
}

TEST_F(IngestTest, AFileMissingARequiredColumnIsRejectedAndTheStoreUnchanged) {
    const auto feed = feed_config();
    drop(feed, "attendance.csv", attendance_csv);
    poll(feed);
    const std::string before = dump();
    drop(feed, "attendance.csv", "student_id,school_id,day,category\nS1,101,2025-09-02,A\n");
    const auto r = report_for(poll(feed), "attendance.csv");
    EXPECT_EQ(r.status, LoadReport::Status::rejected);
    EXPECT_EQ(r.message,
              "missing required column date (the header has: student_id, school_id, day, "
              "category); the store is unchanged");
    EXPECT_EQ(dump(), before);
    const auto loads = store::latest_loads(db);
    ASSERT_EQ(loads.size(), 1U);
    EXPECT_EQ(loads[0].status, "rejected");
    // The same bad file dropped again is not parsed again.
    EXPECT_EQ(report_for(poll(feed), "attendance.csv").status, LoadReport::Status::unchanged);
}

TEST_F(IngestTest, ABinaryFileIsRejectedEvenAfterGoodRows) {
    const auto feed = feed_config();
    drop(feed, "attendance.csv", attendance_csv);
    poll(feed);
    const std::string before = dump();
    std::string content = "student_id,school_id,date,category\n";
    for (int i = 0; i < 1000; ++i) {
        content += "S5,101,2025-09-02,A\n";
    }
    content += std::string("\x00\x01\x02garbage", 10);
    drop(feed, "attendance.csv", content);
    const auto r = report_for(poll(feed), "attendance.csv");
    EXPECT_EQ(r.status, LoadReport::Status::rejected);
    EXPECT_NE(r.message.find("not a CSV file"), std::string::npos);
    EXPECT_EQ(dump(), before);
}

TEST_F(IngestTest, AnEmptyFileIsRejected) {
    const auto feed = feed_config();
    drop(feed, "calendar.csv", "");
    const auto r = report_for(poll(feed), "calendar.csv");
    EXPECT_EQ(r.status, LoadReport::Status::rejected);
    EXPECT_NE(r.message.find("a header row is required"), std::string::npos);
}

TEST_F(IngestTest, AFileModifiedMomentsAgoWaits) {
    auto feed = feed_config();
    feed.settle_time = std::chrono::seconds(30);
    std::filesystem::create_directories(feed.path);
    std::ofstream(feed.path / "attendance.csv") << attendance_csv;
    const auto r = report_for(poll(feed), "attendance.csv");
    EXPECT_EQ(r.status, LoadReport::Status::waiting);
    EXPECT_EQ(count("SELECT count(*) FROM attendance"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM file_loads"), 0);
}

TEST_F(IngestTest, AMissingFeedFolderFails) {
    const auto feed = feed_config("nowhere");
    const auto reports = poll(feed);
    ASSERT_EQ(reports.size(), 1U);
    EXPECT_EQ(reports[0].status, LoadReport::Status::failed);
    EXPECT_NE(reports[0].message.find("does not exist"), std::string::npos);
}

// The parallel scan visits exactly the students of the sequential one, in
// the same order, however the roster is cut into ranges and threads.
TEST_F(IngestTest, ParallelScanMatchesTheSequentialOne) {
    std::string roster =
        "student_id,school_id,grade_level,first_name,last_name,entry_date,exit_date\n";
    std::string attendance = "student_id,school_id,date,category\n";
    for (int i = 0; i < 5000; ++i) {
        const std::string id = "S" + std::to_string(i);
        roster += id + ",101,7,A,B,2025-08-18,\n";
        if (i % 3 == 0) {
            attendance += id + ",101,2025-09-0" + std::to_string(1 + i % 5) + ",A\n";
        }
    }
    const auto feed = feed_config();
    drop(feed, "students.csv", roster);
    drop(feed, "attendance.csv", attendance);
    poll(feed);
    const auto describe = [](const store::StudentData& s, std::string& out) {
        out += s.student_id + ":" + std::to_string(s.attendance.size()) + "\n";
    };
    std::string sequential;
    store::StudentReader reader(db);
    reader.for_each([&](const store::StudentData& s) { describe(s, sequential); });

    const auto ranges = store::student_ranges(db, 2000);
    ASSERT_EQ(ranges.size(), 3U);
    EXPECT_EQ(ranges.front().from, "");
    EXPECT_EQ(ranges[0].to, ranges[1].from);
    EXPECT_EQ(ranges.back().to, "");
    for (const unsigned threads : {1U, 2U, 3U}) {
        std::string parallel;
        store::for_each_parallel(db.path(), "", threads, describe,
                                 [&](std::string& out) { parallel += out; });
        EXPECT_EQ(parallel, sequential) << threads << " threads";
    }
    EXPECT_EQ(std::count(sequential.begin(), sequential.end(), '\n'), 5000);
    // A worker's failure reaches the caller.
    EXPECT_THROW(store::for_each_parallel(
                     db.path(), "", 2,
                     [](const store::StudentData& s, std::string&) {
                         if (s.student_id == "S4000") {
                             throw std::runtime_error("boom");
                         }
                     },
                     [](std::string&) {}),
                 std::runtime_error);
    // So does a failure of `emit`, with the workers stopped and joined.
    EXPECT_THROW(store::for_each_parallel(db.path(), "", 2, describe,
                                          [](std::string&) { throw std::runtime_error("full"); }),
                 std::runtime_error);
}

TEST_F(IngestTest, CalendarsFollowTheLoadedCalendar) {
    const auto feed = feed_config();
    // School 101 has a calendar; 102 has rows but no instructional day; 103 none.
    drop(feed, "calendar.csv",
         "school_id,date,instructional\n101,2025-09-01,false\n101,2025-09-02,true\n"
         "102,2025-09-02,false\n");
    poll(feed);
    const store::Calendars calendars(db);
    const auto day = [](const char* iso) {
        return util::to_day_number(*util::parse_iso_date(iso));
    };
    std::vector<int> days;
    calendars.instructional_days("101", day("2025-09-01"), day("2025-09-05"), days);
    EXPECT_EQ(days, std::vector<int>{day("2025-09-02")});
    days.clear();
    calendars.instructional_days("102", day("2025-09-01"), day("2025-09-05"), days);
    EXPECT_TRUE(days.empty());
    days.clear();
    calendars.instructional_days("103", day("2025-09-01"), day("2025-09-07"), days);
    EXPECT_EQ(days.size(), 5U); // Monday to Friday
}

TEST(DatabaseTest, IsCreatedPrivateAndMigrated) {
    TempDir dir;
    const auto path = dir / "state/sub/ewsd.db";
    {
        store::Database db(path);
        EXPECT_EQ(db.user_version(), store::schema_version);
        EXPECT_EQ(db.sql().execAndGet("PRAGMA journal_mode").getString(), "wal");
    }
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    // A looser mode is tightened on open.
    chmod(path.c_str(), 0644);
    { store::Database db(path); }
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
}

TEST(DatabaseTest, RefusesASchemaNewerThanItKnows) {
    TempDir dir;
    const auto path = dir / "ewsd.db";
    {
        store::Database db(path);
        db.sql().exec("PRAGMA user_version = 99");
    }
    EXPECT_THROW(store::Database db(path), std::runtime_error);
}

} // namespace
} // namespace ewsd
