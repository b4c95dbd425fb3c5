#include "rules/evaluator.hpp"

#include <algorithm>
#include <memory>
#include <set>

namespace ewsd::rules {

namespace {

// `for: N`: the condition must hold on each of the student's last N
// instructional days up to the as-of date, which is computed statelessly by
// evaluating it as of each of those days.
bool held_for(const Rule& rule, const store::StudentData& student,
              const store::Calendars& calendars, const MetricSettings& settings,
              const std::vector<int>& days, int as_of, const NameValues& params,
              const std::set<std::string>& fired, const std::set<std::string>& domains) {
    auto end = std::upper_bound(days.begin(), days.end(), as_of);
    if (end - days.begin() < rule.for_days) {
        return false;
    }
    for (int k = 1; k < rule.for_days; ++k) {
        StudentMetrics earlier(student, calendars, settings, *(end - 1 - k));
        earlier.set_fired(fired, domains);
        if (!evaluate(*rule.when, earlier, params, false).value) {
            return false;
        }
    }
    return true;
}

} // namespace

std::vector<RuleOutcome> evaluate_student(const RuleSet& rules, const store::StudentData& student,
                                          const store::Calendars& calendars,
                                          const MetricSettings& settings, int as_of,
                                          const EvaluateOptions& options) {
    StudentMetrics metrics(student, calendars, settings, as_of);
    const store::EnrollmentSpan* enrollment = metrics.current_enrollment();
    const std::string school = enrollment != nullptr ? enrollment->school_id : std::string();
    const int grade = enrollment != nullptr ? enrollment->grade_level : 0;

    std::vector<RuleOutcome> outcomes;
    std::set<std::string> fired;
    std::set<std::string> domains;
    for (const Rule& rule : rules.rules) {
        if (!rule.enabled) {
            continue;
        }
        RuleOutcome outcome;
        outcome.rule = &rule;
        const NameValues& params = rule.params_for(school, grade);
        metrics.set_fired(fired, domains);
        const bool was_active = options.active != nullptr && options.active->count(rule.id) > 0;
        outcome.applies =
            rule.applies_to == nullptr || evaluate(*rule.applies_to, metrics, params, false).value;
        bool resolving = false; // was active, `when` no longer holds
        if (outcome.applies) {
            // Evidence costs text; it is computed below only where it is shown.
            outcome.fired = evaluate(*rule.when, metrics, params, false).value;
            if (outcome.fired && !was_active && rule.for_days > 1) {
                outcome.fired = held_for(rule, student, calendars, settings,
                                         metrics.enrolled_days(), as_of, params, fired, domains);
                outcome.pending = !outcome.fired;
            } else if (!outcome.fired && was_active) {
                resolving = true;
                outcome.held = rule.resolve_when != nullptr &&
                               !evaluate(*rule.resolve_when, metrics, params, false).value;
                outcome.fired = outcome.held;
            }
            if (outcome.fired || options.all_evidence) {
                outcome.evidence = evaluate(*rule.when, metrics, params).evidence;
                if (resolving && rule.resolve_when != nullptr) {
                    auto more = evaluate(*rule.resolve_when, metrics, params).evidence;
                    outcome.evidence.insert(outcome.evidence.end(), more.begin(), more.end());
                }
            }
        }
        if (outcome.fired) {
            fired.insert(rule.id);
            if (rule.domain != Domain::composite) {
                domains.insert(to_string(rule.domain));
            }
        }
        outcomes.push_back(std::move(outcome));
    }
    return outcomes;
}

} // namespace ewsd::rules
