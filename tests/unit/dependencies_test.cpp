// Which data each rule reads: what a stale feed freezes.
#include "rules/dependencies.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ewsd::rules {
namespace {

using ::testing::ElementsAre;

const char* rules_yaml = R"(
conditions:
  struggling: failing_grades(grading_period) >= 2
rules:
  - id: absent
    name: Absent
    description: d
    domain: attendance
    tier: 1
    when: absence_rate(school_year) >= 0.1
  - id: failing
    name: Failing
    description: d
    domain: course
    tier: 1
    when: struggling
  - id: suspended
    name: Suspended
    description: d
    domain: behavior
    tier: 2
    when: suspensions(school_year) >= 1
    resolve_when: incidents(30d) == 0
  - id: new-student
    name: New
    description: d
    domain: attendance
    tier: 1
    when: enrolled_days(school_year) < 10 and attr("iep") == "yes"
  - id: absent-and-failing
    name: Both
    description: d
    domain: composite
    tier: 3
    when: flagged("absent") and flagged("failing")
  - id: many
    name: Many
    description: d
    domain: composite
    tier: 3
    when: flagged_domains() >= 2
)";

class DependenciesTest : public ::testing::Test {
protected:
    DependenciesTest() {
        RuleLoad load = load_rule_texts({{"r.yaml", rules_yaml}});
        EXPECT_TRUE(load.rules) << (load.diagnostics.items().empty()
                                        ? ""
                                        : load.diagnostics.items().front().format());
        rules = std::move(*load.rules);
    }
    unsigned reads(const std::string& id) const {
        for (const auto& r : rules.rules) {
            if (r.id == id) {
                return data_read_by(rules, r);
            }
        }
        ADD_FAILURE() << id;
        return 0;
    }
    RuleSet rules;
};

TEST_F(DependenciesTest, MetricsConditionsAndFlaggedRulesDecide) {
    const unsigned base = roster | calendar;
    EXPECT_EQ(reads("absent"), base | attendance);
    EXPECT_EQ(reads("failing"), base | grades); // through the named condition
    EXPECT_EQ(reads("suspended"), base | incidents);
    EXPECT_EQ(reads("new-student"), base);
    EXPECT_EQ(reads("absent-and-failing"), base | attendance | grades);
    EXPECT_EQ(reads("many"), static_cast<unsigned>(all_data));
}

TEST_F(DependenciesTest, AStaleAttendanceFeedFreezesWhatReadsAttendance) {
    EXPECT_THAT(rules_reading(rules, attendance),
                ElementsAre("absent", "absent-and-failing", "many"));
    EXPECT_EQ(rules_reading(rules, roster).size(), rules.rules.size());
    EXPECT_TRUE(rules_reading(rules, 0).empty());
}

TEST(DataKindOf, EachRecordKind) {
    EXPECT_EQ(data_kind_of(store::RecordKind::attendance), attendance);
    EXPECT_EQ(data_kind_of(store::RecordKind::students), roster);
    EXPECT_EQ(data_kind_of(store::RecordKind::calendar), calendar);
    EXPECT_EQ(data_kind_of(store::RecordKind::grades), grades);
    EXPECT_EQ(data_kind_of(store::RecordKind::incidents), incidents);
}

} // namespace
} // namespace ewsd::rules
