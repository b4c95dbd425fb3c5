#include "connectors/email/mime.hpp"
#include "referrals/evidence_text.hpp"
#include "referrals/lifecycle.hpp"
#include "referrals/render.hpp"
#include "tests/support/python_email.hpp"
#include "tests/support/temp_dir.hpp"

#include <filesystem>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace ewsd::referrals;
using namespace std::chrono;
using ewsd::connectors::email::render_mime;
using ewsd::testing::parse_with_python;
using ewsd::testing::TempDir;

namespace {

std::string words(const std::string& metric, const std::string& window, double value,
                  const std::string& op, double threshold) {
    return evidence_in_words({metric, window, value, op, threshold, true});
}

TEST(EvidenceInWords, Rates) {
    EXPECT_EQ(words("absence_rate(school_year)", "school_year", 0.125, ">=", 0.10),
              "absent 12.5% of enrolled school days this school year (threshold 10%)");
    EXPECT_EQ(words("attendance_rate(20sd)", "20sd", 0.85, "<", 0.9),
              "attended 85% of the last 20 school days (below 90%)");
    EXPECT_EQ(words("absence_rate(30d)", "30d", 1.0 / 3, ">", 0.2),
              "absent 33.3% of enrolled school days in the last 30 days (more than 20%)");
}

TEST(EvidenceInWords, AttendanceCounts) {
    EXPECT_EQ(words("absences(30d)", "30d", 7, ">=", 4),
              "7 days absent in the last 30 days (threshold 4)");
    EXPECT_EQ(words("absences(september)", "september", 3.5, ">=", 2),
              "3.5 days absent in September (threshold 2)");
    EXPECT_EQ(words("absences(6w)", "6w", 1, "<=", 4),
              "1 day absent in the last 6 weeks (at most 4)");
    EXPECT_EQ(words("unexcused_absences(all)", "all", 2, ">", 1),
              "2 days of unexcused absence in all records (more than 1)");
    EXPECT_EQ(words("tardies(grading_period)", "grading_period", 5, ">=", 5),
              "5 tardies in the current grading period (threshold 5)");
    EXPECT_EQ(words("consecutive_absences()", "", 3, ">=", 3),
              "absent 3 school days in a row (threshold 3)");
    EXPECT_EQ(words("enrolled_days(school_year)", "school_year", 45, ">=", 20),
              "enrolled 45 school days this school year (threshold 20)");
}

TEST(EvidenceInWords, BehaviorAndCourses) {
    EXPECT_EQ(
        words("incidents(school_year, behavior = \"State Offense\")", "school_year", 1, ">=", 1),
        "1 incident this school year (behavior: State Offense)");
    EXPECT_EQ(
        words("incidents(school_year, behavior != \"State Offense\")", "school_year", 3, ">=", 2),
        "3 incidents this school year (behavior not State Offense; threshold 2)");
    EXPECT_EQ(words("suspensions(school_year)", "school_year", 2, ">=", 1),
              "2 suspensions this school year");
    EXPECT_EQ(words("suspension_days(30d, action in [\"A\", \"B, C\"])", "30d", 4, ">", 3),
              "4 days suspended in the last 30 days (action: A or B, C; more than 3)");
    EXPECT_EQ(words("failing_grades(grading_period, subject in core_subjects)", "grading_period", 1,
                    ">=", 1),
              "1 failing course in the current grading period (core subjects)");
    EXPECT_EQ(words("failing_grades(grading_period)", "grading_period", 2, ">=", 2),
              "2 failing courses in the current grading period (threshold 2)");
    EXPECT_EQ(words("average_grade(grading_period)", "grading_period", 62.3333, "<", 65),
              "average grade 62.33 in the current grading period (below 65)");
    EXPECT_EQ(words("grade_change()", "", -12, "<=", -10),
              "average grade down 12 points since the previous grading period (at most -10)");
    EXPECT_EQ(words("flagged_domains()", "", 2, ">=", 2),
              "flags in 2 of the 3 ABC domains (threshold 2)");
}

TEST(EvidenceInWords, UnknownMetricAndNumbers) {
    EXPECT_EQ(words("mystery(30d)", "30d", 0.5, ">=", 0.25), "mystery(30d) = 0.5 (>= 0.25)");
    EXPECT_EQ(format_number(7), "7");
    EXPECT_EQ(format_number(7.50), "7.5");
    EXPECT_EQ(format_number(-0.001), "0");
    EXPECT_EQ(window_in_words("14d"), "in the last 14 days");
    EXPECT_EQ(window_in_words("2w"), "in the last 2 weeks");
    EXPECT_EQ(window_in_words("1sd"), "on the last school day");
    EXPECT_EQ(window_in_words("december"), "in December");
}

TEST(EvidenceInWords, LinesJoinComparisonsOfOneMetric) {
    const std::vector<EvidenceItem> evidence = {
        {"absence_rate(school_year)", "school_year", 0.12, ">=", 0.1, true},
        {"absence_rate(school_year)", "school_year", 0.12, "<", 0.2, true},
        {"absence_rate(school_year)", "school_year", 0.12, ">=", 0.1, true},
        {"enrolled_days(school_year)", "school_year", 40, ">=", 20, true}};
    EXPECT_EQ(evidence_lines(evidence),
              (std::vector<std::string>{
                  "absent 12% of enrolled school days this school year (threshold 10%, below 20%)",
                  "enrolled 40 school days this school year (threshold 20)"}));
}

// --- rendering ---------------------------------------------------------------------------

std::filesystem::path templates_dir() {
    return std::filesystem::path(EWSD_SOURCE_DIR) / "config" / "templates";
}

RenderSettings settings(bool names = true) {
    RenderSettings s;
    s.templates_dir = templates_dir();
    s.email_student_names = names;
    s.from = "Early Warning <ewsd@district.org>";
    s.message_id_domain = "ewsd.district.org";
    return s;
}

Notification notification(std::int64_t message_id, std::int64_t referral_id,
                          const std::string& student_id, const std::string& first,
                          const std::string& last, const std::string& school,
                          const std::string& rule_id, int tier = 2,
                          const std::string& kind = "referral.opened") {
    Notification n;
    n.message_id = message_id;
    n.kind = kind;
    Referral& r = n.referral;
    r.id = referral_id;
    r.student = {student_id, first, last, school, 7};
    r.rule_id = rule_id;
    r.rule_name = rule_id == "chronic-absence" ? "Chronic absence" : "Rule " + rule_id;
    r.rule_description = "Missed 10% or more of the school days this year. Source: Attendance "
                         "Works.";
    r.domain = "attendance";
    r.notify = "attendance";
    r.tier = tier;
    r.opened_on = "2025-09-30";
    r.as_of = "2025-09-30";
    r.evidence = {{"absence_rate(school_year)", "school_year", 0.125, ">=", 0.1, true},
                  {"absences(30d)", "30d", 7, ">=", 4, true}};
    return n;
}

Notification ana(const std::string& kind = "referral.opened") {
    return notification(3, 12, "S0001", "Ana", "Garcia", "101", "chronic-absence", 2, kind);
}

const sys_seconds now = sys_days{2025y / September / 30} + 14h + 5min;

TEST(Render, ReferralEmailParsesWithBothParts) {
    const Renderer renderer(settings());
    const auto message = renderer.referral_email(ana(), "Ms. Lee", "lee@district.org", now);
    EXPECT_EQ(message.subject,
              "[ewsd] Tier 2 referral: chronic-absence \u2014 Ana Garcia, grade 7, school 101");
    EXPECT_EQ(message.message_id, "referral-12.n-3@ewsd.district.org");
    const auto parsed = parse_with_python(render_mime(message));
    EXPECT_EQ(parsed["defects"], nlohmann::json::array());
    EXPECT_EQ(parsed["subject"], message.subject);
    EXPECT_EQ(parsed["message_id"], "<referral-12.n-3@ewsd.district.org>");
    ASSERT_EQ(parsed["parts"].size(), 2u);
    EXPECT_EQ(parsed["parts"][0]["type"], "text/plain");
    EXPECT_EQ(parsed["parts"][1]["type"], "text/html");
    for (const auto& part : parsed["parts"]) {
        const std::string body = part["body"];
        EXPECT_NE(body.find("Ana Garcia"), std::string::npos) << body;
        EXPECT_NE(body.find("absent 12.5% of enrolled school days this school year (threshold "
                            "10%)"),
                  std::string::npos)
            << body;
        EXPECT_NE(body.find("7 days absent in the last 30 days (threshold 4)"), std::string::npos);
        EXPECT_NE(body.find("Call the family"), std::string::npos);
        EXPECT_NE(body.find("ewsd referrals ack 12"), std::string::npos);
        EXPECT_NE(body.find("Attendance Works"), std::string::npos);
    }
    EXPECT_EQ(parsed["parts"][0]["body"].get<std::string>().find("&#"), std::string::npos);
}

TEST(Render, SubjectsByEvent) {
    const Renderer renderer(settings(false));
    const auto subject = [&](const std::string& kind) {
        return renderer.referral_email(ana(kind), "", "lee@district.org", now).subject;
    };
    EXPECT_EQ(subject("referral.opened"),
              "[ewsd] Tier 2 referral: chronic-absence \u2014 A.G., grade 7, school 101");
    EXPECT_EQ(subject("referral.renotified"),
              "[ewsd] Reminder, tier 2: chronic-absence \u2014 A.G., grade 7, school 101");
    EXPECT_EQ(subject("referral.resolved"),
              "[ewsd] Resolved: chronic-absence \u2014 A.G., grade 7, school 101");
    EXPECT_EQ(subject("referral.updated"),
              "[ewsd] Now tier 2: chronic-absence \u2014 A.G., grade 7, school 101");
    const auto resolved = renderer.referral_email(ana("referral.resolved"), "", "l@d.org", now);
    EXPECT_NE(resolved.text_body.find("No action is needed"), std::string::npos);
    EXPECT_EQ(resolved.text_body.find("ewsd referrals ack"), std::string::npos);
}

TEST(Render, PrivacyKeepsNamesOutOfTheWholeMessage) {
    const Renderer renderer(settings(false));
    std::vector<Notification> items = {
        ana(), notification(4, 13, "S0002", "Bob", "Okafor", "102", "chronic-absence")};
    for (const auto& rendered :
         {render_mime(renderer.referral_email(ana(), "Ms. Lee", "lee@district.org", now)),
          render_mime(renderer.digest_email(items, "Ms. Lee", "lee@district.org", now))}) {
        const auto parsed = parse_with_python(rendered);
        std::string all = parsed["subject"];
        for (const auto& part : parsed["parts"]) {
            all += part["body"].get<std::string>();
        }
        for (const char* name : {"Ana", "Garcia", "Bob", "Okafor"}) {
            EXPECT_EQ(all.find(name), std::string::npos) << name << " in\n" << all;
            EXPECT_EQ(rendered.find(name), std::string::npos) << name;
        }
        EXPECT_NE(all.find("A.G."), std::string::npos);
        EXPECT_NE(all.find("S0001"), std::string::npos);
    }
}

TEST(Render, TextIsRawAndHtmlIsEscaped) {
    const Renderer renderer(settings());
    auto n = ana();
    n.referral.student.last_name = "O'Brien <b>";
    const auto message = renderer.referral_email(n, "", "lee@district.org", now);
    EXPECT_NE(message.text_body.find("Ana O'Brien <b>"), std::string::npos) << message.text_body;
    EXPECT_EQ(message.html_body.find("O'Brien <b>"), std::string::npos);
    EXPECT_NE(message.html_body.find("Ana O&#39;Brien &lt;b&gt;"), std::string::npos)
        << message.html_body;
    const auto digest = renderer.digest_email({n}, "", "lee@district.org", now);
    EXPECT_NE(digest.text_body.find("Ana O'Brien <b>"), std::string::npos);
    EXPECT_NE(digest.html_body.find("Ana O&#39;Brien &lt;b&gt;"), std::string::npos);
}

TEST(Render, MessageIdsAreStable) {
    const Renderer renderer(settings());
    const auto a = renderer.referral_email(ana(), "", "lee@district.org", now);
    const auto b = renderer.referral_email(ana(), "", "lee@district.org", now + 1h);
    EXPECT_EQ(a.message_id, b.message_id);
    EXPECT_EQ(render_mime(a),
              render_mime(renderer.referral_email(ana(), "", "lee@district.org", now)));
    const std::vector<Notification> items = {notification(7, 20, "S1", "A", "A", "101", "x"),
                                             notification(5, 21, "S2", "B", "B", "101", "x"),
                                             notification(9, 22, "S3", "C", "C", "101", "x")};
    const auto d1 = renderer.digest_email(items, "", "lee@district.org", now);
    const auto d2 = renderer.digest_email(items, "", "lee@district.org", now);
    EXPECT_EQ(d1.message_id, "digest-5-9-3@ewsd.district.org");
    EXPECT_EQ(d1.message_id, d2.message_id);
}

TEST(Render, DigestGroupsByRuleThenSchool) {
    const Renderer renderer(settings());
    const std::vector<Notification> items = {
        notification(1, 1, "S1", "Zoe", "Young", "102", "chronic-absence"),
        notification(2, 2, "S2", "Adam", "Baker", "101", "recent-attendance"),
        notification(3, 3, "S3", "Mia", "Stone", "101", "chronic-absence"),
        notification(4, 4, "S4", "Carl", "Diaz", "101", "chronic-absence"),
        notification(5, 5, "S1", "Zoe", "Young", "102", "severe", 3),
        notification(6, 3, "S3", "Mia", "Stone", "101", "chronic-absence", 2, "referral.updated"),
    };
    const auto message = renderer.digest_email(items, "Ms. Lee", "lee@district.org", now);
    EXPECT_EQ(message.subject, "[ewsd] Digest: 5 referrals for 4 students (1 tier 3)");
    const std::string& text = message.text_body;
    // Tier 3 first, then rules by name; schools in order; students by name.
    const std::vector<std::string> order = {
        "Rule severe", "Zoe Young", "Chronic absence", "School 101", "Carl Diaz", "Mia Stone",
        "School 102",  "Zoe Young", "Rule recent",     "School 101", "Adam Baker"};
    std::size_t pos = 0;
    for (const auto& needle : order) {
        const auto found = text.find(needle, pos);
        ASSERT_NE(found, std::string::npos) << needle << " after " << pos << " in\n" << text;
        pos = found + needle.size();
    }
    // Referral 3 appears once, as its latest notification.
    EXPECT_EQ(text.find("referral 3,"), text.rfind("referral 3,"));
    EXPECT_NE(text.find("referral 3, now tier 2"), std::string::npos) << text;
    const auto parsed = parse_with_python(render_mime(message));
    EXPECT_EQ(parsed["defects"], nlohmann::json::array());
    ASSERT_EQ(parsed["parts"].size(), 2u);
    EXPECT_NE(parsed["parts"][1]["body"].get<std::string>().find("<li><strong>Carl Diaz</strong>"),
              std::string::npos);
}

TEST(Render, MissingTemplateIsNamed) {
    TempDir dir;
    for (const char* file :
         {"referral.txt.mustache", "referral.html.mustache", "digest.txt.mustache"}) {
        std::filesystem::copy_file(templates_dir() / file, dir / file);
    }
    auto s = settings();
    s.templates_dir = dir.path();
    try {
        Renderer renderer(s);
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "cannot read template " + (dir / "digest.html.mustache").string());
    }
    ewsd::testing::write_file(dir / "digest.html.mustache", "  \n");
    try {
        Renderer renderer(s);
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "template " + (dir / "digest.html.mustache").string() + " renders nothing");
    }
}

TEST(Render, EscalatedReminderSaysSo) {
    const Renderer renderer(settings());
    auto n = ana("referral.renotified");
    const auto plain = renderer.referral_email(n, "", "lee@district.org", now);
    EXPECT_EQ(plain.text_body.find("Escalated"), std::string::npos);
    n.referral.escalated = true;
    const auto escalated = renderer.referral_email(n, "", "lead@district.org", now);
    EXPECT_NE(escalated.text_body.find("Escalated: open since"), std::string::npos)
        << escalated.text_body;
    EXPECT_NE(escalated.html_body.find("Escalated: open since"), std::string::npos);
    EXPECT_TRUE(referral_from_json(to_json(n.referral)).escalated);
}

TEST(Render, AlertEmailIsPlainTextLineByLine) {
    const Renderer renderer(settings());
    const auto message = renderer.alert_email(77, "Feed sis is stale", "line one\nline two", "IT",
                                              "it@district.org", now);
    EXPECT_EQ(message.subject, "[ewsd] Feed sis is stale");
    EXPECT_EQ(message.message_id, "alert-77@ewsd.district.org");
    const auto parsed = parse_with_python(render_mime(message));
    EXPECT_EQ(parsed["defects"], nlohmann::json::array());
    ASSERT_EQ(parsed["parts"].size(), 1u);
    EXPECT_EQ(parsed["parts"][0]["type"], "text/plain");
    const std::string body = parsed["parts"][0]["body"];
    EXPECT_NE(body.find("Feed sis is stale\n\nline one\nline two\n"), std::string::npos) << body;
    const auto payload =
        nlohmann::json::parse(Renderer::alert_payload("Feed sis is stale", "line one", now));
    EXPECT_EQ(payload["type"], "alert");
    EXPECT_EQ(payload["data"]["text"], "line one");
}

TEST(Render, WebhookPayloads) {
    const Renderer renderer(settings(false));
    const auto single = nlohmann::json::parse(renderer.webhook_payload({ana()}, false, now));
    EXPECT_EQ(single["version"], 1);
    EXPECT_EQ(single["type"], "referral.opened");
    EXPECT_EQ(single["timestamp"], "2025-09-30T14:05:00Z");
    EXPECT_EQ(single["data"], to_json(ana().referral));
    EXPECT_EQ(referral_from_json(single["data"]).evidence.size(), 2u);

    const std::vector<Notification> items = {
        ana(), notification(4, 13, "S0002", "Bob", "Okafor", "102", "chronic-absence")};
    const auto digest = nlohmann::json::parse(renderer.webhook_payload(items, true, now));
    EXPECT_EQ(digest["type"], "digest");
    ASSERT_EQ(digest["data"]["referrals"].size(), 2u);
    EXPECT_EQ(digest["data"]["referrals"][1]["referral_id"], 13);
    EXPECT_EQ(digest["data"]["referrals"][1]["event"], "referral.opened");
    EXPECT_THROW((void)renderer.webhook_payload(items, false, now), std::invalid_argument);
}

TEST(Render, ReferralJsonRoundTrips) {
    auto n = ana();
    n.referral.state = State::acknowledged;
    n.referral.evidence[1].holds = false;
    const Referral back = referral_from_json(to_json(n.referral));
    EXPECT_EQ(to_json(back), to_json(n.referral));
    EXPECT_THROW((void)referral_from_json(nlohmann::json{{"x", 1}}), std::invalid_argument);
    auto bad = to_json(n.referral);
    bad["state"] = "lost";
    EXPECT_THROW((void)referral_from_json(bad), std::invalid_argument);
}

} // namespace
