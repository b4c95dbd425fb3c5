#pragma once
// Evaluates the rule set for one student as of one date. Pure: given the
// student's data, the calendars and the date; no clock, no I/O.

#include "rules/metrics.hpp"
#include "rules/rule_set.hpp"

#include <vector>

namespace ewsd::rules {

struct RuleOutcome {
    const Rule* rule = nullptr;
    bool applies = false; // applies_to held (or the rule has none)
    bool fired = false;
    std::vector<Evidence> evidence;
};

// Every enabled rule's outcome, in rule order (composites last).
std::vector<RuleOutcome> evaluate_student(const RuleSet& rules, const store::StudentData& student,
                                          const store::Calendars& calendars,
                                          const MetricSettings& settings, int as_of);

} // namespace ewsd::rules
