// Delivery end to end: the real ewsd binary (`run --once`) over the basic
// feed fixture, sending to a real SMTP server (aiosmtpd, STARTTLS + AUTH) and
// a real webhook receiver that verifies signatures, with failures injected on
// the servers' side and SIGKILLs on ewsd's (EWSD_FAILPOINTS). Every scenario
// ends with every referral delivered, none twice beyond the documented
// at-least-once window, and nothing pending.
#include "tests/support/basic_district.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/python_email.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/tls.hpp"

#include <SQLiteCpp/Database.h>
#include <cstdlib>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <map>
#include <set>

namespace ewsd {
namespace {

constexpr const char* as_of = "2025-10-31";
constexpr const char* secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

class DeliveryCliTest : public testing::BasicDistrict {
protected:
    static void SetUpTestSuite() {
        s_cert_dir = std::make_unique<testing::TempDir>();
        s_cert = testing::make_self_signed_cert(s_cert_dir->path());
        setenv("EWSD_TEST_SMTP_PASSWORD", "s3cret-Pa55word", 1);
    }
    static void TearDownTestSuite() { s_cert_dir.reset(); }

    void TearDown() override { unsetenv("EWSD_FAILPOINTS"); }

    std::unique_ptr<testing::SmtpServer> smtp(std::vector<std::string> options = {},
                                              const std::string& maildir = "mail") {
        options.insert(options.end(), {"--cert", s_cert.cert.string(), "--key", s_cert.key.string(),
                                       "--auth", "ewsd:s3cret-Pa55word"});
        if (m_smtp_port != 0) {
            options.insert(options.end(), {"--port", std::to_string(m_smtp_port)});
        }
        auto server = std::make_unique<testing::SmtpServer>(dir / maildir, options);
        m_smtp_port = server->port();
        return server;
    }

    std::string smtp_config(int port, bool trusted = true) const {
        return "smtp: {host: 127.0.0.1, port: " + std::to_string(port) +
               ", tls: starttls, username: ewsd, password: \"${EWSD_TEST_SMTP_PASSWORD}\", "
               "from: \"Early Warning <ewsd@district.org>\", connect_timeout_seconds: 2, "
               "timeout_seconds: 3" +
               (trusted ? ", ca_file: " + s_cert.cert.string() : std::string()) + "}\n";
    }

    // One immediate specialist for every referral; the admin is the same person.
    void district_with_smtp(int port, const std::string& more = "", bool trusted = true) {
        make_district(smtp_config(port, trusted) + R"(specialists:
  - {id: counselor, name: Casey Counselor, email: counselor@district.org}
routes:
  - {match: {}, to: [counselor]}
admin: counselor
delivery: {message_id_domain: ewsd.test.invalid}
)" + more);
    }

    testing::ProcessResult cycle(const std::string& now) {
        return ewsd({"run", "--once", "--as-of", as_of, "--now", now});
    }

    long long count(const std::string& sql) {
        SQLite::Database db((dir / "state/ewsd.db").string());
        return db.execAndGet(sql).getInt64();
    }
    long long open_referrals() {
        return count("SELECT count(*) FROM referrals WHERE state = 'open'");
    }
    long long pending() { return count("SELECT count(*) FROM outbox WHERE state = 'pending'"); }
    // Messages recorded as sent to specialists: one outbox row, or the rows of
    // one batch (a digest, or one student's referrals sent together).
    long long sent_messages() {
        return count("SELECT count(DISTINCT coalesce(batch, -message_id)) FROM outbox WHERE "
                     "state = 'sent' AND kind != 'alert'");
    }
    long long sent_referrals() {
        return count("SELECT count(*) FROM outbox WHERE state = 'sent' AND kind = "
                     "'referral.opened'");
    }

    // Message-ID -> times received; every message also checked by Python's parser.
    static std::map<std::string, int> message_ids(const testing::SmtpServer& server) {
        std::map<std::string, int> ids;
        for (const auto& raw : server.messages()) {
            const auto parsed = testing::parse_with_python(raw);
            EXPECT_EQ(parsed["defects"], nlohmann::json::array());
            ++ids[parsed["message_id"].get<std::string>()];
        }
        return ids;
    }

    // Every referral's notification sent, each message received once, nothing left.
    void expect_all_delivered_once(const testing::SmtpServer& server, long long opened) {
        const auto ids = message_ids(server);
        EXPECT_EQ(sent_referrals(), opened);
        EXPECT_EQ(static_cast<long long>(ids.size()), sent_messages());
        for (const auto& [id, times] : ids) {
            EXPECT_EQ(times, 1) << id;
        }
        EXPECT_EQ(pending(), 0);
    }

    static inline std::unique_ptr<testing::TempDir> s_cert_dir;
    static inline testing::SelfSignedCert s_cert;
    int m_smtp_port = 0;
};

TEST_F(DeliveryCliTest, ReferralEmailsArriveOnceAcrossCycles) {
    const auto server = smtp();
    district_with_smtp(server->port());
    const auto first = cycle("2025-10-31T06:00");
    ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
    const long long opened = open_referrals();
    ASSERT_GT(opened, 0);
    auto ids = message_ids(*server);
    EXPECT_EQ(sent_referrals(), opened) << first.out;
    EXPECT_EQ(static_cast<long long>(ids.size()), sent_messages());
    for (const auto& [id, times] : ids) {
        EXPECT_EQ(times, 1) << id;
        EXPECT_THAT(
            id, ::testing::MatchesRegex(R"(<(referral-[0-9]+\.n-[0-9]+|)"
                                        R"(digest-[0-9]+-[0-9]+-[0-9]+)@ewsd\.test\.invalid>)"));
    }
    const auto raw = server->messages().front();
    EXPECT_NE(raw.find("To: counselor@district.org"), std::string::npos);
    const auto envelope =
        nlohmann::json::parse(testing::read_file(server->recorded(".json").front()));
    EXPECT_TRUE(envelope["tls"].get<bool>());
    EXPECT_TRUE(envelope["authenticated"].get<bool>());
    EXPECT_EQ(pending(), 0);
    EXPECT_EQ(count("SELECT count(*) FROM delivery_attempts WHERE result = 'delivered'"),
              sent_messages());

    // Later the same day, and the next school day: nothing is sent twice.
    cycle("2025-10-31T09:00");
    const auto next = ewsd({"run", "--once", "--as-of", "2025-11-03", "--now", "2025-11-03T06:00"});
    ASSERT_EQ(next.exit_code, 0) << next.out << next.err;
    ids = message_ids(*server);
    for (const auto& [id, times] : ids) {
        EXPECT_EQ(times, 1) << id;
    }
    EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE state = 'sent' AND kind = "
                    "'referral.opened'"),
              count("SELECT count(*) FROM referrals WHERE opened_on IS NOT NULL"));
}

TEST_F(DeliveryCliTest, ServerDownThenBackDeliversEverythingOnce) {
    m_smtp_port = testing::closed_port();
    district_with_smtp(m_smtp_port);
    const auto down = cycle("2025-10-31T06:00");
    EXPECT_EQ(down.exit_code, 0) << down.out << down.err;
    EXPECT_NE(down.out.find("0 messages sent"), std::string::npos) << down.out;
    const long long opened = open_referrals();
    EXPECT_EQ(pending(), opened);
    // The server was tried once, not once per message.
    EXPECT_EQ(count("SELECT count(*) FROM delivery_attempts"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM delivery_attempts WHERE result = 'retry_later'"), 1);

    const auto server = smtp(); // on the same port
    const auto too_soon = cycle("2025-10-31T06:00:30");
    EXPECT_EQ(server->messages().size(), 0U) << too_soon.out; // backing off
    const auto back = cycle("2025-10-31T06:10");
    EXPECT_EQ(back.exit_code, 0) << back.out << back.err;
    expect_all_delivered_once(*server, opened);
}

TEST_F(DeliveryCliTest, TransientServerErrorsAreRetried) {
    // A 451 answer, a slow answer past the timeout, a reset: each is retried
    // until everything is delivered.
    struct Case {
        std::vector<std::string> options;
        std::string error;
    };
    const std::vector<Case> cases = {{{"--fail-first", "1", "--fail-code", "451"}, "451"},
                                     {{"--delay", "5"}, "timed out"},
                                     {{"--reset"}, ""}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.options.front());
        std::filesystem::remove_all(dir.path());
        std::filesystem::create_directories(dir.path());
        m_smtp_port = testing::closed_port();
        district_with_smtp(m_smtp_port);
        {
            const auto failing = smtp(c.options, "failing");
            const auto result = cycle("2025-10-31T06:00");
            EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
            EXPECT_GT(pending(), 0);
            EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE state = 'dead'"), 0);
            if (!c.error.empty()) {
                SQLite::Database db((dir / "state/ewsd.db").string());
                const std::string last =
                    db.execAndGet("SELECT last_error FROM outbox WHERE last_error IS NOT NULL "
                                  "LIMIT 1")
                        .getString();
                EXPECT_NE(last.find(c.error), std::string::npos) << last;
            }
        }
        const auto server = smtp();
        cycle("2025-10-31T07:00");
        EXPECT_EQ(pending(), 0);
        EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE state = 'dead'"), 0);
        const auto ids = message_ids(*server);
        for (const auto& [id, times] : ids) {
            EXPECT_EQ(times, 1) << id;
        }
        // The good server received every message once. (The slow server
        // stored its message after ewsd had given up on it: the documented
        // at-least-once window, same Message-ID.)
        EXPECT_EQ(static_cast<long long>(ids.size()), sent_messages());
        EXPECT_EQ(sent_referrals(), open_referrals());
    }
}

TEST_F(DeliveryCliTest, AnUntrustedCertificateIsNeverSentTo) {
    const auto server = smtp();
    district_with_smtp(server->port(), "", false); // the system store does not know our CA
    cycle("2025-10-31T06:00");
    EXPECT_EQ(server->messages().size(), 0U);
    EXPECT_EQ(pending(), open_referrals());
    SQLite::Database db((dir / "state/ewsd.db").string());
    const std::string last =
        db.execAndGet("SELECT detail FROM delivery_attempts LIMIT 1").getString();
    EXPECT_NE(last.find("certificate"), std::string::npos) << last;
}

TEST_F(DeliveryCliTest, KillBetweenEvaluationAndSendingLosesNothing) {
    const auto server = smtp();
    district_with_smtp(server->port());
    setenv("EWSD_FAILPOINTS", "cycle.before_drain", 1);
    const auto killed = cycle("2025-10-31T06:00");
    EXPECT_EQ(killed.exit_code, -1) << killed.out << killed.err; // SIGKILL
    unsetenv("EWSD_FAILPOINTS");
    EXPECT_EQ(server->messages().size(), 0U);
    const long long opened = open_referrals();
    EXPECT_EQ(pending(), opened);

    const auto again = cycle("2025-10-31T06:05");
    EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
    expect_all_delivered_once(*server, opened);
}

TEST_F(DeliveryCliTest, KillBetweenSendingAndRecordingResendsOnlyThatMessage) {
    const auto server = smtp();
    district_with_smtp(server->port());
    setenv("EWSD_FAILPOINTS", "outbox.after_send", 1);
    const auto killed = cycle("2025-10-31T06:00");
    EXPECT_EQ(killed.exit_code, -1) << killed.out << killed.err;
    unsetenv("EWSD_FAILPOINTS");
    ASSERT_EQ(server->messages().size(), 1U); // accepted, not recorded
    const long long opened = open_referrals();
    EXPECT_EQ(pending(), opened);

    cycle("2025-10-31T06:05");
    const auto ids = message_ids(*server);
    EXPECT_EQ(sent_referrals(), opened); // every referral delivered
    EXPECT_EQ(static_cast<long long>(ids.size()), sent_messages());
    int twice = 0;
    for (const auto& [id, times] : ids) {
        EXPECT_LE(times, 2) << id;
        twice += times == 2;
    }
    // The documented at-least-once window: that one message, with the same
    // Message-ID, so the receiver can collapse it.
    EXPECT_EQ(twice, 1);
    EXPECT_EQ(pending(), 0);
}

TEST_F(DeliveryCliTest, DigestsGoAtTheDigestTime) {
    const auto server = smtp();
    make_district(smtp_config(server->port()) + R"(specialists:
  - {id: counselor, name: Casey Counselor, email: counselor@district.org, delivery: digest,
     digest_time: "07:30"}
routes:
  - {match: {}, to: [counselor]}
)");
    // A tier 1 rule every enrolled student meets, and the default rules
    // (whose tier 3 referrals go at once even to a digest recipient).
    testing::write_file(dir / "rules.d/20-enrolled.yaml", R"(rules:
  - id: enrolled
    name: Enrolled
    description: Every enrolled student (a test rule).
    domain: attendance
    tier: 1
    when: enrolled_days(school_year) >= 1
    notify: attendance
)");
    const auto early = cycle("2025-10-31T06:00");
    ASSERT_EQ(early.exit_code, 0) << early.out << early.err;
    const long long tier3 =
        count("SELECT count(*) FROM referrals WHERE state = 'open' AND tier >= 3");
    // At once, one message per student.
    EXPECT_EQ(static_cast<long long>(server->messages().size()), sent_messages());
    EXPECT_EQ(sent_referrals(), tier3);
    const long long waiting = pending();
    EXPECT_EQ(waiting, open_referrals() - tier3);
    ASSERT_GE(waiting, 2);
    cycle("2025-10-31T07:29");
    EXPECT_EQ(pending(), waiting);

    cycle("2025-10-31T07:30");
    EXPECT_EQ(pending(), 0);
    const auto messages = server->messages();
    const auto at_once = static_cast<long long>(messages.size()) - 1;
    EXPECT_EQ(sent_messages(), at_once + 1); // and one digest
    const auto digest = testing::parse_with_python(messages.back());
    EXPECT_NE(digest["subject"].get<std::string>().find("Digest"), std::string::npos)
        << digest["subject"];
    EXPECT_EQ(digest["parts"].size(), 2U);
}

TEST_F(DeliveryCliTest, WebhooksAreSignedAndRetriedUnderOneId) {
    const auto server = smtp();
    const testing::WebhookServer hooks(dir / "hooks", {"--secret", secret, "--responses", "503"});
    make_district(smtp_config(server->port()) +
                  "specialists:\n"
                  "  - {id: counselor, name: Casey Counselor, email: counselor@district.org}\n"
                  "  - {id: sis, name: SIS, webhook: {url: \"http://127.0.0.1:" +
                  std::to_string(hooks.port()) + "/ewsd\", secret: \"" + secret +
                  "\"}}\n"
                  "routes:\n  - {match: {}, to: [sis]}\nadmin: counselor\n");
    const auto first = cycle("2025-10-31T06:00");
    ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
    const long long opened = open_referrals();
    // The first POST got 503; the others wait with it rather than each failing.
    EXPECT_EQ(hooks.deliveries().size(), 0U);
    cycle("2025-10-31T06:10");
    const auto deliveries = hooks.deliveries();
    ASSERT_EQ(static_cast<long long>(deliveries.size()), sent_messages());
    EXPECT_EQ(sent_referrals(), opened);
    std::set<std::string> ids;
    for (const auto& d : deliveries) {
        ids.insert(d["id"].get<std::string>());
        const std::string type = nlohmann::json::parse(d["body"].get<std::string>())["type"];
        EXPECT_TRUE(type == "referral.opened" || type == "digest") << type;
    }
    EXPECT_EQ(static_cast<long long>(ids.size()), sent_messages());
    // The 503'd message was retried under the same webhook-id.
    EXPECT_EQ(count("SELECT count(*) FROM delivery_attempts WHERE result = 'retry_later'"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM delivery_attempts a JOIN delivery_attempts b ON "
                    "a.message_ids = b.message_ids WHERE a.result = 'retry_later' AND "
                    "b.result = 'delivered'"),
              1);
    EXPECT_EQ(pending(), 0);
}

TEST_F(DeliveryCliTest, RetryAfterSetsTheNextAttempt) {
    const testing::WebhookServer hooks(dir / "hooks",
                                       {"--secret", secret, "--responses", "429:120"});
    make_district("specialists:\n"
                  "  - {id: sis, name: SIS, webhook: {url: \"http://127.0.0.1:" +
                  std::to_string(hooks.port()) + "/ewsd\", secret: \"" + secret +
                  "\"}}\n"
                  "routes:\n  - {match: {}, to: [sis]}\n");
    cycle("2025-10-31T06:00");
    EXPECT_EQ(count("SELECT count(*) FROM delivery_attempts WHERE result = 'retry_later'"), 1);
    cycle("2025-10-31T06:01:59"); // the receiver asked for 120 s
    EXPECT_EQ(hooks.deliveries().size(), 0U);
    cycle("2025-10-31T06:02");
    EXPECT_EQ(static_cast<long long>(hooks.deliveries().size()), sent_messages());
    EXPECT_GT(sent_messages(), 0);
    EXPECT_EQ(pending(), 0);
}

TEST_F(DeliveryCliTest, GoneDisablesTheWebhookAlertsTheAdminAndRetryRequeues) {
    const auto server = smtp();
    auto hooks = std::make_unique<testing::WebhookServer>(
        dir / "hooks", std::vector<std::string>{"--secret", secret, "--gone"});
    const int hook_port = hooks->port();
    make_district(smtp_config(server->port()) +
                  "specialists:\n"
                  "  - {id: counselor, name: Casey Counselor, email: counselor@district.org}\n"
                  "  - {id: sis, name: SIS, webhook: {url: \"http://127.0.0.1:" +
                  std::to_string(hook_port) + "/ewsd\", secret: \"" + secret +
                  "\"}}\n"
                  "routes:\n  - {match: {}, to: [sis]}\nadmin: counselor\n");
    cycle("2025-10-31T06:00");
    const long long opened = open_referrals();
    EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE state = 'dead'"), opened);
    EXPECT_EQ(count("SELECT count(*) FROM delivery_attempts WHERE recipient = 'sis'"), 1);
    const auto alerts = message_ids(*server);
    ASSERT_EQ(alerts.size(), 2U); // the 410 and the undelivered notifications
    bool gone_alert = false;
    for (const auto& raw : server->messages()) {
        gone_alert |= testing::parse_with_python(raw)["subject"].get<std::string>().find(
                          "410 Gone") != std::string::npos;
    }
    EXPECT_TRUE(gone_alert);
    const auto listed = ewsd({"outbox", "--state", "dead"});
    EXPECT_EQ(listed.exit_code, 0);
    EXPECT_NE(listed.out.find("410 Gone"), std::string::npos) << listed.out;

    // The receiver is back: requeue one; it goes, and the endpoint is enabled again.
    hooks.reset();
    const testing::WebhookServer back(dir / "hooks2",
                                      {"--secret", secret, "--port", std::to_string(hook_port)});
    const long long id = count("SELECT min(message_id) FROM outbox WHERE state = 'dead' AND "
                               "recipient = 'sis'");
    const auto retried = ewsd({"outbox", "retry", std::to_string(id)});
    EXPECT_EQ(retried.exit_code, 0) << retried.err;
    cycle("2025-10-31T06:05");
    EXPECT_EQ(back.deliveries().size(), 1U);
    EXPECT_EQ(ewsd({"outbox", "retry", "999999"}).exit_code, 1);
}

TEST_F(DeliveryCliTest, FileNotifierWritesEachMessageOnceEvenAfterAKill) {
    make_district(R"(specialists:
  - {id: counselor, name: Casey Counselor, email: counselor@district.org}
routes:
  - {match: {}, to: [counselor]}
delivery: {output_dir: outbox}
)");
    setenv("EWSD_FAILPOINTS", "outbox.after_send", 1);
    EXPECT_EQ(cycle("2025-10-31T06:00").exit_code, -1);
    unsetenv("EWSD_FAILPOINTS");
    const auto result = cycle("2025-10-31T06:05");
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    EXPECT_NE(result.out.find("emails are written to"), std::string::npos) << result.out;
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir / "outbox")) {
        EXPECT_EQ(entry.path().extension(), ".eml") << entry.path();
        const auto parsed = testing::parse_with_python(testing::read_file(entry.path()));
        EXPECT_EQ(parsed["defects"], nlohmann::json::array());
        ++files;
    }
    // The message written before the kill was written again under the same name.
    EXPECT_EQ(static_cast<long long>(files), sent_messages());
    EXPECT_EQ(sent_referrals(), open_referrals());
    EXPECT_EQ(pending(), 0);
}

} // namespace
} // namespace ewsd
