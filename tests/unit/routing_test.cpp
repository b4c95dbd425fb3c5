// Routing referrals to specialists: first match wins, continue, scope
// filtering that falls through, the fallback, the steps in words, and the
// roster's route coverage for `ewsd check`.
#include "core/notify_config.hpp"
#include "referrals/routing.hpp"
#include "rules/rule_set.hpp"
#include "store/database.hpp"
#include "tests/support/notify_yaml.hpp"
#include "tests/support/temp_dir.hpp"
#include "util/date.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ewsd::referrals {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Line numbers below refer to this text.
const char* const notify_yaml = R"yaml(delivery: {output_dir: outbox}
specialists:
  - {id: garcia, email: a@district.org, schools: [101, 102], grades: [6, 7, 8]}
  - {id: lopez, email: b@district.org, domains: [behavior, composite]}
  - {id: kim, email: c@district.org, schools: [103]}
  - {id: admin, email: d@district.org}
routes:
  - {match: {domain: attendance}, to: [garcia, kim]}
  - {match: {notify: behavior, tier: [2, 3]}, to: [lopez, garcia], continue: true}
  - {match: {domain: behavior, school: "101"}, to: [garcia]}
  - {match: {}, to: [admin, garcia]}
)yaml";

using testing::parse_notify_config;

std::vector<std::string> ids(const RouteDecision& d) {
    std::vector<std::string> out;
    for (const auto* s : d.recipients) {
        out.push_back(s->id);
    }
    return out;
}

std::vector<std::string> steps(const RouteDecision& d) {
    std::vector<std::string> out;
    for (const auto& s : d.steps) {
        out.push_back((s.matched ? "+ " : "- ") + s.reason);
    }
    return out;
}

class RoutingTest : public ::testing::Test {
protected:
    core::NotifyConfig config = parse_notify_config(notify_yaml);
};

TEST_F(RoutingTest, FirstMatchingRouteWins) {
    const RouteDecision d = route(config, {"attendance", "attendance", 2, "101", 6});
    EXPECT_THAT(ids(d), ElementsAre("garcia"));
    EXPECT_FALSE(d.fallback_used);
    EXPECT_THAT(steps(d), ElementsAre("+ route 1 (ewsd.yaml:8:5): domain attendance matches -> "
                                      "garcia (not kim: school 101 not in [103])"));
    EXPECT_EQ(d.steps[0].route_index, 0U);
}

TEST_F(RoutingTest, NonMatchingRoutesSayWhy) {
    const RouteDecision d = route(config, {"behavior", "behavior", 1, "101", 6});
    EXPECT_THAT(ids(d), ElementsAre("garcia"));
    EXPECT_THAT(steps(d),
                ElementsAre("- route 1 (ewsd.yaml:8:5): domain behavior not in [attendance]",
                            "- route 2 (ewsd.yaml:9:5): tier 1 not in [2, 3]",
                            "+ route 3 (ewsd.yaml:10:5): domain behavior, school 101 match -> "
                            "garcia"));
}

TEST_F(RoutingTest, ContinueLetsLaterRoutesAddRecipientsOnce) {
    const RouteDecision d = route(config, {"behavior", "behavior", 2, "102", 7});
    EXPECT_THAT(ids(d), ElementsAre("lopez", "garcia", "admin"));
    EXPECT_FALSE(d.fallback_used);
    EXPECT_THAT(
        steps(d),
        ElementsAre("- route 1 (ewsd.yaml:8:5): domain behavior not in [attendance]",
                    "+ route 2 (ewsd.yaml:9:5): notify behavior, tier 2 match -> lopez, garcia; "
                    "continue: true, so later routes are tried too",
                    "- route 3 (ewsd.yaml:10:5): school 102 not in [101]",
                    "+ route 4 (ewsd.yaml:11:5): fallback (match: {}) -> admin"));
}

TEST_F(RoutingTest, ALaterMatchWithoutContinueStops) {
    // Route 3 matches after route 2's continue; it adds no one new, and stops.
    const RouteDecision d = route(config, {"behavior", "behavior", 2, "101", 7});
    EXPECT_THAT(ids(d), ElementsAre("lopez", "garcia"));
    EXPECT_THAT(steps(d).back(),
                "+ route 3 (ewsd.yaml:10:5): domain behavior, school 101 match -> no one new");
}

TEST_F(RoutingTest, MatchWithNoOneInScopeFallsThrough) {
    const RouteDecision d = route(config, {"attendance", "attendance", 3, "104", 9});
    EXPECT_THAT(ids(d), ElementsAre("admin", "garcia"));
    EXPECT_TRUE(d.fallback_used);
    EXPECT_THAT(steps(d),
                ElementsAre("- route 1 (ewsd.yaml:8:5): domain attendance matches, but no "
                            "specialist in `to` covers the referral (garcia: school 104 not in "
                            "[101, 102], grade 9 not in [6, 7, 8]; kim: school 104 not in [103]); "
                            "trying the next route",
                            "- route 2 (ewsd.yaml:9:5): notify attendance not in [behavior]",
                            "- route 3 (ewsd.yaml:10:5): domain attendance not in [behavior], "
                            "school 104 not in [101]",
                            "+ route 4 (ewsd.yaml:11:5): fallback (match: {}) -> admin, garcia "
                            "(the fallback ignores the specialists' scope)"));
    EXPECT_FALSE(d.steps[0].matched);
}

TEST_F(RoutingTest, ScopeCoversDomainsToo) {
    // lopez covers behavior and composite only; route 2 matches a course
    // referral by notify but lopez is out of scope, garcia in.
    const RouteDecision d = route(config, {"behavior", "course", 2, "102", 8});
    EXPECT_THAT(ids(d), ElementsAre("garcia", "admin"));
    EXPECT_THAT(steps(d)[1], "+ route 2 (ewsd.yaml:9:5): notify behavior, tier 2 match -> garcia "
                             "(not lopez: domain course not in [behavior, composite]); continue: "
                             "true, so later routes are tried too");
}

TEST_F(RoutingTest, GradesPrintAsKAndPk) {
    const RouteDecision d = route(config, {"attendance", "attendance", 1, "101", 0});
    EXPECT_TRUE(d.fallback_used);
    EXPECT_THAT(d.steps[0].reason, ::testing::HasSubstr("grade K not in [6, 7, 8]"));
}

TEST_F(RoutingTest, AFallbackOnlyConfigSendsEverythingThere) {
    const core::NotifyConfig only = parse_notify_config(R"yaml(delivery: {output_dir: outbox}
specialists: [{id: admin, email: d@district.org, schools: [999]}]
routes: [{match: {}, to: admin}]
)yaml");
    const RouteDecision d = route(only, {"course", "course", 1, "101", 9});
    EXPECT_THAT(ids(d), ElementsAre("admin"));
    EXPECT_TRUE(d.fallback_used);
}

TEST_F(RoutingTest, NoRoutesNoRecipients) {
    const RouteDecision d = route(core::NotifyConfig{}, {"course", "course", 1, "101", 9});
    EXPECT_THAT(ids(d), IsEmpty());
    EXPECT_THAT(d.steps, IsEmpty());
    EXPECT_FALSE(d.fallback_used);
}

TEST_F(RoutingTest, FindSpecialistById) {
    ASSERT_NE(find_specialist(config, "kim"), nullptr);
    EXPECT_EQ(find_specialist(config, "kim")->email, "c@district.org");
    EXPECT_EQ(find_specialist(config, "nobody"), nullptr);
}

TEST(TimeOfDay, FormatsAsHoursAndMinutes) {
    EXPECT_EQ(format_time_of_day(450), "07:30");
    EXPECT_EQ(format_time_of_day(0), "00:00");
    EXPECT_EQ(format_time_of_day(23 * 60 + 59), "23:59");
}

// --- coverage ---

const char* const coverage_rules = R"(rules:
- id: absent
  name: Absent
  description: d
  domain: attendance
  tier: 1
  when: absences(school_year) >= 1
  notify: attendance
- id: absent-severe
  name: Absent a lot
  description: d
  domain: attendance
  tier: 3
  when: absences(school_year) >= 10
  notify: attendance
- id: suspended
  name: Suspended
  description: d
  domain: behavior
  tier: 2
  when: suspensions(school_year) >= 1
  notify: behavior
- id: off
  name: Disabled
  description: d
  domain: course
  tier: 1
  enabled: false
  when: absences(school_year) >= 1
  notify: course
)";

class CoverageTest : public ::testing::Test {
protected:
    CoverageTest() : db(dir / "ewsd.db") {
        auto load = rules::load_rule_texts({{"r.yaml", coverage_rules}});
        for (const auto& d : load.diagnostics.items()) {
            ADD_FAILURE() << d.format();
        }
        rule_set = std::move(*load.rules);
        // S1 at 101 grade 6; S2 moved from 101 to 104 on 2025-11-03; S3 at 103, grade 9.
        db.sql().exec("INSERT INTO enrollments VALUES "
                      "('S1', '101', '2025-08-18', NULL, 6, 1, 1, 1),"
                      "('S2', '101', '2025-08-18', '2025-10-31', 7, 1, 1, 1),"
                      "('S2', '104', '2025-11-03', NULL, 7, 1, 1, 1),"
                      "('S3', '103', '2025-08-18', NULL, 9, 1, 1, 1)");
    }

    static int day(const char* iso) { return util::to_day_number(*util::parse_iso_date(iso)); }

    ewsd::testing::TempDir dir;
    store::Database db;
    rules::RuleSet rule_set;
    core::NotifyConfig config = parse_notify_config(notify_yaml);
};

TEST_F(CoverageTest, CountsStudentDomainPairsOnlyTheFallbackReaches) {
    // attendance: S1 via route 1 (garcia), S3 via route 1 (kim); behavior tier
    // 2: route 2 (lopez) reaches everyone. So in October: nothing.
    RouteCoverage c = coverage(config, rule_set, db, day("2025-10-15"));
    EXPECT_EQ(c.students, 3U);
    EXPECT_EQ(c.pairs, 6U); // the disabled course rule does not count
    EXPECT_EQ(c.fallback_only, 0U);
    EXPECT_THAT(c.examples, IsEmpty());

    // After S2 moves to 104, no one in route 1 covers their attendance.
    c = coverage(config, rule_set, db, day("2025-11-10"));
    EXPECT_EQ(c.fallback_only, 1U);
    ASSERT_EQ(c.examples.size(), 1U);
    EXPECT_EQ(c.examples[0].student_id, "S2");
    EXPECT_EQ(c.examples[0].school_id, "104");
    EXPECT_EQ(c.examples[0].grade_level, 7);
    EXPECT_EQ(c.examples[0].domain, "attendance");
    EXPECT_EQ(c.examples[0].rule_id, "absent");
}

TEST_F(CoverageTest, ExamplesAreCapped) {
    const core::NotifyConfig only = parse_notify_config(R"yaml(delivery: {output_dir: outbox}
specialists: [{id: admin, email: d@district.org}]
routes: [{match: {}, to: admin}]
)yaml");
    const RouteCoverage c = coverage(only, rule_set, db, day("2025-10-15"), 2);
    EXPECT_EQ(c.fallback_only, 6U);
    ASSERT_EQ(c.examples.size(), 2U);
    EXPECT_EQ(c.examples[0].student_id, "S1");
    EXPECT_EQ(c.examples[0].domain, "attendance");
    EXPECT_EQ(c.examples[1].student_id, "S1");
    EXPECT_EQ(c.examples[1].domain, "behavior");
}

TEST_F(CoverageTest, WarningPointsAtTheFallbackRoute) {
    core::Config full;
    full.database = dir / "ewsd.db";
    full.notify = config;
    const util::Diagnostics warnings = route_coverage_warnings(full, rule_set, day("2025-11-10"));
    ASSERT_EQ(warnings.items().size(), 1U);
    EXPECT_EQ(warnings.items()[0].format(),
              "ewsd.yaml:11:5: warning: routing: 1 of 6 (student, domain) pairs in the roster "
              "reach only the fallback route (no other route's match and scope covers them), "
              "e.g.:\n    S2 (school 104, grade 7): attendance (rule absent)");

    full.database = dir / "missing.db";
    EXPECT_THAT(route_coverage_warnings(full, rule_set, day("2025-11-10")).items(), IsEmpty());
    EXPECT_FALSE(std::filesystem::exists(dir / "missing.db"));
}

} // namespace
} // namespace ewsd::referrals
