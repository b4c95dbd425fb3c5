#pragma once
// The referral lifecycle: one student's evaluation applied to their referrals,
// and the notifications that causes written to the outbox in the same
// transaction (the caller's).
//
//   (condition holds, `for` not yet met) pending -> open (notified)
//   open -> acknowledged (a specialist, `ewsd referrals ack`)
//   open | acknowledged -> resolved (resolve condition holds) | closed (a specialist)
//   a student who fires again after resolution or closing gets a new referral.

#include "referrals/model.hpp"
#include "rules/evaluator.hpp"
#include "store/database.hpp"
#include "store/student_data.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace ewsd::referrals {

struct LifecycleSettings {
    int renotify_after_days = 10; // instructional days; 0: never
    int escalate_after_days = 0;  // instructional days open and unacknowledged; 0: never
    // Rules reading data from a stale feed: their referrals stay as they are
    // (none opens, none resolves: stale data must never resolve a referral).
    std::set<std::string> frozen;
};

// Who receives a notification about a referral: decided by routing.
struct Recipient {
    std::string specialist_id;
    std::string channel = "email"; // email | webhook
    bool digest = false;           // wait for the specialist's digest (tier 3 never waits)
    std::int64_t due_at = 0;       // Unix seconds: now, or the next digest time
};
struct RouteRequest {
    const Referral* referral = nullptr;
    Event event = Event::opened;
    bool escalate = false; // also the lead/escalation contact
};
using Router = std::function<std::vector<Recipient>(const RouteRequest&)>;

struct ApplyCounts {
    int opened = 0;
    int pending = 0;
    int updated = 0;
    int renotified = 0;
    int resolved = 0;
    int queued = 0; // outbox rows written
};

// The referral as queued in the outbox (and sent in webhook payloads).
nlohmann::json to_json(const Referral& referral);

// A student's referral the lifecycle still acts on: pending, open,
// acknowledged, or closed and not yet released.
struct LiveReferral {
    std::int64_t id = 0;
    std::string state;
    int tier = 0;
    std::string opened_on;
    std::string last_notified_on;
    bool escalated = false;
};
using LiveReferrals = std::map<std::string, LiveReferral>; // by rule id

// Read once per student: it gives the evaluator its `active` set and the
// lifecycle what to update.
LiveReferrals live_referrals(store::Database& db, const std::string& student_id);

// The rules whose referral is open or acknowledged: the evaluator's `active`
// set (hysteresis).
std::set<std::string> active_rules(const LiveReferrals& live);

// Applies the outcomes of evaluate_student(..., as_of), evaluated with
// active_rules(live), to the student's referrals and queues their
// notifications. Runs inside the caller's transaction; `now` (Unix seconds)
// stamps the outbox rows.
ApplyCounts apply_evaluation(store::Database& db, const store::StudentData& student,
                             const LiveReferrals& live,
                             const std::vector<rules::RuleOutcome>& outcomes, int as_of,
                             const store::Calendars& calendars, const LifecycleSettings& settings,
                             const Router& router, std::int64_t now);

// Listing and specialists' changes (`ewsd referrals`).
struct ReferralRow {
    std::int64_t id = 0;
    std::string student_id;
    std::string rule_id;
    std::string state;
    int tier = 0;
    std::string domain;
    std::string school_id;
    int grade_level = 0;
    std::string first_seen;
    std::string opened_on;
    std::string updated_on;
    std::string ended_on;
    std::string note;
};
std::vector<ReferralRow> list_referrals(store::Database& db, const std::string& state,
                                        const std::string& student_id);
// ack: open -> acknowledged; close: pending|open|acknowledged -> closed. Returns
// an error message, or empty on success.
std::string acknowledge(store::Database& db, std::int64_t id, const std::string& note,
                        const std::string& today);
std::string close(store::Database& db, std::int64_t id, const std::string& reason,
                  const std::string& today);

} // namespace ewsd::referrals
