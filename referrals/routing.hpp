#pragma once
// Routing: which specialists receive a referral (docs/referrals.md).
//
// Routes are tried in order. A route matches when each of its match keys is
// empty or holds the referral's value; its recipients are the `to`
// specialists whose own scope (schools, grades, domains; empty = any) covers
// the referral. A route that matches but has no recipient in scope does not
// count: the next route is tried. The first matching route wins, unless it
// has `continue: true`; then later routes add their recipients too (each
// specialist once). The fallback (the last route, `match: {}`) ignores its
// recipients' scope, so no referral goes unrouted.

#include "core/config.hpp"
#include "core/notify_config.hpp"
#include "rules/rule_set.hpp"
#include "store/database.hpp"
#include "util/diagnostic.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace ewsd::referrals {

struct RouteInput {
    std::string notify; // the rule's routing key
    std::string domain; // attendance | behavior | course | composite
    int tier = 1;
    std::string school_id;
    int grade_level = 0;
};

// One route tried, in words: "route 1 (ewsd.yaml:40:5): domain attendance
// matches -> garcia", "route 2 (ewsd.yaml:41:5): tier 1 not in [2, 3]".
struct RouteStep {
    std::size_t route_index = 0; // into NotifyConfig::routes
    bool matched = false;        // and added at least one recipient
    std::string reason;
};

struct RouteDecision {
    std::vector<const core::Specialist*> recipients; // in route order, each once
    std::vector<RouteStep> steps;
    // No route before the fallback matched: only the fallback's recipients
    // receive the referral (a routing gap worth a look).
    bool fallback_used = false;
};

RouteDecision route(const core::NotifyConfig& config, const RouteInput& input);

// Null when there is no specialist with this id.
const core::Specialist* find_specialist(const core::NotifyConfig& config, const std::string& id);

// The outbox channels a specialist can be reached by: "email" and/or "webhook".
std::vector<std::string> channels_of(const core::Specialist& specialist);

// "07:30".
std::string format_time_of_day(int minutes);

// Route coverage of the roster: (student, domain) pairs such that a referral
// of one of the domain's enabled rules would reach only the fallback.
struct CoverageExample {
    std::string student_id;
    std::string school_id;
    int grade_level = 0;
    std::string domain;
    std::string rule_id; // the first of the domain's rules that only the fallback reaches
};
struct RouteCoverage {
    std::size_t students = 0;
    std::size_t pairs = 0;                 // students x the domains of the enabled rules
    std::size_t fallback_only = 0;         // pairs only the fallback reaches
    std::vector<CoverageExample> examples; // the first few, in student order
};

// Each student at their enrollment on `as_of` (a day number; the latest that
// began by then, else their first).
RouteCoverage coverage(const core::NotifyConfig& config, const rules::RuleSet& rules,
                       store::Database& db, int as_of, std::size_t max_examples = 5);

// For `ewsd check`: a warning at the fallback route when some pairs reach
// only the fallback, with examples. Nothing when no routes are configured or
// the database does not exist yet.
util::Diagnostics route_coverage_warnings(const core::Config& config, const rules::RuleSet& rules,
                                          int as_of);

} // namespace ewsd::referrals
