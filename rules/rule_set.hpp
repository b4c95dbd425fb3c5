#pragma once
// Rule files: every *.yaml in rules_dir, read in name order, each holding
// rules and optional shared definitions (constants, lists, named conditions).
// Loading goes read -> collect -> check; every problem is reported with its
// file:line:column, pointing inside expressions.

#include "rules/expr.hpp"
#include "util/diagnostic.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ewsd::rules {

enum class Domain { attendance, behavior, course, composite };
const char* to_string(Domain domain);

// Per-school or per-grade-band parameter values.
struct Override {
    std::vector<std::string> schools; // empty: any school
    std::vector<int> grade_levels;    // empty: any grade
    NameValues params;
    NameValues merged; // the rule's params with these applied (computed at load)
};

struct Rule {
    std::string id;
    std::string name;
    std::string description;
    Domain domain = Domain::attendance;
    int tier = 1;
    std::string notify;
    bool enabled = true;
    int for_days = 0;
    NameValues params;
    std::vector<Override> overrides;
    ExprPtr when;
    ExprPtr applies_to;   // null: every student
    ExprPtr resolve_when; // null: not when
    std::string file;
    int line = 0;

    // The parameter values for a student at this school and grade.
    [[nodiscard]] const NameValues& params_for(const std::string& school_id, int grade_level) const;
};

struct RuleSet {
    std::vector<Rule> rules; // non-composite rules first, composites in dependency order
    std::map<std::string, NameInfo> definitions;
    std::vector<ExprPtr> conditions; // owned bodies of named conditions
};

struct RuleLoad {
    std::optional<RuleSet> rules; // set when there are no errors
    util::Diagnostics diagnostics;
};

RuleLoad load_rules(const std::filesystem::path& rules_dir);
// For tests: named texts, loaded as if they were files of one folder, in order.
RuleLoad load_rule_texts(const std::vector<std::pair<std::string, std::string>>& files);

} // namespace ewsd::rules
