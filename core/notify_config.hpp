#pragma once
// Who is told about referrals, and how: the SMTP relay, the specialists (the
// people who receive referrals, each with a scope), the routes from a
// referral to specialists, privacy and delivery settings. Read from the top
// level of ewsd.yaml by parse_config. A deployment without specialists and
// routes only evaluates; its NotifyConfig is empty().

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace YAML {
class Node;
} // namespace YAML

namespace ewsd::core {

class YamlReader;

struct SmtpSettingsConfig {
    std::string host;
    int port = 587;               // default by tls: 587 starttls, 465 implicit, 25 none
    std::string tls = "starttls"; // starttls | implicit | none
    std::string username;         // AUTH when non-empty
    std::string password;
    std::string from;             // "Early Warning <ewsd@district.org>"
    bool allow_plaintext = false; // tls: none to a host that is not loopback
    std::chrono::seconds connect_timeout{10};
    std::chrono::seconds timeout{60};
    std::filesystem::path ca_file; // empty: the system store
};

// A person (or a team's endpoint) who receives referrals within a scope.
struct Specialist {
    std::string id;
    std::string name;
    std::string email;
    std::string webhook_url;
    std::vector<std::string> webhook_secrets; // "whsec_..."; several while rotating
    // Scope; empty = any.
    std::vector<std::string> schools;
    std::vector<int> grades;
    std::vector<std::string> domains;
    bool digest = false;                   // delivery: digest (tier 3 still goes at once)
    int digest_time_minutes = 7 * 60 + 30; // after local midnight
    int max_new_per_day = 0;               // 0: no cap
    std::string lead;                      // a specialist id, or empty
    int line = 0;
    int column = 0;
};

// What a route matches; each list empty = any value.
struct RouteMatch {
    std::vector<std::string> notify; // the rules' `notify` keys
    std::vector<std::string> domains;
    std::vector<int> tiers;
    std::vector<std::string> schools;
    std::vector<int> grades;

    [[nodiscard]] bool empty() const {
        return notify.empty() && domains.empty() && tiers.empty() && schools.empty() &&
               grades.empty();
    }
};

struct Route {
    RouteMatch match;
    std::vector<std::string> to; // specialist ids
    bool continue_matching = false;
    int line = 0;
    int column = 0;
};

struct NotifyConfig {
    std::optional<SmtpSettingsConfig> smtp;
    std::vector<Specialist> specialists;
    std::vector<Route> routes; // when any, the last is the fallback (match: {})
    std::string admin;         // operational alerts; overflow when a specialist has no lead
    bool email_student_names = true;
    int renotify_after_days = 10; // instructional days; 0: never
    int escalate_after_days = 0;  // 0: never
    std::chrono::hours retry_for{72};
    std::string message_id_domain = "ewsd.invalid";
    std::optional<std::filesystem::path> output_dir; // the file notifier's folder
    std::string file;                                // the configuration file, as named in messages

    [[nodiscard]] bool empty() const { return specialists.empty() && routes.empty(); }
};

// The top-level keys read here: smtp, specialists, routes, admin, privacy, delivery.
const std::vector<std::string>& notify_config_keys();

// Reads those keys of the top-level map `doc`, reporting problems to `reader`.
void read_notify_config(YamlReader& reader, const YAML::Node& doc, NotifyConfig& out);

} // namespace ewsd::core
