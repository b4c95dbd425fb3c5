// The real ewsd binary on fixture folders and a real SQLite file.
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <thread>

namespace ewsd {
namespace {

using testing::run;
using testing::TempDir;
using testing::write_file;

const std::filesystem::path fixtures = std::filesystem::path(EWSD_SOURCE_DIR) / "tests/data/feeds";

std::string config_yaml(const std::string& feeds_dir, const std::string& extra = "") {
    return "database: state/ewsd.db\n"
           "rules_dir: " EWSD_SOURCE_DIR "/config/rules.d\n"
           "timezone: America/Chicago\n"
           "school_year_start: 2025-08-18\n"
           "feeds:\n"
           "  - name: sis\n"
           "    type: csv\n"
           "    path: " +
           feeds_dir +
           "\n"
           "    settle_seconds: 0\n"
           "    category_map: {A: Unexcused Absence, EX: Excused Absence, T: Tardy}\n" +
           extra;
}

class CliTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::filesystem::copy(fixtures / "basic", dir / "feeds");
        write_file(dir / "ewsd.yaml", config_yaml("feeds"));
    }

    testing::ProcessResult ewsd(std::vector<std::string> args) {
        args.insert(args.begin(), EWSD_BINARY);
        if (args.size() > 1 && args[1] != "--version" && args[1] != "--help") {
            args.push_back("--config");
            args.push_back((dir / "ewsd.yaml").string());
        }
        return run(args);
    }

    // The output line of `ewsd ingest` for a file, with runs of spaces collapsed.
    static std::string row(const std::string& out, const std::string& file) {
        std::istringstream in(out);
        for (std::string line; std::getline(in, line);) {
            if (line.find(" " + file + " ") != std::string::npos) {
                std::string squeezed;
                for (char c : line) {
                    if (c != ' ' || squeezed.empty() || squeezed.back() != ' ') {
                        squeezed += c;
                    }
                }
                return squeezed;
            }
        }
        return "(no line for " + file + ")";
    }

    TempDir dir;
};

TEST_F(CliTest, VersionAndHelp) {
    auto version = ewsd({"--version"});
    EXPECT_EQ(version.exit_code, 0);
    EXPECT_EQ(version.out.rfind("ewsd ", 0), 0U);
    auto help = ewsd({"--help"});
    EXPECT_EQ(help.exit_code, 0);
    for (const char* command :
         {"check", "ingest", "evaluate", "explain", "test", "status", "feeds errors"}) {
        EXPECT_NE(help.out.find(command), std::string::npos) << command;
    }
    auto ingest_help = run({EWSD_BINARY, "ingest", "--help"});
    EXPECT_EQ(ingest_help.exit_code, 0);
    EXPECT_NE(ingest_help.out.find("--force"), std::string::npos);
    auto unknown = run({EWSD_BINARY, "frobnicate"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_NE(unknown.err.find("unknown command 'frobnicate'"), std::string::npos);
}

TEST_F(CliTest, CheckPrintsEveryProblemWithItsPosition) {
    write_file(dir / "ewsd.yaml", "database: state/ewsd.db\n"
                                  "timezone: America/Chicgo\n"
                                  "school_year_start: 2025-18-08\n"
                                  "feedz: []\n"
                                  "feeds:\n"
                                  "  - name: sis\n"
                                  "    type: csv\n"
                                  "    path: feeds\n"
                                  "    mode: snapshots\n");
    const auto result = ewsd({"check"});
    EXPECT_EQ(result.exit_code, 1);
    const std::string file = (dir / "ewsd.yaml").string();
    EXPECT_NE(result.out.find(file + ":2:11: unknown timezone 'America/Chicgo'"), std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find(file + ":3:20: expected a date as YYYY-MM-DD, not '2025-18-08'"),
              std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find(file + ":4:1: warning: unknown key 'feedz' in the configuration "
                                     "(did you mean 'feeds'?)"),
              std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find(file + ":9:11: 'snapshots' is not one of snapshot, delta (did you "
                                     "mean 'snapshot'?)"),
              std::string::npos)
        << result.out;
}

TEST_F(CliTest, CheckSurvivesBrokenYaml) {
    write_file(dir / "ewsd.yaml", "timezone: [America/Chicago\nschool_year_start: 2025-08-18\n");
    const auto result = ewsd({"check"});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.out.find((dir / "ewsd.yaml").string() + ":"), std::string::npos);
    EXPECT_NE(result.out.find("invalid YAML"), std::string::npos) << result.out;
    EXPECT_EQ(result.err.find("terminate"), std::string::npos) << result.err;
}

TEST_F(CliTest, CheckAcceptsAValidConfig) {
    const auto result = ewsd({"check"});
    EXPECT_EQ(result.exit_code, 0) << result.out;
    EXPECT_NE(result.out.find("valid (1 feed, 13 rules, 0 warnings)"), std::string::npos)
        << result.out;
}

TEST_F(CliTest, IngestLoadsTheFixtureFolderAndReportsEveryFile) {
    const auto first = ewsd({"ingest"});
    ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
    //             file            read new updated unchanged removed quarantined
    EXPECT_EQ(row(first.out, "calendar.csv"), "sis calendar.csv 4 4 0 0 0 0 loaded");
    EXPECT_EQ(row(first.out, "students.csv"), "sis students.csv 5 4 0 0 0 1 loaded");
    EXPECT_EQ(row(first.out, "attendance.csv"), "sis attendance.csv 6 4 0 0 0 2 loaded");
    EXPECT_EQ(row(first.out, "grades.csv"), "sis grades.csv 4 3 0 0 0 1 loaded");
    EXPECT_EQ(row(first.out, "incidents.csv"), "sis incidents.csv 3 3 0 0 0 0 loaded");

    struct stat st {};
    ASSERT_EQ(stat((dir / "state/ewsd.db").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);

    const auto errors = ewsd({"feeds", "errors"});
    EXPECT_EQ(errors.exit_code, 0);
    const std::string feeds = (dir / "feeds").string();
    EXPECT_NE(errors.out.find(feeds + "/students.csv:6:11: grade_level '15' is not a grade level"),
              std::string::npos)
        << errors.out;
    EXPECT_NE(errors.out.find(feeds + "/attendance.csv:7:1: unknown category 'Hooky'"),
              std::string::npos)
        << errors.out;
    EXPECT_NE(errors.out.find(feeds +
                              "/attendance.csv:8:3: date '2025-09-31' is not a date as YYYY-MM-DD"),
              std::string::npos)
        << errors.out;
    EXPECT_NE(
        errors.out.find(feeds + "/grades.csv:5:83: numeric_grade and letter_grade are both empty"),
        std::string::npos)
        << errors.out;

    const auto status = ewsd({"status"});
    EXPECT_EQ(status.exit_code, 0);
    EXPECT_NE(status.out.find("students:    3 (4 enrollments in 2 schools)"), std::string::npos)
        << status.out;
    EXPECT_NE(status.out.find("attendance:  4 events (3 absences, 1 tardies)"), std::string::npos)
        << status.out;
    EXPECT_NE(status.out.find("incidents:   2 (3 student rows, 2 suspensions)"), std::string::npos)
        << status.out;

    // The same files again: nothing to do.
    const auto second = ewsd({"ingest"});
    EXPECT_EQ(second.exit_code, 0);
    EXPECT_EQ(
        row(second.out, "attendance.csv"),
        "sis attendance.csv 0 0 0 0 0 0 unchanged: not modified since the last load; skipped");
    const auto forced = ewsd({"ingest", "--force"});
    EXPECT_EQ(row(forced.out, "attendance.csv"), "sis attendance.csv 6 0 0 4 0 2 loaded");
}

TEST_F(CliTest, IngestFailsOnARejectedFileAndKeepsTheStore) {
    ASSERT_EQ(ewsd({"ingest"}).exit_code, 0);
    write_file(dir / "feeds/incidents.csv", "incident,student_id\nI9,S0001\n");
    const auto result = ewsd({"ingest"});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(row(result.out, "incidents.csv").find("rejected: missing required columns"),
              std::string::npos)
        << result.out;
    SQLite::Database db((dir / "state/ewsd.db").string());
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM incidents").getInt(), 3);
}

// Kills `ewsd ingest` with SIGKILL while it is inside a large file and checks
// that the store holds exactly the state before that file, then that the
// next run loads the file whole.
TEST_F(CliTest, SigkillInTheMiddleOfALargeFileLosesNothing) {
    ASSERT_EQ(ewsd({"ingest"}).exit_code, 0);
    std::string big = "student_id,school_id,date,category,duration\n";
    const int students = 20000;
    const int days = 30;
    for (int s = 0; s < students; ++s) {
        for (int d = 1; d <= days; ++d) {
            big += "B" + std::to_string(s) + ",101,2025-10-" + (d < 10 ? "0" : "") +
                   std::to_string(d) + ",A,1\n";
        }
    }
    write_file(dir / "feeds/attendance.csv", big);
    // At debug level the skipped students.csv is logged: the sign that the
    // large file comes next.
    write_file(dir / "ewsd.yaml", config_yaml("feeds") + "log_level: debug\n");

    bool killed_mid_file = false;
    for (int attempt = 0; attempt < 5 && !killed_mid_file; ++attempt) {
        testing::Child child({EWSD_BINARY, "ingest", "--config", (dir / "ewsd.yaml").string()});
        // students.csv is loaded (identical: skipped) just before attendance.csv.
        ASSERT_TRUE(child.wait_for_stderr("students.csv", std::chrono::seconds(30)));
        std::this_thread::sleep_for(std::chrono::milliseconds(100 + 150 * attempt));
        killed_mid_file = child.running();
        child.kill(SIGKILL);
        const auto result = child.wait();
        EXPECT_EQ(result.exit_code, -1);

        SQLite::Database db((dir / "state/ewsd.db").string());
        EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
        const int rows = db.execAndGet("SELECT count(*) FROM attendance").getInt();
        if (killed_mid_file) {
            EXPECT_EQ(rows, 4) << "the store must hold the state before the file";
            EXPECT_EQ(db.execAndGet("SELECT count(*) FROM file_loads WHERE file = 'attendance.csv'")
                          .getInt(),
                      1);
        }
    }
    EXPECT_TRUE(killed_mid_file) << "ewsd finished before it could be killed";

    const auto after = ewsd({"ingest"});
    EXPECT_EQ(after.exit_code, 0) << after.err;
    EXPECT_EQ(row(after.out, "attendance.csv"), "sis attendance.csv 600000 600000 0 0 4 0 loaded");
    SQLite::Database db((dir / "state/ewsd.db").string());
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM attendance").getInt(), students * days);
}

} // namespace
} // namespace ewsd
