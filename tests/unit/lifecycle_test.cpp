// The referral lifecycle on a real SQLite file: open, no duplicates, renotify,
// acknowledge, resolve, reopen, pending under `for`, tier updates, outbox rows
// written with the referral change.
#include "referrals/lifecycle.hpp"
#include "rules/rule_set.hpp"
#include "tests/support/temp_dir.hpp"
#include "util/date.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <gtest/gtest.h>

namespace ewsd::referrals {
namespace {

int day(const char* iso) {
    return util::to_day_number(*util::parse_iso_date(iso));
}

const char* rules_yaml = R"(
- id: absent
  name: Absent
  description: Absent three days or more this year.
  domain: attendance
  tier: 2
  notify: attendance
  when: absences(school_year) >= 3
- id: streak
  name: Streak
  description: d
  domain: attendance
  tier: 1
  for: 3
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
  when: flagged_domains() >= 2
)";

class LifecycleTest : public ::testing::Test {
protected:
    LifecycleTest() : db(dir / "ewsd.db") {
        settings.school_year_start = day("2025-08-18");
        settings.pass_mark_for = [](const std::string&) { return 65.0; };
        rules::RuleLoad load = rules::load_rule_texts({{"r.yaml", rules_yaml}});
        EXPECT_TRUE(load.rules);
        rule_set = std::move(*load.rules);
        student.student_id = "S1";
        student.enrollments = {{"101", day("2025-08-18"), store::still_enrolled, 7}};
        db.sql().exec("INSERT INTO students VALUES ('S1', 'Ana', 'Garcia', '{}', 1, 1, 1)");
        life.renotify_after_days = 3;
    }

    void absent(const char* iso) {
        student.attendance.push_back({day(iso), "Unexcused Absence", 1});
    }

    ApplyCounts apply(const char* iso) {
        const int as_of = day(iso);
        const LiveReferrals live = live_referrals(db, "S1");
        const auto active = active_rules(live);
        rules::EvaluateOptions options;
        options.active = &active;
        const auto outcomes =
            rules::evaluate_student(rule_set, student, calendars, settings, as_of, options);
        SQLite::Transaction txn(db.sql());
        const Router router = [](const RouteRequest& r) {
            std::vector<Recipient> to{{"garcia", "email", false, 100}};
            if (r.escalate) {
                to.push_back({"lopez", "email", false, 100});
            }
            return to;
        };
        const ApplyCounts counts =
            apply_evaluation(db, student, live, outcomes, as_of, calendars, life, router, 1000);
        txn.commit();
        return counts;
    }

    std::string column(const std::string& sql) {
        SQLite::Statement q(db.sql(), sql);
        std::string out;
        while (q.executeStep()) {
            out += (out.empty() ? "" : "|") + q.getColumn(0).getString();
        }
        return out;
    }

    testing::TempDir dir;
    store::Database db;
    store::Calendars calendars;
    rules::MetricSettings settings;
    rules::RuleSet rule_set;
    store::StudentData student;
    LifecycleSettings life;
};

TEST_F(LifecycleTest, OpensOnceRenotifiesResolvesAndReopens) {
    absent("2025-09-01");
    absent("2025-09-02");
    EXPECT_EQ(apply("2025-09-02").opened, 0);
    absent("2025-09-03");
    const ApplyCounts first = apply("2025-09-03");
    EXPECT_EQ(first.opened, 2);
    EXPECT_EQ(first.queued, 2); // absent (open) and streak (held 3 school days)
    EXPECT_EQ(column("SELECT state FROM referrals WHERE rule_id = 'absent'"), "open");
    EXPECT_EQ(column("SELECT kind || ':' || recipient FROM outbox WHERE student_id = 'S1' "
                     "ORDER BY message_id"),
              "referral.opened:garcia|referral.opened:garcia");
    EXPECT_NE(column("SELECT payload FROM outbox LIMIT 1").find("\"first_name\":\"Ana\""),
              std::string::npos);

    // The next day: still firing, nothing new is sent.
    const ApplyCounts again = apply("2025-09-04");
    EXPECT_EQ(again.opened + again.queued, 0);
    EXPECT_EQ(column("SELECT count(*) FROM referrals"), "2");

    // Three school days after the last notice: renotified (Fri, Mon, Mon+...).
    EXPECT_EQ(apply("2025-09-05").renotified, 0);
    EXPECT_EQ(apply("2025-09-08").renotified, 2);
    EXPECT_EQ(column("SELECT renotify_count FROM referrals WHERE rule_id = 'absent'"), "1");

    // Acknowledged referrals are not renotified.
    const auto absent_id = std::stoll(column("SELECT referral_id FROM referrals WHERE rule_id = "
                                             "'absent'"));
    EXPECT_EQ(acknowledge(db, absent_id, "meeting Friday", "2025-09-08"), "");
    EXPECT_NE(acknowledge(db, absent_id, "", "2025-09-08"), "");
    EXPECT_EQ(apply("2025-09-12").renotified, 1); // only streak

    // The absences are corrected away: both resolve, with a notice each.
    student.attendance.clear();
    const ApplyCounts resolved = apply("2025-09-15");
    EXPECT_EQ(resolved.resolved, 2);
    EXPECT_EQ(column("SELECT group_concat(state) FROM referrals"), "resolved,resolved");

    // Firing again after resolution: a new referral.
    absent("2025-09-16");
    absent("2025-09-17");
    absent("2025-09-18");
    EXPECT_EQ(apply("2025-09-18").opened, 2);
    EXPECT_EQ(column("SELECT count(*) FROM referrals WHERE rule_id = 'absent'"), "2");
    EXPECT_NE(close(db, absent_id, "", "2025-09-18"), ""); // resolved: cannot be closed
}

// A stale feed freezes the rules that read its data: the corrected-away
// absences of stale data neither resolve the open referral nor open new ones;
// the rules reading other data go on.
TEST_F(LifecycleTest, FrozenRulesNeitherOpenNorResolve) {
    absent("2025-09-01");
    absent("2025-09-02");
    absent("2025-09-03");
    EXPECT_EQ(apply("2025-09-03").opened, 2); // absent, streak
    life.frozen = {"absent", "streak"};
    student.attendance.clear();
    student.incidents.push_back(
        {"I1", day("2025-09-04"), "School Code of Conduct", "Out of School Suspension", 1});
    const ApplyCounts frozen = apply("2025-09-05");
    EXPECT_EQ(frozen.resolved, 0);
    EXPECT_EQ(frozen.opened, 1); // suspended: behavior data is fresh
    EXPECT_EQ(column("SELECT rule_id || ':' || state FROM referrals ORDER BY rule_id"),
              "absent:open|streak:open|suspended:open");
    // Fresh again: the absences are gone, so both resolve.
    life.frozen.clear();
    EXPECT_EQ(apply("2025-09-08").resolved, 2);
}

// A specialist closed it: no new referral while the condition keeps holding;
// once it stops, a later firing opens a new one.
TEST_F(LifecycleTest, ClosedReferralsHoldBackANewOneUntilTheConditionStops) {
    absent("2025-09-01");
    absent("2025-09-02");
    absent("2025-09-03");
    apply("2025-09-03");
    const auto id =
        std::stoll(column("SELECT referral_id FROM referrals WHERE rule_id = 'absent'"));
    EXPECT_EQ(close(db, id, "moved to another school", "2025-09-04"), "");
    EXPECT_EQ(apply("2025-09-05").opened, 0);
    EXPECT_EQ(column("SELECT count(*) FROM referrals WHERE rule_id = 'absent'"), "1");
    student.attendance.clear();
    apply("2025-09-08"); // the condition stops: released
    absent("2025-09-09");
    absent("2025-09-10");
    absent("2025-09-11");
    EXPECT_GE(apply("2025-09-11").opened, 1);
    EXPECT_EQ(column("SELECT group_concat(state) FROM referrals WHERE rule_id = 'absent' ORDER "
                     "BY referral_id"),
              "closed,open");
}

TEST_F(LifecycleTest, PendingUntilForIsMetAndATierRiseUpdates) {
    absent("2025-09-01");
    const ApplyCounts pending = apply("2025-09-01");
    EXPECT_EQ(pending.pending, 1);
    EXPECT_EQ(pending.queued, 0);
    EXPECT_EQ(column("SELECT state FROM referrals WHERE rule_id = 'streak'"), "pending");
    EXPECT_EQ(apply("2025-09-03").opened, 1);
    EXPECT_EQ(column("SELECT state || ':' || first_seen || ':' || opened_on FROM referrals"),
              "open:2025-09-01:2025-09-03");

    // A suspension adds the behavior domain: the composite (tier 3) opens and
    // the student's open referrals rise to tier 3 without a message each.
    student.incidents.push_back({"I1", day("2025-09-04"), "Other", "In School Suspension", 1});
    const ApplyCounts rise = apply("2025-09-04");
    EXPECT_EQ(rise.opened, 2); // suspended, two-domains
    EXPECT_EQ(rise.updated, 0);
    EXPECT_EQ(column("SELECT group_concat(tier) FROM referrals"), "3,3,3");
}

TEST_F(LifecycleTest, OneLiveReferralPerStudentAndRuleIsEnforcedByTheStore) {
    absent("2025-09-01");
    absent("2025-09-02");
    absent("2025-09-03");
    apply("2025-09-03");
    EXPECT_THROW(db.sql().exec("INSERT INTO referrals (student_id, rule_id, state, tier, domain, "
                               "notify, school_id, grade_level, first_seen, updated_on) VALUES "
                               "('S1', 'absent', 'open', 2, 'attendance', '', '101', 7, "
                               "'2025-09-03', '2025-09-03')"),
                 SQLite::Exception);
}

} // namespace
} // namespace ewsd::referrals
