#include "referrals/routing.hpp"

#include "util/date.hpp"

#include <SQLiteCpp/Statement.h>
#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

namespace ewsd::referrals {

namespace {

std::string grade_text(int grade) {
    return grade == -1 ? "PK" : grade == 0 ? "K" : std::to_string(grade);
}

std::string list_text(const std::vector<std::string>& values) {
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        out += (i == 0 ? "" : ", ") + values[i];
    }
    return out + "]";
}

std::string list_text(const std::vector<int>& values, std::string (*text)(int)) {
    std::vector<std::string> strings;
    for (const int v : values) {
        strings.push_back(text(v));
    }
    return list_text(strings);
}

std::string tier_text(int tier) {
    return std::to_string(tier);
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        out += (i == 0 ? "" : separator) + parts[i];
    }
    return out;
}

template <typename T> bool allows(const std::vector<T>& values, const T& value) {
    return values.empty() || std::find(values.begin(), values.end(), value) != values.end();
}

// Compares one key: a key without values says nothing; otherwise `matched`
// gets "tier 2", or `failed` gets "tier 1 not in [2, 3]".
struct KeyChecks {
    std::vector<std::string> matched;
    std::vector<std::string> failed;

    void check(const std::string& key, const std::vector<std::string>& values,
               const std::string& value) {
        if (!values.empty()) {
            (allows(values, value) ? matched : failed)
                .push_back(key + " " + value +
                           (allows(values, value) ? "" : " not in " + list_text(values)));
        }
    }
    void check(const std::string& key, const std::vector<int>& values, int value,
               std::string (*text)(int)) {
        if (!values.empty()) {
            (allows(values, value) ? matched : failed)
                .push_back(key + " " + text(value) +
                           (allows(values, value) ? "" : " not in " + list_text(values, text)));
        }
    }
};

KeyChecks check_match(const core::RouteMatch& match, const RouteInput& input) {
    KeyChecks c;
    c.check("notify", match.notify, input.notify);
    c.check("domain", match.domains, input.domain);
    c.check("tier", match.tiers, input.tier, tier_text);
    c.check("school", match.schools, input.school_id);
    c.check("grade", match.grades, input.grade_level, grade_text);
    return c;
}

// Empty when the specialist's scope covers the referral, else why not.
std::string out_of_scope(const core::Specialist& s, const RouteInput& input) {
    KeyChecks c;
    c.check("school", s.schools, input.school_id);
    c.check("grade", s.grades, input.grade_level, grade_text);
    c.check("domain", s.domains, input.domain);
    return join(c.failed, ", ");
}

std::string route_name(const core::NotifyConfig& config, std::size_t index) {
    const core::Route& r = config.routes[index];
    const std::string file = std::filesystem::path(config.file).filename().string();
    return "route " + std::to_string(index + 1) + " (" + (file.empty() ? "config" : file) + ":" +
           std::to_string(r.line) + ":" + std::to_string(r.column) + "): ";
}

std::string match_text(const KeyChecks& c) {
    if (c.matched.empty()) {
        return "matches every referral";
    }
    return join(c.matched, ", ") + (c.matched.size() == 1 ? " matches" : " match");
}

// Adds those not yet among the recipients; returns their ids.
std::vector<std::string> add_recipients(RouteDecision& d,
                                        const std::vector<const core::Specialist*>& specialists) {
    std::vector<std::string> added;
    for (const auto* s : specialists) {
        if (std::find(d.recipients.begin(), d.recipients.end(), s) == d.recipients.end()) {
            d.recipients.push_back(s);
            added.push_back(s->id);
        }
    }
    return added;
}

std::string added_text(const std::vector<std::string>& added) {
    return " -> " + (added.empty() ? std::string("no one new") : join(added, ", "));
}

void route_fallback(const core::NotifyConfig& config, std::size_t index, const RouteInput& input,
                    bool matched_before, RouteDecision& d) {
    std::vector<const core::Specialist*> to;
    bool scope_ignored = false;
    for (const auto& id : config.routes[index].to) {
        if (const auto* s = find_specialist(config, id)) {
            to.push_back(s);
            scope_ignored = scope_ignored || !out_of_scope(*s, input).empty();
        }
    }
    std::string reason = route_name(config, index) + "fallback (match: {})" +
                         added_text(add_recipients(d, to)) +
                         (scope_ignored ? " (the fallback ignores the specialists' scope)" : "");
    d.steps.push_back({index, true, std::move(reason)});
    d.fallback_used = !matched_before;
}

} // namespace

const core::Specialist* find_specialist(const core::NotifyConfig& config, const std::string& id) {
    for (const auto& s : config.specialists) {
        if (s.id == id) {
            return &s;
        }
    }
    return nullptr;
}

std::string format_time_of_day(int minutes) {
    char text[8];
    std::snprintf(text, sizeof text, "%02d:%02d", (minutes / 60) % 24, minutes % 60);
    return text;
}

std::vector<std::string> channels_of(const core::Specialist& specialist) {
    std::vector<std::string> out;
    if (!specialist.email.empty()) {
        out.emplace_back("email");
    }
    if (!specialist.webhook_url.empty()) {
        out.emplace_back("webhook");
    }
    return out;
}

RouteDecision route(const core::NotifyConfig& config, const RouteInput& input) {
    RouteDecision d;
    bool matched_before = false;
    for (std::size_t i = 0; i < config.routes.size(); ++i) {
        const core::Route& r = config.routes[i];
        if (i + 1 == config.routes.size() && r.match.empty()) {
            route_fallback(config, i, input, matched_before, d);
            break;
        }
        const KeyChecks keys = check_match(r.match, input);
        if (!keys.failed.empty()) {
            d.steps.push_back({i, false, route_name(config, i) + join(keys.failed, ", ")});
            continue;
        }
        std::vector<const core::Specialist*> in_scope;
        std::vector<std::string> excluded;
        for (const auto& id : r.to) {
            const auto* s = find_specialist(config, id);
            if (s == nullptr) {
                continue;
            }
            const std::string why = out_of_scope(*s, input);
            if (why.empty()) {
                in_scope.push_back(s);
            } else {
                excluded.push_back(s->id + ": " + why);
            }
        }
        std::string reason = route_name(config, i) + match_text(keys);
        if (in_scope.empty()) {
            reason += ", but no specialist in `to` covers the referral (" + join(excluded, "; ") +
                      "); trying the next route";
            d.steps.push_back({i, false, std::move(reason)});
            continue;
        }
        reason += added_text(add_recipients(d, in_scope));
        if (!excluded.empty()) {
            reason += " (not " + join(excluded, "; ") + ")";
        }
        if (r.continue_matching) {
            reason += "; continue: true, so later routes are tried too";
        }
        d.steps.push_back({i, true, std::move(reason)});
        matched_before = true;
        if (!r.continue_matching) {
            break;
        }
    }
    return d;
}

namespace {

struct RuleKind {
    std::string notify;
    std::string domain;
    int tier = 1;
    std::string rule_id; // the first rule of this kind
};

// The distinct (notify, domain, tier) of the enabled rules, in rule order.
std::vector<RuleKind> rule_kinds(const rules::RuleSet& rules) {
    std::vector<RuleKind> kinds;
    for (const auto& rule : rules.rules) {
        if (!rule.enabled) {
            continue;
        }
        RuleKind kind{rule.notify, rules::to_string(rule.domain), rule.tier, rule.id};
        const bool seen = std::any_of(kinds.begin(), kinds.end(), [&](const RuleKind& k) {
            return k.notify == kind.notify && k.domain == kind.domain && k.tier == kind.tier;
        });
        if (!seen) {
            kinds.push_back(std::move(kind));
        }
    }
    return kinds;
}

} // namespace

RouteCoverage coverage(const core::NotifyConfig& config, const rules::RuleSet& rules,
                       store::Database& db, int as_of, std::size_t max_examples) {
    RouteCoverage c;
    const std::vector<RuleKind> kinds = rule_kinds(rules);
    std::vector<std::string> domains;
    for (const auto& k : kinds) {
        if (std::find(domains.begin(), domains.end(), k.domain) == domains.end()) {
            domains.push_back(k.domain);
        }
    }
    // Routing depends on the school and grade only: (domain, rule) pairs per place.
    using Gaps = std::vector<std::pair<std::string, std::string>>;
    std::map<std::pair<std::string, int>, Gaps> gaps_at;
    const auto gaps = [&](const std::string& school, int grade) -> const Gaps& {
        const auto key = std::make_pair(school, grade);
        if (const auto it = gaps_at.find(key); it != gaps_at.end()) {
            return it->second;
        }
        Gaps found;
        for (const auto& k : kinds) {
            const bool known = std::any_of(found.begin(), found.end(),
                                           [&](const auto& g) { return g.first == k.domain; });
            if (!known &&
                route(config, {k.notify, k.domain, k.tier, school, grade}).fallback_used) {
                found.emplace_back(k.domain, k.rule_id);
            }
        }
        return gaps_at.emplace(key, std::move(found)).first->second;
    };

    const std::string as_of_text = util::format_iso_date(util::from_day_number(as_of));
    const auto finish = [&](const std::string& student, const std::string& school, int grade) {
        ++c.students;
        c.pairs += domains.size();
        for (const auto& [domain, rule_id] : gaps(school, grade)) {
            ++c.fallback_only;
            if (c.examples.size() < max_examples) {
                c.examples.push_back({student, school, grade, domain, rule_id});
            }
        }
    };
    SQLite::Statement q(db.sql(), "SELECT student_id, school_id, grade_level, entry_date "
                                  "FROM enrollments ORDER BY student_id, entry_date");
    std::string student;
    std::string school;
    int grade = 0;
    while (q.executeStep()) {
        const std::string id = q.getColumn(0).getString();
        const std::string entry = q.getColumn(3).getString();
        // The latest enrollment that began by as_of, else the first.
        if (id != student || entry <= as_of_text) {
            if (id != student && !student.empty()) {
                finish(student, school, grade);
            }
            student = id;
            school = q.getColumn(1).getString();
            grade = q.getColumn(2).getInt();
        }
    }
    if (!student.empty()) {
        finish(student, school, grade);
    }
    return c;
}

util::Diagnostics route_coverage_warnings(const core::Config& config, const rules::RuleSet& rules,
                                          int as_of) {
    util::Diagnostics out;
    std::error_code ec;
    if (config.notify.routes.empty() || !std::filesystem::exists(config.database, ec)) {
        return out;
    }
    const core::Route& fallback = config.notify.routes.back();
    try {
        store::Database db(config.database);
        const RouteCoverage c = coverage(config.notify, rules, db, as_of);
        if (c.fallback_only == 0) {
            return out;
        }
        std::string message = "routing: " + std::to_string(c.fallback_only) + " of " +
                              std::to_string(c.pairs) +
                              " (student, domain) pairs in the roster reach only the fallback "
                              "route (no other route's match and scope covers them), e.g.:";
        for (const auto& e : c.examples) {
            message += "\n    " + e.student_id + " (school " + e.school_id + ", grade " +
                       grade_text(e.grade_level) + "): " + e.domain + " (rule " + e.rule_id + ")";
        }
        out.warning(config.notify.file, fallback.line, fallback.column, std::move(message));
    } catch (const std::exception& e) {
        out.warning(config.database.string(), 0, 0,
                    std::string("route coverage not checked: ") + e.what());
    }
    return out;
}

} // namespace ewsd::referrals
