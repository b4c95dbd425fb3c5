// The outbox drain on a real SQLite file, with recording (and failing)
// transports in place of the SMTP server and webhook receiver; the real ones
// are exercised by tests/integration/delivery_cli_test.cpp.
#include "referrals/lifecycle.hpp"
#include "referrals/outbox.hpp"
#include "referrals/schedule.hpp"
#include "tests/support/temp_dir.hpp"
#include "util/local_time.hpp"

#include <SQLiteCpp/Statement.h>
#include <deque>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace ewsd;
using namespace ewsd::referrals;
using connectors::DeliveryResult;
using connectors::DeliveryStatus;

namespace {

struct Sent {
    std::string channel;
    std::string to;         // address or specialist id
    std::string message_id; // Message-ID or webhook-id
    std::string subject;
    std::string body;
};

class OutboxTest : public ::testing::Test {
protected:
    void SetUp() override {
        util::set_local_timezone("America/Chicago");
        // Tuesday 2026-01-27 08:00 local: after the 07:30 digest.
        now = *util::parse_local_time("2026-01-27T08:00");
        notify.admin = "admin";
        notify.specialists.push_back(specialist("garcia", "agarcia@district.org", ""));
        notify.specialists.push_back(specialist("hook", "", "https://receiver.invalid/hook"));
        notify.specialists.push_back(specialist("lopez", "lopez@district.org", ""));
        notify.specialists.push_back(specialist("admin", "it@district.org", ""));
        transports.email_channel = "email";
        transports.email = [this](const connectors::email::EmailMessage& m) {
            sent.push_back({"email", m.to.front(), m.message_id, m.subject, m.text_body});
            return next_result("email");
        };
        transports.webhook = [this](const core::Specialist& to, const std::string& id,
                                    const std::string& body) {
            sent.push_back({"webhook", to.id, id, "", body});
            return next_result("webhook");
        };
    }

    static core::Specialist specialist(const std::string& id, const std::string& email,
                                       const std::string& url) {
        core::Specialist s;
        s.id = id;
        s.name = id;
        s.email = email;
        s.webhook_url = url;
        return s;
    }

    core::Specialist& find(const std::string& id) {
        for (auto& s : notify.specialists) {
            if (s.id == id) {
                return s;
            }
        }
        throw std::logic_error(id);
    }

    DeliveryResult next_result(const std::string& channel) {
        auto& queue = channel == "email" ? email_results : webhook_results;
        if (queue.empty()) {
            return {DeliveryStatus::delivered, "250 OK", std::nullopt};
        }
        auto r = queue.front();
        queue.pop_front();
        return r;
    }

    std::int64_t queue(const std::string& recipient, const std::string& channel,
                       const std::string& delivery, std::int64_t due, int tier = 1,
                       const std::string& student = "S1",
                       const std::string& kind = "referral.opened") {
        Referral r;
        r.id = ++referral_id;
        r.student = {student, "Ana", "Lee", "101", 7};
        r.rule_id = "chronic-absence";
        r.rule_name = "Chronic absence";
        r.domain = "attendance";
        r.tier = tier;
        r.opened_on = "2026-01-27";
        r.as_of = "2026-01-27";
        r.evidence = {{"absence_rate(school_year)", "school_year", 0.12, ">=", 0.1, true}};
        SQLite::Statement q(db.sql(), R"sql(
INSERT INTO outbox (kind, referral_id, student_id, recipient, channel, delivery, created_at,
                    due_at, payload) VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?))sql");
        q.bind(1, kind);
        q.bind(2, student);
        q.bind(3, recipient);
        q.bind(4, channel);
        q.bind(5, delivery);
        q.bind(6, now);
        q.bind(7, due);
        q.bind(8, to_json(r).dump());
        q.exec();
        return db.sql().getLastInsertRowid();
    }

    DrainReport run(std::int64_t at) {
        const Renderer renderer({std::filesystem::path(EWSD_SOURCE_DIR) / "config/templates", true,
                                 "Early Warning <ewsd@district.org>", "ewsd.district.org"});
        return drain(db, notify, renderer, transports, calendars, settings, at, 42);
    }

    std::string column(const std::string& sql) {
        SQLite::Statement q(db.sql(), sql);
        return q.executeStep() ? q.getColumn(0).getString() : "";
    }
    std::int64_t number(const std::string& sql) {
        SQLite::Statement q(db.sql(), sql);
        return q.executeStep() ? q.getColumn(0).getInt64() : -1;
    }
    std::string state(std::int64_t id) {
        return column("SELECT state FROM outbox WHERE message_id = " + std::to_string(id));
    }

    ewsd::testing::TempDir dir;
    store::Database db{dir / "ewsd.db"};
    store::Calendars calendars; // none: digests fall back to weekdays
    core::NotifyConfig notify;
    Transports transports;
    OutboxSettings settings;
    std::int64_t now = 0;
    std::int64_t referral_id = 0;
    std::vector<Sent> sent;
    std::deque<DeliveryResult> email_results;
    std::deque<DeliveryResult> webhook_results;
};

TEST_F(OutboxTest, ImmediateMessagesGoOnceWithStableIdsAndAnAuditRow) {
    const auto a = queue("garcia", "email", "immediate", now);
    const auto b = queue("hook", "webhook", "immediate", now, 2, "S2");
    const auto report = run(now);
    EXPECT_EQ(report.messages_sent, 2);
    EXPECT_EQ(report.notifications_sent, 2);
    ASSERT_EQ(sent.size(), 2U);
    EXPECT_EQ(sent[0].to, "agarcia@district.org");
    EXPECT_EQ(sent[0].message_id, "referral-1.n-" + std::to_string(a) + "@ewsd.district.org");
    EXPECT_EQ(sent[1].message_id, "ewsd-" + std::to_string(b));
    EXPECT_EQ(nlohmann::json::parse(sent[1].body)["type"], "referral.opened");
    EXPECT_EQ(state(a), "sent");
    EXPECT_EQ(state(b), "sent");
    EXPECT_EQ(number("SELECT count(*) FROM delivery_attempts WHERE result = 'delivered'"), 2);
    EXPECT_EQ(column("SELECT students FROM delivery_attempts WHERE recipient = 'hook'"),
              R"(["S2"])");
    EXPECT_EQ(column("SELECT rules FROM delivery_attempts WHERE recipient = 'hook'"),
              R"(["chronic-absence"])");

    EXPECT_EQ(run(now + 3600).messages_sent, 0); // nothing twice
    EXPECT_EQ(sent.size(), 2U);
}

TEST_F(OutboxTest, OneStudentsImmediateReferralsGoAsOneMessage) {
    queue("garcia", "email", "immediate", now, 3, "S1");
    queue("garcia", "email", "immediate", now, 3, "S1");
    queue("garcia", "email", "immediate", now, 3, "S2");
    const auto report = run(now);
    EXPECT_EQ(report.messages_sent, 2);
    EXPECT_EQ(report.notifications_sent, 3);
    ASSERT_EQ(sent.size(), 2U);
    EXPECT_NE(sent[0].subject.find("2 referrals for 1 student"), std::string::npos)
        << sent[0].subject;
    EXPECT_NE(sent[1].subject.find("Tier 3 referral"), std::string::npos) << sent[1].subject;
}

TEST_F(OutboxTest, DigestRowsGoAsOneMessageAtTheirTime) {
    const std::int64_t at = now + 3600;
    queue("garcia", "email", "digest", at, 1, "S1");
    queue("garcia", "email", "digest", at, 2, "S2");
    queue("garcia", "email", "digest", at, 1, "S3");
    EXPECT_EQ(run(now).messages_sent, 0);
    EXPECT_TRUE(sent.empty());
    const auto report = run(at);
    EXPECT_EQ(report.messages_sent, 1);
    EXPECT_EQ(report.notifications_sent, 3);
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_NE(sent[0].subject.find("Digest"), std::string::npos) << sent[0].subject;
    EXPECT_EQ(number("SELECT count(DISTINCT batch) FROM outbox"), 1);
}

TEST_F(OutboxTest, FlushDigestsSendsThemNow) {
    queue("garcia", "email", "digest", now + 86400);
    settings.flush_digests = true;
    EXPECT_EQ(run(now).notifications_sent, 1);
}

TEST_F(OutboxTest, DigestsAreSplitAtTheirSizeLimit) {
    settings.digest_max_items = 2;
    for (int i = 0; i < 5; ++i) {
        queue("garcia", "email", "digest", now, 1, "S" + std::to_string(i));
    }
    const auto report = run(now);
    EXPECT_EQ(report.messages_sent, 3);
    EXPECT_EQ(report.notifications_sent, 5);
}

TEST_F(OutboxTest, ManyRowsAreReadPageByPage) {
    settings.digest_max_items = 2; // pages of 8 rows
    for (int i = 0; i < 21; ++i) {
        queue("garcia", "email", "immediate", now, 1, "S" + std::to_string(i));
    }
    queue("garcia", "email", "immediate", now + 60, 1, "later");
    const auto report = run(now);
    EXPECT_EQ(report.messages_sent, 21);
    EXPECT_EQ(number("SELECT count(*) FROM outbox WHERE state = 'pending'"), 1);
}

TEST_F(OutboxTest, ARetriedDigestKeepsItsRowsAndItsMessageId) {
    queue("garcia", "email", "digest", now, 1, "S1");
    queue("garcia", "email", "digest", now, 1, "S2");
    email_results.push_back({DeliveryStatus::retry_later, "451 try later", std::nullopt});
    EXPECT_EQ(run(now).retrying, 2);
    ASSERT_EQ(sent.size(), 1U);
    const std::string first_id = sent[0].message_id;
    queue("garcia", "email", "digest", now, 1, "S3"); // arrives while the digest waits

    const auto report = run(now + 2 * 3600);
    EXPECT_EQ(report.messages_sent, 2); // the same digest again, and the new one on its own
    ASSERT_EQ(sent.size(), 3U);
    EXPECT_EQ(sent[1].message_id, first_id);
    EXPECT_NE(sent[2].message_id, first_id);
    EXPECT_EQ(number("SELECT count(*) FROM outbox WHERE state = 'sent'"), 3);
}

TEST_F(OutboxTest, BackoffDoublesWithJitterAndRetryAfterIsHonoured) {
    const auto id = queue("hook", "webhook", "immediate", now);
    auto due = [&] {
        return number("SELECT due_at FROM outbox WHERE message_id = " + std::to_string(id));
    };
    webhook_results = {{DeliveryStatus::retry_later, "503", std::nullopt},
                       {DeliveryStatus::retry_later, "503", std::nullopt},
                       {DeliveryStatus::retry_later, "429", std::chrono::seconds(7)}};
    std::int64_t t = now;
    run(t);
    EXPECT_GE(due() - t, 48); // 60 s +-20%
    EXPECT_LE(due() - t, 72);
    t = due();
    run(t);
    EXPECT_GE(due() - t, 96); // 120 s +-20%
    EXPECT_LE(due() - t, 144);
    t = due();
    run(t);
    EXPECT_EQ(due() - t, 7);
    EXPECT_EQ(number("SELECT attempts FROM outbox WHERE message_id = " + std::to_string(id)), 3);
    run(due());
    EXPECT_EQ(state(id), "sent");
    EXPECT_EQ(sent.size(), 4U);
    for (const auto& s : sent) {
        EXPECT_EQ(s.message_id, "ewsd-" + std::to_string(id)); // the idempotency key
    }
    EXPECT_EQ(number("SELECT count(*) FROM delivery_attempts"), 4);
}

TEST_F(OutboxTest, AFailingEndpointIsTriedOncePerDrain) {
    queue("garcia", "email", "immediate", now, 1, "S1");
    queue("garcia", "email", "immediate", now, 1, "S2");
    queue("lopez", "email", "immediate", now, 1, "S3");
    email_results.push_back({DeliveryStatus::retry_later, "connection refused", std::nullopt});
    const auto report = run(now);
    EXPECT_EQ(sent.size(), 1U); // the SMTP server is down: not three timeouts
    EXPECT_EQ(report.retrying, 3);
    EXPECT_EQ(number("SELECT count(*) FROM outbox WHERE due_at <= " + std::to_string(now)), 0);
    EXPECT_EQ(number("SELECT count(*) FROM delivery_attempts"), 1);
}

TEST_F(OutboxTest, GivesUpAfterRetryForAndTellsTheAdmin) {
    const auto id = queue("hook", "webhook", "immediate", now);
    webhook_results = {{DeliveryStatus::retry_later, "503", std::nullopt},
                       {DeliveryStatus::retry_later, "503 still", std::nullopt}};
    run(now);
    EXPECT_EQ(state(id), "pending");
    const auto report = run(now + 72 * 3600);
    EXPECT_EQ(state(id), "dead");
    EXPECT_EQ(report.dead, 1);
    EXPECT_NE(column("SELECT last_error FROM outbox WHERE message_id = " + std::to_string(id))
                  .find("gave up after 2 attempts over 72 hours: 503 still"),
              std::string::npos);
    ASSERT_EQ(sent.size(), 3U); // two attempts, then the admin's alert
    EXPECT_EQ(sent[2].to, "it@district.org");
    EXPECT_NE(sent[2].subject.find("could not be delivered"), std::string::npos);
    EXPECT_NE(sent[2].body.find("ewsd outbox retry"), std::string::npos);
}

TEST_F(OutboxTest, ARefusedMessageIsDeadAtOnceAndRetryRequeuesIt) {
    const auto id = queue("garcia", "email", "immediate", now);
    email_results.push_back({DeliveryStatus::failed_permanently, "550 no such user", std::nullopt});
    const auto report = run(now);
    EXPECT_EQ(report.dead, 1);
    EXPECT_EQ(report.alerts_queued, 1);
    EXPECT_EQ(state(id), "dead");
    ASSERT_EQ(sent.size(), 2U);
    EXPECT_EQ(sent[1].to, "it@district.org");

    EXPECT_EQ(retry(db, id), "");
    EXPECT_EQ(state(id), "pending");
    run(now + 60);
    EXPECT_EQ(state(id), "sent");
    EXPECT_EQ(retry(db, id), "message " + std::to_string(id) + " was already sent");
    EXPECT_EQ(retry(db, 999), "no message 999 in the outbox");
}

TEST_F(OutboxTest, GoneDisablesTheWebhookUntilRetried) {
    const auto a = queue("hook", "webhook", "immediate", now, 1, "S1");
    const auto b = queue("hook", "webhook", "immediate", now, 1, "S2");
    webhook_results.push_back({DeliveryStatus::endpoint_gone, "410 Gone", std::nullopt});
    run(now);
    EXPECT_EQ(state(a), "dead");
    EXPECT_EQ(state(b), "dead"); // not posted: the endpoint is disabled
    EXPECT_EQ(number("SELECT count(*) FROM disabled_endpoints"), 1);
    ASSERT_EQ(sent.size(), 3U); // one POST, the 410 alert and the dead-message alert
    EXPECT_EQ(sent[0].channel, "webhook");
    EXPECT_EQ(sent[1].to, "it@district.org");
    EXPECT_NE(sent[1].subject.find("410 Gone"), std::string::npos);

    const auto c = queue("hook", "webhook", "immediate", now + 10, 1, "S3");
    run(now + 10);
    EXPECT_EQ(state(c), "dead");
    EXPECT_EQ(retry(db, a), "");
    EXPECT_EQ(number("SELECT count(*) FROM disabled_endpoints"), 0);
    run(now + 20);
    EXPECT_EQ(state(a), "sent");
}

TEST_F(OutboxTest, RowsForARemovedSpecialistAreKeptAsDead) {
    const auto id = queue("gone", "email", "immediate", now);
    const auto report = run(now);
    EXPECT_EQ(report.dead, 1);
    EXPECT_EQ(state(id), "dead");
    EXPECT_NE(column("SELECT last_error FROM outbox").find("no longer a specialist"),
              std::string::npos);
    ASSERT_EQ(sent.size(), 1U);
    EXPECT_EQ(sent[0].to, "it@district.org");
}

TEST_F(OutboxTest, CaseloadCapHoldsTheRestForTheNextDaysDigestAndTellsTheLead) {
    auto& garcia = find("garcia");
    garcia.max_new_per_day = 2;
    garcia.lead = "lopez";
    for (int i = 0; i < 5; ++i) {
        queue("garcia", "email", "immediate", now, 1, "S" + std::to_string(i));
    }
    const auto urgent = queue("garcia", "email", "immediate", now, 3, "S9");
    const auto report = run(now);
    EXPECT_EQ(report.held_back, 4);
    EXPECT_EQ(state(urgent), "sent"); // tier 3 is never held back, but counts
    EXPECT_EQ(number("SELECT count(*) FROM outbox WHERE recipient = 'garcia' AND state = 'sent'"),
              2);
    // Held: due at the next school day's (Wednesday's) digest, 07:30.
    const std::int64_t wednesday = *util::parse_local_time("2026-01-28T07:30");
    EXPECT_EQ(number("SELECT count(*) FROM outbox WHERE recipient = 'garcia' AND state = "
                     "'pending' AND delivery = 'digest' AND due_at = " +
                     std::to_string(wednesday)),
              4);
    // The lead hears how many wait, once a day.
    ASSERT_EQ(sent.back().to, "lopez@district.org");
    EXPECT_NE(sent.back().subject.find("4 new referrals for garcia"), std::string::npos);
    queue("garcia", "email", "immediate", now + 60, 1, "S10");
    const auto later = run(now + 60);
    EXPECT_EQ(later.held_back, 1);
    EXPECT_EQ(later.alerts_queued, 0);

    // Wednesday: two more go in one digest, the other three wait again.
    sent.clear();
    const auto next = run(wednesday);
    EXPECT_EQ(next.notifications_sent, 3); // two referrals in one digest, and the lead's notice
    EXPECT_EQ(next.held_back, 3);
    EXPECT_EQ(number("SELECT count(*) FROM outbox WHERE state = 'pending'"), 3);
}

TEST_F(OutboxTest, StopsBetweenMessages) {
    queue("garcia", "email", "immediate", now, 1, "S1");
    queue("garcia", "email", "immediate", now, 1, "S2");
    std::atomic<bool> stop{false};
    transports.email = [&](const connectors::email::EmailMessage& m) {
        sent.push_back({"email", m.to.front(), m.message_id, m.subject, m.text_body});
        stop = true;
        return DeliveryResult{DeliveryStatus::delivered, "250", std::nullopt};
    };
    const Renderer renderer({std::filesystem::path(EWSD_SOURCE_DIR) / "config/templates", true,
                             "Early Warning <ewsd@district.org>", "ewsd.district.org"});
    const auto report = drain(db, notify, renderer, transports, calendars, settings, now, 1, &stop);
    EXPECT_EQ(report.messages_sent, 1);
    EXPECT_EQ(number("SELECT count(*) FROM outbox WHERE state = 'pending'"), 1);
}

TEST_F(OutboxTest, AlertsGoToEveryChannelOfTheAdmin) {
    find("admin").webhook_url = "https://receiver.invalid/ops";
    EXPECT_EQ(queue_alert(db, notify, "Feed sis is stale", "No new file for 3 days.", now), 2);
    run(now);
    ASSERT_EQ(sent.size(), 2U);
    EXPECT_EQ(sent[0].subject, "[ewsd] Feed sis is stale");
    EXPECT_NE(sent[0].body.find("No new file for 3 days."), std::string::npos);
    const auto payload = nlohmann::json::parse(sent[1].body);
    EXPECT_EQ(payload["type"], "alert");
    EXPECT_EQ(payload["data"]["subject"], "Feed sis is stale");
    notify.admin.clear();
    EXPECT_EQ(queue_alert(db, notify, "Nobody to tell", "", now), 0); // logged only
}

TEST_F(OutboxTest, ListsPendingAndDead) {
    queue("garcia", "email", "immediate", now + 100);
    queue("gone", "email", "immediate", now);
    run(now);
    const auto rows = list_outbox(db, "", 10);
    ASSERT_EQ(rows.size(), 2U);
    EXPECT_EQ(rows[0].state, "pending");
    EXPECT_EQ(rows[1].state, "dead");
    const auto counts = count_outbox(db, now);
    EXPECT_EQ(counts.pending, 1);
    EXPECT_EQ(counts.due, 0);
    EXPECT_EQ(counts.dead, 1);
    EXPECT_EQ(counts.sent, 1); // the admin's alert
}

} // namespace
