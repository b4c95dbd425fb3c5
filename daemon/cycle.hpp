#pragma once
// One cycle of the daemon's main job: ingest every feed, evaluate the students
// whose data changed (all of them on the first cycle of a new as-of date, since
// every window moves), and apply the outcomes to their referrals, queueing the
// notifications (routed by config.notify, digests due at their time) in the
// same transactions. Sending them is the outbox's drain (referrals/outbox).
// `ewsd run --once` is one cycle; the run loop polls each feed on its own
// schedule and evaluates after each change.

#include "connectors/feed.hpp"
#include "core/config.hpp"
#include "referrals/lifecycle.hpp"
#include "rules/rule_set.hpp"
#include "store/database.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace ewsd::daemon {

struct EvaluationReport {
    bool full = false;         // every student was evaluated (a new as-of date)
    std::size_t evaluated = 0; // students
    std::size_t firing = 0;    // students with at least one rule firing
    referrals::ApplyCounts referrals;
    bool stopped = false; // cut short by a stop request; the rest is redone next time
};

struct EvaluationOptions {
    // Rules reading a stale feed's data: their referrals neither open nor resolve.
    std::set<std::string> frozen;
    const std::atomic<bool>* stop = nullptr; // checked between students
    std::function<void()> progress;          // called after each committed batch
};

// Evaluates the students whose data changed since the last evaluation (all
// of them when `as_of` is a new date) and applies the outcomes to their
// referrals, queueing notifications routed by config.notify.
EvaluationReport evaluate_changes(const core::Config& config, const rules::RuleSet& rules,
                                  store::Database& db, int as_of, std::int64_t now,
                                  const EvaluationOptions& options = {});

struct CycleReport {
    std::vector<connectors::LoadReport> loads;
    EvaluationReport evaluation;
};

// Polls every feed once (a failing feed does not stop the others), then
// evaluate_changes.
CycleReport run_cycle(const core::Config& config, const rules::RuleSet& rules, store::Database& db,
                      int as_of, std::int64_t now);

} // namespace ewsd::daemon
