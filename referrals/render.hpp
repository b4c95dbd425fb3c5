#pragma once
// Referral notifications as emails (from user-editable mustache templates in
// config/templates, installed in /etc/ewsd/templates) and webhook payloads.
//
// Templates see one referral as: student.{name, initials, id, school, grade}
// (name is the initials when email_student_names is off), rule.{id, name,
// description}, tier, tier3, state, domain and a flag named after it
// (attendance, behavior, course, composite), event and a flag for it (opened,
// updated, renotified, resolved), evidence (a list of {text}), opened_on,
// as_of, referral_id, ack_command, close_command, subject. The digest sees
// subject, summary ("12 referrals for 9 students (2 tier 3)"), count, students,
// tier3_count, as_of and rules (tier 3 first, then by name): a list of {rule,
// tier, domain flags, count, count_text, schools: a list of {school, count,
// count_text, referrals (each as above, students sorted by name shown)}}.
// The text templates are not HTML-escaped; the HTML templates are.

#include "connectors/email/mime.hpp"
#include "referrals/model.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ewsd::referrals {

struct RenderSettings {
    std::filesystem::path templates_dir; // config/templates (installed: /etc/ewsd/templates)
    bool email_student_names = true;     // false: only ID and initials
    std::string from;                    // "Early Warning <ewsd@district.org>"
    std::string message_id_domain = "ewsd.invalid";
};

struct Notification {            // one outbox row
    std::int64_t message_id = 0; // outbox row id
    std::string
        kind; // referral.opened | referral.updated | referral.renotified | referral.resolved
    Referral referral; // parsed from the payload
};

// The inverse of to_json (lifecycle.hpp). Throws std::invalid_argument for a
// payload that is not a referral (a missing field, an unknown state).
Referral referral_from_json(const nlohmann::json& payload);

class Renderer {
public:
    // Loads the five templates (referral.txt, referral.html, digest.txt,
    // digest.html, alert.txt .mustache) and renders each once with sample data; throws
    // std::runtime_error naming the file when one is missing, unreadable, or
    // does not render.
    explicit Renderer(RenderSettings settings);

    connectors::email::EmailMessage referral_email(const Notification& n,
                                                   const std::string& to_name,
                                                   const std::string& to_address,
                                                   std::chrono::sys_seconds now) const;
    // Several notifications for one recipient; the latest per referral is shown.
    // Throws std::invalid_argument when items is empty.
    connectors::email::EmailMessage digest_email(const std::vector<Notification>& items,
                                                 const std::string& to_name,
                                                 const std::string& to_address,
                                                 std::chrono::sys_seconds now) const;
    // {"version":1,"type": kind or "digest","timestamp":"2024-09-03T14:05:07Z",
    //  "data": the referral (to_json) or {"referrals":[...]}}. Without digest,
    // items must hold exactly one notification (else std::invalid_argument).
    std::string webhook_payload(const std::vector<Notification>& items, bool digest,
                                std::chrono::sys_seconds now) const;

    // An operational alert (a feed gone stale, a delivery given up on, a
    // caseload overflow) or the send-test message: text only, from
    // alert.txt.mustache, which sees subject, text, lines (a list of {line})
    // and recipient. Message-ID alert-<message_id>@domain.
    connectors::email::EmailMessage alert_email(std::int64_t message_id, const std::string& subject,
                                                const std::string& text, const std::string& to_name,
                                                const std::string& to_address,
                                                std::chrono::sys_seconds now) const;
    // {"version":1,"type":"alert","timestamp":...,"data":{"subject","text"}}.
    static std::string alert_payload(const std::string& subject, const std::string& text,
                                     std::chrono::sys_seconds now);

    [[nodiscard]] const RenderSettings& settings() const { return m_settings; }

private:
    RenderSettings m_settings;
    std::string m_referral_text;
    std::string m_referral_html;
    std::string m_digest_text;
    std::string m_digest_html;
    std::string m_alert_text;
};

// "[ewsd] Tier 2 referral: chronic-absence — A.G., grade 7, school 101".
std::string referral_subject(const Notification& n, bool student_names);

// "A.G." from the first letters of the first and last names (UTF-8 aware).
std::string initials(const Student& student);

} // namespace ewsd::referrals
