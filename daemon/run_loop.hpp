#pragma once
// `ewsd run`: the long-running service. One thread runs the loop; it polls
// each feed on its schedule, evaluates after every change and at the start
// of each evaluation day, drains the outbox (digests at their times), and
// waits on one injectable clock until the next thing is due. Signals only set
// flags (SIGTERM/SIGINT: stop; SIGHUP: reload) and cut the wait short.
// /healthz and /metrics read a snapshot the loop publishes after each pass,
// never the database.

#include "core/config.hpp"
#include "daemon/clock.hpp"
#include "daemon/feed_monitor.hpp"
#include "referrals/render.hpp"
#include "referrals/transports.hpp"
#include "rules/rule_set.hpp"
#include "store/database.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ewsd::daemon {

// What /healthz and /metrics report: the loop's state after its last pass.
struct LoopSnapshot {
    std::int64_t at = 0; // the loop clock's time of the pass (Unix seconds)
    std::vector<FeedStatus> feeds;
    std::string as_of; // the evaluation date
    double last_evaluation_seconds = 0;
    std::uint64_t evaluations = 0;
    std::uint64_t students_evaluated = 0;
    std::map<std::string, std::int64_t> referrals_by_state;
    std::int64_t outbox_pending = 0;
    std::int64_t outbox_dead = 0;
    std::int64_t outbox_oldest_age = 0;                     // seconds; 0 when empty
    std::map<std::string, std::uint64_t> delivery_failures; // by notifier
    std::uint64_t messages_sent = 0;
    std::uint64_t loop_errors = 0;
    std::uint64_t reloads_ok = 0;
    std::uint64_t reloads_failed = 0;
    bool last_reload_failed = false;
    std::set<std::string> frozen_rules;
};

struct HealthReport {
    bool healthy = true;
    std::string json; // {"status": "ok"|"unhealthy", "reasons": [...], ...}
};

class RunLoop {
public:
    struct Options {
        std::optional<std::int64_t> until; // stop once the clock reaches it (simulations)
        bool send = true;                  // false: keep notifications queued (--no-send)
    };

    RunLoop(std::filesystem::path config_path, core::Config config, rules::RuleSet rules,
            Clock& clock, Options options);
    ~RunLoop();
    RunLoop(const RunLoop&) = delete;
    RunLoop& operator=(const RunLoop&) = delete;

    // Runs until a stop request (or `until`); returns the exit code.
    int run();

    // Thread-safe; may be called from a signal-handling thread.
    void request_stop();
    void request_reload();

    // Thread-safe: built from the last published snapshot.
    [[nodiscard]] HealthReport health() const;
    [[nodiscard]] std::string metrics() const;
    [[nodiscard]] LoopSnapshot snapshot() const;
    // Seconds since the loop last showed progress (for the watchdog).
    [[nodiscard]] std::int64_t seconds_since_progress() const;

    // The loop is considered hung after this long without progress.
    static constexpr std::int64_t stall_limit_seconds = 600;

private:
    struct State;
    void pass(store::Database& db, std::int64_t now);
    void reload(store::Database& db, std::int64_t now);
    void evaluate(store::Database& db, std::int64_t now);
    void send(store::Database& db, std::int64_t now);
    void publish(store::Database& db, std::int64_t now);
    std::int64_t next_wake(store::Database& db, std::int64_t now) const;
    [[nodiscard]] int evaluation_day(std::int64_t now) const;
    [[nodiscard]] std::string status_line() const;
    void progress();

    std::filesystem::path m_config_path;
    core::Config m_config;
    rules::RuleSet m_rules;
    Clock& m_clock;
    Options m_options;
    std::unique_ptr<State> m_state;

    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_reload{false};
    Wakeup m_wakeup;
    std::atomic<std::int64_t> m_progress_at; // steady clock, seconds

    mutable std::mutex m_snapshot_mutex;
    LoopSnapshot m_snapshot;
};

} // namespace ewsd::daemon
