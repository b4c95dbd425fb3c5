#pragma once
// Evaluates the rule set for one student as of one date. Pure: given the
// student's data, the calendars and the date; no clock, no I/O.

#include "rules/metrics.hpp"
#include "rules/rule_set.hpp"

#include <set>
#include <string>
#include <vector>

namespace ewsd::rules {

struct RuleOutcome {
    const Rule* rule = nullptr;
    bool applies = false; // applies_to held (or the rule has none)
    bool fired = false;
    // Fired only by hysteresis: the rule was active, `when` no longer holds,
    // but its `resolve_when` does not hold yet.
    bool held = false;
    // `when` holds but not yet on `for: N` consecutive school days.
    bool pending = false;
    // The comparisons behind the verdict: `when`'s, then (for a rule that was
    // active and whose `when` no longer holds) `resolve_when`'s. Filled for
    // fired rules, and for every rule with EvaluateOptions::all_evidence.
    std::vector<Evidence> evidence;
};

struct EvaluateOptions {
    // The rules that were firing for this student before (the open referrals):
    // each keeps firing until its resolve_when holds (default: `not when`).
    // Null or empty: none were.
    const std::set<std::string>* active = nullptr;
    bool all_evidence = false; // evidence for rules that did not fire too (explain)
};

// Every enabled rule's outcome, in rule order (composites last).
std::vector<RuleOutcome> evaluate_student(const RuleSet& rules, const store::StudentData& student,
                                          const store::Calendars& calendars,
                                          const MetricSettings& settings, int as_of,
                                          const EvaluateOptions& options = {});

} // namespace ewsd::rules
