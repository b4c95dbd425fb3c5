// The real ewsd binary evaluating, explaining and testing rules.
#include "tests/support/basic_district.hpp"

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>

namespace ewsd {
namespace {

using testing::run;
using testing::write_file;

class RulesCliTest : public testing::BasicDistrict {
protected:
    void SetUp() override {
        make_district();
        ASSERT_EQ(ewsd({"ingest"}).exit_code, 0);
    }
};

TEST_F(RulesCliTest, EvaluatePrintsOneJsonObjectPerFiring) {
    // S0001 (grade 6) failed Mathematics in Six Weeks 1 and was suspended on 2025-10-01.
    const auto result = ewsd({"evaluate", "--as-of", "2025-10-02", "--format", "json"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    std::istringstream lines(result.out);
    std::set<std::string> firings;
    for (std::string line; std::getline(lines, line);) {
        const auto j = nlohmann::json::parse(line);
        firings.insert(j["student_id"].get<std::string>() + " " + j["rule_id"].get<std::string>());
        if (j["rule_id"] == "failing-core-course") {
            EXPECT_EQ(j["tier"], 2);
            EXPECT_EQ(j["domain"], "course");
            ASSERT_EQ(j["evidence"].size(), 1U);
            // A named list reads as its name.
            EXPECT_EQ(j["evidence"][0]["metric"],
                      "failing_grades(grading_period, subject in core_subjects)");
            EXPECT_EQ(j["evidence"][0]["window"], "grading_period");
            EXPECT_EQ(j["evidence"][0]["value"], 1.0);
            EXPECT_EQ(j["evidence"][0]["op"], ">=");
            EXPECT_EQ(j["evidence"][0]["threshold"], 1.0);
        }
    }
    EXPECT_EQ(firings, (std::set<std::string>{"S0001 failing-core-course", "S0001 suspension",
                                              "S0001 multiple-domains"}))
        << result.out;

    const auto table = ewsd({"evaluate", "--as-of", "2025-10-02"});
    EXPECT_NE(table.out.find("S0001"), std::string::npos);
    EXPECT_NE(table.out.find("multiple-domains, suspension, failing-core-course"),
              std::string::npos)
        << table.out;
    EXPECT_NE(table.out.find("1 of 3 students flagged"), std::string::npos) << table.out;

    const auto one_rule =
        ewsd({"evaluate", "--as-of", "2025-10-02", "--rule", "suspension", "--format", "json"});
    EXPECT_EQ(std::count(one_rule.out.begin(), one_rule.out.end(), '\n'), 1) << one_rule.out;
}

TEST_F(RulesCliTest, EvaluateChangedReadsOnlyStudentsWithNewData) {
    // After the first load every student is new.
    EXPECT_NE(ewsd({"evaluate", "--as-of", "2025-10-02", "--changed"})
                  .out.find("1 of 3 students flagged"),
              std::string::npos);
    // As if the daemon had evaluated them all; then S0002 gets a new absence.
    {
        SQLite::Database db((dir / "state/ewsd.db").string(), SQLite::OPEN_READWRITE);
        db.exec("DELETE FROM dirty_students");
    }
    std::string attendance = testing::read_file(dir / "feeds/attendance.csv");
    attendance += "A,2025-09-30,S0002,101,,\n";
    write_file(dir / "feeds/attendance.csv", attendance);
    ASSERT_EQ(ewsd({"ingest"}).exit_code, 0);
    const auto changed = ewsd({"evaluate", "--as-of", "2025-10-02", "--changed"});
    EXPECT_EQ(changed.exit_code, 0) << changed.err;
    // Only S0002 is read; its second September absence fires early-absences.
    EXPECT_NE(changed.out.find("1 of 1 students flagged"), std::string::npos) << changed.out;
    EXPECT_NE(changed.out.find("S0002        101          7    1  early-absences"),
              std::string::npos)
        << changed.out;
}

TEST_F(RulesCliTest, ExplainShowsEveryRuleWithItsValues) {
    const auto result = ewsd({"explain", "S0001", "--as-of", "2025-10-02"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("student S0001, school 101, grade 6, as of 2025-10-02"),
              std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("course-failure               tier 2  course     does not apply"),
              std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("suspensions(school_year)"), std::string::npos);
    EXPECT_NE(result.out.find("FIRED"), std::string::npos);
    EXPECT_EQ(ewsd({"explain", "NOBODY", "--as-of", "2025-10-02"}).exit_code, 2);
}

TEST_F(RulesCliTest, CheckReportsRuleErrorsWithPositions) {
    write_file(dir / "rules.d/20-local.yaml", "- id: local\n"
                                              "  name: Local\n"
                                              "  description: d\n"
                                              "  domain: attendance\n"
                                              "  tier: 1\n"
                                              "  when: absences(30) >= 2\n");
    const auto result = ewsd({"check"});
    EXPECT_EQ(result.exit_code, 1);
    EXPECT_NE(result.out.find((dir / "rules.d/20-local.yaml").string() + ":6:18: "),
              std::string::npos)
        << result.out;
    // A broken rule file stops evaluation rather than running a partial set.
    EXPECT_EQ(ewsd({"evaluate", "--as-of", "2025-10-02"}).exit_code, 1);
}

TEST_F(RulesCliTest, RuleTestsPassAndFailWithADiff) {
    const auto pass = run({EWSD_BINARY, "test", source + "/config/rules.d/tests/10-abc.test.yaml"});
    EXPECT_EQ(pass.exit_code, 0) << pass.out;
    EXPECT_NE(pass.out.find("PASS: 3 of 3 cases passed"), std::string::npos) << pass.out;

    write_file(
        dir / "wrong.test.yaml",
        "rule_files: [" + source +
            "/config/rules.d/10-abc.yaml]\n"
            "school_year_start: 2025-08-18\n"
            "students:\n"
            "  - {id: X, grade: 7, absences: [2025-08-20, 2025-08-21, 2025-08-22, 2025-08-25]}\n"
            "tests:\n"
            "  - as_of: 2025-09-30\n"
            "    expect: [{student: X, rule: chronic-absence-severe}]\n");
    const auto fail = run({EWSD_BINARY, "test", (dir / "wrong.test.yaml").string()});
    EXPECT_EQ(fail.exit_code, 1);
    EXPECT_NE(fail.out.find("expected, did not fire: X chronic-absence-severe"), std::string::npos)
        << fail.out;
    EXPECT_NE(fail.out.find("fired, not expected:    X chronic-absence"), std::string::npos);
    EXPECT_NE(fail.out.find("absence_rate(school_year) = 0.125 (>= 0.2)"), std::string::npos)
        << fail.out;
}

// Cases run in date order, and a rule firing at one date keeps firing at the
// next until its resolve_when holds (the file lists the later date first).
TEST_F(RulesCliTest, RuleTestsCarryHysteresisFromDateToDate) {
    write_file(dir / "sticky.yaml", R"(
- id: sticky
  name: Sticky absence
  description: d
  domain: attendance
  tier: 2
  when: absence_rate(school_year) >= 0.10
  resolve_when: absence_rate(school_year) < 0.08
)");
    // 3 absences: 3 of 20 school days (15%) on 2025-09-12, 3 of 32 (9.4%) on
    // 2025-09-30, 3 of 40 (7.5%) on 2025-10-10.
    const std::string head =
        "rule_files: [sticky.yaml]\n"
        "school_year_start: 2025-08-18\n"
        "students:\n"
        "  - {id: X, grade: 7, absences: [2025-08-20, 2025-08-21, 2025-08-22]}\n"
        "tests:\n"
        "  - {as_of: 2025-09-30, expect: [{student: X, rule: sticky}]}\n"
        "  - {as_of: 2025-10-10, expect: []}\n";
    write_file(dir / "held.test.yaml",
               head + "  - {as_of: 2025-09-12, expect: [{student: X, rule: sticky}]}\n");
    const auto held = run({EWSD_BINARY, "test", (dir / "held.test.yaml").string()});
    EXPECT_EQ(held.exit_code, 0) << held.out;
    // Without the earlier date, 9.4% never opened it.
    write_file(dir / "fresh.test.yaml", head);
    const auto fresh = run({EWSD_BINARY, "test", (dir / "fresh.test.yaml").string()});
    EXPECT_EQ(fresh.exit_code, 1);
    EXPECT_NE(fresh.out.find("expected, did not fire: X sticky"), std::string::npos) << fresh.out;
}

} // namespace
} // namespace ewsd
