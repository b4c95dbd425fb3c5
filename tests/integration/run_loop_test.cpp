// The real `ewsd run` service on a clock file the test moves: CSV files
// dropped into the feed folder become referral emails at a real SMTP server,
// the next day brings no duplicate, SIGHUP with a broken rule keeps the old
// rules and alerts the admin, a stale feed alerts and freezes its rules (no
// referral resolves on old data), /healthz and /metrics follow, and SIGTERM
// ends the process within 10 s. An Ed-Fi feed in the same service refers and
// goes stale when the API stops changing.
#include "tests/support/process.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/temp_dir.hpp"

#include <SQLiteCpp/Database.h>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace ewsd {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// A school with every weekday of the year in session, two students, one rule:
// two or more absences in the last 10 days, tier 3 (sent at once).
std::string calendar_csv() {
    std::string csv = "school_id,date,instructional\n";
    const std::chrono::sys_days first{std::chrono::year{2025} / 8 / 18};
    const std::chrono::sys_days last{std::chrono::year{2026} / 6 / 30};
    for (auto d = first; d <= last; d += std::chrono::days{1}) {
        const std::chrono::weekday w{d};
        if (w != std::chrono::Saturday && w != std::chrono::Sunday) {
            const std::chrono::year_month_day ymd{d};
            char line[64];
            std::snprintf(line, sizeof line, "101,%04d-%02u-%02u,true\n", int(ymd.year()),
                          unsigned(ymd.month()), unsigned(ymd.day()));
            csv += line;
        }
    }
    return csv;
}

const char* students_csv =
    "student_id,school_id,grade_level,first_name,last_name,entry_date,exit_date\n"
    "S1,101,6,Ana,Garcia,2025-08-18,\n"
    "S2,101,6,Bo,Li,2025-08-18,\n";
const char* attendance_header = "student_id,school_id,date,category\n";

const char* rules_yaml = R"(rules:
  - id: recent-absences
    name: Recent absences
    description: Two or more absences in the last 10 days.
    domain: attendance
    tier: 3
    when: absences(10d) >= 2
)";

class RunLoopTest : public ::testing::Test {
protected:
    void SetUp() override {
        smtp = std::make_unique<testing::SmtpServer>(dir / "mail", std::vector<std::string>{});
        std::filesystem::create_directories(dir / "feeds");
        std::filesystem::create_directories(dir / "rules.d");
        testing::write_file(dir / "rules.d/10-attendance.yaml", rules_yaml);
        testing::write_file(dir / "ewsd.yaml", config());
        set_clock("2026-01-30T06:00"); // a Friday
    }

    void TearDown() override {
        if (daemon) {
            daemon->kill(SIGKILL);
        }
    }

    std::string config(int smtp_timeout = 5) const {
        return "database: state/ewsd.db\n"
               "rules_dir: rules.d\n"
               "templates_dir: " EWSD_SOURCE_DIR "/config/templates\n"
               "timezone: America/Chicago\n"
               "school_year_start: 2025-08-18\n"
               "log_level: info\n"
               "day_starts_at: \"05:00\"\n"
               "http: {port: 0}\n"
               "feeds:\n"
               "  - {name: sis, type: csv, path: feeds, settle_seconds: 0, poll_every: 1m,\n"
               "     max_age: 36h, category_map: {A: Unexcused Absence}}\n"
               "smtp: {host: 127.0.0.1, port: " +
               std::to_string(smtp->port()) +
               ", tls: none, from: \"Early Warning <ewsd@district.org>\",\n"
               "       connect_timeout_seconds: 2, timeout_seconds: " +
               std::to_string(smtp_timeout) +
               "}\n"
               "specialists:\n"
               "  - {id: counselor, name: Casey Counselor, email: counselor@district.org}\n"
               "  - {id: it, name: District IT, email: it@district.org}\n"
               "routes:\n"
               "  - {match: {}, to: [counselor]}\n"
               "admin: it\n"
               "delivery: {message_id_domain: ewsd.test.invalid}\n";
    }

    void set_clock(const std::string& local) {
        testing::write_file(dir / "clock.tmp", local + "\n");
        std::filesystem::rename(dir / "clock.tmp", dir / "clock");
    }

    // Written under another name and renamed, as an SIS export should be.
    void drop(const std::string& file, const std::string& content) {
        testing::write_file(dir / "feeds" / (file + ".tmp"), content);
        std::filesystem::rename(dir / "feeds" / (file + ".tmp"), dir / "feeds" / file);
    }

    void drop_district(const std::string& attendance_rows) {
        drop("calendar.csv", calendar_csv());
        drop("students.csv", students_csv);
        drop("attendance.csv", attendance_header + attendance_rows);
    }

    void start() {
        daemon = std::make_unique<testing::Child>(
            std::vector<std::string>{EWSD_BINARY, "run", "--config", (dir / "ewsd.yaml").string(),
                                     "--clock", (dir / "clock").string()});
        const std::string serving = "/metrics on http://127.0.0.1:";
        ASSERT_TRUE(daemon->wait_for_stderr(serving, 10s)) << daemon->err();
        ASSERT_TRUE(daemon->wait_for_stderr("ewsd 0", 10s)) << daemon->err();
        const std::string& err = daemon->err();
        port = std::stoi(err.substr(err.find(serving) + serving.size()));
    }

    // Waits (reading the daemon's output meanwhile) until `done` holds.
    bool eventually(const std::function<bool()>& done, std::chrono::seconds timeout = 20s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) {
                return false;
            }
            daemon->read_output(50ms);
        }
        return true;
    }

    struct Http {
        int status = 0;
        std::string body;
    };
    Http get(const std::string& path) {
        const auto r = testing::run({"/usr/bin/curl", "-s", "-w", "\n%{http_code}",
                                     "http://127.0.0.1:" + std::to_string(port) + path});
        const auto cut = r.out.rfind('\n');
        return {std::stoi(r.out.substr(cut + 1)), r.out.substr(0, cut)};
    }

    std::vector<std::string> mail_to(const std::string& address) const {
        std::vector<std::string> out;
        for (const auto& m : smtp->messages()) {
            if (m.find("To: " + address) != std::string::npos) {
                out.push_back(m);
            }
        }
        return out;
    }

    std::string referral_states() const {
        SQLite::Database db((dir / "state/ewsd.db").string());
        SQLite::Statement q(db, "SELECT student_id || ':' || state FROM referrals ORDER BY 1");
        std::string out;
        while (q.executeStep()) {
            out += (out.empty() ? "" : " ") + q.getColumn(0).getString();
        }
        return out;
    }

    testing::TempDir dir;
    std::unique_ptr<testing::SmtpServer> smtp;
    std::unique_ptr<testing::Child> daemon;
    int port = 0;
};

TEST_F(RunLoopTest, DroppedFilesBecomeOneEmailAndTheNextDayNoDuplicate) {
    start();
    EXPECT_EQ(get("/healthz").status, 200);
    drop_district("S1,101,2026-01-28,A\nS1,101,2026-01-29,A\n");
    set_clock("2026-01-30T06:01"); // the next poll
    ASSERT_TRUE(eventually([&] { return mail_to("counselor@district.org").size() == 1; }))
        << daemon->err();
    const std::string email = mail_to("counselor@district.org").front();
    EXPECT_THAT(email, HasSubstr("Recent absences"));
    EXPECT_EQ(referral_states(), "S1:open");

    // Monday: a new absence for the same student, evaluated as of the new date.
    set_clock("2026-02-02T06:00");
    drop("attendance.csv", std::string(attendance_header) +
                               "S1,101,2026-01-28,A\nS1,101,2026-01-29,A\nS1,101,2026-01-30,A\n");
    ASSERT_TRUE(daemon->wait_for_stderr("as of 2026-02-02", 20s)) << daemon->err();
    const auto metrics = get("/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_THAT(metrics.body, HasSubstr("ewsd_referrals{state=\"open\"} 1\n"));
    EXPECT_EQ(mail_to("counselor@district.org").size(), 1U) << "no duplicate";
    EXPECT_EQ(referral_states(), "S1:open");

    const auto stop_at = std::chrono::steady_clock::now();
    daemon->kill(SIGTERM);
    const auto result = daemon->wait();
    const auto took = std::chrono::steady_clock::now() - stop_at;
    daemon.reset();
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_LT(took, 10s);
    EXPECT_THAT(result.err, HasSubstr("SIGTERM: stopping"));
}

TEST_F(RunLoopTest, SighupWithABrokenRuleKeepsTheOldRulesAndAlerts) {
    drop_district("S1,101,2026-01-28,A\nS1,101,2026-01-29,A\n");
    start();
    ASSERT_TRUE(eventually([&] { return mail_to("counselor@district.org").size() == 1; }))
        << daemon->err();

    testing::write_file(dir / "rules.d/20-broken.yaml", R"(rules:
  - id: broken
    name: Broken
    description: d
    domain: attendance
    tier: 1
    when: absences(10d) >=
)");
    daemon->kill(SIGHUP);
    ASSERT_TRUE(daemon->wait_for_stderr("reload failed", 10s)) << daemon->err();
    EXPECT_THAT(daemon->err(), HasSubstr("rules.d/20-broken.yaml:7:"));
    ASSERT_TRUE(eventually([&] { return mail_to("it@district.org").size() == 1; }))
        << daemon->err();
    const std::string alert = mail_to("it@district.org").front();
    EXPECT_THAT(alert, HasSubstr("Reload failed"));
    EXPECT_THAT(alert, HasSubstr("20-broken.yaml:7:"));
    EXPECT_THAT(get("/metrics").body, HasSubstr("ewsd_reloads_total{result=\"failed\"} 1\n"));

    // The old rules still work: a second student's absences make a referral.
    drop("attendance.csv", std::string(attendance_header) +
                               "S1,101,2026-01-28,A\nS1,101,2026-01-29,A\n"
                               "S2,101,2026-01-28,A\nS2,101,2026-01-29,A\n");
    set_clock("2026-01-30T06:01");
    ASSERT_TRUE(eventually([&] { return mail_to("counselor@district.org").size() == 2; }))
        << daemon->err();
    EXPECT_EQ(referral_states(), "S1:open S2:open");

    // Fixed: the reload succeeds.
    std::filesystem::remove(dir / "rules.d/20-broken.yaml");
    daemon->kill(SIGHUP);
    ASSERT_TRUE(daemon->wait_for_stderr("reloaded: 1 feeds, 1 rules", 10s)) << daemon->err();
}

TEST_F(RunLoopTest, AStaleFeedAlertsAndResolvesNothingUntilDataFlowsAgain) {
    drop_district("S1,101,2026-01-28,A\nS1,101,2026-01-29,A\n");
    start();
    ASSERT_TRUE(eventually([&] { return mail_to("counselor@district.org").size() == 1; }))
        << daemon->err();
    auto health = get("/healthz");
    EXPECT_EQ(health.status, 200) << health.body;
    EXPECT_THAT(health.body, HasSubstr("\"status\": \"ok\""));
    auto metrics = get("/metrics").body;
    EXPECT_THAT(metrics, HasSubstr("ewsd_feed_stale{feed=\"sis\"} 0\n"));
    EXPECT_THAT(metrics, HasSubstr("ewsd_rows_ingested_total{feed=\"sis\"} 2"));

    // Two weeks without new data: the absences have left the 10-day window,
    // but the feed is stale, so the referral must not resolve.
    set_clock("2026-02-13T06:00");
    ASSERT_TRUE(eventually([&] { return mail_to("it@district.org").size() == 1; }))
        << daemon->err();
    EXPECT_THAT(mail_to("it@district.org").front(), HasSubstr("Feed sis is stale"));
    ASSERT_TRUE(daemon->wait_for_stderr("as of 2026-02-13", 10s)) << daemon->err();
    EXPECT_EQ(referral_states(), "S1:open");
    health = get("/healthz");
    EXPECT_EQ(health.status, 503);
    EXPECT_THAT(health.body, HasSubstr("feed sis is stale: no new data for 14 d"));
    metrics = get("/metrics").body;
    EXPECT_THAT(metrics, HasSubstr("ewsd_feed_stale{feed=\"sis\"} 1\n"));
    EXPECT_THAT(metrics, HasSubstr("ewsd_rules_frozen 1\n"));
    EXPECT_EQ(mail_to("counselor@district.org").size(), 1U);

    // The SIS exports again (the same rows): fresh, and now it resolves.
    drop("attendance.csv",
         std::string(attendance_header) + "S1,101,2026-01-28,A\nS1,101,2026-01-29,A\n");
    set_clock("2026-02-13T06:01");
    ASSERT_TRUE(eventually([&] { return mail_to("it@district.org").size() == 2; }))
        << daemon->err();
    ASSERT_TRUE(eventually([&] { return referral_states() == "S1:resolved"; })) << daemon->err();
    ASSERT_TRUE(eventually([&] { return mail_to("counselor@district.org").size() == 2; }))
        << daemon->err();
    EXPECT_EQ(get("/healthz").status, 200);
    EXPECT_THAT(get("/metrics").body, HasSubstr("ewsd_feed_stale{feed=\"sis\"} 0\n"));
}

// The same school served by an Ed-Fi ODS/API (tests/support/edfi_server.py):
// the service syncs it, refers, and counts the API as stale when its data
// stops changing, then fresh again when a record is written.
TEST_F(RunLoopTest, AnEdfiFeedRefersAndIsStaleWhenTheApiStopsChanging) {
    const auto write_json = [&](const std::string& resource, const nlohmann::json& records) {
        testing::write_file(dir / "api" / (resource + ".json"), records.dump());
    };
    for (const char* r :
         {"courses", "courseOfferings", "gradingPeriods", "grades", "disciplineIncidents",
          "studentDisciplineIncidentBehaviorAssociations", "disciplineActions"}) {
        write_json(r, nlohmann::json::array());
    }
    nlohmann::json days = nlohmann::json::array();
    std::istringstream calendar(calendar_csv());
    std::string line;
    std::getline(calendar, line); // the header
    while (std::getline(calendar, line)) {
        const std::string date = line.substr(4, 10);
        days.push_back({{"id", "d" + date},
                        {"date", date},
                        {"calendarReference",
                         {{"calendarCode", "101"}, {"schoolId", 101}, {"schoolYear", 2026}}},
                        {"calendarEvents",
                         {{{"calendarEventDescriptor",
                            "uri://ed-fi.org/CalendarEventDescriptor#Instructional day"}}}}});
    }
    write_json("calendarDates", days);
    nlohmann::json students = nlohmann::json::array();
    nlohmann::json enrollments = nlohmann::json::array();
    for (const char* id : {"S1", "S2"}) {
        students.push_back({{"id", std::string("p") + id},
                            {"studentUniqueId", id},
                            {"firstName", "First"},
                            {"lastSurname", "Last"},
                            {"birthDate", "2014-01-01"}});
        enrollments.push_back(
            {{"id", std::string("e") + id},
             {"studentReference", {{"studentUniqueId", id}}},
             {"schoolReference", {{"schoolId", 101}}},
             {"entryDate", "2025-08-18"},
             {"entryGradeLevelDescriptor", "uri://ed-fi.org/GradeLevelDescriptor#Sixth grade"}});
    }
    write_json("students", students);
    write_json("studentSchoolAssociations", enrollments);
    const auto absence = [](const std::string& date) {
        return nlohmann::json{
            {"id", "a" + date},
            {"studentReference", {{"studentUniqueId", "S1"}}},
            {"schoolReference", {{"schoolId", 101}}},
            {"sessionReference",
             {{"schoolId", 101}, {"schoolYear", 2026}, {"sessionName", "2025-2026 Year"}}},
            {"eventDate", date},
            {"attendanceEventCategoryDescriptor",
             "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Unexcused Absence"}};
    };
    write_json("studentSchoolAttendanceEvents",
               nlohmann::json::array({absence("2026-01-28"), absence("2026-01-29")}));
    testing::EdfiServer api(dir / "api", {"--key", "ewsd", "--secret", "s3cret"});
    testing::write_file(dir / "edfi_secret", "s3cret\n");
    std::string yaml = config();
    const std::string csv_feed =
        "  - {name: sis, type: csv, path: feeds, settle_seconds: 0, poll_every: 1m,\n"
        "     max_age: 36h, category_map: {A: Unexcused Absence}}\n";
    yaml.replace(yaml.find(csv_feed), csv_feed.size(),
                 "  - {name: sis, type: edfi, url: \"" + api.root() +
                     "\", key: ewsd, secret: {file: edfi_secret},\n"
                     "     school_year: 2026, poll_every: 1m, max_age: 36h}\n");
    testing::write_file(dir / "ewsd.yaml", yaml);

    start();
    ASSERT_TRUE(eventually([&] { return mail_to("counselor@district.org").size() == 1; }))
        << daemon->err();
    EXPECT_THAT(mail_to("counselor@district.org").front(), HasSubstr("Recent absences"));
    EXPECT_EQ(referral_states(), "S1:open");
    EXPECT_THAT(get("/metrics").body, HasSubstr("ewsd_feed_stale{feed=\"sis\"} 0\n"));

    // Two weeks in which nothing is written to the API: stale, and frozen.
    set_clock("2026-02-13T06:00");
    ASSERT_TRUE(eventually([&] { return mail_to("it@district.org").size() == 1; }))
        << daemon->err();
    EXPECT_THAT(mail_to("it@district.org").front(), HasSubstr("Feed sis is stale"));
    ASSERT_TRUE(daemon->wait_for_stderr("as of 2026-02-13", 10s)) << daemon->err();
    EXPECT_EQ(referral_states(), "S1:open");
    EXPECT_EQ(get("/healthz").status, 503);

    // The SIS writes to the API again (the same absence, rewritten): fresh,
    // and the referral resolves, its absences out of the window.
    const std::string body = absence("2026-01-29").dump();
    testing::run({"/usr/bin/curl", "-s", "-X", "POST", "--data", body,
                  "http://127.0.0.1:" + std::to_string(api.port()) +
                      "/_control/upsert/studentSchoolAttendanceEvents"});
    set_clock("2026-02-13T06:01");
    ASSERT_TRUE(eventually([&] { return mail_to("it@district.org").size() == 2; }))
        << daemon->err();
    ASSERT_TRUE(eventually([&] { return referral_states() == "S1:resolved"; })) << daemon->err();
    EXPECT_EQ(get("/healthz").status, 200);
    EXPECT_THAT(daemon->err(), ::testing::Not(HasSubstr("s3cret")));
}

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
public:
    explicit NotifySocket(const std::filesystem::path& path) : m_path(path) {
        m_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        if (bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::runtime_error("cannot bind " + path.string());
        }
        timeval timeout{0, 100'000};
        setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    }
    ~NotifySocket() { close(m_fd); }
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    // Every datagram received so far, appended to `seen`.
    void receive(std::string& seen) const {
        char buf[4096];
        ssize_t n = 0;
        while ((n = recv(m_fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
            seen.append(buf, static_cast<std::size_t>(n)).append("\n");
        }
    }

private:
    std::filesystem::path m_path;
    int m_fd = -1;
};

// Type=notify as systemd sees it: READY once started, a STATUS line, the
// watchdog pinged, RELOADING then READY around a reload, STOPPING at the end.
TEST_F(RunLoopTest, TellsSystemdWhenReadyReloadingAndStopping) {
    drop_district("S1,101,2026-01-28,A\nS1,101,2026-01-29,A\n");
    const NotifySocket notify(dir / "notify");
    setenv("NOTIFY_SOCKET", (dir / "notify").c_str(), 1);
    setenv("WATCHDOG_USEC", "300000", 1);
    start();
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    std::string seen;
    ASSERT_TRUE(eventually([&] {
        notify.receive(seen);
        return seen.find("WATCHDOG=1") != std::string::npos;
    })) << seen;
    EXPECT_THAT(seen, HasSubstr("READY=1\nSTATUS=starting"));
    EXPECT_THAT(seen, HasSubstr("STATUS=as of 2026-01-30; 1 feeds fresh; outbox"));
    daemon->kill(SIGHUP);
    ASSERT_TRUE(eventually([&] {
        notify.receive(seen);
        return seen.find("RELOADING=1") != std::string::npos &&
               seen.rfind("READY=1") > seen.find("RELOADING=1");
    })) << seen;
    daemon->kill(SIGTERM);
    EXPECT_EQ(daemon->wait().exit_code, 0);
    daemon.reset();
    notify.receive(seen);
    EXPECT_THAT(seen, HasSubstr("STOPPING=1"));
}

// A mail server that takes a minute to answer does not hold up the stop: the
// message being sent is cut short and stays queued for the next start.
TEST_F(RunLoopTest, SigtermDuringASlowSendStopsPromptlyAndKeepsTheMessage) {
    smtp = std::make_unique<testing::SmtpServer>(dir / "slow-mail",
                                                 std::vector<std::string>{"--delay", "60"});
    testing::write_file(dir / "ewsd.yaml", config(120));
    drop_district("S1,101,2026-01-28,A\nS1,101,2026-01-29,A\n");
    start();
    ASSERT_TRUE(daemon->wait_for_stderr("evaluated 2 students", 20s)) << daemon->err();
    std::this_thread::sleep_for(1s); // into the server's DATA delay
    const auto stop_at = std::chrono::steady_clock::now();
    daemon->kill(SIGTERM);
    const auto result = daemon->wait();
    daemon.reset();
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_LT(std::chrono::steady_clock::now() - stop_at, 5s);
    SQLite::Database db((dir / "state/ewsd.db").string());
    EXPECT_EQ(db.execAndGet("SELECT state || ' ' || attempts || ' ' || last_error FROM outbox")
                  .getString(),
              "pending 1 cut short: ewsd is stopping");
}

// SIGTERM in the middle of loading a large file: out within 10 s, the load
// rolled back whole, and loaded whole at the next start.
TEST_F(RunLoopTest, SigtermDuringALargeLoadStopsPromptlyAndLosesNothing) {
    drop("calendar.csv", calendar_csv());
    drop("students.csv", students_csv);
    std::string big = attendance_header;
    const int students = 20000;
    for (int s = 0; s < students; ++s) {
        for (int d = 1; d <= 30; ++d) {
            big += "B" + std::to_string(s) + ",101,2025-10-" + (d < 10 ? "0" : "") +
                   std::to_string(d) + ",A\n";
        }
    }
    drop("attendance.csv", big);
    start();
    ASSERT_TRUE(daemon->wait_for_stderr("sis/students.csv: loaded", 20s)) << daemon->err();
    const auto stop_at = std::chrono::steady_clock::now();
    daemon->kill(SIGTERM);
    const auto result = daemon->wait();
    daemon.reset();
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_LT(std::chrono::steady_clock::now() - stop_at, 10s);
    EXPECT_THAT(result.err, HasSubstr("attendance.csv: stopped: ewsd is shutting down"));
    {
        SQLite::Database db((dir / "state/ewsd.db").string());
        EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
        EXPECT_EQ(db.execAndGet("SELECT count(*) FROM attendance").getInt(), 0);
    }
    start();
    ASSERT_TRUE(eventually([&] {
        SQLite::Database db((dir / "state/ewsd.db").string());
        return db.execAndGet("SELECT count(*) FROM attendance").getInt() == students * 30;
    })) << daemon->err();
}

} // namespace
} // namespace ewsd
