#include "daemon/run_loop.hpp"

#include "connectors/delivery.hpp"
#include "daemon/common.hpp"
#include "daemon/cycle.hpp"
#include "daemon/prometheus.hpp"
#include "daemon/systemd_notify.hpp"
#include "ewsd/version.hpp"
#include "referrals/outbox.hpp"
#include "rules/dependencies.hpp"
#include "store/queries.hpp"
#include "store/student_data.hpp"
#include "util/date.hpp"
#include "util/local_time.hpp"
#include "util/log.hpp"

#include <SQLiteCpp/Statement.h>
#include <algorithm>
#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

namespace ewsd::daemon {

namespace {

std::int64_t steady_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::int64_t query_int(store::Database& db, const char* sql, std::int64_t fallback = 0) {
    SQLite::Statement q(db.sql(), sql);
    if (q.executeStep() && !q.getColumn(0).isNull()) {
        return q.getColumn(0).getInt64();
    }
    return fallback;
}

// Logs the warnings; returns the errors, one per line.
std::string join_errors(const util::Diagnostics& diagnostics) {
    std::string out;
    for (const auto& d : diagnostics.items()) {
        if (d.severity == util::Diagnostic::Severity::error) {
            out += d.format() + "\n";
        } else {
            util::log::warning(d.format());
        }
    }
    return out;
}

} // namespace

struct RunLoop::State {
    std::optional<FeedMonitor> feeds;
    Delivery delivery;
    std::set<std::string> frozen;
    LoopSnapshot counters; // the cumulative parts of the snapshot
};

RunLoop::RunLoop(std::filesystem::path config_path, core::Config config, rules::RuleSet rules,
                 Clock& clock, Options options)
    : m_config_path(std::move(config_path)), m_config(std::move(config)), m_rules(std::move(rules)),
      m_clock(clock), m_options(options), m_state(std::make_unique<State>()),
      m_progress_at(steady_seconds()) {
    m_state->delivery = make_delivery(m_config); // checked before anything runs
}

RunLoop::~RunLoop() = default;

void RunLoop::request_stop() {
    m_stop = true;
    connectors::cancel_deliveries();
    m_wakeup.notify();
}

void RunLoop::request_reload() {
    m_reload = true;
    m_wakeup.notify();
}

void RunLoop::progress() {
    m_progress_at = steady_seconds();
}

std::int64_t RunLoop::seconds_since_progress() const {
    return steady_seconds() - m_progress_at.load();
}

int RunLoop::evaluation_day(std::int64_t now) const {
    const int today = util::local_day(now);
    return util::local_minutes(now) < m_config.day_starts_at ? today - 1 : today;
}

int RunLoop::run() {
    store::Database db(m_config.database);
    m_state->feeds.emplace(db, m_config.feeds, m_clock.now());
    util::log::notice("ewsd " + std::string(ewsd::version) +
                      " running: " + std::to_string(m_config.feeds.size()) + " feeds, " +
                      std::to_string(m_rules.rules.size()) + " rules, database " +
                      m_config.database.string());
    // Ready once configured: a first pass over a large district can take
    // minutes, longer than systemd waits for a start.
    sd::ready("starting: the first pass over the feeds");
    while (!m_stop) {
        const std::int64_t now = m_clock.now();
        progress();
        if (m_reload.exchange(false)) {
            sd::reloading();
            reload(db, now);
            sd::ready_after_reload();
        }
        pass(db, now);
        publish(db, now);
        sd::status(status_line());
        if (m_stop || (m_options.until && now >= *m_options.until)) {
            break;
        }
        std::int64_t wake = next_wake(db, now);
        if (m_options.until) {
            wake = std::min(wake, *m_options.until);
        }
        m_clock.wait_until(wake, m_wakeup);
    }
    sd::stopping();
    const LoopSnapshot s = snapshot();
    std::string summary = "ewsd stopping at " + util::format_local(s.at) + ": " +
                          std::to_string(s.messages_sent) + " messages sent since the start, " +
                          std::to_string(s.outbox_pending) + " notifications waiting";
    if (s.outbox_pending > 0) {
        summary += " (the next due " +
                   util::format_local(
                       query_int(db, "SELECT min(due_at) FROM outbox WHERE state = 'pending'")) +
                   ")";
    }
    util::log::notice(summary + ", " + std::to_string(s.outbox_dead) + " dead");
    return 0;
}

// For `systemctl status ewsd`: "as of 2026-01-30; 2 feeds fresh; outbox 3 pending, 0 dead".
std::string RunLoop::status_line() const {
    const LoopSnapshot s = snapshot();
    std::size_t stale = 0;
    for (const auto& f : s.feeds) {
        stale += f.stale ? 1 : 0;
    }
    std::string line =
        "as of " + s.as_of + "; " + std::to_string(s.feeds.size() - stale) + " feeds fresh";
    if (stale > 0) {
        line += ", " + std::to_string(stale) + " stale";
    }
    return line + "; outbox " + std::to_string(s.outbox_pending) + " pending, " +
           std::to_string(s.outbox_dead) + " dead";
}

// Each stage on its own: a failure is logged and counted, and the next
// stage (and the next pass) still runs.
void RunLoop::pass(store::Database& db, std::int64_t now) {
    const auto stage = [&](const char* what, const auto& body) {
        try {
            body();
        } catch (const std::exception& e) {
            ++m_state->counters.loop_errors;
            util::log::error(std::string(what) + ": " + e.what());
        }
    };
    stage("feeds", [&] { m_state->feeds->poll_due(db, now, &m_stop); });
    progress();
    stage("stale-data guard", [&] {
        m_state->feeds->check_staleness(db, m_config.notify, now);
        std::set<std::string> frozen = rules::rules_reading(m_rules, m_state->feeds->stale_kinds());
        if (std::any_of(m_state->frozen.begin(), m_state->frozen.end(),
                        [&](const std::string& id) { return frozen.count(id) == 0; })) {
            // Rules thawed: every student is evaluated again, so that what
            // happened while they were frozen is caught up.
            store::set_meta_value(db, "evaluated_on", "");
        }
        if (frozen != m_state->frozen && !frozen.empty()) {
            util::log::warning("stale data: " + std::to_string(frozen.size()) +
                               " rules frozen (no referral opens or resolves)");
        }
        m_state->frozen = std::move(frozen);
    });
    if (!m_stop) {
        stage("evaluation", [&] { evaluate(db, now); });
    }
    if (!m_stop && m_options.send && m_state->delivery.renderer) {
        stage("delivery", [&] { send(db, now); });
    }
}

void RunLoop::evaluate(store::Database& db, std::int64_t now) {
    const int as_of = evaluation_day(now);
    const std::string as_of_text = util::format_iso_date(util::from_day_number(as_of));
    if (store::meta_value(db, "evaluated_on") == as_of_text &&
        query_int(db, "SELECT EXISTS (SELECT 1 FROM dirty_students)") == 0) {
        return;
    }
    EvaluationOptions options;
    options.frozen = m_state->frozen;
    options.stop = &m_stop;
    options.progress = [this] { progress(); };
    const auto started = std::chrono::steady_clock::now();
    const EvaluationReport r = evaluate_changes(m_config, m_rules, db, as_of, now, options);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    auto& c = m_state->counters;
    c.last_evaluation_seconds = seconds;
    ++c.evaluations;
    c.students_evaluated += r.evaluated;
    const auto& n = r.referrals;
    char line[256];
    std::snprintf(line, sizeof line,
                  "evaluated %zu students as of %s%s in %.1f s: %d opened, %d resolved, "
                  "%d reminders, %d notifications queued%s",
                  r.evaluated, as_of_text.c_str(), r.full ? " (a new date: all)" : "", seconds,
                  n.opened, n.resolved, n.renotified, n.queued, r.stopped ? "; stopped" : "");
    util::log::info(line);
}

void RunLoop::send(store::Database& db, std::int64_t now) {
    referrals::OutboxSettings settings;
    settings.progress = [this] { progress(); };
    const auto drained = drain_due(m_config, db, m_state->delivery, settings, now, &m_stop);
    if (!drained) {
        util::log::warning("another ewsd process is sending from this database; waiting");
        return;
    }
    const referrals::DrainReport& d = *drained;
    auto& c = m_state->counters;
    c.messages_sent += static_cast<std::uint64_t>(d.messages_sent);
    for (const auto& [notifier, n] : d.failures_by_notifier) {
        c.delivery_failures[notifier] += static_cast<std::uint64_t>(n);
    }
    if (d.messages_sent + d.retrying + d.dead + d.held_back > 0) {
        util::log::info("outbox: " + std::to_string(d.messages_sent) + " messages sent (" +
                        std::to_string(d.notifications_sent) + " notifications), " +
                        std::to_string(d.retrying) + " to retry, " + std::to_string(d.dead) +
                        " given up, " + std::to_string(d.held_back) +
                        " held back by caseload caps");
    }
}

void RunLoop::reload(store::Database& db, std::int64_t now) {
    util::log::notice("reloading " + m_config_path.string());
    std::string errors;
    core::ConfigLoad config = core::load_config(m_config_path);
    errors += join_errors(config.diagnostics);
    std::optional<rules::RuleSet> rules;
    Delivery delivery;
    if (config.config) {
        rules::RuleLoad load = rules::load_rules(config.config->rules_dir);
        errors += join_errors(load.diagnostics);
        rules = std::move(load.rules);
        try {
            delivery = make_delivery(*config.config);
        } catch (const std::exception& e) {
            errors += std::string(e.what()) + "\n";
        }
    }
    if (!errors.empty() || !config.config || !rules) {
        ++m_state->counters.reloads_failed;
        m_state->counters.last_reload_failed = true;
        std::istringstream lines(errors);
        for (std::string line; std::getline(lines, line);) {
            util::log::error(line);
        }
        util::log::error("reload failed: still running the previous configuration and rules");
        referrals::queue_alert(db, m_config.notify,
                               "Reload failed: still running the previous configuration",
                               "ewsd was asked to reload " + m_config_path.string() +
                                   " and its rules, and found errors. Nothing changed: the "
                                   "previous configuration and rules keep running.\n\n" +
                                   errors + "\nFix them, check with `ewsd check`, then reload.",
                               now);
        return;
    }
    core::Config next = std::move(*config.config);
    // What the running process cannot change: kept, with a word to restart.
    const auto keep = [&](bool same, const char* what) {
        if (!same) {
            util::log::warning(std::string(what) + " changed: restart ewsd to apply it");
        }
    };
    keep(next.database == m_config.database, "database");
    keep(next.timezone == m_config.timezone, "timezone");
    keep(next.http.enabled == m_config.http.enabled && next.http.address == m_config.http.address &&
             next.http.port == m_config.http.port,
         "http");
    next.database = m_config.database;
    next.timezone = m_config.timezone;
    next.http = m_config.http;
    m_config = std::move(next);
    m_rules = std::move(*rules);
    m_state->delivery = std::move(delivery);
    m_state->feeds->reconfigure(db, m_config.feeds, now);
    util::log::set_level(m_config.log_level);
    // The rules may have changed: every student is evaluated again.
    store::set_meta_value(db, "evaluated_on", "");
    ++m_state->counters.reloads_ok;
    m_state->counters.last_reload_failed = false;
    util::log::notice("reloaded: " + std::to_string(m_config.feeds.size()) + " feeds, " +
                      std::to_string(m_rules.rules.size()) + " rules");
}

std::int64_t RunLoop::next_wake(store::Database& db, std::int64_t now) const {
    std::int64_t wake = m_state->feeds->next_poll();
    const auto consider = [&](std::int64_t t) {
        if (t > 0) {
            wake = std::min(wake, std::max(t, now + 1));
        }
    };
    consider(util::local_to_unix(evaluation_day(now) + 1, m_config.day_starts_at));
    consider(m_state->feeds->next_stale_at());
    if (m_options.send && m_state->delivery.renderer) {
        consider(query_int(db, "SELECT min(due_at) FROM outbox WHERE state = 'pending'"));
    }
    if (!m_options.until) {
        consider(now + 60); // the snapshot's lags stay current
    }
    return wake;
}

void RunLoop::publish(store::Database& db, std::int64_t now) {
    LoopSnapshot s = m_state->counters;
    s.at = now;
    s.feeds = m_state->feeds->statuses();
    s.as_of = util::format_iso_date(util::from_day_number(evaluation_day(now)));
    s.frozen_rules = m_state->frozen;
    try {
        SQLite::Statement q(db.sql(), "SELECT state, count(*) FROM referrals GROUP BY state");
        while (q.executeStep()) {
            s.referrals_by_state[q.getColumn(0).getString()] = q.getColumn(1).getInt64();
        }
        const referrals::OutboxCounts counts = referrals::count_outbox(db, now);
        s.outbox_pending = counts.pending;
        s.outbox_dead = counts.dead;
        const std::int64_t oldest =
            query_int(db, "SELECT min(created_at) FROM outbox WHERE state = 'pending'", 0);
        s.outbox_oldest_age = oldest > 0 ? std::max<std::int64_t>(now - oldest, 0) : 0;
    } catch (const std::exception& e) {
        ++s.loop_errors;
        util::log::error(std::string("metrics: ") + e.what());
    }
    const std::lock_guard lock(m_snapshot_mutex);
    m_snapshot = std::move(s);
}

LoopSnapshot RunLoop::snapshot() const {
    const std::lock_guard lock(m_snapshot_mutex);
    return m_snapshot;
}

HealthReport RunLoop::health() const {
    const LoopSnapshot s = snapshot();
    nlohmann::json reasons = nlohmann::json::array();
    const std::int64_t idle = seconds_since_progress();
    if (s.at == 0) {
        reasons.push_back("starting: the first pass has not finished");
    } else if (idle > stall_limit_seconds) {
        reasons.push_back("the loop has made no progress for " + std::to_string(idle) + " s");
    }
    nlohmann::json feeds = nlohmann::json::object();
    for (const auto& f : s.feeds) {
        feeds[f.name] = {{"stale", f.stale},
                         {"last_success", util::format_local(f.last_success)},
                         {"last_poll_failed", f.last_poll_failed}};
        if (f.stale) {
            reasons.push_back("feed " + f.name +
                              " is stale: " + FeedMonitor::stale_reason(f, s.at));
        }
    }
    if (s.last_reload_failed) {
        reasons.push_back("the last reload failed: the previous configuration is running");
    }
    HealthReport report;
    // A failed reload is worth a look but the daemon still works: healthy.
    report.healthy =
        s.at != 0 && idle <= stall_limit_seconds &&
        std::none_of(s.feeds.begin(), s.feeds.end(), [](const FeedStatus& f) { return f.stale; });
    nlohmann::json body = {{"status", report.healthy ? "ok" : "unhealthy"},
                           {"reasons", reasons},
                           {"as_of", s.as_of},
                           {"feeds", feeds},
                           {"outbox_pending", s.outbox_pending}};
    report.json = body.dump(2) + "\n";
    return report;
}

std::string RunLoop::metrics() const {
    const LoopSnapshot s = snapshot();
    PrometheusText p;
    p.family("ewsd_build_info", "The running version.", "gauge");
    p.sample("ewsd_build_info", {{"version", ewsd::version}}, 1);
    p.family("ewsd_loop_last_pass_timestamp_seconds", "When the loop last finished a pass.",
             "gauge");
    p.sample("ewsd_loop_last_pass_timestamp_seconds", static_cast<double>(s.at));
    p.family("ewsd_loop_errors_total", "Stages of a pass that failed (see the log).", "counter");
    p.sample("ewsd_loop_errors_total", static_cast<double>(s.loop_errors));

    p.family("ewsd_feed_last_success_timestamp_seconds",
             "When the feed last brought new data (Unix time).", "gauge");
    for (const auto& f : s.feeds) {
        p.sample("ewsd_feed_last_success_timestamp_seconds", {{"feed", f.name}},
                 static_cast<double>(f.last_success));
    }
    p.family("ewsd_feed_lag_seconds", "Seconds since the feed last brought new data.", "gauge");
    for (const auto& f : s.feeds) {
        p.sample("ewsd_feed_lag_seconds", {{"feed", f.name}},
                 static_cast<double>(std::max<std::int64_t>(s.at - f.last_success, 0)));
    }
    p.family("ewsd_feed_max_age_seconds", "The feed's max_age (0: never stale).", "gauge");
    for (const auto& f : s.feeds) {
        p.sample("ewsd_feed_max_age_seconds", {{"feed", f.name}}, static_cast<double>(f.max_age));
    }
    p.family("ewsd_feed_stale", "1 while the feed is stale.", "gauge");
    for (const auto& f : s.feeds) {
        p.sample("ewsd_feed_stale", {{"feed", f.name}}, f.stale ? 1 : 0);
    }
    p.family("ewsd_feed_polls_total", "Polls of the feed by result.", "counter");
    for (const auto& f : s.feeds) {
        p.sample("ewsd_feed_polls_total", {{"feed", f.name}, {"result", "ok"}},
                 static_cast<double>(f.polls_ok));
        p.sample("ewsd_feed_polls_total", {{"feed", f.name}, {"result", "failed"}},
                 static_cast<double>(f.polls_failed));
    }
    p.family("ewsd_rows_ingested_total", "Rows stored from the feed's files.", "counter");
    for (const auto& f : s.feeds) {
        p.sample("ewsd_rows_ingested_total", {{"feed", f.name}},
                 static_cast<double>(f.rows_ingested));
    }
    p.family("ewsd_rows_quarantined_total", "Rows set aside as invalid (`ewsd feeds errors`).",
             "counter");
    for (const auto& f : s.feeds) {
        p.sample("ewsd_rows_quarantined_total", {{"feed", f.name}},
                 static_cast<double>(f.rows_quarantined));
    }

    p.family("ewsd_evaluation_duration_seconds", "How long the last evaluation took.", "gauge");
    p.sample("ewsd_evaluation_duration_seconds", s.last_evaluation_seconds);
    p.family("ewsd_evaluations_total", "Evaluations run.", "counter");
    p.sample("ewsd_evaluations_total", static_cast<double>(s.evaluations));
    p.family("ewsd_students_evaluated_total", "Students evaluated.", "counter");
    p.sample("ewsd_students_evaluated_total", static_cast<double>(s.students_evaluated));
    p.family("ewsd_rules_frozen", "Rules frozen because a feed they read is stale.", "gauge");
    p.sample("ewsd_rules_frozen", static_cast<double>(s.frozen_rules.size()));

    p.family("ewsd_referrals", "Referrals by state.", "gauge");
    for (const char* state : {"pending", "open", "acknowledged", "resolved", "closed"}) {
        const auto it = s.referrals_by_state.find(state);
        p.sample("ewsd_referrals", {{"state", state}},
                 static_cast<double>(it == s.referrals_by_state.end() ? 0 : it->second));
    }
    p.family("ewsd_outbox_messages", "Notifications in the outbox by state.", "gauge");
    p.sample("ewsd_outbox_messages", {{"state", "pending"}}, static_cast<double>(s.outbox_pending));
    p.sample("ewsd_outbox_messages", {{"state", "dead"}}, static_cast<double>(s.outbox_dead));
    p.family("ewsd_outbox_oldest_age_seconds",
             "Age of the oldest pending notification (digests wait for their time).", "gauge");
    p.sample("ewsd_outbox_oldest_age_seconds", static_cast<double>(s.outbox_oldest_age));
    p.family("ewsd_messages_sent_total", "Messages delivered.", "counter");
    p.sample("ewsd_messages_sent_total", static_cast<double>(s.messages_sent));
    p.family("ewsd_delivery_failures_total", "Delivery attempts that failed, by notifier.",
             "counter");
    for (const char* notifier : {"email", "file", "webhook"}) {
        const auto it = s.delivery_failures.find(notifier);
        p.sample("ewsd_delivery_failures_total", {{"notifier", notifier}},
                 static_cast<double>(it == s.delivery_failures.end() ? 0 : it->second));
    }
    p.family("ewsd_reloads_total", "Reloads (SIGHUP) by result.", "counter");
    p.sample("ewsd_reloads_total", {{"result", "ok"}}, static_cast<double>(s.reloads_ok));
    p.sample("ewsd_reloads_total", {{"result", "failed"}}, static_cast<double>(s.reloads_failed));
    return p.text();
}

} // namespace ewsd::daemon
