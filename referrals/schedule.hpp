#pragma once
// When notifications are due: digests at each specialist's digest time on
// the instructional days of the referral's school (school-local time, see
// util/local_time), immediate messages now; and the Router the lifecycle asks
// who receives a notification (routing.hpp decides who, this file when and
// through which channel).

#include "core/notify_config.hpp"
#include "referrals/lifecycle.hpp"
#include "store/student_data.hpp"

#include <cstdint>
#include <string>

namespace ewsd::referrals {

// The Unix time of the first digest at or after `now`: `digest_minutes` after
// local midnight on an instructional day of `school`. When the calendar has no
// instructional day in the next 60 days (summer, or a school without a
// calendar), the next weekday.
std::int64_t next_digest_at(const store::Calendars& calendars, const std::string& school,
                            int digest_minutes, std::int64_t now);

// The first such digest on a later local day than `now`'s: where notifications
// held back by a caseload cap wait.
std::int64_t next_day_digest_at(const store::Calendars& calendars, const std::string& school,
                                int digest_minutes, std::int64_t now);

// Routes each notification with route() and returns one Recipient per
// specialist and channel (email and/or webhook, as the specialist has them).
// Digest recipients get due_at = their next digest, except tier 3 referrals
// (immediate, unless the event is referral.resolved); everyone else now. An
// escalation also reaches the lead of each routed specialist (the admin for
// one without a lead), immediately. `notify` and `calendars` must outlive the
// router.
Router make_router(const core::NotifyConfig& notify, const store::Calendars& calendars,
                   std::int64_t now);

} // namespace ewsd::referrals
