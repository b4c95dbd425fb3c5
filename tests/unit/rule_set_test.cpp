// Rule files: definitions, parameters and overrides, ordering, and every
// load-time error reported at its file:line:column, inside expressions too.
#include "rules/rule_set.hpp"

#include <gtest/gtest.h>

namespace ewsd::rules {
namespace {

std::string all(const util::Diagnostics& d) {
    std::string out;
    for (const auto& item : d.items()) {
        out += item.format() + "\n";
    }
    return out;
}

bool has(const util::Diagnostics& d, const std::string& prefix) {
    for (const auto& item : d.items()) {
        if (item.format().rfind(prefix, 0) == 0) {
            return true;
        }
    }
    return false;
}

const std::string good = R"(constants:
  core: ["Mathematics", "Science"]
conditions:
  middle: grade_level >= 6 and grade_level <= 8
rules:
  - id: both
    name: Two domains
    description: d
    domain: composite
    tier: 3
    when: flagged_domains() >= 2 and flagged("absent")
  - id: absent
    name: Absent
    description: d
    domain: attendance
    tier: 2
    params: {rate: 0.10}
    overrides:
      - {match: {grade_levels: [6, 7, 8]}, params: {rate: 0.07}}
      - {match: {schools: ["101"]}, params: {rate: 0.2}}
    when: absence_rate(school_year) >= rate
  - id: failing
    name: Failing
    description: d
    domain: course
    tier: 2
    applies_to: middle
    when: failing_grades(grading_period, subject in core) >= 1
)";

TEST(RuleSet, LoadsRulesDefinitionsAndOverrides) {
    const RuleLoad load = load_rule_texts({{"rules.d/a.yaml", good}});
    ASSERT_TRUE(load.rules) << all(load.diagnostics);
    EXPECT_TRUE(load.diagnostics.items().empty()) << all(load.diagnostics);
    const auto& rules = load.rules->rules;
    ASSERT_EQ(rules.size(), 3U);
    // Composite rules come after the rules they depend on.
    EXPECT_EQ(rules[0].id, "absent");
    EXPECT_EQ(rules[1].id, "failing");
    EXPECT_EQ(rules[2].id, "both");
    EXPECT_EQ(rules[0].notify, "attendance");
    EXPECT_EQ(rules[0].file, "rules.d/a.yaml");
    EXPECT_EQ(rules[0].line, 12);
    // The first matching override wins; otherwise the rule's own value.
    EXPECT_DOUBLE_EQ(rules[0].params_for("101", 7).at("rate").number, 0.07);
    EXPECT_DOUBLE_EQ(rules[0].params_for("101", 10).at("rate").number, 0.2);
    EXPECT_DOUBLE_EQ(rules[0].params_for("103", 10).at("rate").number, 0.10);
}

TEST(RuleSet, ErrorsInsideAPlainExpressionPointAtTheToken) {
    const RuleLoad load = load_rule_texts({{"r.yaml", R"(- id: a
  name: A
  description: d
  domain: attendance
  tier: 1
  when: absense_rate(school_year) >= 0.1
)"}});
    EXPECT_FALSE(load.rules);
    EXPECT_TRUE(has(load.diagnostics, "r.yaml:6:9: ")) << all(load.diagnostics);
    EXPECT_NE(all(load.diagnostics).find("did you mean 'absence_rate'"), std::string::npos)
        << all(load.diagnostics);
}

TEST(RuleSet, ErrorsInsideQuotedAndBlockScalarsAreMappedToTheFile) {
    const RuleLoad load = load_rule_texts({{"r.yaml", R"(- id: a
  name: A
  description: d
  domain: attendance
  tier: 1
  when: "absences(30d) >= 2 and nonsense"
  applies_to: |
    grade_level >= 6 and
      grade_levle <= 8
)"}});
    EXPECT_FALSE(load.rules);
    // "nonsense" starts at column 33 of line 6 (after the opening quote).
    EXPECT_TRUE(has(load.diagnostics, "r.yaml:6:33: ")) << all(load.diagnostics);
    // Second line of the block, indented two more than the block's content.
    EXPECT_TRUE(has(load.diagnostics, "r.yaml:9:7: ")) << all(load.diagnostics);
}

TEST(RuleSet, DuplicateIdsAcrossFilesAreErrors) {
    const std::string rule =
        R"(- {id: a, name: A, description: d, domain: behavior, tier: 1, when: "incidents(30d) >= 1"}
)";
    const RuleLoad load = load_rule_texts({{"1.yaml", rule}, {"2.yaml", rule}});
    EXPECT_FALSE(load.rules);
    EXPECT_TRUE(
        has(load.diagnostics, "2.yaml:1:8: duplicate rule id 'a' (first defined at 1.yaml:1)"))
        << all(load.diagnostics);
}

TEST(RuleSet, UnknownRuleInFlaggedAndCyclesAreErrors) {
    const RuleLoad unknown = load_rule_texts({{"r.yaml", R"(- id: c
  name: C
  description: d
  domain: composite
  tier: 3
  when: flagged("nope")
)"}});
    EXPECT_FALSE(unknown.rules);
    EXPECT_NE(all(unknown.diagnostics).find("r.yaml:6:17: "), std::string::npos)
        << all(unknown.diagnostics);
    EXPECT_NE(all(unknown.diagnostics).find("unknown rule 'nope'"), std::string::npos);

    const RuleLoad cycle = load_rule_texts({{"r.yaml", R"(- id: x
  name: X
  description: d
  domain: composite
  tier: 3
  when: flagged("y")
- id: y
  name: Y
  description: d
  domain: composite
  tier: 3
  when: flagged("x")
)"}});
    EXPECT_FALSE(cycle.rules);
    EXPECT_NE(all(cycle.diagnostics).find("depend on each other through flagged(): a cycle"),
              std::string::npos)
        << all(cycle.diagnostics);
}

// flagged() inside named conditions counts: a cycle through conditions (two
// deep) is found, and without the cycle the rules are ordered by it.
TEST(RuleSet, FlaggedInsideConditionsIsPartOfTheDependencyGraph) {
    const std::string conditions = R"(conditions:
  x_fired: flagged("x")
  x_or_more: x_fired or flagged_domains() >= 3
rules:
  - {id: y, name: Y, description: d, domain: composite, tier: 3, when: x_or_more}
  - {id: z, name: Z, description: d, domain: attendance, tier: 1, when: "absences(30d) >= 1"}
)";
    const RuleLoad cycle = load_rule_texts(
        {{"r.yaml", conditions + "  - {id: x, name: X, description: d, domain: composite, "
                                 "tier: 3, when: flagged(\"y\")}\n"}});
    EXPECT_FALSE(cycle.rules);
    EXPECT_NE(all(cycle.diagnostics).find("depend on each other through flagged(): a cycle"),
              std::string::npos)
        << all(cycle.diagnostics);

    const RuleLoad ordered = load_rule_texts(
        {{"r.yaml", conditions + "  - {id: x, name: X, description: d, domain: composite, "
                                 "tier: 3, when: flagged(\"z\")}\n"}});
    ASSERT_TRUE(ordered.rules) << all(ordered.diagnostics);
    std::vector<std::string> ids;
    for (const auto& r : ordered.rules->rules) {
        ids.push_back(r.id);
    }
    EXPECT_EQ(ids, (std::vector<std::string>{"z", "x", "y"}));
}

TEST(RuleSet, RulesThatCanNeverFireAreWarnings) {
    const RuleLoad load = load_rule_texts({{"r.yaml", R"(conditions:
  impossible: tardies(30d) < 0
rules:
  - {id: rate, name: A, description: d, domain: attendance, tier: 1,
     when: "absences(30d) >= 1 and absence_rate(school_year) > 1.5"}
  - {id: cond, name: B, description: d, domain: attendance, tier: 1, when: impossible}
  - id: band
    name: C
    description: d
    domain: attendance
    tier: 1
    applies_to: grade_level > 13
    when: absences(30d) >= 1
  - id: off
    name: D
    description: d
    domain: attendance
    tier: 1
    enabled: false
    when: absences(30d) >= 1
  - {id: composite, name: E, description: d, domain: composite, tier: 3, when: flagged("off")}
  - id: param
    name: F
    description: d
    domain: attendance
    tier: 1
    params: {rate: 2}
    overrides: [{match: {grade_levels: [6]}, params: {rate: 0.1}}]
    when: attendance_rate(20sd) < rate - 1.5
  - {id: fine, name: G, description: d, domain: composite, tier: 3,
     when: "flagged_domains() >= 2 or false"}
)"}});
    ASSERT_TRUE(load.rules) << all(load.diagnostics);
    const std::string text = all(load.diagnostics);
    EXPECT_NE(text.find("r.yaml:5:62: warning: rule 'rate' can never fire: its 'when' never holds "
                        "('>' never holds: absence_rate(school_year) is between 0 and 1 and the "
                        "number is 1.5)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("r.yaml:6:76: warning: rule 'cond' can never fire: its 'when' never holds "
                        "(the condition 'impossible' never holds: '<' never holds: tardies(30d) "
                        "is at least 0 and the number is 0)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("r.yaml:12:29: warning: rule 'band' can never fire: its 'applies_to' "
                        "never holds ('>' never holds: grade_level is between -1 and 13 and the "
                        "number is 13)"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("r.yaml:21:80: warning: flagged(\"off\") is always false in rule "
                        "'composite': rule 'off' is "
                        "disabled"),
              std::string::npos)
        << text;
    // With the override's rate (0.1), 'param' can fire for sixth graders.
    EXPECT_EQ(text.find("'param'"), std::string::npos) << text;
    EXPECT_EQ(text.find("'fine'"), std::string::npos) << text;
    EXPECT_EQ(text.find("'off' can never"), std::string::npos) << text;
}

TEST(RuleSet, TheDefaultRulesLoadWithoutWarnings) {
    const RuleLoad load = load_rules(std::filesystem::path(EWSD_SOURCE_DIR) / "config/rules.d");
    ASSERT_TRUE(load.rules);
    EXPECT_TRUE(load.diagnostics.items().empty()) << all(load.diagnostics);
}

TEST(RuleSet, MissingKeysBadValuesAndWarnings) {
    const RuleLoad load = load_rule_texts({{"r.yaml", R"(constants:
  unused_list: [1, 2]
rules:
  - id: Bad Id
    name: A
    domain: attendence
    tier: 4
    when: absences(30d) >= 1
    color: red
  - id: b
    name: B
    description: d
    domain: attendance
    tier: 1
    params: {n: 2}
    overrides:
      - {match: {schools: ["1"]}, params: {m: 3}}
    when: absences(30d) >= n
)"}});
    EXPECT_FALSE(load.rules);
    const std::string text = all(load.diagnostics);
    EXPECT_TRUE(has(load.diagnostics, "r.yaml:4:5: missing required key 'description'")) << text;
    EXPECT_TRUE(has(load.diagnostics, "r.yaml:9:5: warning: unknown key 'color' in a rule"))
        << text;
    EXPECT_TRUE(has(load.diagnostics,
                    "r.yaml:17:44: override of 'm', which is not one of the rule's params"))
        << text;
    EXPECT_TRUE(
        has(load.diagnostics, "r.yaml:2:3: warning: 'unused_list' is defined but never used"))
        << text;
}

TEST(RuleSet, TheDefaultRulesLoadCleanly) {
    const RuleLoad load = load_rules(std::filesystem::path(EWSD_SOURCE_DIR) / "config/rules.d");
    ASSERT_TRUE(load.rules) << all(load.diagnostics);
    EXPECT_TRUE(load.diagnostics.items().empty()) << all(load.diagnostics);
    EXPECT_GE(load.rules->rules.size(), 10U);
    EXPECT_EQ(load.rules->rules.back().id, "multiple-domains");
}

} // namespace
} // namespace ewsd::rules
