#include "core/notify_config.hpp"

#include "core/descriptors.hpp"
#include "core/yaml_reader.hpp"
#include "util/local_time.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <cctype>
#include <map>

namespace ewsd::core {

namespace {

const std::vector<std::string> smtp_keys{"host",
                                         "port",
                                         "tls",
                                         "username",
                                         "password",
                                         "from",
                                         "allow_plaintext",
                                         "connect_timeout_seconds",
                                         "timeout_seconds",
                                         "ca_file"};
const std::vector<std::string> specialist_keys{
    "id",      "name",     "email",       "webhook",         "schools", "grades",
    "domains", "delivery", "digest_time", "max_new_per_day", "lead"};
const std::vector<std::string> route_keys{"match", "to", "continue"};
const std::vector<std::string> match_keys{"notify", "domain", "tier", "school", "grade"};
const std::vector<std::string> domain_values{"attendance", "behavior", "course", "composite"};
const std::vector<std::string> delivery_keys{"renotify_after_days", "escalate_after_days",
                                             "retry_for_hours", "message_id_domain", "output_dir"};

// A specialist id used somewhere, checked once every specialist is known.
struct Reference {
    YAML::Node node;
    std::string id;
};

struct Reader {
    YamlReader& yaml;
    NotifyConfig& out;
    std::vector<Reference> references;
    std::vector<YAML::Node> emails;           // checked once smtp and output_dir are known
    std::vector<YAML::Node> specialist_nodes; // parallel to out.specialists
};

bool is_loopback(const std::string& host) {
    if (util::iequals(host, "localhost") || host == "::1" || host == "[::1]") {
        return true;
    }
    if (host.rfind("127.", 0) != 0) {
        return false;
    }
    int dots = 0;
    for (const char c : host) {
        if (c == '.') {
            ++dots;
        } else if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
            return false;
        }
    }
    return dots == 3 && host.back() != '.';
}

bool valid_id(const std::string& id) {
    return !id.empty() && id.size() <= 64 &&
           id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") == std::string::npos;
}

bool valid_email(const std::string& address) {
    const auto at = address.find('@');
    return at != std::string::npos && at > 0 && at + 1 < address.size() &&
           address.find('@', at + 1) == std::string::npos &&
           address.find_first_of(" \t\r\n<>,;\"") == std::string::npos;
}

// "Name <address>" or a bare address.
bool valid_sender(const std::string& from) {
    const auto open = from.rfind('<');
    if (open == std::string::npos) {
        return valid_email(from);
    }
    const auto close = from.find('>', open);
    return close == from.size() - 1 && valid_email(from.substr(open + 1, close - open - 1));
}

bool valid_domain_name(const std::string& name) {
    return !name.empty() && name.size() <= 253 && name.front() != '.' && name.back() != '.' &&
           name.find("..") == std::string::npos &&
           name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                  "0123456789-.") == std::string::npos;
}

bool valid_webhook_secret(const std::string& secret) {
    constexpr std::string_view prefix = "whsec_";
    return secret.size() > prefix.size() && secret.compare(0, prefix.size(), prefix) == 0 &&
           secret.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789+/=",
                                    prefix.size()) == std::string::npos;
}

// A scalar or a list of them: calls `item` for each.
template <typename F> void for_each_item(const YAML::Node& node, F&& item) {
    if (node.IsSequence()) {
        for (const auto& element : node) {
            item(element);
        }
    } else {
        item(node);
    }
}

void read_strings(YamlReader& reader, const YAML::Node& node, std::vector<std::string>& out) {
    for_each_item(node, [&](const YAML::Node& item) {
        if (auto text = reader.string(item)) {
            out.push_back(*text);
        }
    });
}

void read_domains(YamlReader& reader, const YAML::Node& node, std::vector<std::string>& out) {
    for_each_item(node, [&](const YAML::Node& item) {
        if (auto domain = reader.one_of(item, domain_values)) {
            out.push_back(*domain);
        }
    });
}

void read_grades(YamlReader& reader, const YAML::Node& node, std::vector<int>& out) {
    for_each_item(node, [&](const YAML::Node& item) {
        auto text = reader.string(item);
        if (!text) {
            return;
        }
        if (auto grade = parse_grade_level(*text)) {
            out.push_back(*grade);
        } else {
            reader.error(item, "'" + *text + "' is not a grade level (expected 1-12, K or PK)");
        }
    });
}

void read_tiers(YamlReader& reader, const YAML::Node& node, std::vector<int>& out) {
    for_each_item(node, [&](const YAML::Node& item) {
        if (auto tier = reader.integer(item, 1, 3)) {
            out.push_back(static_cast<int>(*tier));
        }
    });
}

std::optional<SmtpSettingsConfig> read_smtp(YamlReader& reader, const YAML::Node& node) {
    if (!reader.check_map(node, "smtp", smtp_keys)) {
        return std::nullopt;
    }
    SmtpSettingsConfig smtp;
    if (reader.require(node, "host")) {
        if (auto host = reader.string(node["host"])) {
            smtp.host = *host;
        }
    }
    if (!node["from"]) {
        reader.error(node, "missing required key 'from' (the sender of every email, like "
                           "\"Early Warning <ewsd@district.org>\")");
    } else if (auto from = reader.string(node["from"])) {
        if (valid_sender(*from)) {
            smtp.from = *from;
        } else {
            reader.error(node["from"], "'" + *from +
                                           "' is not a sender address like \"Early Warning "
                                           "<ewsd@district.org>\"");
        }
    }
    if (node["tls"]) {
        if (auto tls = reader.one_of(node["tls"], {"starttls", "implicit", "none"})) {
            smtp.tls = *tls;
        }
    }
    smtp.port = smtp.tls == "implicit" ? 465 : smtp.tls == "none" ? 25 : 587;
    if (node["port"]) {
        if (auto port = reader.integer(node["port"], 1, 65535)) {
            smtp.port = static_cast<int>(*port);
        }
    }
    if (node["username"]) {
        smtp.username = reader.string(node["username"]).value_or("");
    }
    if (node["password"]) {
        smtp.password = reader.string(node["password"]).value_or("");
    }
    if (node["allow_plaintext"]) {
        smtp.allow_plaintext = reader.boolean(node["allow_plaintext"]).value_or(false);
    }
    if (node["tls"] && smtp.tls == "none" && !smtp.host.empty() && !is_loopback(smtp.host) &&
        !smtp.allow_plaintext) {
        reader.error(node["tls"],
                     "tls: none to '" + smtp.host +
                         "' would send the SMTP password and student data across the network "
                         "in clear; use starttls or implicit, or set allow_plaintext: true if "
                         "that network path is trusted");
    }
    if (node["connect_timeout_seconds"]) {
        if (auto s = reader.integer(node["connect_timeout_seconds"], 1, 600)) {
            smtp.connect_timeout = std::chrono::seconds(*s);
        }
    }
    if (node["timeout_seconds"]) {
        if (auto s = reader.integer(node["timeout_seconds"], 1, 3600)) {
            smtp.timeout = std::chrono::seconds(*s);
        }
    }
    if (node["ca_file"]) {
        if (auto p = reader.path(node["ca_file"])) {
            smtp.ca_file = *p;
            std::error_code ec;
            if (!std::filesystem::is_regular_file(*p, ec)) {
                reader.warning(node["ca_file"], "CA file " + p->string() + " does not exist");
            }
        }
    }
    return smtp;
}

void read_webhook(Reader& r, const YAML::Node& node, Specialist& s) {
    YamlReader& reader = r.yaml;
    if (!reader.check_map(node, "webhook", {"url", "secret"})) {
        return;
    }
    if (reader.require(node, "url")) {
        if (auto url = reader.string(node["url"])) {
            const std::string lower = util::to_lower_ascii(*url);
            const bool https = lower.rfind("https://", 0) == 0;
            const bool http = lower.rfind("http://", 0) == 0;
            const std::size_t host_at = https ? 8 : 7;
            if ((!https && !http) || url->size() <= host_at || (*url)[host_at] == '/') {
                reader.error(node["url"],
                             "webhook url must be an https:// (or http://) URL, not '" + *url +
                                 "'");
            } else {
                s.webhook_url = *url;
                const std::string host =
                    lower.substr(host_at, lower.find_first_of(":/", host_at) - host_at);
                if (http && !is_loopback(host)) {
                    reader.warning(node["url"], "webhook url uses http: referrals (student data) "
                                                "would cross the network unencrypted");
                }
            }
        }
    }
    if (reader.require(node, "secret")) {
        for_each_item(node["secret"], [&](const YAML::Node& item) {
            auto secret = reader.string(item);
            if (!secret) {
                return;
            }
            if (valid_webhook_secret(*secret)) {
                s.webhook_secrets.push_back(*secret);
            } else {
                reader.error(item, "webhook secret must start with 'whsec_' followed by base64 "
                                   "(the Standard Webhooks format)");
            }
        });
    }
}

std::optional<Specialist> read_specialist(Reader& r, const YAML::Node& node) {
    YamlReader& reader = r.yaml;
    if (!reader.check_map(node, "specialist", specialist_keys)) {
        return std::nullopt;
    }
    Specialist s;
    s.line = node.Mark().line + 1;
    s.column = node.Mark().column + 1;
    if (!reader.require(node, "id")) {
        return std::nullopt;
    }
    auto id = reader.string(node["id"]);
    if (!id) {
        return std::nullopt;
    }
    if (!valid_id(*id)) {
        reader.error(node["id"], "specialist id '" + *id +
                                     "' must be 1-64 characters of a-z, 0-9, '-', '_' and '.'");
        return std::nullopt;
    }
    s.id = *id;
    if (node["name"]) {
        s.name = reader.string(node["name"]).value_or("");
    }
    if (node["email"]) {
        if (auto email = reader.string(node["email"])) {
            if (valid_email(*email)) {
                s.email = *email;
                r.emails.push_back(node["email"]);
            } else {
                reader.error(node["email"], "'" + *email + "' is not an email address");
            }
        }
    }
    if (node["webhook"]) {
        read_webhook(r, node["webhook"], s);
    }
    if (!node["email"] && !node["webhook"]) {
        reader.error(node, "specialist '" + s.id +
                               "' has neither an email nor a webhook: nothing could reach them");
    }
    if (node["schools"]) {
        read_strings(reader, node["schools"], s.schools);
    }
    if (node["grades"]) {
        read_grades(reader, node["grades"], s.grades);
    }
    if (node["domains"]) {
        read_domains(reader, node["domains"], s.domains);
    }
    if (node["delivery"]) {
        s.digest = reader.one_of(node["delivery"], {"immediate", "digest"}) == "digest";
    }
    if (node["digest_time"]) {
        if (auto text = reader.string(node["digest_time"])) {
            if (auto minutes = util::parse_time_of_day(*text)) {
                s.digest_time_minutes = *minutes;
                if (!s.digest) {
                    reader.warning(node["digest_time"],
                                   "digest_time has no effect without delivery: digest");
                }
            } else {
                reader.error(node["digest_time"],
                             "digest_time must be a time of day as HH:MM (24-hour), not '" + *text +
                                 "'");
            }
        }
    }
    if (node["max_new_per_day"]) {
        s.max_new_per_day =
            static_cast<int>(reader.integer(node["max_new_per_day"], 0, 10000).value_or(0));
    }
    if (node["lead"]) {
        if (auto lead = reader.string(node["lead"])) {
            if (*lead == s.id) {
                reader.error(node["lead"], "specialist '" + s.id + "' cannot be their own lead");
            } else {
                s.lead = *lead;
                r.references.push_back({node["lead"], *lead});
            }
        }
    }
    return s;
}

void read_specialists(Reader& r, const YAML::Node& node) {
    if (!node.IsSequence()) {
        r.yaml.error(node, "'specialists' must be a list of specialists");
        return;
    }
    std::map<std::string, int> lines;
    for (const auto& item : node) {
        auto s = read_specialist(r, item);
        if (!s) {
            continue;
        }
        if (const auto it = lines.find(s->id); it != lines.end()) {
            r.yaml.error(item["id"], "duplicate specialist id '" + s->id + "' (first at line " +
                                         std::to_string(it->second) + ")");
            continue;
        }
        lines.emplace(s->id, s->line);
        r.out.specialists.push_back(std::move(*s));
        r.specialist_nodes.push_back(item);
    }
}

// Unlike elsewhere, an unknown key here is an error: a misspelled condition
// would otherwise be no condition, and the route would match every referral.
void read_match(YamlReader& reader, const YAML::Node& node, RouteMatch& match) {
    if (node.IsNull()) {
        return;
    }
    if (!node.IsMap()) {
        reader.error(node, "a route's match must be a map like {domain: attendance}, or {} to "
                           "match every referral");
        return;
    }
    for (const auto& entry : node) {
        const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
        if (std::find(match_keys.begin(), match_keys.end(), key) == match_keys.end()) {
            std::string message = "unknown key '" + key + "' in a route's match";
            const std::string suggestion = util::closest_match(key, match_keys);
            if (!suggestion.empty()) {
                message += " (did you mean '" + suggestion + "'?)";
            }
            reader.error(entry.first, message + "; expected notify, domain, tier, school or grade");
        }
    }
    if (node["notify"]) {
        read_strings(reader, node["notify"], match.notify);
    }
    if (node["domain"]) {
        read_domains(reader, node["domain"], match.domains);
    }
    if (node["tier"]) {
        read_tiers(reader, node["tier"], match.tiers);
    }
    if (node["school"]) {
        read_strings(reader, node["school"], match.schools);
    }
    if (node["grade"]) {
        read_grades(reader, node["grade"], match.grades);
    }
}

bool is_fallback_node(const YAML::Node& route) {
    if (!route.IsMap() || !route["match"]) {
        return false;
    }
    const YAML::Node match = route["match"];
    return match.IsNull() || (match.IsMap() && match.size() == 0);
}

void read_routes(Reader& r, const YAML::Node& node) {
    YamlReader& reader = r.yaml;
    if (!node.IsSequence()) {
        reader.error(node, "'routes' must be a list of routes");
        return;
    }
    for (const auto& item : node) {
        if (!reader.check_map(item, "route", route_keys)) {
            continue;
        }
        Route route;
        route.line = item.Mark().line + 1;
        route.column = item.Mark().column + 1;
        if (reader.require(item, "match")) {
            read_match(reader, item["match"], route.match);
        }
        if (reader.require(item, "to")) {
            for_each_item(item["to"], [&](const YAML::Node& to) {
                if (auto id = reader.string(to)) {
                    route.to.push_back(*id);
                    r.references.push_back({to, *id});
                }
            });
            if (item["to"].IsSequence() && item["to"].size() == 0) {
                reader.error(item["to"], "a route needs at least one specialist id in 'to'");
            }
        }
        if (item["continue"]) {
            route.continue_matching = reader.boolean(item["continue"]).value_or(false);
        }
        r.out.routes.push_back(std::move(route));
    }
    if (node.size() > 0 && !is_fallback_node(node[node.size() - 1])) {
        reader.error(node[node.size() - 1],
                     "the last route must be a fallback with `match: {}` so that every referral "
                     "reaches someone");
    }
}

void read_delivery(YamlReader& reader, const YAML::Node& node, NotifyConfig& out) {
    if (!reader.check_map(node, "delivery", delivery_keys)) {
        return;
    }
    if (node["renotify_after_days"]) {
        out.renotify_after_days =
            static_cast<int>(reader.integer(node["renotify_after_days"], 0, 365).value_or(10));
    }
    if (node["escalate_after_days"]) {
        out.escalate_after_days =
            static_cast<int>(reader.integer(node["escalate_after_days"], 0, 365).value_or(0));
    }
    if (node["retry_for_hours"]) {
        out.retry_for =
            std::chrono::hours(reader.integer(node["retry_for_hours"], 1, 720).value_or(72));
    }
    if (node["message_id_domain"]) {
        if (auto domain = reader.string(node["message_id_domain"])) {
            if (valid_domain_name(*domain)) {
                out.message_id_domain = *domain;
            } else {
                reader.error(node["message_id_domain"],
                             "message_id_domain must be a domain name like ewsd.district.org, "
                             "not '" +
                                 *domain + "'");
            }
        }
    }
    if (node["output_dir"]) {
        if (auto p = reader.path(node["output_dir"])) {
            out.output_dir = *p;
        }
    }
}

void check_references(Reader& r) {
    std::vector<std::string> ids;
    for (const auto& s : r.out.specialists) {
        ids.push_back(s.id);
    }
    for (const auto& ref : r.references) {
        if (std::find(ids.begin(), ids.end(), ref.id) != ids.end()) {
            continue;
        }
        std::string message = "no specialist with id '" + ref.id + "'";
        const std::string suggestion = util::closest_match(ref.id, ids);
        if (!suggestion.empty()) {
            message += " (did you mean '" + suggestion + "'?)";
        }
        r.yaml.error(ref.node, message);
    }
}

} // namespace

const std::vector<std::string>& notify_config_keys() {
    static const std::vector<std::string> keys{"smtp",  "specialists", "routes",
                                               "admin", "privacy",     "delivery"};
    return keys;
}

void read_notify_config(YamlReader& reader, const YAML::Node& doc, NotifyConfig& out) {
    Reader r{reader, out, {}, {}, {}};
    out.file = reader.file();
    if (doc["smtp"]) {
        out.smtp = read_smtp(reader, doc["smtp"]);
    }
    if (doc["delivery"]) {
        read_delivery(reader, doc["delivery"], out);
    }
    if (const YAML::Node privacy = doc["privacy"]) {
        if (reader.check_map(privacy, "privacy", {"email_student_names"}) &&
            privacy["email_student_names"]) {
            out.email_student_names = reader.boolean(privacy["email_student_names"]).value_or(true);
        }
    }
    const YAML::Node specialists = doc["specialists"];
    if (specialists && !specialists.IsNull()) {
        read_specialists(r, specialists);
    }
    const YAML::Node routes = doc["routes"];
    if (routes && !routes.IsNull()) {
        read_routes(r, routes);
    }
    if (doc["admin"]) {
        if (auto admin = reader.string(doc["admin"])) {
            out.admin = *admin;
            r.references.push_back({doc["admin"], *admin});
        }
    }
    check_references(r);
    if (!doc["smtp"] && !out.output_dir) {
        for (const auto& email : r.emails) {
            reader.error(email, "nothing could deliver email to this address: configure `smtp`, "
                                "or `delivery.output_dir` to write messages to files");
        }
    }
    if (!out.specialists.empty() && out.routes.empty()) {
        reader.error(specialists, "specialists are configured but no routes: add `routes`, "
                                  "ending with a fallback `{match: {}, to: [ID]}`");
    }
    for (std::size_t i = 0; i < out.specialists.size(); ++i) {
        const Specialist& s = out.specialists[i];
        if (s.lead.empty() && out.admin.empty() &&
            (out.escalate_after_days > 0 || s.max_new_per_day > 0)) {
            reader.warning(r.specialist_nodes[i],
                           "specialist '" + s.id +
                               "' has no lead and there is no admin: their escalations and "
                               "caseload overflow notes would reach no one");
        }
    }
}

} // namespace ewsd::core
