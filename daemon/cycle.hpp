#pragma once
// One cycle of the daemon's main job: ingest every feed, evaluate the students
// whose data changed (all of them on the first cycle of a new as-of date, since
// every window moves), and apply the outcomes to their referrals, queueing the
// notifications (routed by config.notify, digests due at their time) in the
// same transactions. Sending them is the outbox's drain (referrals/outbox). `ewsd run --once` is
// one cycle; the run loop (issue 5) repeats it on schedule.

#include "connectors/feed.hpp"
#include "core/config.hpp"
#include "referrals/lifecycle.hpp"
#include "rules/rule_set.hpp"
#include "store/database.hpp"

#include <cstdint>
#include <vector>

namespace ewsd::daemon {

struct CycleReport {
    std::vector<connectors::LoadReport> loads;
    bool full = false;         // every student was evaluated (a new as-of date)
    std::size_t evaluated = 0; // students
    std::size_t firing = 0;    // students with at least one rule firing
    referrals::ApplyCounts referrals;
};

CycleReport run_cycle(const core::Config& config, const rules::RuleSet& rules, store::Database& db,
                      int as_of, std::int64_t now);

} // namespace ewsd::daemon
