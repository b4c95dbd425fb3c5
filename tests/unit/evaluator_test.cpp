// Whole rules evaluated on hand-built students: firing and not firing,
// applies_to, overrides, `for`, composite rules, and the default rule set.
#include "rules/evaluator.hpp"
#include "util/date.hpp"

#include <gtest/gtest.h>
#include <set>

namespace ewsd::rules {
namespace {

int day(const char* iso) {
    return util::to_day_number(*util::parse_iso_date(iso));
}

class EvaluatorTest : public ::testing::Test {
protected:
    EvaluatorTest() {
        settings.school_year_start = day("2025-08-18");
        settings.pass_mark_for = [](const std::string&) { return 65.0; };
    }

    static store::StudentData student(int grade, const char* school = "101") {
        store::StudentData s;
        s.student_id = "S" + std::to_string(grade);
        s.enrollments = {{school, day("2025-08-18"), store::still_enrolled, grade}};
        return s;
    }

    // Absent on the first `n` weekdays from 2025-09-01.
    static void absent(store::StudentData& s, int n, const char* from = "2025-09-01") {
        int d = day(from);
        while (n > 0) {
            const std::chrono::weekday wd{std::chrono::sys_days{std::chrono::days{d}}};
            if (wd != std::chrono::Saturday && wd != std::chrono::Sunday) {
                s.attendance.push_back({d, "Unexcused Absence", 1});
                --n;
            }
            ++d;
        }
    }

    RuleSet load(const std::string& text) {
        RuleLoad load = load_rule_texts({{"r.yaml", text}});
        std::string errors;
        for (const auto& d : load.diagnostics.items()) {
            errors += d.format() + "\n";
        }
        EXPECT_TRUE(load.rules) << errors;
        return load.rules ? std::move(*load.rules) : RuleSet{};
    }

    static const RuleOutcome& outcome(const std::vector<RuleOutcome>& all, const std::string& id) {
        for (const auto& o : all) {
            if (o.rule->id == id) {
                return o;
            }
        }
        throw std::runtime_error("no outcome for " + id);
    }

    store::Calendars calendars;
    MetricSettings settings;
};

const char* absence_rules = R"(
conditions:
  middle: grade_level <= 8
rules:
  - id: absent
    name: Absent
    description: d
    domain: attendance
    tier: 2
    params: {rate: 0.10}
    overrides:
      - {match: {grade_levels: [6]}, params: {rate: 0.05}}
    when: absence_rate(school_year) >= rate
  - id: middle-absent
    name: Middle
    description: d
    domain: attendance
    tier: 1
    applies_to: middle
    when: absences(school_year) >= 1
  - id: suspended
    name: Suspended
    description: d
    domain: behavior
    tier: 2
    when: suspensions(school_year) >= 1
  - id: two-domains
    name: Two
    description: d
    domain: composite
    tier: 3
    when: flagged_domains() >= 2 and flagged("absent")
)";

TEST_F(EvaluatorTest, FiresWithEvidenceAndOverrides) {
    const RuleSet rules = load(absence_rules);
    // 2025-08-18 .. 2025-09-30 is 32 weekdays; 3 absences = 9.4%.
    auto s7 = student(7);
    absent(s7, 3);
    // Evidence of a rule that did not fire only when asked for (explain).
    EXPECT_TRUE(
        outcome(evaluate_student(rules, s7, calendars, settings, day("2025-09-30")), "absent")
            .evidence.empty());
    EvaluateOptions explain;
    explain.all_evidence = true;
    const auto seventh =
        evaluate_student(rules, s7, calendars, settings, day("2025-09-30"), explain);
    EXPECT_FALSE(outcome(seventh, "absent").fired);
    ASSERT_EQ(outcome(seventh, "absent").evidence.size(), 1U);
    const Evidence& e = outcome(seventh, "absent").evidence[0];
    EXPECT_EQ(e.metric, "absence_rate(school_year)");
    EXPECT_EQ(e.op, ">=");
    EXPECT_NEAR(e.value, 3.0 / 32.0, 1e-12);
    EXPECT_DOUBLE_EQ(e.threshold, 0.10);
    // The same attendance in grade 6, where the override lowers the threshold to 5%.
    auto s6 = student(6);
    absent(s6, 3);
    const auto sixth = evaluate_student(rules, s6, calendars, settings, day("2025-09-30"));
    EXPECT_TRUE(outcome(sixth, "absent").fired);
    EXPECT_DOUBLE_EQ(outcome(sixth, "absent").evidence[0].threshold, 0.05);
}

TEST_F(EvaluatorTest, AppliesToLimitsWhoIsEvaluated) {
    const RuleSet rules = load(absence_rules);
    auto s10 = student(10);
    absent(s10, 1);
    const auto outcomes = evaluate_student(rules, s10, calendars, settings, day("2025-09-30"));
    EXPECT_FALSE(outcome(outcomes, "middle-absent").applies);
    EXPECT_FALSE(outcome(outcomes, "middle-absent").fired);
    auto s8 = student(8);
    absent(s8, 1);
    EXPECT_TRUE(outcome(evaluate_student(rules, s8, calendars, settings, day("2025-09-30")),
                        "middle-absent")
                    .fired);
}

TEST_F(EvaluatorTest, CompositeRulesSeeTheOtherRulesFirings) {
    const RuleSet rules = load(absence_rules);
    auto s = student(9);
    absent(s, 10);
    EXPECT_FALSE(
        outcome(evaluate_student(rules, s, calendars, settings, day("2025-09-30")), "two-domains")
            .fired);
    s.incidents.push_back({"I1", day("2025-09-15"), "Other", "In School Suspension", 1});
    const auto outcomes = evaluate_student(rules, s, calendars, settings, day("2025-09-30"));
    EXPECT_TRUE(outcome(outcomes, "suspended").fired);
    EXPECT_TRUE(outcome(outcomes, "two-domains").fired);
}

TEST_F(EvaluatorTest, ForRequiresTheConditionOnConsecutiveSchoolDays) {
    const RuleSet rules = load(R"(
- id: streak
  name: Streak
  description: d
  domain: attendance
  tier: 2
  for: 3
  when: absences(1d) >= 1
)");
    auto s = student(7);
    absent(s, 2, "2025-09-04"); // Thu 09-04, Fri 09-05
    EXPECT_FALSE(evaluate_student(rules, s, calendars, settings, day("2025-09-05"))[0].fired);
    absent(s, 1, "2025-09-08"); // Mon 09-08: three school days in a row
    EXPECT_TRUE(evaluate_student(rules, s, calendars, settings, day("2025-09-08"))[0].fired);
}

TEST_F(EvaluatorTest, ForIsNotRequiredAgainOfARuleAlreadyFiring) {
    const RuleSet rules = load(R"(
- id: streak
  name: Streak
  description: d
  domain: attendance
  tier: 2
  for: 3
  when: absences(school_year) >= 1
)");
    auto s = student(7);
    absent(s, 1, "2025-09-08"); // Mon; two more school days are needed
    const std::set<std::string> none;
    const std::set<std::string> active{"streak"};
    EXPECT_FALSE(
        evaluate_student(rules, s, calendars, settings, day("2025-09-09"), {&none, false})[0]
            .fired);
    EXPECT_TRUE(
        evaluate_student(rules, s, calendars, settings, day("2025-09-09"), {&active, false})[0]
            .fired);
}

// resolve_when: a student flagged at 10% stays flagged until the rate falls
// below 8%, not as soon as it dips under 10%.
TEST_F(EvaluatorTest, HysteresisKeepsARuleFiringUntilResolveWhenHolds) {
    const RuleSet rules = load(R"(
- id: absent
  name: Absent
  description: d
  domain: attendance
  tier: 2
  when: absence_rate(school_year) >= 0.10
  resolve_when: absence_rate(school_year) < 0.08
- id: plain
  name: Plain
  description: d
  domain: attendance
  tier: 1
  when: absence_rate(school_year) >= 0.10
)");
    auto s = student(7);
    absent(s, 3); // as of 2025-09-30: 3 of 32 days = 9.4%
    const std::set<std::string> active{"absent", "plain"};
    const std::set<std::string> none;
    const int as_of = day("2025-09-30");
    const auto held = evaluate_student(rules, s, calendars, settings, as_of, {&active, false});
    EXPECT_TRUE(outcome(held, "absent").fired);
    EXPECT_TRUE(outcome(held, "absent").held);
    // The evidence shows both why `when` failed and why it is not resolved.
    ASSERT_EQ(outcome(held, "absent").evidence.size(), 2U);
    EXPECT_FALSE(outcome(held, "absent").evidence[0].holds);
    EXPECT_EQ(outcome(held, "absent").evidence[1].op, "<");
    EXPECT_FALSE(outcome(held, "absent").evidence[1].holds);
    // Without resolve_when, `not when` resolves it at once.
    EXPECT_FALSE(outcome(held, "plain").fired);
    // Never active: 9.4% does not open it.
    EXPECT_FALSE(
        outcome(evaluate_student(rules, s, calendars, settings, as_of, {&none, false}), "absent")
            .fired);
    // As of 2025-10-10 (40 school days), 3 absences are 7.5% < 8%: resolved.
    const auto later =
        evaluate_student(rules, s, calendars, settings, day("2025-10-10"), {&active, false});
    EXPECT_FALSE(outcome(later, "absent").fired);
    EXPECT_FALSE(outcome(later, "absent").held);
    // A rule that no longer applies to the student resolves too.
    auto older = student(7);
    absent(older, 3);
    older.enrollments[0].exit = day("2025-09-01");
    EXPECT_FALSE(outcome(evaluate_student(rules, older, calendars, settings, day("2025-10-10"),
                                          {&active, false}),
                         "absent")
                     .held);
}

TEST_F(EvaluatorTest, DefaultRulesFlagAChronicallyAbsentFailingStudent) {
    const RuleLoad load = load_rules(std::filesystem::path(EWSD_SOURCE_DIR) / "config/rules.d");
    ASSERT_TRUE(load.rules);
    auto s = student(7);
    absent(s, 5); // 5 of 32 days: 15.6%
    s.grades.push_back(
        {"M", "101", "MATH-07", "Mathematics", "Six Weeks 1", day("2025-09-26"), 50.0, "F"});
    const auto outcomes = evaluate_student(*load.rules, s, calendars, settings, day("2025-09-30"));
    EXPECT_TRUE(outcome(outcomes, "chronic-absence").fired);
    EXPECT_FALSE(outcome(outcomes, "chronic-absence-approaching").fired);
    EXPECT_FALSE(outcome(outcomes, "chronic-absence-severe").fired);
    EXPECT_TRUE(outcome(outcomes, "failing-core-course").fired);
    EXPECT_FALSE(outcome(outcomes, "course-failure").applies); // high school only
    EXPECT_TRUE(outcome(outcomes, "multiple-domains").fired);
    EXPECT_FALSE(outcome(outcomes, "suspension").fired);

    auto fine = student(10);
    const auto none = evaluate_student(*load.rules, fine, calendars, settings, day("2025-09-30"));
    for (const auto& o : none) {
        EXPECT_FALSE(o.fired) << o.rule->id;
    }
}

} // namespace
} // namespace ewsd::rules
