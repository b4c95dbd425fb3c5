#include "referrals/lifecycle.hpp"

#include "util/date.hpp"

#include <SQLiteCpp/Statement.h>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

namespace ewsd::referrals {

namespace {

// The evidence as the referral model keeps it.
std::vector<EvidenceItem> evidence_items(const std::vector<rules::Evidence>& evidence) {
    std::vector<EvidenceItem> out;
    out.reserve(evidence.size());
    for (const auto& e : evidence) {
        out.push_back({e.metric, e.window, e.value, e.op, e.threshold, e.holds});
    }
    return out;
}

nlohmann::json evidence_json(const std::vector<EvidenceItem>& evidence) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : evidence) {
        out.push_back({{"metric", e.metric},
                       {"window", e.window},
                       {"value", e.value},
                       {"op", e.op},
                       {"threshold", e.threshold},
                       {"holds", e.holds}});
    }
    return out;
}

// Instructional days of the student's school after `from` up to `to`.
int school_days_between(const store::Calendars& calendars, const std::string& school,
                        const std::string& from, int to) {
    const auto start = util::parse_iso_date(from);
    if (!start) {
        return 0;
    }
    std::vector<int> days;
    calendars.instructional_days(school, util::to_day_number(*start) + 1, to, days);
    return static_cast<int>(days.size());
}

class Applier {
public:
    Applier(store::Database& db, const store::StudentData& student, int as_of,
            const store::Calendars& calendars, const LifecycleSettings& settings,
            const Router& router, std::int64_t now)
        : m_db(db), m_student(student),
          m_as_of(util::format_iso_date(util::from_day_number(as_of))), m_as_of_day(as_of),
          m_calendars(calendars), m_settings(settings), m_router(router), m_now(now) {
        const store::EnrollmentSpan* e = store::current_enrollment(student, as_of);
        m_model.id = student.student_id;
        m_model.school_id = e != nullptr ? e->school_id : "";
        m_model.grade_level = e != nullptr ? e->grade_level : 0;
    }

    ApplyCounts run(const LiveReferrals& live, const std::vector<rules::RuleOutcome>& outcomes) {
        int student_tier = 0;
        for (const auto& o : outcomes) {
            if (o.fired && !frozen(o)) {
                student_tier = std::max(student_tier, o.rule->tier);
            }
        }
        bool opened_any = false;
        std::vector<std::pair<const rules::RuleOutcome*, LiveReferral>> continuing;
        for (const auto& o : outcomes) {
            if (frozen(o)) {
                continue;
            }
            const auto it = live.find(o.rule->id);
            const LiveReferral* r = it == live.end() ? nullptr : &it->second;
            const int tier = std::max(o.rule->tier, student_tier);
            if (r != nullptr && r->state == "closed") {
                // Closed by a specialist: no new referral until the condition stops.
                if (!o.fired && !o.pending) {
                    release(r->id);
                }
                continue;
            }
            if (o.fired) {
                if (r == nullptr || r->state == "pending") {
                    open(o, r, tier);
                    opened_any = true;
                } else {
                    continuing.emplace_back(&o, *r);
                }
            } else if (o.pending) {
                if (r == nullptr) {
                    insert(o, "pending", tier, evidence_json(evidence_items(o.evidence)).dump());
                    ++m_counts.pending;
                }
            } else if (r != nullptr) {
                resolve(o, *r);
            }
        }
        // A higher tier (say a composite rule now fires) updates the open
        // referrals; the message of a referral opened now already says so.
        for (const auto& [o, r] : continuing) {
            keep(*o, r, std::max(o->rule->tier, student_tier), opened_any);
        }
        return m_counts;
    }

private:
    [[nodiscard]] bool frozen(const rules::RuleOutcome& o) const {
        return !m_settings.frozen.empty() && m_settings.frozen.count(o.rule->id) != 0;
    }

    store::Database& m_db;
    const store::StudentData& m_student;
    std::string m_as_of;
    int m_as_of_day;
    const store::Calendars& m_calendars;
    const LifecycleSettings& m_settings;
    const Router& m_router;
    std::int64_t m_now;
    Student m_model;
    bool m_names_read = false;
    ApplyCounts m_counts;

    Referral model(const rules::RuleOutcome& o, std::int64_t id, int tier, State state,
                   const std::string& opened_on) const {
        Referral r;
        r.id = id;
        r.student = m_model;
        r.rule_id = o.rule->id;
        r.rule_name = o.rule->name;
        r.rule_description = o.rule->description;
        r.domain = rules::to_string(o.rule->domain);
        r.notify = o.rule->notify;
        r.tier = tier;
        r.state = state;
        r.opened_on = opened_on;
        r.as_of = m_as_of;
        r.evidence = evidence_items(o.evidence);
        return r;
    }

    std::int64_t insert(const rules::RuleOutcome& o, const char* state, int tier,
                        const std::string& evidence) {
        SQLite::Statement q(m_db.sql(), R"sql(
INSERT INTO referrals (student_id, rule_id, state, tier, domain, notify, school_id, grade_level,
                       first_seen, opened_on, last_notified_on, updated_on, evidence)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?))sql");
        const bool open = std::string(state) == "open";
        q.bind(1, m_student.student_id);
        q.bind(2, o.rule->id);
        q.bind(3, state);
        q.bind(4, tier);
        q.bind(5, rules::to_string(o.rule->domain));
        q.bind(6, o.rule->notify);
        q.bind(7, m_model.school_id);
        q.bind(8, m_model.grade_level);
        q.bind(9, m_as_of);
        if (open) {
            q.bind(10, m_as_of);
            q.bind(11, m_as_of);
        }
        q.bind(12, m_as_of);
        q.bind(13, evidence);
        q.exec();
        return m_db.sql().getLastInsertRowid();
    }

    void open(const rules::RuleOutcome& o, const LiveReferral* pending, int tier) {
        Referral referral = model(o, 0, tier, State::open, m_as_of);
        const std::string evidence = evidence_json(referral.evidence).dump();
        std::int64_t id = 0;
        if (pending != nullptr) {
            id = pending->id;
            SQLite::Statement q(m_db.sql(),
                                "UPDATE referrals SET state = 'open', tier = ?, opened_on = ?, "
                                "last_notified_on = ?, updated_on = ?, evidence = ? "
                                "WHERE referral_id = ?");
            q.bind(1, tier);
            q.bind(2, m_as_of);
            q.bind(3, m_as_of);
            q.bind(4, m_as_of);
            q.bind(5, evidence);
            q.bind(6, id);
            q.exec();
        } else {
            id = insert(o, "open", tier, evidence);
        }
        referral.id = id;
        ++m_counts.opened;
        queue(referral, Event::opened, false);
    }

    void keep(const rules::RuleOutcome& o, const LiveReferral& r, int tier, bool opened_any) {
        const bool tier_rose = tier > r.tier;
        bool renotify = false;
        bool escalate = false;
        if (r.state == "open") {
            const int since_notified = school_days_between(m_calendars, m_model.school_id,
                                                           r.last_notified_on, m_as_of_day);
            renotify = m_settings.renotify_after_days > 0 &&
                       since_notified >= m_settings.renotify_after_days;
            const int since_opened =
                school_days_between(m_calendars, m_model.school_id, r.opened_on, m_as_of_day);
            escalate = !r.escalated && m_settings.escalate_after_days > 0 &&
                       since_opened >= m_settings.escalate_after_days;
        }
        SQLite::Statement q(m_db.sql(), R"sql(
UPDATE referrals SET tier = ?, updated_on = ?, evidence = ?,
       last_notified_on = CASE WHEN ? THEN ? ELSE last_notified_on END,
       renotify_count = renotify_count + ?, escalated = escalated OR ?
WHERE referral_id = ?)sql");
        const bool notifies = renotify || escalate || (tier_rose && !opened_any);
        const State state = r.state == "open" ? State::open : State::acknowledged;
        Referral model_now = model(o, r.id, std::max(tier, r.tier), state, r.opened_on);
        model_now.escalated = escalate || r.escalated;
        q.bind(1, model_now.tier);
        q.bind(2, m_as_of);
        q.bind(3, evidence_json(model_now.evidence).dump());
        q.bind(4, notifies ? 1 : 0);
        q.bind(5, m_as_of);
        q.bind(6, renotify || escalate ? 1 : 0);
        q.bind(7, escalate ? 1 : 0);
        q.bind(8, r.id);
        q.exec();
        if (renotify || escalate) {
            ++m_counts.renotified;
            queue(model_now, Event::renotified, escalate);
        } else if (tier_rose && !opened_any) {
            ++m_counts.updated;
            queue(model_now, Event::updated, false);
        }
    }

    void release(std::int64_t id) {
        SQLite::Statement q(m_db.sql(), "UPDATE referrals SET released = 1 WHERE referral_id = ?");
        q.bind(1, id);
        q.exec();
    }

    void resolve(const rules::RuleOutcome& o, const LiveReferral& r) {
        SQLite::Statement q(m_db.sql(), "UPDATE referrals SET state = 'resolved', ended_on = ?, "
                                        "updated_on = ? WHERE referral_id = ?");
        q.bind(1, m_as_of);
        q.bind(2, m_as_of);
        q.bind(3, r.id);
        q.exec();
        if (r.state != "pending") { // a pending referral was never announced
            ++m_counts.resolved;
            queue(model(o, r.id, r.tier, State::resolved, r.opened_on), Event::resolved, false);
        }
    }

    // The student's names are read only when a message is queued, not for
    // every student evaluated.
    const Student& named_student() {
        if (!m_names_read) {
            m_names_read = true;
            SQLite::Statement names(
                m_db.sql(), "SELECT first_name, last_name FROM students WHERE student_id = ?");
            names.bind(1, m_student.student_id);
            if (names.executeStep()) {
                m_model.first_name = names.getColumn(0).getString();
                m_model.last_name = names.getColumn(1).getString();
            }
        }
        return m_model;
    }

    void queue(Referral referral, Event event, bool escalate) {
        referral.student = named_student();
        const auto recipients = m_router(RouteRequest{&referral, event, escalate});
        if (recipients.empty()) {
            return;
        }
        SQLite::Statement q(m_db.sql(), R"sql(
INSERT INTO outbox (kind, referral_id, student_id, recipient, channel, delivery, created_at,
                    due_at, payload)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?))sql");
        const std::string payload = to_json(referral).dump();
        for (const auto& to : recipients) {
            q.bind(1, to_string(event));
            q.bind(2, referral.id);
            q.bind(3, referral.student.id);
            q.bind(4, to.specialist_id);
            q.bind(5, to.channel);
            q.bind(6, to.digest ? "digest" : "immediate");
            q.bind(7, m_now);
            q.bind(8, to.due_at);
            q.bind(9, payload);
            q.exec();
            q.reset();
            ++m_counts.queued;
        }
    }
};

} // namespace

nlohmann::json to_json(const Referral& r) {
    return {{"referral_id", r.id},
            {"student",
             {{"id", r.student.id},
              {"first_name", r.student.first_name},
              {"last_name", r.student.last_name},
              {"school_id", r.student.school_id},
              {"grade_level", r.student.grade_level}}},
            {"rule_id", r.rule_id},
            {"rule_name", r.rule_name},
            {"rule_description", r.rule_description},
            {"domain", r.domain},
            {"notify", r.notify},
            {"tier", r.tier},
            {"state", to_string(r.state)},
            {"opened_on", r.opened_on},
            {"as_of", r.as_of},
            {"escalated", r.escalated},
            {"evidence", evidence_json(r.evidence)}};
}

LiveReferrals live_referrals(store::Database& db, const std::string& student_id) {
    SQLite::Statement q(db.sql(), "SELECT rule_id, referral_id, state, tier, "
                                  "coalesce(opened_on, ''), coalesce(last_notified_on, ''), "
                                  "escalated FROM referrals WHERE student_id = ? AND (state IN "
                                  "('pending', 'open', 'acknowledged') OR (state = 'closed' "
                                  "AND released = 0)) ORDER BY referral_id");
    q.bind(1, student_id);
    LiveReferrals out;
    while (q.executeStep()) {
        out[q.getColumn(0).getString()] = LiveReferral{
            q.getColumn(1).getInt64(),  q.getColumn(2).getString(), q.getColumn(3).getInt(),
            q.getColumn(4).getString(), q.getColumn(5).getString(), q.getColumn(6).getInt() != 0};
    }
    return out;
}

std::set<std::string> active_rules(const LiveReferrals& live) {
    std::set<std::string> out;
    for (const auto& [rule_id, r] : live) {
        if (r.state == "open" || r.state == "acknowledged") {
            out.insert(rule_id);
        }
    }
    return out;
}

ApplyCounts apply_evaluation(store::Database& db, const store::StudentData& student,
                             const LiveReferrals& live,
                             const std::vector<rules::RuleOutcome>& outcomes, int as_of,
                             const store::Calendars& calendars, const LifecycleSettings& settings,
                             const Router& router, std::int64_t now) {
    Applier applier(db, student, as_of, calendars, settings, router, now);
    return applier.run(live, outcomes);
}

std::vector<ReferralRow> list_referrals(store::Database& db, const std::string& state,
                                        const std::string& student_id) {
    SQLite::Statement q(db.sql(), R"sql(
SELECT referral_id, student_id, rule_id, state, tier, domain, school_id, grade_level, first_seen,
       coalesce(opened_on, ''), updated_on, coalesce(ended_on, ''), coalesce(note, '')
FROM referrals WHERE (?1 = '' OR state = ?1) AND (?2 = '' OR student_id = ?2)
ORDER BY tier DESC, student_id, rule_id)sql");
    q.bind(1, state);
    q.bind(2, student_id);
    std::vector<ReferralRow> out;
    while (q.executeStep()) {
        out.push_back(ReferralRow{
            q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
            q.getColumn(3).getString(), q.getColumn(4).getInt(), q.getColumn(5).getString(),
            q.getColumn(6).getString(), q.getColumn(7).getInt(), q.getColumn(8).getString(),
            q.getColumn(9).getString(), q.getColumn(10).getString(), q.getColumn(11).getString(),
            q.getColumn(12).getString()});
    }
    return out;
}

namespace {

std::string change_state(store::Database& db, std::int64_t id, const std::string& to,
                         const std::string& allowed_sql, const std::string& note,
                         const std::string& today) {
    SQLite::Statement current(db.sql(), "SELECT state FROM referrals WHERE referral_id = ?");
    current.bind(1, id);
    if (!current.executeStep()) {
        return "no referral " + std::to_string(id);
    }
    const std::string state = current.getColumn(0).getString();
    SQLite::Statement q(db.sql(), "UPDATE referrals SET state = ?, note = ?, updated_on = ?, "
                                  "ended_on = CASE WHEN ? = 'closed' THEN ? ELSE ended_on END "
                                  "WHERE referral_id = ? AND state IN (" +
                                      allowed_sql + ")");
    q.bind(1, to);
    q.bind(2, note);
    q.bind(3, today);
    q.bind(4, to);
    q.bind(5, today);
    q.bind(6, id);
    if (q.exec() == 0) {
        return "referral " + std::to_string(id) + " is " + state + "; it cannot become " + to;
    }
    return {};
}

} // namespace

std::string acknowledge(store::Database& db, std::int64_t id, const std::string& note,
                        const std::string& today) {
    return change_state(db, id, "acknowledged", "'open'", note, today);
}

std::string close(store::Database& db, std::int64_t id, const std::string& reason,
                  const std::string& today) {
    return change_state(db, id, "closed", "'pending', 'open', 'acknowledged'", reason, today);
}

} // namespace ewsd::referrals
