#include "referrals/render.hpp"

#include "referrals/evidence_text.hpp"
#include "referrals/lifecycle.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <mstch/mstch.hpp>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace ewsd::referrals {

namespace {

// mstch's escape function is one global: every render sets it under this lock,
// so text parts are never HTML-escaped and HTML parts always are.
std::mutex mstch_mutex;

enum class Escape { none, html };

std::string html_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string render_template(const std::string& tmpl, const mstch::map& context, Escape escape) {
    const std::lock_guard lock(mstch_mutex);
    if (escape == Escape::none) {
        mstch::config::escape = [](const std::string& s) { return s; };
    } else {
        mstch::config::escape = html_escape;
    }
    return mstch::render(tmpl, context);
}

// Text parts: no trailing spaces, at most one blank line in a row, one final newline.
std::string tidy_text(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    std::string out;
    int blank = 0;
    while (std::getline(in, line)) {
        while (!line.empty() &&
               (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) {
            line.pop_back();
        }
        blank = line.empty() ? blank + 1 : 0;
        if (blank > 1 || (line.empty() && out.empty())) {
            continue;
        }
        out += line + "\n";
    }
    while (out.ends_with("\n\n")) {
        out.pop_back();
    }
    return out;
}

std::string read_template(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read template " + path.string());
    }
    std::ostringstream out;
    out << in.rdbuf();
    if (!in && !in.eof()) {
        throw std::runtime_error("cannot read template " + path.string());
    }
    return out.str();
}

// The first UTF-8 character of a name.
std::string first_character(const std::string& name) {
    if (name.empty()) {
        return "";
    }
    std::size_t n = 1;
    while (n < name.size() && (static_cast<unsigned char>(name[n]) & 0xC0) == 0x80) {
        ++n;
    }
    return name.substr(0, n);
}

std::string grade_text(int grade) {
    if (grade == -1) {
        return "PK";
    }
    if (grade == 0) {
        return "K";
    }
    return std::to_string(grade);
}

std::string display_name(const Student& s, bool names) {
    if (names) {
        std::string full = s.first_name;
        if (!s.last_name.empty()) {
            full += (full.empty() ? "" : " ") + s.last_name;
        }
        if (!full.empty()) {
            return full;
        }
    }
    const std::string ini = initials(s);
    return ini.empty() ? s.id : ini;
}

const char* const domains[] = {"attendance", "behavior", "course", "composite"};
const char* const events[] = {"opened", "updated", "renotified", "resolved"};

mstch::map student_node(const Student& s, bool names) {
    return mstch::map{{"name", display_name(s, names)},
                      {"initials", initials(s)},
                      {"id", s.id},
                      {"school", s.school_id},
                      {"grade", grade_text(s.grade_level)}};
}

mstch::map rule_node(const Referral& r) {
    return mstch::map{
        {"id", r.rule_id}, {"name", r.rule_name}, {"description", r.rule_description}};
}

void add_flags(mstch::map& node, const std::string& domain, int tier) {
    for (const char* d : domains) {
        node[d] = domain == d;
    }
    node["domain"] = domain;
    node["tier"] = tier;
    node["tier3"] = tier >= 3;
}

mstch::map referral_node(const Notification& n, bool names) {
    const Referral& r = n.referral;
    mstch::array evidence;
    for (const auto& line : evidence_lines(r.evidence)) {
        evidence.emplace_back(mstch::map{{"text", line}});
    }
    const std::string id = std::to_string(r.id);
    mstch::map node{{"student", student_node(r.student, names)},
                    {"rule", rule_node(r)},
                    {"state", std::string(to_string(r.state))},
                    {"event", n.kind},
                    {"evidence", evidence},
                    {"opened_on", r.opened_on},
                    {"as_of", r.as_of},
                    {"referral_id", id},
                    {"escalated", r.escalated},
                    {"ack_command", "ewsd referrals ack " + id},
                    {"close_command", "ewsd referrals close " + id}};
    add_flags(node, r.domain, r.tier);
    for (const char* e : events) {
        node[e] = n.kind == std::string("referral.") + e;
    }
    return node;
}

std::string validated_domain(const std::string& domain) {
    // A Message-ID's right side: a dot-atom (render_mime checks it again).
    return domain.empty() ? "ewsd.invalid" : domain;
}

// The latest notification per referral, in outbox order.
std::vector<const Notification*> latest_per_referral(const std::vector<Notification>& items) {
    std::map<std::int64_t, const Notification*> latest;
    for (const auto& n : items) {
        auto& slot = latest[n.referral.id];
        if (slot == nullptr || n.message_id >= slot->message_id) {
            slot = &n;
        }
    }
    std::vector<const Notification*> out;
    for (const auto& [id, n] : latest) {
        out.push_back(n);
    }
    std::sort(out.begin(), out.end(),
              [](const auto* a, const auto* b) { return a->message_id < b->message_id; });
    return out;
}

std::string plural_count(std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

struct DigestSummary {
    std::size_t referrals = 0;
    std::size_t students = 0;
    std::size_t tier3 = 0;
};

DigestSummary summarize(const std::vector<const Notification*>& items) {
    DigestSummary s;
    std::set<std::string> students;
    for (const auto* n : items) {
        students.insert(n->referral.student.id);
        s.tier3 += n->referral.tier >= 3 ? 1 : 0;
    }
    s.referrals = items.size();
    s.students = students.size();
    return s;
}

// "12 referrals for 9 students (2 tier 3)".
std::string summary_text(const DigestSummary& s) {
    std::string text = plural_count(s.referrals, "referral", "referrals") + " for " +
                       plural_count(s.students, "student", "students");
    if (s.tier3 > 0) {
        text += " (" + std::to_string(s.tier3) + " tier 3)";
    }
    return text;
}

// Rules (highest tier first, then by name), then schools, then students by the
// name shown and their ID.
mstch::array digest_rules(const std::vector<const Notification*>& items, bool names) {
    std::vector<const Notification*> sorted = items;
    const auto key = [names](const Notification* n) {
        const Referral& r = n->referral;
        return std::make_tuple(-r.tier, r.rule_name, r.rule_id, r.student.school_id,
                               display_name(r.student, names), r.student.id, r.id);
    };
    std::sort(sorted.begin(), sorted.end(),
              [&key](const auto* a, const auto* b) { return key(a) < key(b); });
    mstch::array rules;
    std::size_t i = 0;
    while (i < sorted.size()) {
        const Referral& first = sorted[i]->referral;
        mstch::array schools;
        std::size_t rule_count = 0;
        while (i < sorted.size() && sorted[i]->referral.rule_id == first.rule_id &&
               sorted[i]->referral.tier == first.tier) {
            const std::string school = sorted[i]->referral.student.school_id;
            mstch::array referrals;
            while (i < sorted.size() && sorted[i]->referral.rule_id == first.rule_id &&
                   sorted[i]->referral.tier == first.tier &&
                   sorted[i]->referral.student.school_id == school) {
                referrals.emplace_back(referral_node(*sorted[i], names));
                ++i;
            }
            rule_count += referrals.size();
            schools.emplace_back(
                mstch::map{{"school", school},
                           {"count", static_cast<int>(referrals.size())},
                           {"count_text", plural_count(referrals.size(), "student", "students")},
                           {"referrals", referrals}});
        }
        mstch::map rule{{"rule", rule_node(first)},
                        {"count", static_cast<int>(rule_count)},
                        {"count_text", plural_count(rule_count, "student", "students")},
                        {"schools", schools}};
        add_flags(rule, first.domain, first.tier);
        rules.emplace_back(rule);
    }
    return rules;
}

std::string iso_timestamp(std::chrono::sys_seconds time) {
    const auto day = std::chrono::floor<std::chrono::days>(time);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss hms{time - day};
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02dZ", int(ymd.year()),
                  unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                  int(hms.minutes().count()), int(hms.seconds().count()));
    return buffer;
}

Notification sample_notification() {
    Notification n;
    n.message_id = 1;
    n.kind = "referral.opened";
    n.referral.id = 1;
    n.referral.student = {"S1", "Sample", "Student", "1", 9};
    n.referral.rule_id = "sample";
    n.referral.rule_name = "Sample";
    n.referral.rule_description = "A sample rule.";
    n.referral.domain = "attendance";
    n.referral.tier = 2;
    n.referral.opened_on = "2025-09-30";
    n.referral.as_of = "2025-09-30";
    n.referral.evidence = {{"absences(30d)", "30d", 5, ">=", 4, true}};
    return n;
}

State state_from_string(const std::string& s) {
    for (State state :
         {State::pending, State::open, State::acknowledged, State::resolved, State::closed}) {
        if (s == to_string(state)) {
            return state;
        }
    }
    throw std::invalid_argument("unknown referral state '" + s + "'");
}

} // namespace

std::string initials(const Student& student) {
    std::string out;
    for (const auto* name : {&student.first_name, &student.last_name}) {
        const std::string c = first_character(*name);
        if (!c.empty()) {
            out += c + ".";
        }
    }
    return out;
}

std::string referral_subject(const Notification& n, bool student_names) {
    const Referral& r = n.referral;
    const std::string tier = std::to_string(r.tier);
    std::string lead;
    if (n.kind == to_string(Event::renotified)) {
        lead = "Reminder, tier " + tier;
    } else if (n.kind == to_string(Event::resolved)) {
        lead = "Resolved";
    } else if (n.kind == to_string(Event::updated)) {
        lead = "Now tier " + tier;
    } else {
        lead = "Tier " + tier + " referral";
    }
    return "[ewsd] " + lead + ": " + r.rule_id + " \u2014 " +
           display_name(r.student, student_names) + ", grade " + grade_text(r.student.grade_level) +
           ", school " + r.student.school_id;
}

Referral referral_from_json(const nlohmann::json& p) {
    try {
        Referral r;
        r.id = p.at("referral_id").get<std::int64_t>();
        const auto& s = p.at("student");
        r.student.id = s.at("id").get<std::string>();
        r.student.first_name = s.value("first_name", "");
        r.student.last_name = s.value("last_name", "");
        r.student.school_id = s.value("school_id", "");
        r.student.grade_level = s.value("grade_level", 0);
        r.rule_id = p.at("rule_id").get<std::string>();
        r.rule_name = p.value("rule_name", r.rule_id);
        r.rule_description = p.value("rule_description", "");
        r.domain = p.value("domain", "");
        r.notify = p.value("notify", "");
        r.tier = p.value("tier", 1);
        r.state = state_from_string(p.value("state", "open"));
        r.opened_on = p.value("opened_on", "");
        r.as_of = p.value("as_of", "");
        r.escalated = p.value("escalated", false);
        for (const auto& e : p.value("evidence", nlohmann::json::array())) {
            r.evidence.push_back({e.value("metric", ""), e.value("window", ""),
                                  e.value("value", 0.0), e.value("op", ""),
                                  e.value("threshold", 0.0), e.value("holds", false)});
        }
        return r;
    } catch (const nlohmann::json::exception& e) {
        throw std::invalid_argument(std::string("not a referral payload: ") + e.what());
    }
}

Renderer::Renderer(RenderSettings settings) : m_settings(std::move(settings)) {
    const auto& dir = m_settings.templates_dir;
    struct Slot {
        std::string* text;
        const char* file;
        Escape escape;
        bool digest;
    };
    const Slot slots[] = {{&m_referral_text, "referral.txt.mustache", Escape::none, false},
                          {&m_referral_html, "referral.html.mustache", Escape::html, false},
                          {&m_digest_text, "digest.txt.mustache", Escape::none, true},
                          {&m_digest_html, "digest.html.mustache", Escape::html, true}};
    const Notification sample = sample_notification();
    for (const auto& slot : slots) {
        const auto path = dir / slot.file;
        *slot.text = read_template(path);
        std::string rendered;
        try {
            // A trial render: a template mstch cannot render fails now, not at send time.
            const auto email =
                slot.digest ? digest_email({sample}, "", "a@b.invalid", std::chrono::sys_seconds{})
                            : referral_email(sample, "", "a@b.invalid", std::chrono::sys_seconds{});
            rendered = slot.escape == Escape::none ? email.text_body : email.html_body;
        } catch (const std::exception& e) {
            throw std::runtime_error("template " + path.string() + ": " + e.what());
        }
        if (rendered.find_first_not_of(" \t\r\n") == std::string::npos) {
            throw std::runtime_error("template " + path.string() + " renders nothing");
        }
    }
    m_alert_text = read_template(dir / "alert.txt.mustache");
    try {
        (void)alert_email(1, "Sample", "A sample alert.", "", "a@b.invalid",
                          std::chrono::sys_seconds{});
    } catch (const std::exception& e) {
        throw std::runtime_error("template " + (dir / "alert.txt.mustache").string() + ": " +
                                 e.what());
    }
}

// One email from a pair of templates: the text part unescaped, the HTML part
// escaped; the Message-ID's local part given, its domain from the settings.
namespace {

connectors::email::EmailMessage
compose(const RenderSettings& settings, const std::string& text_template,
        const std::string& html_template, const mstch::map& context, const std::string& subject,
        const std::string& to_address, const std::string& message_id_local,
        std::chrono::sys_seconds now, std::vector<std::pair<std::string, std::string>> headers) {
    connectors::email::EmailMessage m;
    m.from = settings.from;
    m.to = {to_address};
    m.subject = subject;
    m.text_body = tidy_text(render_template(text_template, context, Escape::none));
    m.html_body = render_template(html_template, context, Escape::html);
    m.message_id = message_id_local + "@" + validated_domain(settings.message_id_domain);
    m.date = now;
    m.extra_headers = std::move(headers);
    return m;
}

} // namespace

connectors::email::EmailMessage Renderer::referral_email(const Notification& n,
                                                         const std::string& to_name,
                                                         const std::string& to_address,
                                                         std::chrono::sys_seconds now) const {
    const bool names = m_settings.email_student_names;
    mstch::map context = referral_node(n, names);
    const std::string subject = referral_subject(n, names);
    context["subject"] = subject;
    context["recipient"] = to_name;

    return compose(
        m_settings, m_referral_text, m_referral_html, context, subject, to_address,
        "referral-" + std::to_string(n.referral.id) + ".n-" + std::to_string(n.message_id), now,
        {{"X-Ewsd-Referral", std::to_string(n.referral.id)}, {"X-Ewsd-Event", n.kind}});
}

connectors::email::EmailMessage Renderer::digest_email(const std::vector<Notification>& items,
                                                       const std::string& to_name,
                                                       const std::string& to_address,
                                                       std::chrono::sys_seconds now) const {
    if (items.empty()) {
        throw std::invalid_argument("a digest needs at least one notification");
    }
    const bool names = m_settings.email_student_names;
    const auto latest = latest_per_referral(items);
    const DigestSummary summary = summarize(latest);
    const std::string subject = "[ewsd] Digest: " + summary_text(summary);
    std::string as_of;
    std::int64_t first_id = items.front().message_id;
    std::int64_t last_id = items.front().message_id;
    for (const auto& n : items) {
        as_of = std::max(as_of, n.referral.as_of);
        first_id = std::min(first_id, n.message_id);
        last_id = std::max(last_id, n.message_id);
    }
    mstch::map context{{"subject", subject},
                       {"summary", summary_text(summary)},
                       {"recipient", to_name},
                       {"count", static_cast<int>(summary.referrals)},
                       {"students", static_cast<int>(summary.students)},
                       {"tier3_count", static_cast<int>(summary.tier3)},
                       {"as_of", as_of},
                       {"rules", digest_rules(latest, names)}};

    return compose(m_settings, m_digest_text, m_digest_html, context, subject, to_address,
                   "digest-" + std::to_string(first_id) + "-" + std::to_string(last_id) + "-" +
                       std::to_string(items.size()),
                   now, {{"X-Ewsd-Digest", std::to_string(summary.referrals)}});
}

connectors::email::EmailMessage
Renderer::alert_email(std::int64_t message_id, const std::string& subject, const std::string& text,
                      const std::string& to_name, const std::string& to_address,
                      std::chrono::sys_seconds now) const {
    mstch::array lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto end = std::min(text.find('\n', start), text.size());
        lines.emplace_back(mstch::map{{"line", text.substr(start, end - start)}});
        start = end + 1;
    }
    const mstch::map context{{"subject", subject},
                             {"text", text},
                             {"lines", lines},
                             {"recipient", to_name},
                             {"message_id", std::to_string(message_id)}};
    connectors::email::EmailMessage m;
    m.from = m_settings.from;
    m.to = {to_address};
    m.subject = "[ewsd] " + subject;
    m.text_body = tidy_text(render_template(m_alert_text, context, Escape::none));
    m.message_id = "alert-" + std::to_string(message_id) + "@" +
                   validated_domain(m_settings.message_id_domain);
    m.date = now;
    m.extra_headers = {{"X-Ewsd-Event", "alert"}};
    return m;
}

std::string Renderer::alert_payload(const std::string& subject, const std::string& text,
                                    std::chrono::sys_seconds now) {
    return nlohmann::json{{"version", 1},
                          {"type", "alert"},
                          {"timestamp", iso_timestamp(now)},
                          {"data", {{"subject", subject}, {"text", text}}}}
        .dump();
}

std::string Renderer::webhook_payload(const std::vector<Notification>& items, bool digest,
                                      std::chrono::sys_seconds now) const {
    nlohmann::json payload{{"version", 1}, {"timestamp", iso_timestamp(now)}};
    if (digest) {
        nlohmann::json referrals = nlohmann::json::array();
        for (const auto* n : latest_per_referral(items)) {
            auto referral = to_json(n->referral);
            referral["event"] = n->kind;
            referrals.push_back(std::move(referral));
        }
        payload["type"] = "digest";
        payload["data"] = {{"referrals", std::move(referrals)}};
    } else {
        if (items.size() != 1) {
            throw std::invalid_argument("a webhook payload without digest takes one notification");
        }
        payload["type"] = items.front().kind;
        payload["data"] = to_json(items.front().referral);
    }
    return payload.dump();
}

} // namespace ewsd::referrals
