// The Ed-Fi feed against tests/support/edfi_server.py (a fake ODS/API serving
// the Grand Bend fixtures of tests/data/edfi): full load, Change Queries,
// deletes, paging, expired tokens, 503s and a failing resource, into a real
// SQLite file; and the same district through the CSV feed and the Ed-Fi feed
// giving the same store and the same `ewsd evaluate` output.
#include "connectors/edfi/edfi_feed.hpp"
#include "store/database.hpp"
#include "store/edfi_staging.hpp"
#include "tests/support/process.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/temp_dir.hpp"

#include <SQLiteCpp/Statement.h>
#include <atomic>
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <thread>

namespace ewsd {
namespace {

using connectors::LoadReport;
using nlohmann::json;
using testing::EdfiServer;
using testing::TempDir;

const std::string fixtures = std::string(EWSD_SOURCE_DIR) + "/tests/data/edfi";

std::size_t append(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

// GET or POST (when `body` is set) to the server; returns the body.
std::string http(const std::string& url, const std::string* body = nullptr) {
    CURL* curl = curl_easy_init();
    std::string answer;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    if (body != nullptr) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->c_str());
    }
    const CURLcode rc = curl_easy_perform(curl);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
        throw std::runtime_error("request to " + url + " failed");
    }
    return answer;
}

json read_json(const std::string& path) {
    return json::parse(testing::read_file(path));
}

// The store's data rows, without provenance, table by table, in key order.
std::string store_contents(store::Database& db) {
    const char* tables[] = {
        "SELECT student_id, first_name, last_name, attributes FROM students ORDER BY 1",
        "SELECT student_id, school_id, entry_date, exit_date, grade_level FROM enrollments "
        "ORDER BY 1, 2, 3",
        "SELECT student_id, date, category, school_id, duration FROM attendance ORDER BY 1, 2, 3",
        "SELECT student_id, section_id, grading_period, school_id, course_code, course_title, "
        "subject, date, numeric_grade, letter_grade FROM grades ORDER BY 1, 2, 3",
        "SELECT incident_id, student_id, school_id, date, behavior, action, action_days FROM "
        "incidents ORDER BY 1, 2",
        "SELECT school_id, date, instructional FROM calendar ORDER BY 1, 2"};
    std::string out;
    for (const char* sql : tables) {
        SQLite::Statement q(db.sql(), sql);
        while (q.executeStep()) {
            for (int i = 0; i < q.getColumnCount(); ++i) {
                out += (i ? "|" : "") + q.getColumn(i).getString();
            }
            out += "\n";
        }
        out += "--\n";
    }
    return out;
}

std::int64_t count(store::Database& db, const std::string& sql) {
    SQLite::Statement q(db.sql(), sql);
    q.executeStep();
    return q.getColumn(0).getInt64();
}

const LoadReport* find(const std::vector<LoadReport>& reports, const std::string& source) {
    for (const auto& r : reports) {
        if (r.source == source) {
            return &r;
        }
    }
    return nullptr;
}

class EdfiFeedTest : public ::testing::Test {
protected:
    EdfiFeedTest() : db(dir / "ewsd.db") {}

    // Serves a copy of a fixture folder (the server writes its port file there).
    void serve(const std::string& standard, std::vector<std::string> options = {}) {
        std::filesystem::copy(fixtures + "/" + standard, dir / "api",
                              std::filesystem::copy_options::recursive);
        options.insert(options.end(), {"--key", "ewsd-test", "--secret", "s3cret-value"});
        server = std::make_unique<EdfiServer>(dir / "api", options);
        config.name = "ods";
        config.type = "edfi";
        config.edfi.url = server->root();
        config.edfi.key = "ewsd-test";
        config.edfi.secret = "s3cret-value";
        config.edfi.school_year = 2022;
        config.edfi.data_standard = standard == "ds4" ? 4 : 5;
    }

    std::vector<LoadReport> poll() {
        if (!feed) {
            feed = std::make_unique<connectors::edfi::EdfiFeed>(config);
        }
        return feed->poll(db, {});
    }

    std::string control(const std::string& path, const json& body = json::object()) {
        const std::string text = body.dump();
        return http("http://127.0.0.1:" + std::to_string(server->port()) + "/_control/" + path,
                    &text);
    }

    json requests() {
        return json::parse(
            http("http://127.0.0.1:" + std::to_string(server->port()) + "/_control/requests"));
    }

    TempDir dir;
    store::Database db;
    std::unique_ptr<EdfiServer> server;
    core::FeedConfig config;
    std::unique_ptr<connectors::edfi::EdfiFeed> feed;
};

void expect_all_ok(const std::vector<LoadReport>& reports) {
    for (const auto& r : reports) {
        EXPECT_TRUE(r.status == LoadReport::Status::loaded ||
                    r.status == LoadReport::Status::unchanged)
            << r.source << ": " << connectors::to_string(r.status) << ": " << r.message;
    }
}

TEST_F(EdfiFeedTest, AFullLoadThenOnlyChangesAndDeletes) {
    serve("ds5");
    const auto first = poll();
    expect_all_ok(first);
    EXPECT_EQ(count(db, "SELECT count(*) FROM enrollments"), 970);
    EXPECT_EQ(count(db, "SELECT count(*) FROM attendance"), 1917);
    EXPECT_EQ(count(db, "SELECT count(*) FROM grades"), 825); // Grading Period grades only
    EXPECT_EQ(count(db, "SELECT count(*) FROM incidents"), 21);
    EXPECT_EQ(count(db, "SELECT count(*) FROM calendar"), 600);
    EXPECT_EQ(count(db, "SELECT count(*) FROM quarantine"), 0);
    for (const auto& r : first) {
        EXPECT_TRUE(r.new_input) << r.source;
    }
    // The first load asks for everything up to the newest change version.
    std::int64_t newest = 0;
    for (const auto& r : requests()) {
        if (r["path"].get<std::string>().ends_with("/grades")) {
            EXPECT_FALSE(r["query"].contains("minChangeVersion"));
            EXPECT_TRUE(r["query"].contains("maxChangeVersion"));
            newest = std::stoll(r["query"]["maxChangeVersion"].get<std::string>());
            EXPECT_EQ(r["query"]["limit"], "500");
        }
    }
    ASSERT_GT(newest, 0);
    EXPECT_EQ(store::feed_cursor(db, "ods", "grades"), std::to_string(newest));

    // Nothing changed: one request (the change versions), nothing loaded.
    const std::size_t before = requests().size();
    const auto second = poll();
    EXPECT_EQ(requests().size(), before + 1);
    for (const auto& r : second) {
        EXPECT_EQ(r.status, LoadReport::Status::unchanged) << r.source;
        EXPECT_FALSE(r.new_input) << r.source;
    }

    // A grade corrected and an absence deleted in the SIS.
    json grades = read_json(fixtures + "/ds5/grades.json");
    json grade = grades[0];
    const std::string student =
        grade["studentSectionAssociationReference"]["studentUniqueId"].get<std::string>();
    grade["numericGradeEarned"] = 99;
    grade["letterGradeEarned"] = "A";
    control("upsert/grades", grade);
    const json event = read_json(fixtures + "/ds5/studentSchoolAttendanceEvents.json")[5];
    control("delete/studentSchoolAttendanceEvents/" + event["id"].get<std::string>());
    SQLite::Statement clear(db.sql(), "DELETE FROM dirty_students");
    clear.exec();

    const auto third = poll();
    expect_all_ok(third);
    const LoadReport* derived = find(third, "store.attendance");
    ASSERT_NE(derived, nullptr);
    EXPECT_EQ(derived->counts.removed, 1);
    EXPECT_EQ(count(db, "SELECT count(*) FROM attendance"), 1916);
    SQLite::Statement g(db.sql(), "SELECT numeric_grade, letter_grade FROM grades WHERE "
                                  "student_id = ? AND section_id = ?");
    g.bind(1, student);
    g.bind(2, grade["studentSectionAssociationReference"]["sectionIdentifier"].get<std::string>());
    ASSERT_TRUE(g.executeStep());
    EXPECT_EQ(g.getColumn(0).getDouble(), 99);
    EXPECT_EQ(g.getColumn(1).getString(), "A");
    // Only the two students touched are evaluated again.
    EXPECT_EQ(count(db, "SELECT count(*) FROM dirty_students"),
              student == event["studentReference"]["studentUniqueId"] ? 1 : 2);
    // Incremental requests: from the last synced version + 1, deletes included.
    bool saw_grades = false;
    bool saw_deletes = false;
    for (const auto& r : requests()) {
        const std::string path = r["path"];
        if (path.ends_with("/grades") && r["query"].contains("minChangeVersion")) {
            EXPECT_EQ(r["query"]["minChangeVersion"], std::to_string(newest + 1));
            saw_grades = true;
        }
        saw_deletes = saw_deletes || path.ends_with("/studentSchoolAttendanceEvents/deletes");
    }
    EXPECT_TRUE(saw_grades);
    EXPECT_TRUE(saw_deletes);
}

TEST_F(EdfiFeedTest, PagesStopOnAShortPage) {
    serve("ds5");
    config.edfi.page_size = 100;
    expect_all_ok(poll());
    std::vector<std::string> offsets;
    std::vector<std::string> calendar_offsets;
    for (const auto& r : requests()) {
        const std::string path = r["path"];
        if (path.ends_with("/studentSchoolAssociations")) {
            offsets.push_back(r["query"]["offset"]);
            EXPECT_EQ(r["query"]["limit"], "100");
        }
        if (path.ends_with("/calendarDates")) {
            calendar_offsets.push_back(r["query"]["offset"]);
        }
    }
    // 970 records: 9 full pages and a short one; 600: 6 full pages and an empty one.
    EXPECT_EQ(offsets, (std::vector<std::string>{"0", "100", "200", "300", "400", "500", "600",
                                                 "700", "800", "900"}));
    EXPECT_EQ(calendar_offsets.size(), 7u);
    EXPECT_EQ(count(db, "SELECT count(*) FROM enrollments"), 970);
}

TEST_F(EdfiFeedTest, ExpiredTokensAndOccasional503sLoseNothing) {
    serve("ds5", {"--fail-every", "5"});
    config.edfi.page_size = 200;
    expect_all_ok(poll());
    const std::string reference = store_contents(db);
    control("expire-tokens");
    // Everything again, through a new token: the same store.
    SQLite::Statement reset(db.sql(), "DELETE FROM feed_cursors");
    reset.exec();
    expect_all_ok(poll());
    EXPECT_EQ(store_contents(db), reference);
    int unauthorized = 0;
    int unavailable = 0;
    for (const auto& r : requests()) {
        unauthorized += r["status"] == 401;
        unavailable += r["status"] == 503;
    }
    EXPECT_EQ(unauthorized, 1);
    EXPECT_GT(unavailable, 3);
}

TEST_F(EdfiFeedTest, AFailingResourceDoesNotBlockTheOthersAndIsSyncedFromWhereItStood) {
    serve("ds5");
    config.edfi.max_attempts = 2;
    control("fail", {{"status", 500},
                     {"count", 2},
                     {"path_contains", "/grades"},
                     {"body", "{\"message\": \"An unexpected error occurred on the server.\"}"}});
    const auto first = poll();
    const LoadReport* grades = find(first, "grades");
    ASSERT_NE(grades, nullptr);
    EXPECT_EQ(grades->status, LoadReport::Status::failed);
    EXPECT_THAT(grades->message,
                ::testing::HasSubstr("/api/data/v3/ed-fi/grades?offset=0&limit=500"));
    EXPECT_THAT(grades->message, ::testing::HasSubstr("HTTP 500"));
    EXPECT_THAT(grades->message, ::testing::HasSubstr("An unexpected error occurred"));
    EXPECT_THAT(grades->message, ::testing::Not(::testing::HasSubstr("s3cret")));
    EXPECT_FALSE(store::feed_cursor(db, "ods", "grades"));
    // The others loaded, incidents after grades included.
    EXPECT_EQ(count(db, "SELECT count(*) FROM incidents"), 21);
    EXPECT_EQ(count(db, "SELECT count(*) FROM grades"), 0);

    const auto second = poll();
    expect_all_ok(second);
    EXPECT_EQ(find(second, "grades")->status, LoadReport::Status::loaded);
    EXPECT_EQ(find(second, "store.attendance"), nullptr); // nothing else to derive
    EXPECT_EQ(count(db, "SELECT count(*) FROM grades"), 825);
}

TEST_F(EdfiFeedTest, DataStandard4GivesTheSameStoreSaveTheGradingPeriodNames) {
    serve("ds4");
    expect_all_ok(poll());
    const std::string ds4 = store_contents(db);
    EXPECT_EQ(count(db, "SELECT count(*) FROM grades"), 825);
    EXPECT_EQ(count(db, "SELECT count(*) FROM quarantine"), 0);

    TempDir other;
    store::Database db5(other / "ewsd.db");
    std::filesystem::copy(fixtures + "/ds5", other / "api5",
                          std::filesystem::copy_options::recursive);
    EdfiServer api5(other / "api5", {"--key", "k", "--secret", "s"});
    core::FeedConfig c5 = config;
    c5.edfi.url = api5.root();
    c5.edfi.key = "k";
    c5.edfi.secret = "s";
    c5.edfi.data_standard = 5;
    connectors::edfi::EdfiFeed feed5(c5);
    expect_all_ok(feed5.poll(db5, {}));
    // Data Standard 4 names a grading period by its descriptor.
    for (const auto& period : read_json(fixtures + "/ds5/gradingPeriods.json")) {
        const std::string descriptor = period["gradingPeriodDescriptor"];
        SQLite::Statement rename(db5.sql(),
                                 "UPDATE grades SET grading_period = ? WHERE grading_period = ?");
        rename.bind(1, descriptor.substr(descriptor.find('#') + 1));
        rename.bind(2, period["gradingPeriodName"].get<std::string>());
        rename.exec();
    }
    EXPECT_EQ(store_contents(db5), ds4);
}

TEST_F(EdfiFeedTest, WithoutChangeQueriesEveryPollIsAFullLoadAndAbsentRecordsAreDeleted) {
    serve("ds5");
    config.edfi.change_queries_path.clear();
    expect_all_ok(poll());
    EXPECT_EQ(count(db, "SELECT count(*) FROM enrollments"), 970);
    for (const auto& r : requests()) {
        EXPECT_FALSE(r["query"].contains("maxChangeVersion")) << r["path"];
    }
    // Nothing changed: everything read again, nothing derived again.
    const auto second = poll();
    expect_all_ok(second);
    EXPECT_EQ(find(second, "store.students"), nullptr);
    EXPECT_EQ(find(second, "grades")->status, LoadReport::Status::loaded);
    EXPECT_THAT(find(second, "grades")->message, ::testing::HasSubstr("0 new, 0 changed"));

    const json ssa = read_json(fixtures + "/ds5/studentSchoolAssociations.json")[3];
    control("delete/studentSchoolAssociations/" + ssa["id"].get<std::string>());
    const auto third = poll();
    expect_all_ok(third);
    ASSERT_NE(find(third, "store.students"), nullptr);
    EXPECT_EQ(find(third, "store.students")->counts.removed, 1);
    EXPECT_EQ(count(db, "SELECT count(*) FROM enrollments"), 969);
}

TEST_F(EdfiFeedTest, AStopCutsTheSyncShortAndLeavesTheRestForNextTime) {
    serve("ds5");
    control("hang", {{"seconds", 30}, {"count", 1}, {"path_contains", "/grades"}});
    std::atomic<bool> stop{false};
    connectors::edfi::EdfiFeed edfi(config);
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        stop = true;
    });
    const auto start = std::chrono::steady_clock::now();
    connectors::PollOptions options;
    options.stop = &stop;
    const auto reports = edfi.poll(db, options);
    stopper.join();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    ASSERT_FALSE(reports.empty());
    EXPECT_EQ(reports.back().source, "grades");
    EXPECT_EQ(reports.back().status, LoadReport::Status::waiting);
    EXPECT_FALSE(store::feed_cursor(db, "ods", "grades"));
    EXPECT_TRUE(store::feed_cursor(db, "ods", "gradingPeriods"));
    // Nothing derived yet: what was staged waits, kept, for the next poll.
    EXPECT_EQ(count(db, "SELECT count(*) FROM enrollments"), 0);
    EXPECT_GT(count(db, "SELECT count(*) FROM edfi_pending"), 0);

    expect_all_ok(poll());
    EXPECT_EQ(count(db, "SELECT count(*) FROM enrollments"), 970);
    EXPECT_EQ(count(db, "SELECT count(*) FROM grades"), 825);
}

// The real ewsd binary: the Grand Bend district through the CSV feed (the
// files convert.py wrote from the same records) and through the Ed-Fi feed.
TEST_F(EdfiFeedTest, TheSameDistrictThroughCsvAndEdfiGivesTheSameStoreAndEvaluation) {
    serve("ds5");
    std::filesystem::copy(fixtures + "/csv", dir / "csv");
    std::filesystem::create_directories(dir / "rules.d");
    std::filesystem::copy(std::string(EWSD_SOURCE_DIR) + "/config/rules.d/10-abc.yaml",
                          dir / "rules.d/10-abc.yaml");
    const std::string common = "rules_dir: rules.d\n"
                               "timezone: America/Chicago\n"
                               "school_year_start: 2021-08-23\n"
                               "templates_dir: " +
                               std::string(EWSD_SOURCE_DIR) + "/config/templates\n";
    testing::write_file(dir / "csv.yaml", common + "database: csv.db\n"
                                                   "feeds:\n"
                                                   "  - {name: sis, type: csv, path: csv, "
                                                   "settle_seconds: 0}\n");
    testing::write_file(dir / "secret", "s3cret-value\n");
    testing::write_file(dir / "edfi.yaml", common +
                                               "database: edfi.db\n"
                                               "feeds:\n"
                                               "  - name: sis\n"
                                               "    type: edfi\n"
                                               "    url: " +
                                               server->root() +
                                               "\n"
                                               "    key: ewsd-test\n"
                                               "    secret: {file: secret}\n"
                                               "    school_year: 2022\n"
                                               "    page_size: 250\n");
    const auto ewsd = [&](const std::string& file, std::vector<std::string> args) {
        args.insert(args.begin(), EWSD_BINARY);
        args.push_back("--config");
        args.push_back((dir / file).string());
        return testing::run(args);
    };
    for (const char* file : {"csv.yaml", "edfi.yaml"}) {
        const auto ingest = ewsd(file, {"ingest"});
        ASSERT_EQ(ingest.exit_code, 0) << file << "\n" << ingest.out << ingest.err;
        EXPECT_THAT(ingest.err, ::testing::Not(::testing::HasSubstr("s3cret")));
    }
    store::Database csv(dir / "csv.db");
    store::Database edfi(dir / "edfi.db");
    const std::string contents = store_contents(csv);
    EXPECT_GT(contents.size(), 100'000u);
    EXPECT_EQ(store_contents(edfi), contents);

    const auto by_csv = ewsd("csv.yaml", {"evaluate", "--as-of", "2021-12-17", "--format", "json"});
    const auto by_edfi =
        ewsd("edfi.yaml", {"evaluate", "--as-of", "2021-12-17", "--format", "json"});
    EXPECT_EQ(by_edfi.out, by_csv.out);
    // Rules fired: the comparison is not between two empty outputs.
    EXPECT_GT(std::count(by_csv.out.begin(), by_csv.out.end(), '\n'), 20);

    // A grade whose course offering the API does not have: quarantined, and
    // listed by `ewsd feeds errors` with its resource and id.
    json grade = read_json(fixtures + "/ds5/grades.json")[0];
    grade["id"] = "0badc0de0badc0de0badc0de0badc0de";
    grade["studentSectionAssociationReference"]["localCourseCode"] = "NO-SUCH-COURSE";
    control("upsert/grades", grade);
    EXPECT_EQ(ewsd("edfi.yaml", {"ingest"}).exit_code, 0);
    const auto errors = ewsd("edfi.yaml", {"feeds", "errors"});
    EXPECT_THAT(errors.out, ::testing::HasSubstr(
                                "sis/store.grades: grades 0badc0de0badc0de0badc0de0badc0de: its "
                                "course offering (NO-SUCH-COURSE|"));
}

} // namespace
} // namespace ewsd
