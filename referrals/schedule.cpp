#include "referrals/schedule.hpp"

#include "referrals/routing.hpp"
#include "util/local_time.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

namespace ewsd::referrals {

namespace {

// A calendar with no instructional day this far ahead is taken as summer (or
// missing), not a break: digests then go on weekdays rather than wait months.
constexpr int calendar_horizon_days = 60;

bool is_weekday(int day) {
    const std::chrono::weekday w{std::chrono::sys_days{std::chrono::days{day}}};
    return w != std::chrono::Saturday && w != std::chrono::Sunday;
}

std::optional<std::int64_t> instructional_digest(const store::Calendars& calendars,
                                                 const std::string& school, int minutes,
                                                 int from_day, std::int64_t earliest) {
    std::vector<int> days;
    calendars.instructional_days(school, from_day, from_day + calendar_horizon_days, days);
    for (const int day : days) {
        if (const std::int64_t at = util::local_to_unix(day, minutes); at >= earliest) {
            return at;
        }
    }
    return std::nullopt;
}

std::int64_t weekday_digest(int minutes, int from_day, std::int64_t earliest) {
    for (int day = from_day;; ++day) {
        if (const std::int64_t at = util::local_to_unix(day, minutes);
            is_weekday(day) && at >= earliest) {
            return at;
        }
    }
}

// The first digest at or after `earliest` on a day from `from_day` on. A
// calendar whose last day ahead is today, with its digest already past, also
// falls back to weekdays.
std::int64_t first_digest(const store::Calendars& calendars, const std::string& school, int minutes,
                          int from_day, std::int64_t earliest) {
    if (const auto at = instructional_digest(calendars, school, minutes, from_day, earliest)) {
        return *at;
    }
    return weekday_digest(minutes, from_day, earliest);
}

bool has_recipient(const std::vector<Recipient>& out, const std::string& id,
                   const std::string& channel) {
    return std::any_of(out.begin(), out.end(), [&](const Recipient& r) {
        return r.specialist_id == id && r.channel == channel;
    });
}

// One recipient per channel the specialist has; an escalation contact who is
// already a recipient on that channel is not added twice.
void add_recipient(std::vector<Recipient>& out, const core::Specialist& s, bool digest,
                   std::int64_t due_at) {
    for (const auto& channel : channels_of(s)) {
        if (!has_recipient(out, s.id, channel)) {
            out.push_back({s.id, channel, digest, due_at});
        }
    }
}

// Tier 3 cannot wait for tomorrow morning; its resolution can.
bool waits_for_digest(const core::Specialist& s, const RouteRequest& request) {
    return s.digest && (request.referral->tier < 3 || request.event == Event::resolved);
}

} // namespace

std::int64_t next_digest_at(const store::Calendars& calendars, const std::string& school,
                            int digest_minutes, std::int64_t now) {
    return first_digest(calendars, school, digest_minutes, util::local_day(now), now);
}

std::int64_t next_day_digest_at(const store::Calendars& calendars, const std::string& school,
                                int digest_minutes, std::int64_t now) {
    return first_digest(calendars, school, digest_minutes, util::local_day(now) + 1, now);
}

Router make_router(const core::NotifyConfig& notify, const store::Calendars& calendars,
                   std::int64_t now) {
    return [&notify, &calendars, now](const RouteRequest& request) {
        const Referral& r = *request.referral;
        const RouteDecision decision =
            route(notify, {r.notify, r.domain, r.tier, r.student.school_id, r.student.grade_level});
        std::vector<Recipient> out;
        for (const core::Specialist* s : decision.recipients) {
            if (waits_for_digest(*s, request)) {
                add_recipient(
                    out, *s, true,
                    next_digest_at(calendars, r.student.school_id, s->digest_time_minutes, now));
            } else {
                add_recipient(out, *s, false, now);
            }
        }
        if (!request.escalate) {
            return out;
        }
        for (const core::Specialist* s : decision.recipients) {
            const std::string& contact = s->lead.empty() ? notify.admin : s->lead;
            if (const core::Specialist* c = find_specialist(notify, contact)) {
                add_recipient(out, *c, false, now);
            }
        }
        return out;
    };
}

} // namespace ewsd::referrals
