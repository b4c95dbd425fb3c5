#pragma once
// What the subcommands share: loading config and rules, the as-of date, the
// metric settings.

#include "core/config.hpp"
#include "referrals/outbox.hpp"
#include "referrals/render.hpp"
#include "referrals/transports.hpp"
#include "rules/metrics.hpp"
#include "rules/rule_set.hpp"

#include <atomic>
#include <cstdint>
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
// What sending needs: the templates loaded and the transports built. Both
// are made before anything changes, so that a bad template or SMTP setting
// stops a command (or a reload) first. Empty when the config notifies no one.
struct Delivery {
    std::optional<referrals::Renderer> renderer;
    referrals::Transports transports;
};
// Throws (std::exception) on a template or transport error.
Delivery make_delivery(const core::Config& config);

// Sends what is due at `now` (referrals/outbox drain) under the database's
// send lock; nullopt, sending nothing, when another process holds the lock.
// `settings.retry_for` comes from the config; `delivery.renderer` must be set.
std::optional<referrals::DrainReport> drain_due(const core::Config& config, store::Database& db,
                                                const Delivery& delivery,
                                                referrals::OutboxSettings settings,
                                                std::int64_t now,
                                                const std::atomic<bool>* stop = nullptr);

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
