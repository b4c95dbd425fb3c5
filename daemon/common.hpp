#pragma once
// What the subcommands share: loading config and rules, the as-of date, the
// metric settings.

#include "core/config.hpp"
#include "referrals/render.hpp"
#include "rules/metrics.hpp"
#include "rules/rule_set.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace ewsd::daemon {

// Loads the config (throws core::ConfigError) and applies its log level.
core::Config load(const std::filesystem::path& path);

// Today's date in the timezone, as a day number.
int today_in(const std::string& timezone);

// Loads the rules; warnings are logged, errors thrown as core::ConfigError.
rules::RuleSet load_rules_or_throw(const core::Config& config);

// --as-of: empty means today in the configured timezone; a bad date is
// reported on stderr as "ewsd COMMAND: ..." and gives nullopt.
std::optional<int> parse_as_of(const std::string& text, const core::Config& config,
                               const char* command);

// The settings refer to `config`, which must outlive them.
rules::MetricSettings metric_settings(const core::Config& config);

// How messages are rendered: templates_dir, privacy, From (smtp.from, else
// "Early Warning <ewsd@MESSAGE_ID_DOMAIN>") and the Message-ID domain.
referrals::RenderSettings render_settings(const core::Config& config);

// Only one process sends from a database at a time (`ewsd run` and a manual
// `ewsd run --once`): an flock on DATABASE.send-lock, released on
// destruction or when the process dies.
class SendLock {
public:
    explicit SendLock(const std::filesystem::path& database);
    ~SendLock();
    SendLock(const SendLock&) = delete;
    SendLock& operator=(const SendLock&) = delete;
    [[nodiscard]] bool held() const { return m_fd >= 0; }

private:
    int m_fd = -1;
};

} // namespace ewsd::daemon
