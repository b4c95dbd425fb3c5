#pragma once
// The one configuration file (default /etc/ewsd/ewsd.yaml). Loading collects
// every problem with file:line:column; start-up code uses load_config_or_throw.

#include "core/descriptors.hpp"
#include "core/notify_config.hpp"
#include "util/date.hpp"
#include "util/diagnostic.hpp"
#include "util/log.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ewsd::core {

inline constexpr const char* default_config_path = "/etc/ewsd/ewsd.yaml";
inline constexpr const char* default_database_path = "/var/lib/ewsd/ewsd.db";
inline constexpr const char* default_rules_dir = "/etc/ewsd/rules.d";
inline constexpr const char* default_templates_dir = "/etc/ewsd/templates";

enum class FeedMode { snapshot, delta };

// An Ed-Fi ODS/API feed (type: edfi): where the API is, who ewsd is to it,
// and which part of its data ewsd reads.
struct EdfiConfig {
    std::string url;                         // the API root, e.g. https://ods.example.org/api
    std::string data_path = "data/v3/ed-fi"; // under url; may hold the year: data/v3/2026/ed-fi
    std::string change_queries_path = "changeQueries/v1"; // empty: no Change Queries (full loads)
    std::string token_path = "oauth/token";
    std::string key;
    std::string secret;
    int school_year = 0;              // e.g. 2026 for 2025-2026
    std::vector<std::string> schools; // empty: every school the API client may read
    int page_size = 500;
    int data_standard = 5;                                  // 4 or 5
    std::vector<std::string> grade_types{"Grading Period"}; // GradeTypeDescriptor code values read
    std::chrono::seconds request_timeout{120};
    int max_attempts = 5;
};

struct FeedConfig {
    std::string name;
    std::string type;           // "csv" or "edfi"
    std::filesystem::path path; // csv
    EdfiConfig edfi;            // edfi
    FeedMode mode = FeedMode::snapshot;
    // A file modified more recently than this is taken to be still being written.
    std::chrono::seconds settle_time{5};
    CodeMap category_map;
    CodeMap subject_map;
    CodeMap behavior_map;
    CodeMap action_map;
    // When `ewsd run` polls it: every `poll_every`, or daily at the local
    // times in `poll_at` (minutes after midnight, ascending) when set.
    std::chrono::seconds poll_every{60};
    std::vector<int> poll_at;
    // A feed that brought no new data (or failed) for longer than this is
    // stale: the admin is alerted and the rules reading its data freeze.
    // Zero: never stale.
    std::chrono::seconds max_age{std::chrono::hours(36)};
};

// The local HTTP endpoint of `ewsd run`: /healthz and /metrics.
struct HttpConfig {
    bool enabled = true;
    std::string address = "127.0.0.1";
    int port = 9188;
};

struct Config {
    std::filesystem::path source;
    std::filesystem::path database = default_database_path;
    std::string timezone;
    util::Date school_year_start{};
    util::log::Level log_level = util::log::Level::info;
    // The local time at which a new evaluation date begins (every window moves
    // and every student is evaluated again), in minutes after midnight: after
    // the nightly SIS export, so that the day's first referrals see its data.
    int day_starts_at = 5 * 60;
    HttpConfig http;
    std::vector<FeedConfig> feeds;
    std::filesystem::path rules_dir = default_rules_dir;
    // The message templates (referral, digest, alert; config/templates).
    std::filesystem::path templates_dir = default_templates_dir;
    // A numeric grade below the pass mark is failing; per-school overrides.
    double pass_mark = 65;
    std::map<std::string, double> school_pass_marks;
    // smtp, specialists, routes, admin, privacy, delivery; empty() when only evaluating.
    NotifyConfig notify;

    [[nodiscard]] double pass_mark_for(const std::string& school_id) const {
        const auto it = school_pass_marks.find(school_id);
        return it == school_pass_marks.end() ? pass_mark : it->second;
    }
};

struct ConfigLoad {
    std::optional<Config> config; // set when there are no errors
    util::Diagnostics diagnostics;
};

ConfigLoad load_config(const std::filesystem::path& file);
// `file` names the text in messages and anchors relative paths.
ConfigLoad parse_config(const std::string& text, const std::filesystem::path& file);

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws ConfigError carrying every error, one per line; warnings are logged.
Config load_config_or_throw(const std::filesystem::path& file);

} // namespace ewsd::core
