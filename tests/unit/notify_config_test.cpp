// The notification part of ewsd.yaml (smtp, specialists, routes, admin,
// privacy, delivery): parsed values, defaults, and every problem with its
// exact 1-based file:line:column and message.
#include "core/config.hpp"
#include "core/notify_config.hpp"
#include "core/yaml_reader.hpp"
#include "tests/support/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ewsd::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class NotifyConfigTest : public ::testing::Test {
protected:
    [[nodiscard]] std::filesystem::path file() const { return dir / "ewsd.yaml"; }

    // Reads only the notification keys of `text`.
    NotifyConfig parse(const std::string& text) {
        diagnostics = util::Diagnostics();
        NotifyConfig out;
        YamlReader reader(file().string(), diagnostics);
        auto root = reader.parse(text);
        if (root) {
            read_notify_config(reader, *root, out);
        }
        return out;
    }

    [[nodiscard]] std::vector<std::string> messages() const {
        std::vector<std::string> out;
        for (const auto& d : diagnostics.items()) {
            out.push_back(d.format());
        }
        return out;
    }

    [[nodiscard]] std::string error_at(int line, int column, const std::string& message) const {
        return file().string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
               message;
    }
    [[nodiscard]] std::string warning_at(int line, int column, const std::string& message) const {
        return error_at(line, column, "warning: " + message);
    }

    ewsd::testing::TempDir dir;
    util::Diagnostics diagnostics;
};

// A valid base: smtp so that specialists may have email.
const std::string smtp_block = R"yaml(smtp: {host: mail.district.org, from: ewsd@district.org}
)yaml";

// --- defaults and values ---

TEST_F(NotifyConfigTest, NothingConfiguredIsAnEvaluationOnlyDeployment) {
    const NotifyConfig c = parse("timezone: UTC\n");
    EXPECT_THAT(messages(), IsEmpty());
    EXPECT_TRUE(c.empty());
    EXPECT_FALSE(c.smtp.has_value());
    EXPECT_TRUE(c.admin.empty());
    EXPECT_TRUE(c.email_student_names);
    EXPECT_EQ(c.renotify_after_days, 10);
    EXPECT_EQ(c.escalate_after_days, 0);
    EXPECT_EQ(c.retry_for, std::chrono::hours(72));
    EXPECT_EQ(c.message_id_domain, "ewsd.invalid");
    EXPECT_FALSE(c.output_dir.has_value());
    EXPECT_EQ(c.file, file().string());
}

TEST_F(NotifyConfigTest, FullConfigParsesEveryValueWithSecretsFromEnvAndFiles) {
    ::setenv("EWSD_TEST_SMTP_PASSWORD", "s3cret", 1);
    ::setenv("EWSD_TEST_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1);
    ewsd::testing::write_file(dir / "secrets/old", "whsec_b2xkLXNlY3JldA==\n");
    ewsd::testing::write_file(dir / "ca.pem", "not really a CA\n");
    const NotifyConfig c = parse(R"yaml(smtp:
  host: mail.district.org
  port: 2525
  tls: implicit
  username: ewsd
  password: "${EWSD_TEST_SMTP_PASSWORD}"
  from: "Early Warning <ewsd@district.org>"
  allow_plaintext: false
  connect_timeout_seconds: 5
  timeout_seconds: 30
  ca_file: ca.pem
specialists:
  - {id: garcia, name: Ana Garcia, email: agarcia@district.org, schools: [101, 102],
     grades: [6, 7, K], domains: [attendance, behavior], delivery: digest,
     digest_time: "06:45", max_new_per_day: 15, lead: lopez}
  - id: lopez
    name: Luis Lopez
    webhook:
      url: "https://hooks.district.org/ewsd"
      secret: ["${EWSD_TEST_WEBHOOK_SECRET}", {file: secrets/old}]
    schools: 103
routes:
  - {match: {domain: attendance}, to: [garcia]}
  - {match: {notify: counselor, tier: [2, 3], school: [101], grade: [9, 10]}, to: [garcia, lopez], continue: true}
  - match: {}
    to: lopez
admin: lopez
privacy: {email_student_names: false}
delivery: {renotify_after_days: 5, escalate_after_days: 20, retry_for_hours: 48,
           message_id_domain: ewsd.district.org, output_dir: outbox}
)yaml");
    ASSERT_THAT(messages(), IsEmpty());
    ASSERT_TRUE(c.smtp.has_value());
    EXPECT_EQ(c.smtp->host, "mail.district.org");
    EXPECT_EQ(c.smtp->port, 2525);
    EXPECT_EQ(c.smtp->tls, "implicit");
    EXPECT_EQ(c.smtp->username, "ewsd");
    EXPECT_EQ(c.smtp->password, "s3cret");
    EXPECT_EQ(c.smtp->from, "Early Warning <ewsd@district.org>");
    EXPECT_FALSE(c.smtp->allow_plaintext);
    EXPECT_EQ(c.smtp->connect_timeout, std::chrono::seconds(5));
    EXPECT_EQ(c.smtp->timeout, std::chrono::seconds(30));
    EXPECT_EQ(c.smtp->ca_file, dir / "ca.pem");

    ASSERT_EQ(c.specialists.size(), 2U);
    const Specialist& garcia = c.specialists[0];
    EXPECT_EQ(garcia.id, "garcia");
    EXPECT_EQ(garcia.name, "Ana Garcia");
    EXPECT_EQ(garcia.email, "agarcia@district.org");
    EXPECT_THAT(garcia.schools, ElementsAre("101", "102"));
    EXPECT_THAT(garcia.grades, ElementsAre(6, 7, 0));
    EXPECT_THAT(garcia.domains, ElementsAre("attendance", "behavior"));
    EXPECT_TRUE(garcia.digest);
    EXPECT_EQ(garcia.digest_time_minutes, 6 * 60 + 45);
    EXPECT_EQ(garcia.max_new_per_day, 15);
    EXPECT_EQ(garcia.lead, "lopez");
    EXPECT_EQ(garcia.line, 13);
    EXPECT_EQ(garcia.column, 5);
    const Specialist& lopez = c.specialists[1];
    EXPECT_EQ(lopez.id, "lopez");
    EXPECT_TRUE(lopez.email.empty());
    EXPECT_EQ(lopez.webhook_url, "https://hooks.district.org/ewsd");
    EXPECT_THAT(lopez.webhook_secrets,
                ElementsAre("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_b2xkLXNlY3JldA=="));
    EXPECT_THAT(lopez.schools, ElementsAre("103"));
    EXPECT_FALSE(lopez.digest);
    EXPECT_EQ(lopez.digest_time_minutes, 7 * 60 + 30);
    EXPECT_EQ(lopez.max_new_per_day, 0);
    EXPECT_EQ(lopez.line, 16);
    EXPECT_EQ(lopez.column, 5);

    ASSERT_EQ(c.routes.size(), 3U);
    EXPECT_THAT(c.routes[0].match.domains, ElementsAre("attendance"));
    EXPECT_THAT(c.routes[0].to, ElementsAre("garcia"));
    EXPECT_FALSE(c.routes[0].continue_matching);
    EXPECT_EQ(c.routes[0].line, 23);
    EXPECT_EQ(c.routes[0].column, 5);
    const RouteMatch& m = c.routes[1].match;
    EXPECT_THAT(m.notify, ElementsAre("counselor"));
    EXPECT_THAT(m.tiers, ElementsAre(2, 3));
    EXPECT_THAT(m.schools, ElementsAre("101"));
    EXPECT_THAT(m.grades, ElementsAre(9, 10));
    EXPECT_TRUE(m.domains.empty());
    EXPECT_THAT(c.routes[1].to, ElementsAre("garcia", "lopez"));
    EXPECT_TRUE(c.routes[1].continue_matching);
    EXPECT_TRUE(c.routes[2].match.empty());
    EXPECT_THAT(c.routes[2].to, ElementsAre("lopez"));
    EXPECT_EQ(c.routes[2].line, 25);
    EXPECT_EQ(c.routes[2].column, 5);

    EXPECT_EQ(c.admin, "lopez");
    EXPECT_FALSE(c.email_student_names);
    EXPECT_EQ(c.renotify_after_days, 5);
    EXPECT_EQ(c.escalate_after_days, 20);
    EXPECT_EQ(c.retry_for, std::chrono::hours(48));
    EXPECT_EQ(c.message_id_domain, "ewsd.district.org");
    EXPECT_EQ(c.output_dir, dir / "outbox");
    EXPECT_FALSE(c.empty());
}

TEST_F(NotifyConfigTest, SmtpPortDefaultsFollowTls) {
    EXPECT_EQ(parse(smtp_block).smtp->port, 587);
    EXPECT_EQ(parse(smtp_block).smtp->tls, "starttls");
    EXPECT_EQ(parse("smtp: {host: mail.district.org, tls: implicit, from: a@b.org}\n").smtp->port,
              465);
    EXPECT_EQ(parse("smtp: {host: localhost, tls: none, from: a@b.org}\n").smtp->port, 25);
    EXPECT_THAT(messages(), IsEmpty());
}

TEST_F(NotifyConfigTest, ConfigWithNotificationsLoadsThroughParseConfig) {
    const ConfigLoad load = parse_config(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds: []
smtp: {host: localhost, tls: none, from: ewsd@localhost}
specialists: [{id: garcia, email: agarcia@district.org}]
routes: [{match: {}, to: garcia}]
admin: garcia
privacy: {email_student_names: true}
delivery: {renotify_after_days: 3}
)yaml",
                                         file());
    std::vector<std::string> all;
    for (const auto& d : load.diagnostics.items()) {
        all.push_back(d.format());
    }
    // Only the feeds warning: the notification keys are known top-level keys.
    EXPECT_THAT(all, ElementsAre(warning_at(3, 8,
                                            "no feeds are configured: nothing will be "
                                            "ingested")));
    ASSERT_TRUE(load.config.has_value());
    EXPECT_EQ(load.config->notify.specialists.size(), 1U);
    EXPECT_EQ(load.config->notify.routes.size(), 1U);
    EXPECT_EQ(load.config->notify.renotify_after_days, 3);
}

TEST_F(NotifyConfigTest, NotificationErrorsMakeTheConfigInvalid) {
    const ConfigLoad load = parse_config(R"yaml(timezone: UTC
school_year_start: 2025-08-18
feeds: []
admin: nobody
)yaml",
                                         file());
    EXPECT_FALSE(load.config.has_value());
}

// --- smtp ---

TEST_F(NotifyConfigTest, TlsMustBeOneOfThree) {
    parse("smtp: {host: mail.district.org, tls: starttsl, from: a@b.org}\n");
    EXPECT_THAT(messages(), ElementsAre(error_at(1, 38,
                                                 "'starttsl' is not one of starttls, implicit, "
                                                 "none (did you mean 'starttls'?)")));
}

TEST_F(NotifyConfigTest, PlainTextToARemoteHostIsRefusedUnlessAllowed) {
    parse(R"yaml(smtp:
  host: mail.district.org
  tls: none
  from: a@b.org
)yaml");
    EXPECT_THAT(messages(),
                ElementsAre(error_at(3, 8,
                                     "tls: none to 'mail.district.org' would send the SMTP "
                                     "password and student data across the network in clear; use "
                                     "starttls or implicit, or set allow_plaintext: true if that "
                                     "network path is trusted")));
    const NotifyConfig allowed = parse(R"yaml(smtp:
  host: mail.district.org
  tls: none
  allow_plaintext: true
  from: a@b.org
)yaml");
    EXPECT_THAT(messages(), IsEmpty());
    EXPECT_TRUE(allowed.smtp->allow_plaintext);
    for (const std::string host : {"localhost", "127.0.0.1", "127.1.2.3", "::1"}) {
        parse("smtp: {host: \"" + host + "\", tls: none, from: a@b.org}\n");
        EXPECT_THAT(messages(), IsEmpty()) << host;
    }
    parse("smtp: {host: 127.0.0.1.evil.org, tls: none, from: a@b.org}\n");
    EXPECT_EQ(messages().size(), 1U);
}

TEST_F(NotifyConfigTest, PortMustBeInRange) {
    parse("smtp: {host: mail.district.org, port: 70000, from: a@b.org}\n");
    EXPECT_THAT(messages(), ElementsAre(error_at(1, 39, "must be between 1 and 65535, not 70000")));
}

TEST_F(NotifyConfigTest, SmtpNeedsHostAndFrom) {
    parse("smtp:\n  port: 587\n");
    EXPECT_THAT(messages(),
                ElementsAre(error_at(2, 3, "missing required key 'host'"),
                            error_at(2, 3,
                                     "missing required key 'from' (the sender of every email, "
                                     "like \"Early Warning <ewsd@district.org>\")")));
    parse("smtp: {host: mail.district.org, from: Early Warning}\n");
    EXPECT_THAT(messages(), ElementsAre(error_at(1, 39,
                                                 "'Early Warning' is not a sender address like "
                                                 "\"Early Warning <ewsd@district.org>\"")));
}

TEST_F(NotifyConfigTest, MissingEnvironmentVariableForThePasswordIsReported) {
    ::unsetenv("EWSD_TEST_UNSET_PASSWORD");
    parse("smtp: {host: mail.district.org, from: a@b.org, password: "
          "\"${EWSD_TEST_UNSET_PASSWORD}\"}\n");
    EXPECT_THAT(messages(), ElementsAre(error_at(1, 58,
                                                 "environment variable "
                                                 "'EWSD_TEST_UNSET_PASSWORD' is not set")));
}

// --- specialists ---

TEST_F(NotifyConfigTest, SpecialistNeedsEmailOrWebhook) {
    parse(smtp_block + R"yaml(specialists:
  - {id: garcia, name: Ana Garcia}
routes: [{match: {}, to: [garcia]}]
)yaml");
    EXPECT_THAT(messages(),
                ElementsAre(error_at(3, 5,
                                     "specialist 'garcia' has neither an email nor a webhook: "
                                     "nothing could reach them")));
}

TEST_F(NotifyConfigTest, EmailNeedsSmtpOrAnOutputDir) {
    parse(R"yaml(specialists:
  - {id: garcia, email: agarcia@district.org}
routes: [{match: {}, to: [garcia]}]
)yaml");
    EXPECT_THAT(messages(),
                ElementsAre(error_at(2, 25,
                                     "nothing could deliver email to this address: configure "
                                     "`smtp`, or `delivery.output_dir` to write messages to "
                                     "files")));
    parse(R"yaml(specialists:
  - {id: garcia, email: agarcia@district.org}
routes: [{match: {}, to: [garcia]}]
delivery: {output_dir: outbox}
)yaml");
    EXPECT_THAT(messages(), IsEmpty());
}

TEST_F(NotifyConfigTest, EmailMustBeAnAddress) {
    parse(smtp_block + R"yaml(specialists:
  - {id: garcia, email: agarcia at district.org}
routes: [{match: {}, to: [garcia]}]
)yaml");
    EXPECT_THAT(messages(),
                ElementsAre(error_at(3, 25, "'agarcia at district.org' is not an email address")));
}

TEST_F(NotifyConfigTest, DuplicateSpecialistIds) {
    parse(smtp_block + R"yaml(specialists:
  - {id: garcia, email: a@district.org}
  - {id: garcia, email: b@district.org}
routes: [{match: {}, to: [garcia]}]
)yaml");
    EXPECT_THAT(messages(),
                ElementsAre(error_at(4, 10, "duplicate specialist id 'garcia' (first at line 3)")));
}

TEST_F(NotifyConfigTest, SpecialistIdMustBePlain) {
    parse(smtp_block + R"yaml(specialists:
  - {id: Ana Garcia, email: a@district.org}
routes: [{match: {}, to: [lopez]}]
)yaml");
    EXPECT_THAT(messages(),
                ElementsAre(error_at(3, 10,
                                     "specialist id 'Ana Garcia' must be 1-64 characters "
                                     "of a-z, 0-9, '-', '_' and '.'"),
                            error_at(4, 27, "no specialist with id 'lopez'")));
}

TEST_F(NotifyConfigTest, UnknownIdsInRoutesLeadAndAdminSuggestTheClosest) {
    parse(smtp_block + R"yaml(specialists:
  - {id: garcia, email: a@district.org, lead: lopes}
  - {id: lopez, email: b@district.org}
routes:
  - {match: {domain: attendance}, to: [garsia, lopez]}
  - {match: {}, to: nobody}
admin: lopz
)yaml");
    EXPECT_THAT(
        messages(),
        ElementsAre(error_at(3, 47, "no specialist with id 'lopes' (did you mean 'lopez'?)"),
                    error_at(6, 40,
                             "no specialist with id 'garsia' (did you mean "
                             "'garcia'?)"),
                    error_at(7, 21, "no specialist with id 'nobody'"),
                    error_at(8, 8, "no specialist with id 'lopz' (did you mean 'lopez'?)")));
}

TEST_F(NotifyConfigTest, SpecialistCannotLeadThemselves) {
    parse(smtp_block + R"yaml(specialists:
  - {id: garcia, email: a@district.org, lead: garcia}
routes: [{match: {}, to: [garcia]}]
)yaml");
    EXPECT_THAT(messages(),
                ElementsAre(error_at(3, 47, "specialist 'garcia' cannot be their own lead")));
}

TEST_F(NotifyConfigTest, ScopeValuesAreChecked) {
    parse(smtp_block + R"yaml(specialists:
  - {id: garcia, email: a@district.org, domains: [attendance, behaviour], grades: [6, 15]}
routes: [{match: {}, to: [garcia]}]
)yaml");
    EXPECT_THAT(messages(),
                ElementsAre(error_at(3, 87, "'15' is not a grade level (expected 1-12, K or PK)"),
                            error_at(3, 63,
                                     "'behaviour' is not one of attendance, behavior, course, "
                                     "composite (did you mean 'behavior'?)")));
}

TEST_F(NotifyConfigTest, DigestTimeMustBeHoursAndMinutes) {
    parse(smtp_block + R"yaml(specialists:
  - {id: garcia, email: a@district.org, delivery: digest, digest_time: "7:30pm"}
  - {id: lopez, email: b@district.org, delivery: digest, digest_time: "24:00"}
  - {id: kim, email: c@district.org, delivery: digest, digest_time: "7:05"}
routes: [{match: {}, to: [garcia]}]
)yaml");
    EXPECT_THAT(messages(),
                ElementsAre(error_at(3, 72,
                                     "digest_time must be a time of day as HH:MM (24-hour), not "
                                     "'7:30pm'"),
                            error_at(4, 71,
                                     "digest_time must be a time of day as HH:MM (24-hour), not "
                                     "'24:00'")));
}

TEST_F(NotifyConfigTest, DigestTimeWithoutDigestDeliveryIsAWarning) {
    const NotifyConfig c = parse(smtp_block + R"yaml(specialists:
  - {id: garcia, email: a@district.org, digest_time: "08:00"}
routes: [{match: {}, to: [garcia]}]
)yaml");
    EXPECT_THAT(messages(), ElementsAre(warning_at(3, 54,
                                                   "digest_time has no effect without "
                                                   "delivery: digest")));
    EXPECT_FALSE(c.specialists[0].digest);
}

TEST_F(NotifyConfigTest, WebhookUrlMustBeHttp) {
    parse(R"yaml(specialists:
  - {id: lopez, webhook: {url: "ftp://hooks.district.org/x", secret: whsec_c2VjcmV0}}
  - {id: kim, webhook: {url: "http://hooks.district.org/x", secret: whsec_c2VjcmV0}}
  - {id: ng, webhook: {url: "http://127.0.0.1:8080/x", secret: whsec_c2VjcmV0}}
routes: [{match: {}, to: [lopez]}]
)yaml");
    EXPECT_THAT(messages(),
                ElementsAre(error_at(2, 32,
                                     "webhook url must be an https:// (or http://) URL, not "
                                     "'ftp://hooks.district.org/x'"),
                            warning_at(3, 30,
                                       "webhook url uses http: referrals (student data) would "
                                       "cross the network unencrypted")));
}

TEST_F(NotifyConfigTest, WebhookSecretMustBeWhsecAndIsNotEchoed) {
    parse(R"yaml(specialists:
  - id: lopez
    webhook:
      url: "https://hooks.district.org/x"
      secret: [whsec_c2VjcmV0, hunter2-very-secret]
routes: [{match: {}, to: [lopez]}]
)yaml");
    EXPECT_THAT(messages(), ElementsAre(error_at(5, 32,
                                                 "webhook secret must start with 'whsec_' "
                                                 "followed by base64 (the Standard Webhooks "
                                                 "format)")));
    for (const auto& m : messages()) {
        EXPECT_THAT(m, Not(HasSubstr("hunter2")));
    }
}

TEST_F(NotifyConfigTest, NoLeadAndNoAdminWarnsWhenEscalationOrCapNeedsOne) {
    parse(smtp_block + R"yaml(specialists:
  - {id: garcia, email: a@district.org, max_new_per_day: 10}
  - {id: lopez, email: b@district.org}
routes: [{match: {}, to: [garcia]}]
)yaml");
    EXPECT_THAT(messages(), ElementsAre(warning_at(3, 5,
                                                   "specialist 'garcia' has no lead and there "
                                                   "is no admin: their escalations and caseload "
                                                   "overflow notes would reach no one")));
}

// --- routes ---

TEST_F(NotifyConfigTest, LastRouteMustBeAFallback) {
    parse(smtp_block + R"yaml(specialists: [{id: garcia, email: a@district.org}]
routes:
  - {match: {domain: attendance}, to: [garcia]}
  - {match: {tier: 3}, to: [garcia]}
)yaml");
    EXPECT_THAT(messages(),
                ElementsAre(error_at(5, 5,
                                     "the last route must be a fallback with `match: {}` so that "
                                     "every referral reaches someone")));
}

TEST_F(NotifyConfigTest, SpecialistsWithoutRoutes) {
    parse(smtp_block + R"yaml(specialists:
  - {id: garcia, email: a@district.org}
)yaml");
    EXPECT_THAT(messages(),
                ElementsAre(error_at(3, 3,
                                     "specialists are configured but no routes: add `routes`, "
                                     "ending with a fallback `{match: {}, to: [ID]}`")));
}

TEST_F(NotifyConfigTest, MatchValuesAreChecked) {
    parse(smtp_block + R"yaml(specialists: [{id: garcia, email: a@district.org}]
routes:
  - {match: {domain: attendence, tier: [2, 4], grade: 13th}, to: [garcia]}
  - {match: {}, to: []}
)yaml");
    EXPECT_THAT(messages(),
                ElementsAre(error_at(4, 22,
                                     "'attendence' is not one of attendance, behavior, course, "
                                     "composite (did you mean 'attendance'?)"),
                            error_at(4, 44, "must be between 1 and 3, not 4"),
                            error_at(4, 55, "'13th' is not a grade level (expected 1-12, K or PK)"),
                            error_at(5, 21, "a route needs at least one specialist id in 'to'")));
}

TEST_F(NotifyConfigTest, UnknownMatchKeyIsAnError) {
    parse(smtp_block + R"yaml(specialists: [{id: garcia, email: a@district.org}]
routes:
  - {match: {domian: attendance}, to: [garcia]}
  - {match: {}, to: [garcia]}
)yaml");
    EXPECT_THAT(messages(),
                ElementsAre(error_at(4, 14,
                                     "unknown key 'domian' in a route's match (did you mean "
                                     "'domain'?); expected notify, domain, tier, school or "
                                     "grade")));
}

TEST_F(NotifyConfigTest, RouteNeedsMatchAndTo) {
    parse(smtp_block + R"yaml(specialists: [{id: garcia, email: a@district.org}]
routes:
  - {to: [garcia]}
  - {match: {}}
)yaml");
    EXPECT_THAT(messages(), ElementsAre(error_at(4, 5, "missing required key 'match'"),
                                        error_at(5, 5, "missing required key 'to'")));
}

// --- privacy and delivery ---

TEST_F(NotifyConfigTest, DeliveryValuesAreChecked) {
    parse(R"yaml(privacy: {email_student_names: maybe}
delivery: {renotify_after_days: -1, retry_for_hours: 0, message_id_domain: "ewsd district"}
)yaml");
    EXPECT_THAT(messages(), ElementsAre(error_at(2, 33, "must be between 0 and 365, not -1"),
                                        error_at(2, 54, "must be between 1 and 720, not 0"),
                                        error_at(2, 76,
                                                 "message_id_domain must be a domain name like "
                                                 "ewsd.district.org, not 'ewsd district'"),
                                        error_at(1, 32, "expected true or false, not 'maybe'")));
}

} // namespace
} // namespace ewsd::core
