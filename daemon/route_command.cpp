// `ewsd route STUDENT RULE`: who would receive that referral, and why, route by route.
#include "daemon/commands.hpp"
#include "daemon/common.hpp"
#include "referrals/routing.hpp"
#include "store/student_data.hpp"
#include "util/date.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace ewsd::daemon {

namespace {

// Tier 3 never waits for a digest.
std::string delivery_text(const core::Specialist& s, int tier) {
    if (!s.digest) {
        return "immediate";
    }
    const std::string at = referrals::format_time_of_day(s.digest_time_minutes);
    if (tier >= 3) {
        return "immediate (tier 3 goes at once, even to digest recipients; other tiers wait for "
               "the digest at " +
               at + ")";
    }
    return "digest at " + at;
}

void print_recipient(const core::NotifyConfig& notify, const core::Specialist& s, int tier) {
    std::string line =
        "  " + s.id + (s.name.empty() ? "" : " (" + s.name + ")") + ": " + delivery_text(s, tier);
    if (!s.email.empty()) {
        line += "; email " + s.email;
    }
    if (!s.webhook_url.empty()) {
        line += "; webhook " + s.webhook_url;
    }
    if (s.max_new_per_day > 0) {
        const std::string overflow = !s.lead.empty() ? s.lead : notify.admin;
        line += "; at most " + std::to_string(s.max_new_per_day) + " new a day" +
                (overflow.empty() ? "" : " (overflow: " + overflow + ")");
    }
    std::printf("%s\n", line.c_str());
}

} // namespace

int command_route(const std::filesystem::path& config_path, const std::string& student_id,
                  const std::string& rule_id, const std::string& as_of_text) {
    const core::Config config = load(config_path);
    const std::optional<int> as_of = parse_as_of(as_of_text, config, "route");
    if (!as_of) {
        return 2;
    }
    const rules::RuleSet rule_set = load_rules_or_throw(config);
    const auto rule = std::find_if(rule_set.rules.begin(), rule_set.rules.end(),
                                   [&](const rules::Rule& r) { return r.id == rule_id; });
    if (rule == rule_set.rules.end()) {
        std::vector<std::string> ids;
        for (const auto& r : rule_set.rules) {
            ids.push_back(r.id);
        }
        const std::string suggestion = util::closest_match(rule_id, ids);
        std::cerr << "ewsd route: no rule '" << rule_id << "'"
                  << (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)") << "\n";
        return 2;
    }
    store::Database db(config.database);
    store::StudentReader reader(db);
    const auto student = reader.read(student_id);
    if (!student) {
        std::cerr << "ewsd route: no enrolled student '" << student_id << "'\n";
        return 2;
    }
    const auto* enrollment = store::current_enrollment(*student, *as_of);
    const referrals::RouteInput input{rule->notify, rules::to_string(rule->domain), rule->tier,
                                      enrollment ? enrollment->school_id : "",
                                      enrollment ? enrollment->grade_level : 0};
    std::printf("student %s, school %s, grade %d, as of %s\n", student_id.c_str(),
                enrollment ? input.school_id.c_str() : "?", input.grade_level,
                util::format_iso_date(util::from_day_number(*as_of)).c_str());
    std::printf("rule %s: notify %s, domain %s, tier %d%s\n", rule->id.c_str(),
                input.notify.c_str(), input.domain.c_str(), input.tier,
                rule->enabled ? "" : " (disabled: it never fires)");
    if (config.notify.routes.empty()) {
        std::printf("\nno routes are configured in %s: referrals are evaluated, but no one is "
                    "notified\n",
                    config_path.c_str());
        return 0;
    }
    const referrals::RouteDecision decision = referrals::route(config.notify, input);
    std::printf("\n");
    for (const auto& step : decision.steps) {
        std::printf("%s %s\n", step.matched ? "+" : "-", step.reason.c_str());
    }
    std::printf("\nrecipients%s:\n",
                decision.fallback_used ? " (only the fallback route reached this referral)" : "");
    for (const auto* s : decision.recipients) {
        print_recipient(config.notify, *s, input.tier);
    }
    if (decision.recipients.empty()) {
        std::printf("  (none)\n");
    }
    if (!config.notify.email_student_names) {
        std::printf("emails name the student by id and initials only (privacy.email_student_names: "
                    "false)\n");
    }
    return 0;
}

} // namespace ewsd::daemon
