#include "core/config.hpp"

#include "core/yaml_reader.hpp"
#include "util/local_time.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace ewsd::core {

namespace {

const std::vector<std::string> top_level_keys{
    "database",  "timezone",      "school_year_start", "log_level",     "feeds",
    "rules_dir", "templates_dir", "pass_mark",         "day_starts_at", "http"};
const std::vector<std::string> feed_keys{
    "name", "type", "path", "mode", "settle_seconds", "category_map", "subject_map", "behavior_map",
    "action_map", "poll_every", "poll_at", "max_age",
    // type: edfi
    "url", "data_path", "change_queries_path", "token_path", "key", "secret", "school_year",
    "schools", "page_size", "data_standard", "grade_types", "timeout", "max_attempts"};

bool valid_feed_name(const std::string& name) {
    return !name.empty() && name.size() <= 64 &&
           name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos;
}

bool timezone_exists(const std::string& name) {
    if (name == "UTC") {
        return true;
    }
    if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos) {
        return false;
    }
    std::error_code ec;
    return std::filesystem::is_regular_file(std::filesystem::path("/usr/share/zoneinfo") / name,
                                            ec);
}

void read_code_map(YamlReader& reader, const YAML::Node& node, const Vocabulary& vocabulary,
                   CodeMap& out) {
    if (!node.IsMap()) {
        reader.error(node, "a code map must map local codes to " + vocabulary.descriptor() +
                               " code values, like {A: Unexcused Absence}");
        return;
    }
    for (const auto& entry : node) {
        auto local = reader.string(entry.first);
        auto target = reader.string(entry.second);
        if (!local || !target) {
            continue;
        }
        auto canonical = vocabulary.canonical(*target);
        if (!canonical) {
            std::string expected;
            for (const auto& v : vocabulary.values()) {
                expected += (expected.empty() ? "" : ", ") + v;
            }
            reader.error(entry.second, "'" + *target + "' is not an Ed-Fi " +
                                           vocabulary.descriptor() +
                                           " code value (expected one of: " + expected + ")");
            continue;
        }
        out.add(*local, *canonical);
    }
}

std::optional<std::int64_t> read_duration(YamlReader& reader, const YAML::Node& node,
                                          const std::string& key) {
    auto text = reader.string(node);
    if (!text) {
        return std::nullopt;
    }
    auto seconds = util::parse_duration(*text);
    if (!seconds) {
        reader.error(node,
                     key + " must be a duration like 90s, 15m, 36h or 2d, not '" + *text + "'");
    }
    return seconds;
}

std::optional<int> read_time_of_day(YamlReader& reader, const YAML::Node& node,
                                    const std::string& key) {
    auto text = reader.string(node);
    if (!text) {
        return std::nullopt;
    }
    auto minutes = util::parse_time_of_day(*text);
    if (!minutes) {
        reader.error(node, key + " must be a time of day as HH:MM (24-hour), not '" + *text + "'");
    }
    return minutes;
}

// poll_every: 15m | poll_at: ["05:30", "12:00"]; max_age: 36h | never.
void read_feed_schedule(YamlReader& reader, const YAML::Node& node, FeedConfig& feed) {
    if (node["poll_every"] && node["poll_at"]) {
        reader.error(node["poll_at"], "a feed has poll_every or poll_at, not both");
    }
    if (node["poll_every"]) {
        if (auto s = read_duration(reader, node["poll_every"], "poll_every")) {
            feed.poll_every = std::chrono::seconds(*s);
        }
    }
    if (const YAML::Node at = node["poll_at"]) {
        if (at.IsScalar()) {
            if (auto m = read_time_of_day(reader, at, "poll_at")) {
                feed.poll_at.push_back(*m);
            }
        } else if (at.IsSequence() && at.size() > 0) {
            for (const auto& item : at) {
                if (auto m = read_time_of_day(reader, item, "poll_at")) {
                    feed.poll_at.push_back(*m);
                }
            }
        } else {
            reader.error(at, "poll_at must be a time of day or a list of them, like "
                             "[\"05:30\", \"12:00\"]");
        }
        std::sort(feed.poll_at.begin(), feed.poll_at.end());
        feed.poll_at.erase(std::unique(feed.poll_at.begin(), feed.poll_at.end()),
                           feed.poll_at.end());
    }
    if (const YAML::Node max_age = node["max_age"]) {
        if (max_age.IsScalar() && max_age.Scalar() == "never") {
            feed.max_age = std::chrono::seconds(0);
        } else if (auto s = read_duration(reader, max_age, "max_age")) {
            feed.max_age = std::chrono::seconds(*s);
        }
    }
}

// A path under the API root: no leading or trailing '/', no query.
std::optional<std::string> read_api_path(YamlReader& reader, const YAML::Node& node,
                                         const std::string& key) {
    auto text = reader.string(node);
    if (!text) {
        return std::nullopt;
    }
    std::string path = *text;
    while (!path.empty() && path.front() == '/') {
        path.erase(0, 1);
    }
    while (!path.empty() && path.back() == '/') {
        path.pop_back();
    }
    if (path.find_first_of("?# ") != std::string::npos) {
        reader.error(node, key + " must be a path like data/v3/ed-fi, not '" + *text + "'");
        return std::nullopt;
    }
    return path;
}

std::vector<std::string> read_string_list(YamlReader& reader, const YAML::Node& node,
                                          const std::string& key) {
    std::vector<std::string> out;
    if (node.IsScalar()) {
        if (auto s = reader.string(node)) {
            out.push_back(*s);
        }
    } else if (node.IsSequence()) {
        for (const auto& item : node) {
            if (auto s = reader.string(item)) {
                out.push_back(*s);
            }
        }
    } else {
        reader.error(node, key + " must be a value or a list of values");
    }
    return out;
}

// A secret must come from the environment or a file, not the config file itself.
bool literal_secret(const YAML::Node& node) {
    return node.IsScalar() && node.Scalar().find("${") == std::string::npos;
}

bool read_edfi(YamlReader& reader, const YAML::Node& node, EdfiConfig& edfi) {
    bool ok = reader.require(node, "url") & reader.require(node, "key") &
              reader.require(node, "secret") & reader.require(node, "school_year");
    if (node["url"]) {
        if (auto url = reader.string(node["url"])) {
            std::string u = *url;
            while (!u.empty() && u.back() == '/') {
                u.pop_back();
            }
            if (!u.starts_with("https://") && !u.starts_with("http://")) {
                reader.error(node["url"],
                             "url must start with https:// (or http://), not '" + *url + "'");
                ok = false;
            } else if (u.find('@') != std::string::npos) {
                reader.error(node["url"], "url must not carry credentials; use key and secret");
                ok = false;
            } else {
                edfi.url = u;
            }
        }
    }
    const auto api_path = [&](const char* key, std::string& out) {
        if (node[key]) {
            if (auto p = read_api_path(reader, node[key], key)) {
                out = *p;
            }
        }
    };
    api_path("data_path", edfi.data_path);
    api_path("change_queries_path", edfi.change_queries_path);
    api_path("token_path", edfi.token_path);
    if (node["change_queries_path"] && node["change_queries_path"].IsScalar() &&
        node["change_queries_path"].Scalar() == "none") {
        edfi.change_queries_path.clear();
    }
    for (const char* key : {"key", "secret"}) {
        if (!node[key]) {
            continue;
        }
        if (auto value = reader.string(node[key])) {
            if (value->empty()) {
                reader.error(node[key], std::string(key) + " is empty");
                ok = false;
            }
            (std::string(key) == "key" ? edfi.key : edfi.secret) = *value;
        } else {
            ok = false;
        }
    }
    if (node["secret"] && literal_secret(node["secret"])) {
        reader.warning(node["secret"], "the secret is written in the config file; keep it out "
                                       "with ${ENV_VAR} or {file: PATH} (e.g. a systemd "
                                       "credential)");
    }
    if (node["school_year"]) {
        if (auto y = reader.integer(node["school_year"], 1990, 2100)) {
            edfi.school_year = static_cast<int>(*y);
        } else {
            ok = false;
        }
    }
    if (node["schools"]) {
        edfi.schools = read_string_list(reader, node["schools"], "schools");
    }
    if (node["page_size"]) {
        if (auto n = reader.integer(node["page_size"], 1, 500)) {
            edfi.page_size = static_cast<int>(*n);
        }
    }
    if (node["data_standard"]) {
        if (auto v = reader.one_of(node["data_standard"], {"4", "5"})) {
            edfi.data_standard = std::stoi(*v);
        }
    }
    if (node["grade_types"]) {
        edfi.grade_types = read_string_list(reader, node["grade_types"], "grade_types");
    }
    if (node["timeout"]) {
        if (auto s = read_duration(reader, node["timeout"], "timeout")) {
            edfi.request_timeout = std::chrono::seconds(*s);
        }
    }
    if (node["max_attempts"]) {
        if (auto n = reader.integer(node["max_attempts"], 1, 20)) {
            edfi.max_attempts = static_cast<int>(*n);
        }
    }
    return ok;
}

std::optional<FeedConfig> read_feed(YamlReader& reader, const YAML::Node& node) {
    if (!reader.check_map(node, "feed", feed_keys)) {
        return std::nullopt;
    }
    FeedConfig feed;
    bool ok = reader.require(node, "name") & reader.require(node, "type");
    if (node["name"]) {
        if (auto name = reader.string(node["name"])) {
            if (valid_feed_name(*name)) {
                feed.name = *name;
            } else {
                reader.error(node["name"],
                             "feed name '" + *name +
                                 "' must be 1-64 characters of a-z, 0-9, '-' and '_'");
                ok = false;
            }
        }
    }
    if (node["type"]) {
        if (auto type = reader.one_of(node["type"], {"csv", "edfi"})) {
            feed.type = *type;
        } else {
            ok = false;
        }
    }
    if (feed.type == "csv") {
        ok = reader.require(node, "path") && ok;
        if (node["path"]) {
            if (auto p = reader.path(node["path"])) {
                feed.path = *p;
                std::error_code ec;
                if (!std::filesystem::is_directory(*p, ec)) {
                    reader.warning(node["path"], "feed folder " + p->string() + " does not exist");
                }
            } else {
                ok = false;
            }
        }
    }
    if (feed.type == "edfi") {
        ok = read_edfi(reader, node, feed.edfi) && ok;
    }
    if (node["mode"]) {
        if (auto mode = reader.one_of(node["mode"], {"snapshot", "delta"})) {
            feed.mode = *mode == "delta" ? FeedMode::delta : FeedMode::snapshot;
        }
    }
    if (node["settle_seconds"]) {
        if (auto s = reader.integer(node["settle_seconds"], 0, 86400)) {
            feed.settle_time = std::chrono::seconds(*s);
        }
    }
    read_feed_schedule(reader, node, feed);
    if (node["category_map"]) {
        read_code_map(reader, node["category_map"], attendance_categories(), feed.category_map);
    }
    if (node["subject_map"]) {
        read_code_map(reader, node["subject_map"], academic_subjects(), feed.subject_map);
    }
    if (node["behavior_map"]) {
        read_code_map(reader, node["behavior_map"], behaviors(), feed.behavior_map);
    }
    if (node["action_map"]) {
        read_code_map(reader, node["action_map"], discipline_actions(), feed.action_map);
    }
    if (!ok) {
        return std::nullopt;
    }
    return feed;
}

std::optional<double> read_mark(YamlReader& reader, const YAML::Node& node) {
    return reader.number(node, 0, 200, "a pass mark");
}

// pass_mark: 65, or {default: 65, schools: {"101": 70}}
void read_pass_mark(YamlReader& reader, const YAML::Node& node, Config& config) {
    if (!node.IsMap()) {
        if (auto mark = read_mark(reader, node)) {
            config.pass_mark = *mark;
        }
        return;
    }
    if (!reader.check_map(node, "pass_mark", {"default", "schools"})) {
        return;
    }
    if (node["default"]) {
        if (auto mark = read_mark(reader, node["default"])) {
            config.pass_mark = *mark;
        }
    }
    if (const YAML::Node schools = node["schools"]) {
        if (!schools.IsMap()) {
            reader.error(schools,
                         "'schools' must map school ids to pass marks, like {\"101\": 70}");
            return;
        }
        for (const auto& entry : schools) {
            auto school = reader.string(entry.first);
            auto mark = read_mark(reader, entry.second);
            if (school && mark) {
                config.school_pass_marks[*school] = *mark;
            }
        }
    }
}

// http: {address: 127.0.0.1, port: 9188, enabled: true}
void read_http(YamlReader& reader, const YAML::Node& node, HttpConfig& http) {
    if (!reader.check_map(node, "http", {"enabled", "address", "port"})) {
        return;
    }
    if (node["enabled"]) {
        http.enabled = reader.boolean(node["enabled"]).value_or(http.enabled);
    }
    if (node["address"]) {
        if (auto address = reader.string(node["address"])) {
            http.address = *address;
        }
    }
    if (node["port"]) {
        if (auto port = reader.integer(node["port"], 0, 65535)) {
            http.port = static_cast<int>(*port);
        }
    }
}

} // namespace

ConfigLoad parse_config(const std::string& text, const std::filesystem::path& file) {
    ConfigLoad load;
    YamlReader reader(file.string(), load.diagnostics);
    auto root = reader.parse(text);
    if (!root) {
        return load;
    }
    if (root->IsNull()) {
        load.diagnostics.error(file.string(), 1, 1, "the configuration file is empty");
        return load;
    }
    std::vector<std::string> known_keys = top_level_keys;
    known_keys.insert(known_keys.end(), notify_config_keys().begin(), notify_config_keys().end());
    if (!reader.check_map(*root, "the configuration", known_keys)) {
        return load;
    }
    Config config;
    config.source = std::filesystem::absolute(file);
    const YAML::Node& doc = *root;
    if (doc["database"]) {
        if (auto p = reader.path(doc["database"])) {
            config.database = *p;
        }
    }
    if (reader.require(doc, "timezone")) {
        if (auto tz = reader.string(doc["timezone"])) {
            if (timezone_exists(*tz)) {
                config.timezone = *tz;
            } else {
                reader.error(doc["timezone"], "unknown timezone '" + *tz +
                                                  "' (expected an IANA name like America/Chicago)");
            }
        }
    }
    if (reader.require(doc, "school_year_start")) {
        if (auto d = reader.date(doc["school_year_start"])) {
            config.school_year_start = *d;
        }
    }
    if (doc["log_level"]) {
        if (auto level =
                reader.one_of(doc["log_level"], {"debug", "info", "notice", "warning", "error"})) {
            config.log_level = *util::log::parse_level(*level);
        }
    }
    if (doc["day_starts_at"]) {
        if (auto m = read_time_of_day(reader, doc["day_starts_at"], "day_starts_at")) {
            config.day_starts_at = *m;
        }
    }
    if (doc["http"]) {
        read_http(reader, doc["http"], config.http);
    }
    if (doc["rules_dir"]) {
        if (auto p = reader.path(doc["rules_dir"])) {
            config.rules_dir = *p;
        }
    }
    if (doc["templates_dir"]) {
        if (auto p = reader.path(doc["templates_dir"])) {
            config.templates_dir = *p;
        }
    }
    if (doc["pass_mark"]) {
        read_pass_mark(reader, doc["pass_mark"], config);
    }
    const YAML::Node feeds = doc["feeds"];
    if (!feeds || feeds.IsNull() || (feeds.IsSequence() && feeds.size() == 0)) {
        reader.warning(feeds ? feeds : doc, "no feeds are configured: nothing will be ingested");
    } else if (!feeds.IsSequence()) {
        reader.error(feeds, "'feeds' must be a list of feeds");
    } else {
        std::set<std::string> names;
        for (const auto& node : feeds) {
            auto feed = read_feed(reader, node);
            if (!feed) {
                continue;
            }
            if (!names.insert(feed->name).second) {
                reader.error(node["name"], "duplicate feed name '" + feed->name + "'");
                continue;
            }
            config.feeds.push_back(std::move(*feed));
        }
    }
    read_notify_config(reader, doc, config.notify);
    if (!load.diagnostics.has_errors()) {
        load.config = std::move(config);
    }
    return load;
}

ConfigLoad load_config(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        ConfigLoad load;
        load.diagnostics.error(file.string(), 0, 0,
                               std::string("cannot read configuration: ") + std::strerror(errno));
        return load;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_config(text.str(), file);
}

Config load_config_or_throw(const std::filesystem::path& file) {
    ConfigLoad load = load_config(file);
    const std::string errors = load.diagnostics.log_warnings_and_join_errors();
    if (!load.config) {
        throw ConfigError(errors.empty() ? file.string() + ": invalid configuration" : errors);
    }
    return std::move(*load.config);
}

} // namespace ewsd::core
