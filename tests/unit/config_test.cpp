// Loading ewsd.yaml: parsed values, and every problem reported with its exact
// 1-based file:line:column and message.
#include "core/config.hpp"
#include "core/yaml_reader.hpp"
#include "tests/support/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ewsd::core {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class ConfigTest : public ::testing::Test {
protected:
    ConfigTest() { std::filesystem::create_directories(dir / "feeds/sis"); }

    [[nodiscard]] std::filesystem::path file() const { return dir / "ewsd.yaml"; }

    ConfigLoad parse(const std::string& text) const { return parse_config(text, file()); }

    // The expected printed form of a diagnostic about the config file.
    [[nodiscard]] std::string error_at(int line, int column, const std::string& message) const {
        return file().string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
               message;
    }
    [[nodiscard]] std::string warning_at(int line, int column, const std::string& message) const {
        return error_at(line, column, "warning: " + message);
    }

    static std::vector<std::string> messages(const ConfigLoad& load) {
        std::vector<std::string> out;
        for (const auto& d : load.diagnostics.items()) {
            out.push_back(d.format());
        }
        return out;
    }

    ewsd::testing::TempDir dir;
};

// --- a valid configuration ---

TEST_F(ConfigTest, FullConfigParsesEveryValue) {
    std::filesystem::create_directories(dir / "feeds/district-2");
    const auto load = parse(R"yaml(database: state/ewsd.db
timezone: America/Chicago
school_year_start: 2025-08-18
log_level: debug
feeds:
  - name: sis
    type: csv
    path: feeds/sis
    mode: delta
    settle_seconds: 30
    category_map:
      A: Unexcused Absence
      EX: excused absence
      T: uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy
  - name: district-2
    type: csv
    path: feeds/district-2
)yaml");
    ASSERT_THAT(messages(load), IsEmpty());
    ASSERT_TRUE(load.config.has_value());
    const Config& c = *load.config;
    EXPECT_EQ(c.source, file());
    EXPECT_EQ(c.database, dir / "state/ewsd.db");
    EXPECT_EQ(c.timezone, "America/Chicago");
    EXPECT_EQ(c.school_year_start, util::Date(std::chrono::year{2025} / 8 / 18));
    EXPECT_EQ(c.log_level, util::log::Level::debug);
    ASSERT_EQ(c.feeds.size(), 2U);

    const FeedConfig& sis = c.feeds[0];
    EXPECT_EQ(sis.name, "sis");
    EXPECT_EQ(sis.type, "csv");
    EXPECT_EQ(sis.path, dir / "feeds/sis");
    EXPECT_EQ(sis.mode, FeedMode::delta);
    EXPECT_EQ(sis.settle_time, std::chrono::seconds(30));
    ASSERT_NE(sis.category_map.find("a"), nullptr);
    EXPECT_EQ(*sis.category_map.find("a"), "Unexcused Absence");
    ASSERT_NE(sis.category_map.find("EX"), nullptr);
    EXPECT_EQ(*sis.category_map.find("EX"), "Excused Absence");
    ASSERT_NE(sis.category_map.find("T"), nullptr);
    EXPECT_EQ(*sis.category_map.find("T"), "Tardy");
    EXPECT_TRUE(sis.subject_map.empty());

    const FeedConfig& d2 = c.feeds[1];
    EXPECT_EQ(d2.name, "district-2");
    EXPECT_EQ(d2.path, dir / "feeds/district-2");
    EXPECT_EQ(d2.mode, FeedMode::snapshot);
    EXPECT_EQ(d2.settle_time, std::chrono::seconds(5));
    EXPECT_TRUE(d2.category_map.empty());
}

TEST_F(ConfigTest, DefaultsWhenOptionalKeysAreAbsent) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    ASSERT_THAT(messages(load), IsEmpty());
    ASSERT_TRUE(load.config.has_value());
    EXPECT_EQ(load.config->database, std::filesystem::path(default_database_path));
    EXPECT_EQ(load.config->log_level, util::log::Level::info);
    EXPECT_EQ(load.config->timezone, "UTC");
}

TEST_F(ConfigTest, ScheduleStaleGuardAndEndpoint) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
day_starts_at: "04:30"
http: {address: 0.0.0.0, port: 9200}
feeds:
  - name: nightly
    type: csv
    path: feeds/sis
    poll_at: ["12:00", "05:30"]
    max_age: 2d
  - name: drops
    type: csv
    path: feeds/sis
    poll_every: 15m
    max_age: never
  - name: defaults
    type: csv
    path: feeds/sis
)yaml");
    ASSERT_THAT(messages(load), IsEmpty());
    const Config& c = *load.config;
    EXPECT_EQ(c.day_starts_at, 4 * 60 + 30);
    EXPECT_TRUE(c.http.enabled);
    EXPECT_EQ(c.http.address, "0.0.0.0");
    EXPECT_EQ(c.http.port, 9200);
    EXPECT_THAT(c.feeds[0].poll_at, ElementsAre(5 * 60 + 30, 12 * 60));
    EXPECT_EQ(c.feeds[0].max_age, std::chrono::hours(48));
    EXPECT_EQ(c.feeds[1].poll_every, std::chrono::minutes(15));
    EXPECT_EQ(c.feeds[1].max_age, std::chrono::seconds(0));
    EXPECT_TRUE(c.feeds[2].poll_at.empty());
    EXPECT_EQ(c.feeds[2].poll_every, std::chrono::seconds(60));
    EXPECT_EQ(c.feeds[2].max_age, std::chrono::hours(36));
}

TEST_F(ConfigTest, BadSchedulesArePointedAt) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
day_starts_at: "25:00"
http: {port: 70000}
feeds:
  - name: a
    type: csv
    path: feeds/sis
    poll_every: 10
    poll_at: "5:3"
    max_age: soon
)yaml");
    EXPECT_FALSE(load.config.has_value());
    EXPECT_THAT(
        messages(load),
        ElementsAre(error_at(3, 16,
                             "day_starts_at must be a time of day as HH:MM "
                             "(24-hour), not '25:00'"),
                    error_at(4, 14, "must be between 0 and 65535, not 70000"),
                    error_at(10, 14, "a feed has poll_every or poll_at, not both"),
                    error_at(9, 17,
                             "poll_every must be a duration like 90s, 15m, 36h or 2d, "
                             "not '10'"),
                    error_at(10, 14, "poll_at must be a time of day as HH:MM (24-hour), not '5:3'"),
                    error_at(11, 14,
                             "max_age must be a duration like 90s, 15m, 36h or 2d, not "
                             "'soon'")));
}

TEST_F(ConfigTest, AbsolutePathsAreKept) {
    const auto load = parse(R"yaml(database: /var/lib/other/x.db
timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/../feeds/sis
)yaml");
    ASSERT_THAT(messages(load), IsEmpty());
    EXPECT_EQ(load.config->database, std::filesystem::path("/var/lib/other/x.db"));
    EXPECT_EQ(load.config->feeds.at(0).path, dir / "feeds/sis");
}

TEST_F(ConfigTest, OtherCodeMapsUseTheirVocabularies) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
    subject_map: {MA: mathematics, ROB: Robotics}
    behavior_map: {FI: School Code of Conduct}
    action_map: {ISS: In School Suspension}
)yaml");
    ASSERT_THAT(messages(load), IsEmpty());
    const FeedConfig& f = load.config->feeds.at(0);
    ASSERT_NE(f.subject_map.find("ma"), nullptr);
    EXPECT_EQ(*f.subject_map.find("ma"), "Mathematics");
    ASSERT_NE(f.subject_map.find("rob"), nullptr);
    EXPECT_EQ(*f.subject_map.find("rob"), "Robotics");
    ASSERT_NE(f.behavior_map.find("FI"), nullptr);
    EXPECT_EQ(*f.behavior_map.find("FI"), "School Code of Conduct");
    ASSERT_NE(f.action_map.find("iss"), nullptr);
    EXPECT_EQ(*f.action_map.find("iss"), "In School Suspension");
}

// --- required keys ---

TEST_F(ConfigTest, MissingTimezoneIsAnErrorAtTheRootMap) {
    const auto load = parse(R"yaml(school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load), ElementsAre(error_at(1, 1, "missing required key 'timezone'")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, MissingSchoolYearStartIsAnError) {
    const auto load = parse(R"yaml(# district config
timezone: UTC
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(2, 1, "missing required key 'school_year_start'")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, MissingFeedNameAndTypeAreErrorsAtTheFeed) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load), ElementsAre(error_at(4, 5, "missing required key 'name'"),
                                            error_at(4, 5, "missing required key 'type'")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, CsvFeedWithoutPathIsAnError) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
)yaml");
    EXPECT_THAT(messages(load), ElementsAre(error_at(4, 5, "missing required key 'path'")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, EdfiFeedReadsItsApiSettingsAndTheSecretFromTheEnvironment) {
    setenv("EWSD_TEST_EDFI_SECRET", "from-env", 1);
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: ods
    type: edfi
    url: https://ods.example.org/api/
    data_path: /data/v3/2026/ed-fi/
    change_queries_path: changeQueries/v1/2026
    key: ewsd-reader
    secret: ${EWSD_TEST_EDFI_SECRET}
    school_year: 2026
    schools: [255901001, 255901044]
    data_standard: 4
    page_size: 250
    grade_types: [Grading Period, Progress Report]
    timeout: 30s
    max_attempts: 3
)yaml");
    ASSERT_THAT(messages(load), IsEmpty());
    const EdfiConfig& e = load.config->feeds.at(0).edfi;
    EXPECT_EQ(load.config->feeds[0].type, "edfi");
    EXPECT_EQ(e.url, "https://ods.example.org/api");
    EXPECT_EQ(e.data_path, "data/v3/2026/ed-fi");
    EXPECT_EQ(e.change_queries_path, "changeQueries/v1/2026");
    EXPECT_EQ(e.token_path, "oauth/token");
    EXPECT_EQ(e.key, "ewsd-reader");
    EXPECT_EQ(e.secret, "from-env");
    EXPECT_EQ(e.school_year, 2026);
    EXPECT_EQ(e.schools, (std::vector<std::string>{"255901001", "255901044"}));
    EXPECT_EQ(e.data_standard, 4);
    EXPECT_EQ(e.page_size, 250);
    EXPECT_EQ(e.grade_types, (std::vector<std::string>{"Grading Period", "Progress Report"}));
    EXPECT_EQ(e.request_timeout, std::chrono::seconds(30));
    EXPECT_EQ(e.max_attempts, 3);
}

TEST_F(ConfigTest, EdfiFeedProblemsArePointedAt) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: ods
    type: edfi
    url: ftp://ods.example.org
    key: ewsd-reader
    secret: written-here
    data_standard: 6
    page_size: 1000
    change_queries_path: none
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(4, 5, "missing required key 'school_year'"),
                            error_at(6, 10,
                                     "url must start with https:// (or http://), not "
                                     "'ftp://ods.example.org'"),
                            warning_at(8, 13,
                                       "the secret is written in the config file; keep it out "
                                       "with ${ENV_VAR} or {file: PATH} (e.g. a systemd "
                                       "credential)"),
                            error_at(10, 16, "must be between 1 and 500, not 1000"),
                            error_at(9, 20, "'6' is not one of 4, 5 (did you mean '4'?)")));
    EXPECT_FALSE(load.config.has_value());
}

// --- the document itself ---

TEST_F(ConfigTest, UnclosedBracketIsOneSyntaxError) {
    ConfigLoad load;
    ASSERT_NO_THROW(load = parse("timezone: [UTC\nschool_year_start: 2025-08-18\n"));
    // yaml-cpp notices at the ':' of the next line (0-based 1:17).
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(2, 18, "invalid YAML: end of sequence flow not found")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, BadIndentationIsOneSyntaxError) {
    ConfigLoad load;
    ASSERT_NO_THROW(load = parse("timezone: UTC\n  school_year_start: 2025-08-18\n"));
    EXPECT_THAT(messages(load), ElementsAre(error_at(2, 20, "invalid YAML: illegal map value")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, EmptyFileIsAnError) {
    const auto load = parse("");
    EXPECT_THAT(messages(load), ElementsAre(error_at(1, 1, "the configuration file is empty")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, CommentsOnlyFileIsEmpty) {
    const auto load = parse("# nothing here yet\n\n");
    EXPECT_THAT(messages(load), ElementsAre(error_at(1, 1, "the configuration file is empty")));
}

TEST_F(ConfigTest, RootListIsAnError) {
    const auto load = parse("- timezone: UTC\n- school_year_start: 2025-08-18\n");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(1, 1, "the configuration must be a map, not a list")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, RootScalarIsAnError) {
    const auto load = parse("hello\n");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(1, 1, "the configuration must be a map, not 'hello'")));
}

// --- unknown and duplicate keys ---

TEST_F(ConfigTest, UnknownTopLevelKeyWarnsWithSuggestion) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
databse: x.db
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(
        messages(load),
        ElementsAre(warning_at(
            3, 1, "unknown key 'databse' in the configuration (did you mean 'database'?)")));
    ASSERT_TRUE(load.config.has_value()); // a warning does not stop the load
    EXPECT_EQ(load.config->database, std::filesystem::path(default_database_path));
}

TEST_F(ConfigTest, UnknownTopLevelKeyWithoutCloseMatch) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
colour: red
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(warning_at(7, 1, "unknown key 'colour' in the configuration")));
}

TEST_F(ConfigTest, UnknownFeedKeyWarnsWithSuggestion) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
    settle_second: 10
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(warning_at(
                    7, 5, "unknown key 'settle_second' in feed (did you mean 'settle_seconds'?)")));
    ASSERT_TRUE(load.config.has_value());
    EXPECT_EQ(load.config->feeds.at(0).settle_time, std::chrono::seconds(5));
}

TEST_F(ConfigTest, DuplicateTopLevelKeyIsAnError) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
timezone: America/Chicago
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(
                    3, 1, "duplicate key 'timezone' in the configuration (first at line 1)")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, DuplicateFeedKeyIsAnError) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
    name: sis
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(7, 5, "duplicate key 'name' in feed (first at line 4)")));
}

// --- values ---

TEST_F(ConfigTest, BadDateIsAnErrorAtTheValue) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-02-30
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(2, 20, "expected a date as YYYY-MM-DD, not '2025-02-30'")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, DateWithWrongFormatIsAnError) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start:   08/18/2025
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(2, 22, "expected a date as YYYY-MM-DD, not '08/18/2025'")));
}

TEST_F(ConfigTest, UnknownTimezoneIsAnError) {
    const auto load = parse(R"yaml(timezone: Mars/Olympus_Mons
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(1, 11,
                                     "unknown timezone 'Mars/Olympus_Mons' (expected an IANA "
                                     "name like America/Chicago)")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, TimezoneMayNotEscapeTheZoneinfoFolder) {
    const auto load = parse(R"yaml(timezone: ../../etc/passwd
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(1, 11,
                                     "unknown timezone '../../etc/passwd' (expected an IANA name "
                                     "like America/Chicago)")));
}

TEST_F(ConfigTest, TimezoneMustBeAString) {
    const auto load = parse(R"yaml(timezone: [UTC]
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(
        messages(load),
        ElementsAre(error_at(1, 11, "expected a string, ${ENV_VAR} or {file: PATH}, not a list")));
}

TEST_F(ConfigTest, BadLogLevelSuggestsTheClosestLevel) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
log_level: infoo
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(3, 12,
                                     "'infoo' is not one of debug, info, notice, warning, error "
                                     "(did you mean 'info'?)")));
}

TEST_F(ConfigTest, FeedTypeMustBeCsvOrEdfi) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: sftp
    path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load), ElementsAre(error_at(5, 11, "'sftp' is not one of csv, edfi")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, MisspelledFeedTypeGetsASuggestion) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: cvs
    path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load), ElementsAre(error_at(
                                    5, 11, "'cvs' is not one of csv, edfi (did you mean 'csv'?)")));
}

TEST_F(ConfigTest, BadModeGetsASuggestion) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
    mode: snapshots
)yaml");
    EXPECT_THAT(
        messages(load),
        ElementsAre(error_at(
            7, 11, "'snapshots' is not one of snapshot, delta (did you mean 'snapshot'?)")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, SettleSecondsMustBeAWholeNumber) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
    settle_seconds: soon
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(7, 21, "expected a whole number, not 'soon'")));
}

TEST_F(ConfigTest, SettleSecondsMustBeInRange) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
    settle_seconds: -1
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(7, 21, "must be between 0 and 86400, not -1")));
}

TEST_F(ConfigTest, CategoryMapValueMustBeAnEdFiCategory) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
    category_map:
      A: Unexcused Absence
      AB: Absent
)yaml");
    EXPECT_THAT(
        messages(load),
        ElementsAre(error_at(9, 11,
                             "'Absent' is not an Ed-Fi AttendanceEventCategoryDescriptor code "
                             "value (expected one of: In Attendance, Excused Absence, "
                             "Unexcused Absence, Tardy, Early departure, Partial)")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, CategoryMapMustBeAMap) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
    category_map: [A, EX]
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(7, 19,
                                     "a code map must map local codes to "
                                     "AttendanceEventCategoryDescriptor code values, like {A: "
                                     "Unexcused Absence}")));
}

TEST_F(ConfigTest, FeedsMustBeAList) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  name: sis
)yaml");
    EXPECT_THAT(messages(load), ElementsAre(error_at(4, 3, "'feeds' must be a list of feeds")));
}

TEST_F(ConfigTest, NoFeedsIsAWarning) {
    const auto load = parse("timezone: UTC\nschool_year_start: 2025-08-18\n");
    EXPECT_THAT(messages(load),
                ElementsAre(warning_at(1, 1, "no feeds are configured: nothing will be ingested")));
    ASSERT_TRUE(load.config.has_value());
    EXPECT_TRUE(load.config->feeds.empty());
}

TEST_F(ConfigTest, EmptyFeedListIsAWarningAtTheList) {
    const auto load = parse("timezone: UTC\nschool_year_start: 2025-08-18\nfeeds: []\n");
    EXPECT_THAT(messages(load),
                ElementsAre(warning_at(3, 8, "no feeds are configured: nothing will be ingested")));
    EXPECT_TRUE(load.config.has_value());
}

// --- feed names ---

TEST_F(ConfigTest, DuplicateFeedNameIsAnErrorAtTheSecondName) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load), ElementsAre(error_at(7, 11, "duplicate feed name 'sis'")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, InvalidFeedNameIsAnError) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: SIS Feed
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(4, 11,
                                     "feed name 'SIS Feed' must be 1-64 characters of a-z, 0-9, "
                                     "'-' and '_'")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, FeedNameLongerThan64IsAnError) {
    const std::string name(65, 'a');
    const auto load =
        parse("timezone: UTC\nschool_year_start: 2025-08-18\nfeeds:\n  - name: " + name +
              "\n    type: csv\n    path: feeds/sis\n");
    EXPECT_THAT(
        messages(load),
        ElementsAre(error_at(
            4, 11, "feed name '" + name + "' must be 1-64 characters of a-z, 0-9, '-' and '_'")));
}

// --- environment variables and secrets ---

TEST_F(ConfigTest, EnvironmentVariablesAreExpanded) {
    ASSERT_EQ(setenv("EWSD_TEST_TZ", "America/Chicago", 1), 0);
    ASSERT_EQ(setenv("EWSD_TEST_DB", "ewsd-test", 1), 0);
    const auto load = parse(R"yaml(database: state/${EWSD_TEST_DB}.db
timezone: ${EWSD_TEST_TZ}
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    unsetenv("EWSD_TEST_TZ");
    unsetenv("EWSD_TEST_DB");
    ASSERT_THAT(messages(load), IsEmpty());
    EXPECT_EQ(load.config->timezone, "America/Chicago");
    EXPECT_EQ(load.config->database, dir / "state/ewsd-test.db");
}

TEST_F(ConfigTest, UnsetEnvironmentVariableIsAnError) {
    unsetenv("EWSD_TEST_NOT_SET");
    const auto load = parse(R"yaml(timezone: ${EWSD_TEST_NOT_SET}
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load), ElementsAre(error_at(
                                    1, 11, "environment variable 'EWSD_TEST_NOT_SET' is not set")));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, InvalidEnvironmentVariableNameIsAnError) {
    const auto load = parse(R"yaml(timezone: ${1TZ}
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(1, 11, "'${1TZ}' is not a valid environment variable name")));
}

TEST_F(ConfigTest, UnterminatedEnvironmentReferenceIsAnError) {
    const auto load = parse(R"yaml(timezone: ${TZ
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(
        messages(load),
        ElementsAre(error_at(1, 11, "unterminated '${' in '${TZ' (write '$$' for a literal '$')")));
}

TEST_F(ConfigTest, EmptyEnvironmentVariableNameIsAnError) {
    const auto load = parse(R"yaml(database: cost$$${}1$x.db
timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    // "$$" and "1$x" are fine; "${}" names no variable.
    EXPECT_THAT(messages(load), ElementsAre(error_at(1, 11,
                                                     "'${}' is not a valid environment "
                                                     "variable name")));
}

TEST_F(ConfigTest, DoubleDollarBeforeBraceIsNotExpanded) {
    const auto load = parse(R"yaml(database: cost$${HOME}$1.db
timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    ASSERT_THAT(messages(load), IsEmpty());
    EXPECT_EQ(load.config->database, dir / "cost${HOME}$1.db");
}

TEST_F(ConfigTest, FileSecretIsReadWithoutItsFinalNewline) {
    ewsd::testing::write_file(dir / "secrets/tz", "America/Chicago\n");
    const auto load = parse(R"yaml(timezone: {file: secrets/tz}
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    ASSERT_THAT(messages(load), IsEmpty());
    EXPECT_EQ(load.config->timezone, "America/Chicago");
}

TEST_F(ConfigTest, UnreadableSecretFileIsAnErrorAtThePath) {
    const auto load = parse(R"yaml(timezone: {file: missing.txt}
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(error_at(1, 18,
                                     "cannot read secret file '" + (dir / "missing.txt").string() +
                                         "': No such file or directory")));
    EXPECT_FALSE(load.config.has_value());
}

// --- feed folders ---

TEST_F(ConfigTest, MissingFeedFolderIsAWarning) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/nowhere
)yaml");
    EXPECT_THAT(messages(load),
                ElementsAre(warning_at(
                    6, 11, "feed folder " + (dir / "feeds/nowhere").string() + " does not exist")));
    ASSERT_TRUE(load.config.has_value());
    EXPECT_EQ(load.config->feeds.at(0).path, dir / "feeds/nowhere");
}

TEST_F(ConfigTest, EveryProblemIsReportedInOnePass) {
    const auto load = parse(R"yaml(timezone: Nowhere/City
school_year_start: 2025-13-01
feeds:
  - name: sis
    type: csv
    path: feeds/sis
    mode: deltas
)yaml");
    EXPECT_THAT(
        messages(load),
        ElementsAre(
            error_at(
                1, 11,
                "unknown timezone 'Nowhere/City' (expected an IANA name like America/Chicago)"),
            error_at(2, 20, "expected a date as YYYY-MM-DD, not '2025-13-01'"),
            error_at(7, 11, "'deltas' is not one of snapshot, delta (did you mean 'delta'?)")));
}

// --- load_config / load_config_or_throw ---

TEST_F(ConfigTest, LoadConfigReadsTheFile) {
    ewsd::testing::write_file(file(), R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    const auto load = load_config(file());
    ASSERT_THAT(messages(load), IsEmpty());
    ASSERT_TRUE(load.config.has_value());
    EXPECT_EQ(load.config->source, file());
    EXPECT_EQ(load.config->feeds.at(0).path, dir / "feeds/sis");
}

TEST_F(ConfigTest, LoadConfigOnAMissingFileIsAnErrorWithoutPosition) {
    const auto load = load_config(file());
    EXPECT_THAT(
        messages(load),
        ElementsAre(file().string() + ": cannot read configuration: No such file or directory"));
    EXPECT_FALSE(load.config.has_value());
}

TEST_F(ConfigTest, LoadConfigOrThrowReturnsAValidConfig) {
    ewsd::testing::write_file(file(), "timezone: UTC\nschool_year_start: 2025-08-18\n");
    const Config config = load_config_or_throw(file());
    EXPECT_EQ(config.timezone, "UTC");
}

TEST_F(ConfigTest, LoadConfigOrThrowCarriesEveryErrorLine) {
    ewsd::testing::write_file(file(), R"yaml(timezone: Nowhere/City
school_year_start: 2025-02-29
colour: red
feeds:
  - name: sis
    type: csv
    path: feeds/sis
)yaml");
    try {
        load_config_or_throw(file());
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        // The warning about 'colour' is logged, not thrown.
        EXPECT_EQ(std::string(e.what()),
                  error_at(1, 11,
                           "unknown timezone 'Nowhere/City' (expected an IANA name like "
                           "America/Chicago)") +
                      "\n" + error_at(2, 20, "expected a date as YYYY-MM-DD, not '2025-02-29'"));
    }
}

TEST_F(ConfigTest, LoadConfigOrThrowOnAMissingFile) {
    try {
        load_config_or_throw(file());
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(std::string(e.what()),
                  file().string() + ": cannot read configuration: No such file or directory");
    }
}

// --- YamlReader directly ---

class YamlReaderTest : public ::testing::Test {
protected:
    YamlReaderTest() : reader((dir / "x.yaml").string(), diagnostics) {}

    std::vector<std::string> messages() const {
        std::vector<std::string> out;
        for (const auto& d : diagnostics.items()) {
            out.push_back(d.format());
        }
        return out;
    }

    ewsd::testing::TempDir dir;
    util::Diagnostics diagnostics;
    YamlReader reader;
};

TEST_F(YamlReaderTest, SecretFileLosesOnlyOneFinalLineEnd) {
    ewsd::testing::write_file(dir / "a", "s3cret\n");
    ewsd::testing::write_file(dir / "b", "s3cret\r\n");
    ewsd::testing::write_file(dir / "c", "two\n\n");
    ewsd::testing::write_file(dir / "d", "no newline");
    const auto root = reader.parse("a: {file: a}\nb: {file: b}\nc: {file: c}\nd: {file: d}\n");
    ASSERT_TRUE(root.has_value());
    EXPECT_EQ(reader.string((*root)["a"]), "s3cret");
    EXPECT_EQ(reader.string((*root)["b"]), "s3cret");
    EXPECT_EQ(reader.string((*root)["c"]), "two\n");
    EXPECT_EQ(reader.string((*root)["d"]), "no newline");
    EXPECT_THAT(messages(), IsEmpty());
}

TEST_F(YamlReaderTest, SecretFileValueMustBeAPath) {
    const auto root = reader.parse("key: {file: [a, b]}\n");
    ASSERT_TRUE(root.has_value());
    EXPECT_EQ(reader.string((*root)["key"]), std::nullopt);
    EXPECT_THAT(messages(), ElementsAre((dir / "x.yaml").string() +
                                        ":1:13: 'file' must be a path, not a list"));
}

TEST_F(YamlReaderTest, BooleanAcceptsYamlWords) {
    const auto root = reader.parse("a: yes\nb: off\nc: maybe\n");
    ASSERT_TRUE(root.has_value());
    EXPECT_EQ(reader.boolean((*root)["a"]), true);
    EXPECT_EQ(reader.boolean((*root)["b"]), false);
    EXPECT_EQ(reader.boolean((*root)["c"]), std::nullopt);
    EXPECT_THAT(messages(), ElementsAre((dir / "x.yaml").string() +
                                        ":3:4: expected true or false, not 'maybe'"));
}

TEST_F(YamlReaderTest, IntegerRejectsTrailingCharacters) {
    const auto root = reader.parse("n: 12s\n");
    ASSERT_TRUE(root.has_value());
    EXPECT_EQ(reader.integer((*root)["n"], 0, 100), std::nullopt);
    EXPECT_THAT(messages(), ElementsAre((dir / "x.yaml").string() +
                                        ":1:4: expected a whole number, not '12s'"));
}

TEST_F(YamlReaderTest, EmptyPathIsAnError) {
    const auto root = reader.parse("p: ''\n");
    ASSERT_TRUE(root.has_value());
    EXPECT_EQ(reader.path((*root)["p"]), std::nullopt);
    EXPECT_THAT(messages(), ElementsAre((dir / "x.yaml").string() +
                                        ":1:4: expected a path, not an empty string"));
}

// --- rules_dir and pass_mark ---

TEST_F(ConfigTest, RulesDirResolvesAgainstTheConfigFolderAndPassMarkDefaults) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
rules_dir: rules.d
feeds: []
)yaml");
    ASSERT_TRUE(load.config.has_value()) << ::testing::PrintToString(messages(load));
    EXPECT_EQ(load.config->rules_dir, dir / "rules.d");
    EXPECT_DOUBLE_EQ(load.config->pass_mark_for("101"), 65);
}

TEST_F(ConfigTest, PassMarkMayBeSetPerSchool) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
pass_mark: {default: 60, schools: {"101": 70}}
feeds: []
)yaml");
    ASSERT_TRUE(load.config.has_value()) << ::testing::PrintToString(messages(load));
    EXPECT_DOUBLE_EQ(load.config->pass_mark_for("101"), 70);
    EXPECT_DOUBLE_EQ(load.config->pass_mark_for("102"), 60);
}

TEST_F(ConfigTest, ABadPassMarkIsReportedWhereItIs) {
    const auto load = parse(R"yaml(timezone: UTC
school_year_start: 2025-08-18
pass_mark: {default: sixty, schools: {"101": 300}, school: 1}
feeds: []
)yaml");
    EXPECT_FALSE(load.config.has_value());
    EXPECT_THAT(
        messages(load),
        ElementsAre(warning_at(3, 52,
                               "unknown key 'school' in pass_mark (did you mean "
                               "'schools'?)"),
                    error_at(3, 22, "a pass mark must be a number from 0 to 200, not 'sixty'"),
                    error_at(3, 46, "a pass mark must be a number from 0 to 200, not '300'"),
                    warning_at(4, 8, "no feeds are configured: nothing will be ingested")));
}

} // namespace
} // namespace ewsd::core
