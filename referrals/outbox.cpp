#include "referrals/outbox.hpp"

#include "referrals/routing.hpp"
#include "referrals/schedule.hpp"
#include "store/queries.hpp"
#include "util/failpoint.hpp"
#include "util/local_time.hpp"
#include "util/log.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

namespace ewsd::referrals {

namespace {

const char* const alert_kind = "alert";

struct Row {
    std::int64_t id = 0;
    std::string kind;
    std::string student_id;
    std::string delivery;
    std::int64_t due_at = 0;
    int attempts = 0;
    std::int64_t batch = 0;
    std::int64_t first_attempt_at = 0; // 0: never tried
    nlohmann::json payload;
    int tier = 0;
    std::string school_id;
    std::string rule_id;
};

// One email or POST: a single row, or the rows of one digest batch.
struct Message {
    std::vector<Row> rows;
    bool digest = false;
};

std::string id_list(const std::vector<Row>& rows) {
    std::string out;
    for (const auto& r : rows) {
        out += (out.empty() ? "" : ",") + std::to_string(r.id);
    }
    return out;
}

// The rows' ids as a JSON array for `WHERE message_id IN (SELECT value FROM json_each(?))`.
std::string id_json(const std::vector<Row>& rows) {
    return "[" + id_list(rows) + "]";
}

Row read_row(SQLite::Statement& q) {
    Row r;
    r.id = q.getColumn(0).getInt64();
    r.kind = q.getColumn(1).getString();
    r.student_id = q.getColumn(2).getString();
    r.delivery = q.getColumn(3).getString();
    r.due_at = q.getColumn(4).getInt64();
    r.attempts = q.getColumn(5).getInt();
    r.batch = q.getColumn(6).getInt64();
    r.first_attempt_at = q.getColumn(7).getInt64();
    r.payload = nlohmann::json::parse(q.getColumn(8).getString(), nullptr, false);
    if (r.payload.is_object() && r.kind != alert_kind) {
        r.tier = r.payload.value("tier", 0);
        r.rule_id = r.payload.value("rule_id", "");
        if (r.payload.contains("student") && r.payload["student"].is_object()) {
            r.school_id = r.payload["student"].value("school_id", "");
        }
    }
    return r;
}

int queue_to(store::Database& db, const core::NotifyConfig& notify, const std::string& to,
             const std::string& subject, const std::string& text, std::int64_t now) {
    const core::Specialist* s = find_specialist(notify, to);
    if (s == nullptr) {
        return 0;
    }
    const std::string payload = nlohmann::json{{"subject", subject}, {"text", text}}.dump();
    SQLite::Statement q(db.sql(), R"sql(
INSERT INTO outbox (kind, recipient, channel, delivery, created_at, due_at, payload)
VALUES ('alert', ?, ?, 'immediate', ?, ?, ?))sql");
    int queued = 0;
    for (const auto& channel : channels_of(*s)) {
        q.bind(1, s->id);
        q.bind(2, channel);
        q.bind(3, now);
        q.bind(4, now);
        q.bind(5, payload);
        q.exec();
        q.reset();
        ++queued;
    }
    return queued;
}

class Drainer {
public:
    Drainer(store::Database& db, const core::NotifyConfig& notify, const Renderer& renderer,
            const Transports& transports, const store::Calendars& calendars,
            const OutboxSettings& settings, std::int64_t now, std::uint64_t seed,
            const std::atomic<bool>* stop)
        : m_db(db), m_notify(notify), m_renderer(renderer), m_transports(transports),
          m_calendars(calendars), m_settings(settings), m_now(now), m_random(seed), m_stop(stop) {}

    // The (recipient, channel) pairs with rows due.
    std::vector<std::pair<std::string, std::string>> due_groups() {
        SQLite::Statement q(m_db.sql(), R"sql(
SELECT DISTINCT recipient, channel FROM outbox
WHERE state = 'pending' AND (due_at <= ?1 OR (?2 AND delivery = 'digest' AND attempts = 0))
ORDER BY recipient, channel)sql");
        q.bind(1, m_now);
        q.bind(2, m_settings.flush_digests ? 1 : 0);
        std::vector<std::pair<std::string, std::string>> out;
        while (q.executeStep()) {
            out.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getString());
        }
        return out;
    }

    // Sends the group's due rows: first the digests already tried (their
    // batches), then the rest page by page, so that memory stays bounded
    // however many rows a first day queues. Returns false when stopped.
    bool group(const std::string& recipient, const std::string& channel) {
        const core::Specialist* to = find_specialist(m_notify, recipient);
        const std::string why = unreachable(to, recipient, channel);
        const std::size_t page = std::max<std::size_t>(1, m_settings.digest_max_items) * 4;
        const auto process = [&](std::vector<Row> rows) {
            if (rows.empty()) {
                return true;
            }
            if (!why.empty()) {
                give_up(recipient, channel, {{std::move(rows)}}, why);
                return true;
            }
            return send_rows(*to, channel, std::move(rows));
        };
        if (!process(due_rows(recipient, channel, true, 0, 0))) {
            return false;
        }
        for (std::int64_t after = 0;;) {
            std::vector<Row> rows = due_rows(recipient, channel, false, after, page);
            if (rows.empty()) {
                break;
            }
            after = rows.back().id;
            const bool last = rows.size() < page;
            if (!process(std::move(rows))) {
                return false;
            }
            if (last) {
                break;
            }
        }
        report_dead(recipient, channel);
        return true;
    }

    DrainReport& report() { return m_report; }

private:
    store::Database& m_db;
    const core::NotifyConfig& m_notify;
    const Renderer& m_renderer;
    const Transports& m_transports;
    const store::Calendars& m_calendars;
    const OutboxSettings& m_settings;
    std::int64_t m_now;
    std::mt19937_64 m_random;
    const std::atomic<bool>* m_stop;
    DrainReport m_report;
    // Endpoints (the SMTP server, a webhook URL) that failed in this drain:
    // the rest of their messages wait until this time instead of each timing out.
    std::map<std::string, std::int64_t> m_broken;
    // Rows given up on in the current group, for one alert per group.
    int m_dead_in_group = 0;
    std::string m_dead_detail;
    // Rows held back by a caseload cap in this drain: not picked up again by
    // a later round (with flush_digests they would look due).
    std::set<std::int64_t> m_held;

    bool send_rows(const core::Specialist& to, const std::string& channel, std::vector<Row> rows) {
        if (to.max_new_per_day > 0) {
            rows = apply_caseload_cap(to, channel, std::move(rows));
        }
        for (auto& message : messages(std::move(rows))) {
            if (m_stop != nullptr && m_stop->load()) {
                return false;
            }
            send(to, channel, message);
            if (m_settings.progress) {
                m_settings.progress();
            }
        }
        return true;
    }

    // The due rows of a digest already tried (batched), or else the next
    // `limit` unbatched ones after message `after`.
    std::vector<Row> due_rows(const std::string& recipient, const std::string& channel,
                              bool batched, std::int64_t after, std::size_t limit) {
        SQLite::Statement q(m_db.sql(), R"sql(
SELECT message_id, kind, coalesce(student_id, ''), delivery, due_at, attempts,
       coalesce(batch, 0), coalesce(first_attempt_at, 0), payload
FROM outbox
WHERE recipient = ?1 AND channel = ?2 AND state = 'pending'
  AND (due_at <= ?3 OR (?4 AND delivery = 'digest' AND attempts = 0))
  AND (batch IS NOT NULL) = ?5 AND message_id > ?6
ORDER BY message_id LIMIT ?7)sql");
        q.bind(1, recipient);
        q.bind(2, channel);
        q.bind(3, m_now);
        q.bind(4, m_settings.flush_digests ? 1 : 0);
        q.bind(5, batched ? 1 : 0);
        q.bind(6, after);
        q.bind(7, batched ? std::int64_t{-1} : static_cast<std::int64_t>(limit));
        std::vector<Row> rows;
        while (q.executeStep()) {
            if (m_held.count(q.getColumn(0).getInt64()) == 0) {
                rows.push_back(read_row(q));
            }
        }
        return rows;
    }

    // Why rows for this recipient and channel cannot be sent at all, or empty.
    std::string unreachable(const core::Specialist* to, const std::string& recipient,
                            const std::string& channel) {
        if (to == nullptr) {
            return "'" + recipient + "' is no longer a specialist in the configuration";
        }
        if (channel == "email") {
            if (to->email.empty()) {
                return "'" + recipient + "' has no email address in the configuration";
            }
            if (!m_transports.email) {
                return "no email transport: configure smtp or delivery.output_dir";
            }
        } else {
            if (to->webhook_url.empty()) {
                return "'" + recipient + "' has no webhook in the configuration";
            }
            if (!m_transports.webhook) {
                return "no webhook transport";
            }
        }
        return "";
    }

    bool endpoint_disabled(const core::Specialist& to, const std::string& channel) {
        if (channel != "webhook") {
            return false;
        }
        SQLite::Statement q(m_db.sql(),
                            "SELECT 1 FROM disabled_endpoints WHERE recipient = ? AND url = ?");
        q.bind(1, to.id);
        q.bind(2, to.webhook_url);
        return q.executeStep();
    }

    std::string endpoint_key(const core::Specialist& to, const std::string& channel) const {
        return channel == "email" ? "email" : "webhook " + to.webhook_url;
    }

    // Referrals newly opened past the specialist's daily cap wait for the next
    // day's digest; tier 3 always goes (and counts). The lead is told once a day.
    std::vector<Row> apply_caseload_cap(const core::Specialist& to, const std::string& channel,
                                        std::vector<Row> rows) {
        const int today = util::local_day(m_now);
        SQLite::Statement sent(m_db.sql(), R"sql(
SELECT count(*) FROM outbox WHERE recipient = ? AND channel = ? AND kind = 'referral.opened'
  AND state = 'sent' AND sent_at >= ?)sql");
        sent.bind(1, to.id);
        sent.bind(2, channel);
        sent.bind(3, util::local_to_unix(today, 0));
        sent.executeStep();
        int allowed = to.max_new_per_day - sent.getColumn(0).getInt();

        std::vector<const Row*> opened;
        for (const auto& r : rows) {
            if (r.kind == "referral.opened" && r.attempts == 0 && r.batch == 0) {
                opened.push_back(&r);
            }
        }
        std::stable_sort(opened.begin(), opened.end(),
                         [](const Row* a, const Row* b) { return a->tier > b->tier; });
        std::set<std::int64_t> held;
        for (const Row* r : opened) {
            if (r->tier >= 3 || allowed > 0) {
                --allowed;
            } else {
                held.insert(r->id);
            }
        }
        if (held.empty()) {
            return rows;
        }
        SQLite::Transaction txn(m_db.sql());
        SQLite::Statement hold(m_db.sql(), "UPDATE outbox SET due_at = ?, delivery = 'digest' "
                                           "WHERE message_id = ?");
        std::vector<Row> kept;
        for (auto& r : rows) {
            if (held.count(r.id) == 0) {
                kept.push_back(std::move(r));
                continue;
            }
            hold.bind(1,
                      next_day_digest_at(m_calendars, r.school_id, to.digest_time_minutes, m_now));
            hold.bind(2, r.id);
            hold.exec();
            hold.reset();
        }
        m_report.held_back += static_cast<int>(held.size());
        m_held.insert(held.begin(), held.end());
        tell_lead(to, channel, today);
        txn.commit();
        util::log::notice("outbox: caseload cap of " + std::to_string(to.max_new_per_day) +
                          " new referrals a day reached for " + to.id + ": " +
                          std::to_string(held.size()) + " wait for the next day's digest");
        return kept;
    }

    void tell_lead(const core::Specialist& to, const std::string& channel, int today) {
        const std::string key = "caseload_notice." + to.id;
        if (store::meta_value(m_db, key) == std::to_string(today)) {
            return;
        }
        SQLite::Statement waiting(m_db.sql(), R"sql(
SELECT count(*) FROM outbox WHERE recipient = ? AND channel = ? AND kind = 'referral.opened'
  AND state = 'pending' AND due_at > ?)sql");
        waiting.bind(1, to.id);
        waiting.bind(2, channel);
        waiting.bind(3, m_now);
        waiting.executeStep();
        const int n = waiting.getColumn(0).getInt();
        const std::string lead = !to.lead.empty() ? to.lead : m_notify.admin;
        const std::string name = to.name.empty() ? to.id : to.name;
        const int queued = queue_to(
            m_db, m_notify, lead,
            "Caseload: " + std::to_string(n) + " new referrals for " + name + " are waiting",
            name + " has reached today's cap of " + std::to_string(to.max_new_per_day) +
                " new referrals (max_new_per_day).\n" + std::to_string(n) +
                " more wait for the next day's digest; none is dropped.\n"
                "To share the load, route some of them to a colleague (routes in ewsd.yaml) "
                "or raise the cap.",
            m_now);
        m_report.alerts_queued += queued;
        store::set_meta_value(m_db, key, std::to_string(today));
    }

    // Rows already tried together go together again (their batch). Otherwise
    // immediate rows go one message per student (several referrals of one
    // student, as when a composite rule lifts them all to tier 3, make one
    // message, not one each), and digest rows in chunks of digest_max_items.
    std::vector<Message> messages(std::vector<Row> rows) {
        std::vector<Message> out;
        std::map<std::int64_t, Message> batches;
        std::map<std::string, std::vector<Row>> by_student; // immediate referral rows
        std::vector<Row> digest;
        for (auto& r : rows) {
            if (r.batch != 0) {
                auto& m = batches[r.batch];
                m.digest = true;
                m.rows.push_back(std::move(r));
            } else if (r.kind == alert_kind) {
                out.push_back({{std::move(r)}, false});
            } else if (r.delivery != "digest") {
                by_student[r.student_id].push_back(std::move(r));
            } else {
                digest.push_back(std::move(r));
            }
        }
        for (auto& [batch, m] : batches) {
            out.push_back(std::move(m));
        }
        for (auto& [student, student_rows] : by_student) {
            const bool several = student_rows.size() > 1;
            Message m{std::move(student_rows), several};
            if (several) {
                assign_batch(m);
            }
            out.push_back(std::move(m));
        }
        const std::size_t chunk = std::max<std::size_t>(1, m_settings.digest_max_items);
        for (std::size_t i = 0; i < digest.size(); i += chunk) {
            Message m{{}, true};
            const auto end = std::min(digest.size(), i + chunk);
            std::move(digest.begin() + static_cast<std::ptrdiff_t>(i),
                      digest.begin() + static_cast<std::ptrdiff_t>(end),
                      std::back_inserter(m.rows));
            assign_batch(m);
            out.push_back(std::move(m));
        }
        std::stable_sort(out.begin(), out.end(), [](const Message& a, const Message& b) {
            return a.rows.front().id < b.rows.front().id;
        });
        return out;
    }

    // Fixes a digest's rows before its first attempt, so that every retry
    // sends the same digest under the same ids.
    void assign_batch(Message& m) {
        const std::int64_t batch = m.rows.front().id;
        SQLite::Statement q(m_db.sql(), "UPDATE outbox SET batch = ? WHERE message_id IN "
                                        "(SELECT value FROM json_each(?))");
        q.bind(1, batch);
        q.bind(2, id_json(m.rows));
        q.exec();
        for (auto& r : m.rows) {
            r.batch = batch;
        }
    }

    struct Rendered {
        connectors::email::EmailMessage email;
        std::string body; // webhook
        std::string webhook_id;
    };

    Rendered render(const core::Specialist& to, const std::string& channel, const Message& m) {
        Rendered out;
        const auto now = std::chrono::sys_seconds{std::chrono::seconds{m_now}};
        const Row& first = m.rows.front();
        const bool email = channel == "email";
        if (first.kind == alert_kind) {
            const std::string subject = first.payload.at("subject").get<std::string>();
            const std::string text = first.payload.at("text").get<std::string>();
            out.webhook_id = "ewsd-" + std::to_string(first.id);
            if (email) {
                out.email = m_renderer.alert_email(first.id, subject, text, to.name, to.email, now);
            } else {
                out.body = Renderer::alert_payload(subject, text, now);
            }
            return out;
        }
        std::vector<Notification> items;
        for (const auto& r : m.rows) {
            items.push_back({r.id, r.kind, referral_from_json(r.payload)});
        }
        if (m.digest) {
            out.webhook_id = "ewsd-digest-" + std::to_string(first.batch);
            if (email) {
                out.email = m_renderer.digest_email(items, to.name, to.email, now);
            } else {
                out.body = m_renderer.webhook_payload(items, true, now);
            }
        } else {
            out.webhook_id = "ewsd-" + std::to_string(first.id);
            if (email) {
                out.email = m_renderer.referral_email(items.front(), to.name, to.email, now);
            } else {
                out.body = m_renderer.webhook_payload(items, false, now);
            }
        }
        return out;
    }

    void send(const core::Specialist& to, const std::string& channel, const Message& m) {
        if (endpoint_disabled(to, channel)) {
            give_up(to.id, channel, m,
                    "the webhook is disabled since it answered 410 Gone; `ewsd outbox retry ID` "
                    "enables it again");
            return;
        }
        const std::string key = endpoint_key(to, channel);
        if (const auto broken = m_broken.find(key); broken != m_broken.end()) {
            postpone(m, broken->second);
            return;
        }
        Rendered rendered;
        try {
            rendered = render(to, channel, m);
        } catch (const std::exception& e) {
            give_up(to.id, channel, m, std::string("cannot render the message: ") + e.what());
            return;
        }
        util::failpoint("outbox.before_send");
        const connectors::DeliveryResult result =
            channel == "email" ? m_transports.email(rendered.email)
                               : m_transports.webhook(to, rendered.webhook_id, rendered.body);
        util::failpoint("outbox.after_send");
        record(to, channel, m, result);
    }

    // Not tried: the endpoint failed a moment ago in this drain.
    void postpone(const Message& m, std::int64_t until) {
        SQLite::Statement q(m_db.sql(), "UPDATE outbox SET due_at = ? WHERE message_id IN "
                                        "(SELECT value FROM json_each(?))");
        q.bind(1, until);
        q.bind(2, id_json(m.rows));
        q.exec();
        m_report.retrying += static_cast<int>(m.rows.size());
    }

    std::chrono::seconds backoff(int attempt) {
        const double first = static_cast<double>(m_settings.backoff_first.count());
        const double cap = static_cast<double>(m_settings.backoff_max.count());
        const double base = std::min(cap, first * std::pow(2.0, std::min(attempt - 1, 30)));
        std::uniform_real_distribution<double> jitter(0.8, 1.2);
        return std::chrono::seconds(
            std::max<std::int64_t>(1, std::llround(base * jitter(m_random))));
    }

    void audit(const core::Specialist& to, const std::string& channel, const Message& m,
               const char* result, const std::string& detail) {
        std::set<std::string> students;
        std::set<std::string> rules;
        for (const auto& r : m.rows) {
            if (!r.student_id.empty()) {
                students.insert(r.student_id);
            }
            if (!r.rule_id.empty()) {
                rules.insert(r.rule_id);
            }
        }
        SQLite::Statement q(m_db.sql(), R"sql(
INSERT INTO delivery_attempts (at, recipient, channel, message_ids, students, rules, result, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?))sql");
        q.bind(1, m_now);
        q.bind(2, to.id);
        q.bind(3, channel == "email" ? m_transports.email_channel : channel);
        q.bind(4, id_json(m.rows));
        q.bind(5, nlohmann::json(students).dump());
        q.bind(6, nlohmann::json(rules).dump());
        q.bind(7, result);
        q.bind(8, detail);
        q.exec();
        if (std::string_view(result) != "delivered") {
            ++m_report
                  .failures_by_notifier[channel == "email" ? m_transports.email_channel : channel];
        }
    }

    void record(const core::Specialist& to, const std::string& channel, const Message& m,
                const connectors::DeliveryResult& result) {
        const int n = static_cast<int>(m.rows.size());
        const std::string what = std::to_string(n) + (n == 1 ? " notification" : " notifications") +
                                 " (" + (m.digest ? "digest" : m.rows.front().kind) + ") to " +
                                 to.id + " by " +
                                 (channel == "email" ? m_transports.email_channel : channel);
        SQLite::Transaction txn(m_db.sql());
        audit(to, channel, m, connectors::to_string(result.status), result.detail);
        switch (result.status) {
        case connectors::DeliveryStatus::delivered: {
            SQLite::Statement q(m_db.sql(), R"sql(
UPDATE outbox SET state = 'sent', sent_at = ?1, attempts = attempts + 1, last_error = NULL,
       first_attempt_at = coalesce(first_attempt_at, ?1)
WHERE message_id IN (SELECT value FROM json_each(?2)))sql");
            q.bind(1, m_now);
            q.bind(2, id_json(m.rows));
            q.exec();
            txn.commit();
            ++m_report.messages_sent;
            m_report.notifications_sent += n;
            util::log::info("outbox: delivered " + what + ": " + result.detail);
            return;
        }
        case connectors::DeliveryStatus::retry_later:
            retry_later(to, channel, m, result, what);
            break;
        case connectors::DeliveryStatus::endpoint_gone:
            disable_endpoint(to, result.detail);
            mark_dead(m, "410 Gone: the webhook is disabled; " + result.detail);
            util::log::error("outbox: " + what + ": the endpoint answered 410 Gone; disabled");
            break;
        case connectors::DeliveryStatus::failed_permanently:
            mark_dead(m, result.detail);
            util::log::error("outbox: " + what + " refused for good: " + result.detail);
            break;
        }
        txn.commit();
    }

    void retry_later(const core::Specialist& to, const std::string& channel, const Message& m,
                     const connectors::DeliveryResult& result, const std::string& what) {
        std::int64_t first = m_now;
        int attempts = 0;
        for (const auto& r : m.rows) {
            if (r.first_attempt_at != 0) {
                first = std::min(first, r.first_attempt_at);
            }
            attempts = std::max(attempts, r.attempts);
        }
        ++attempts;
        if (m_now - first >= m_settings.retry_for.count()) {
            mark_dead(m, "gave up after " + std::to_string(attempts) + " attempts over " +
                             std::to_string((m_now - first) / 3600) + " hours: " + result.detail);
            util::log::error("outbox: " + what + ": gave up: " + result.detail);
            return;
        }
        const std::chrono::seconds delay =
            result.retry_after ? std::max(*result.retry_after, std::chrono::seconds(1))
                               : backoff(attempts);
        const std::int64_t due = m_now + delay.count();
        SQLite::Statement q(m_db.sql(), R"sql(
UPDATE outbox SET due_at = ?1, attempts = attempts + 1, last_error = ?2,
       first_attempt_at = coalesce(first_attempt_at, ?3)
WHERE message_id IN (SELECT value FROM json_each(?4)))sql");
        q.bind(1, due);
        q.bind(2, result.detail);
        q.bind(3, m_now);
        q.bind(4, id_json(m.rows));
        q.exec();
        m_broken[endpoint_key(to, channel)] = due;
        m_report.retrying += static_cast<int>(m.rows.size());
        util::log::warning("outbox: " + what + " failed (attempt " + std::to_string(attempts) +
                           "), next try in " + std::to_string(delay.count()) +
                           " s: " + result.detail);
    }

    void disable_endpoint(const core::Specialist& to, const std::string& detail) {
        SQLite::Statement q(m_db.sql(),
                            "INSERT OR REPLACE INTO disabled_endpoints "
                            "(recipient, url, disabled_at, detail) VALUES (?, ?, ?, ?)");
        q.bind(1, to.id);
        q.bind(2, to.webhook_url);
        q.bind(3, m_now);
        q.bind(4, detail);
        q.exec();
        m_report.alerts_queued += queue_to(
            m_db, m_notify, m_notify.admin, "The webhook of " + to.id + " is disabled (410 Gone)",
            "The webhook endpoint of specialist '" + to.id +
                "' answered 410 Gone: the receiver asks ewsd to stop.\n"
                "Nothing more is posted to it; its notifications are kept as dead "
                "(`ewsd outbox --state dead`).\n"
                "When the receiver is back, `ewsd outbox retry ID` sends one again and enables "
                "the endpoint; a new webhook_url in ewsd.yaml is used at once.",
            m_now);
    }

    void mark_dead(const Message& m, const std::string& error) {
        SQLite::Statement q(m_db.sql(), R"sql(
UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?1,
       first_attempt_at = coalesce(first_attempt_at, ?2)
WHERE message_id IN (SELECT value FROM json_each(?3)))sql");
        q.bind(1, error);
        q.bind(2, m_now);
        q.bind(3, id_json(m.rows));
        q.exec();
        const int n = static_cast<int>(m.rows.size());
        m_report.dead += n;
        if (m.rows.front().kind != alert_kind) { // no alerts about alerts
            m_dead_in_group += n;
            m_dead_detail = error;
        }
    }

    // Rows that cannot be sent through this recipient's channel at all.
    void give_up(const std::string& recipient, const std::string& channel, const Message& m,
                 const std::string& why) {
        SQLite::Transaction txn(m_db.sql());
        mark_dead(m, why);
        txn.commit();
        util::log::error("outbox: " + std::to_string(m.rows.size()) +
                         (m.rows.size() == 1 ? " notification to " : " notifications to ") +
                         recipient + " (" + channel + "): " + why);
    }

    // One alert to the admin per group with rows given up on.
    void report_dead(const std::string& recipient, const std::string& channel) {
        if (m_dead_in_group == 0) {
            return;
        }
        const int n = m_dead_in_group;
        m_dead_in_group = 0;
        m_report.alerts_queued += queue_to(
            m_db, m_notify, m_notify.admin,
            std::to_string(n) + (n == 1 ? " notification" : " notifications") + " to " + recipient +
                " could not be delivered",
            std::to_string(n) + " notification" + (n == 1 ? "" : "s") + " to '" + recipient +
                "' by " + channel + " could not be delivered:\n" + m_dead_detail +
                "\nThey are kept: `ewsd outbox --state dead` lists them, and `ewsd outbox retry "
                "ID` sends one again once the cause is fixed.",
            m_now);
    }
};

} // namespace

DrainReport drain(store::Database& db, const core::NotifyConfig& notify, const Renderer& renderer,
                  const Transports& transports, const store::Calendars& calendars,
                  const OutboxSettings& settings, std::int64_t now, std::uint64_t seed,
                  const std::atomic<bool>* stop) {
    Drainer drainer(db, notify, renderer, transports, calendars, settings, now, seed, stop);
    // Alerts queued while draining (a caseload notice, a dead message) are
    // due now: a second round sends them; a third catches alerts about those.
    for (int round = 0; round < 3; ++round) {
        const auto groups = drainer.due_groups();
        if (groups.empty()) {
            break;
        }
        for (const auto& [recipient, channel] : groups) {
            if (!drainer.group(recipient, channel)) {
                return drainer.report();
            }
        }
    }
    return drainer.report();
}

int queue_alert(store::Database& db, const core::NotifyConfig& notify, const std::string& subject,
                const std::string& text, std::int64_t now) {
    util::log::error("alert: " + subject + ": " + text);
    return notify.admin.empty() ? 0 : queue_to(db, notify, notify.admin, subject, text, now);
}

std::vector<OutboxRow> list_outbox(store::Database& db, const std::string& state,
                                   std::size_t limit) {
    SQLite::Statement q(db.sql(), R"sql(
SELECT message_id, kind, coalesce(referral_id, 0), coalesce(student_id, ''), recipient, channel,
       delivery, state, created_at, due_at, attempts, coalesce(last_error, '')
FROM outbox
WHERE (?1 = '' AND state IN ('pending', 'dead')) OR state = ?1
ORDER BY message_id LIMIT ?2)sql");
    q.bind(1, state);
    q.bind(2, static_cast<std::int64_t>(limit));
    std::vector<OutboxRow> out;
    while (q.executeStep()) {
        out.push_back(
            {q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getInt64(),
             q.getColumn(3).getString(), q.getColumn(4).getString(), q.getColumn(5).getString(),
             q.getColumn(6).getString(), q.getColumn(7).getString(), q.getColumn(8).getInt64(),
             q.getColumn(9).getInt64(), q.getColumn(10).getInt(), q.getColumn(11).getString()});
    }
    return out;
}

OutboxCounts count_outbox(store::Database& db, std::int64_t now) {
    SQLite::Statement q(db.sql(), R"sql(
SELECT coalesce(sum(state = 'pending'), 0), coalesce(sum(state = 'pending' AND due_at <= ?), 0),
       coalesce(sum(state = 'dead'), 0), coalesce(sum(state = 'sent'), 0)
FROM outbox)sql");
    q.bind(1, now);
    q.executeStep();
    return {q.getColumn(0).getInt64(), q.getColumn(1).getInt64(), q.getColumn(2).getInt64(),
            q.getColumn(3).getInt64()};
}

std::string retry(store::Database& db, std::int64_t message_id) {
    SQLite::Transaction txn(db.sql());
    SQLite::Statement find(db.sql(),
                           "SELECT state, recipient, channel FROM outbox WHERE message_id = ?");
    find.bind(1, message_id);
    if (!find.executeStep()) {
        return "no message " + std::to_string(message_id) + " in the outbox";
    }
    const std::string state = find.getColumn(0).getString();
    if (state == "sent") {
        return "message " + std::to_string(message_id) + " was already sent";
    }
    // A dead row leaves its digest batch: it goes as a message of its own (or
    // in the next digest) under a new id, since it was never delivered.
    SQLite::Statement q(db.sql(), R"sql(
UPDATE outbox SET state = 'pending', due_at = 0, attempts = 0, first_attempt_at = NULL,
       batch = CASE WHEN state = 'dead' THEN NULL ELSE batch END, last_error = NULL
WHERE message_id = ?)sql");
    q.bind(1, message_id);
    q.exec();
    if (find.getColumn(2).getString() == "webhook") {
        SQLite::Statement enable(db.sql(), "DELETE FROM disabled_endpoints WHERE recipient = ?");
        enable.bind(1, find.getColumn(1).getString());
        enable.exec();
    }
    txn.commit();
    return "";
}

} // namespace ewsd::referrals
