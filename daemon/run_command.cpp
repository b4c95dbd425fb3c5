// `ewsd run`: the service (daemon/run_loop), with its signals, HTTP endpoint
// and systemd watchdog; `ewsd run --once`: one cycle of the main job (ingest,
// evaluate, referrals), then the outbox drained.
#include "daemon/commands.hpp"
#include "daemon/common.hpp"
#include "daemon/cycle.hpp"
#include "daemon/http_endpoint.hpp"
#include "daemon/prometheus.hpp"
#include "daemon/run_loop.hpp"
#include "daemon/systemd_notify.hpp"
#include "referrals/outbox.hpp"
#include "util/date.hpp"
#include "util/failpoint.hpp"
#include "util/local_time.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <pthread.h>
#include <thread>

namespace ewsd::daemon {

namespace {

void print_cycle(const CycleReport& report, int as_of) {
    for (const auto& l : report.loads) {
        if (l.status == connectors::LoadReport::Status::loaded ||
            l.status == connectors::LoadReport::Status::rejected ||
            l.status == connectors::LoadReport::Status::failed) {
            std::printf("ingest    %s/%s: %s%s%s\n", l.feed.c_str(), l.source.c_str(),
                        connectors::to_string(l.status), l.message.empty() ? "" : ": ",
                        l.message.c_str());
        }
    }
    const auto& e = report.evaluation;
    const auto& r = e.referrals;
    std::printf("evaluate  as of %s: %zu students (%s), %zu with a rule firing\n",
                util::format_iso_date(util::from_day_number(as_of)).c_str(), e.evaluated,
                e.full ? "all: a new date" : "changed since the last cycle", e.firing);
    std::printf("referrals %d opened, %d pending, %d updated, %d reminders, %d resolved; "
                "%d notifications queued\n",
                r.opened, r.pending, r.updated, r.renotified, r.resolved, r.queued);
}

// Drains the outbox; returns the rows given up on in this drain.
int send_due(const core::Config& config, store::Database& db, std::int64_t now,
             const RunOptions& options, const Delivery& delivery) {
    referrals::OutboxSettings settings;
    settings.flush_digests = options.flush_digests;
    const auto d = drain_due(config, db, delivery, settings, now);
    if (!d) {
        std::printf("outbox    another ewsd process is sending; left to it\n");
        return 0;
    }
    const referrals::OutboxCounts left = referrals::count_outbox(db, now);
    std::printf("outbox    %d messages sent (%d notifications), %d to retry, %d given up, "
                "%d held back by caseload caps; %lld waiting, %lld dead\n",
                d->messages_sent, d->notifications_sent, d->retrying, d->dead, d->held_back,
                static_cast<long long>(left.pending), static_cast<long long>(left.dead));
    if (delivery.transports.email_channel == "file" && config.notify.output_dir) {
        std::printf("          emails are written to %s\n", config.notify.output_dir->c_str());
    }
    return d->dead;
}

// SIGTERM and SIGINT stop the loop, SIGHUP reloads it. The signals are
// blocked in every thread and taken here with sigtimedwait, so that handling
// them is ordinary code rather than an async-signal handler.
class SignalThread {
public:
    // Call before any other thread starts: threads inherit the mask.
    static sigset_t block() {
        sigset_t set;
        sigemptyset(&set);
        for (const int sig : {SIGTERM, SIGINT, SIGHUP}) {
            sigaddset(&set, sig);
        }
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
        return set;
    }

    SignalThread(RunLoop& loop, sigset_t set) : m_loop(loop), m_set(set) {
        m_thread = std::thread([this] { wait(); });
    }
    ~SignalThread() {
        m_done = true;
        m_thread.join();
    }
    SignalThread(const SignalThread&) = delete;
    SignalThread& operator=(const SignalThread&) = delete;

private:
    void wait() {
        const timespec slice{0, 200'000'000};
        while (!m_done) {
            const int sig = sigtimedwait(&m_set, nullptr, &slice);
            if (sig == SIGHUP) {
                util::log::notice("SIGHUP: reloading the configuration and rules");
                m_loop.request_reload();
            } else if (sig == SIGTERM || sig == SIGINT) {
                util::log::notice(std::string(sig == SIGTERM ? "SIGTERM" : "SIGINT") +
                                  ": stopping");
                m_loop.request_stop();
            }
        }
    }

    RunLoop& m_loop;
    sigset_t m_set{};
    std::atomic<bool> m_done{false};
    std::thread m_thread;
};

// Pings systemd's watchdog while the loop makes progress; a hung loop stops
// the pings and systemd restarts the service.
class Watchdog {
public:
    explicit Watchdog(const RunLoop& loop) : m_loop(loop) {
        const auto interval = sd::watchdog_interval();
        if (!interval) {
            return;
        }
        const auto every = std::chrono::duration_cast<std::chrono::milliseconds>(*interval / 3);
        m_thread = std::thread([this, every] {
            while (!m_wakeup.wait_for(every)) {
                if (m_loop.seconds_since_progress() < RunLoop::stall_limit_seconds) {
                    sd::watchdog();
                }
            }
        });
    }
    ~Watchdog() {
        if (m_thread.joinable()) {
            m_wakeup.notify();
            m_thread.join();
        }
    }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

private:
    const RunLoop& m_loop;
    Wakeup m_wakeup;
    std::thread m_thread;
};

HttpResponse serve(const RunLoop& loop, std::string_view path) {
    if (path == "/healthz") {
        const HealthReport health = loop.health();
        return {health.healthy ? 200 : 503, "application/json", health.json};
    }
    if (path == "/metrics") {
        return {200, PrometheusText::content_type, loop.metrics()};
    }
    return {404, "text/plain; charset=utf-8", "not found: try /healthz or /metrics\n"};
}

std::optional<std::int64_t> parse_time_option(const std::string& text, const char* option) {
    if (text.empty()) {
        return std::nullopt;
    }
    const auto parsed = util::parse_local_time(text);
    if (!parsed) {
        throw core::ConfigError(std::string("ewsd run: ") + option + " '" + text +
                                "' is not a local time as YYYY-MM-DDTHH:MM");
    }
    return parsed;
}

int run_service(const std::filesystem::path& config_path, const RunOptions& options) {
    const sigset_t signal_set = SignalThread::block();
    core::Config config = load(config_path);
    util::set_local_timezone(config.timezone);
    const auto start = parse_time_option(options.now, "--now");
    const auto until = parse_time_option(options.until, "--until");
    std::unique_ptr<Clock> clock;
    if (!options.clock_file.empty()) {
        clock = make_file_clock(options.clock_file);
    } else if (options.fast) {
        if (!start || !until) {
            throw core::ConfigError("ewsd run: --fast needs --now (the start) and --until");
        }
        clock = make_fast_clock(*start);
    } else {
        if (start) {
            throw core::ConfigError("ewsd run: --now needs --once, --fast or --clock");
        }
        clock = make_real_clock();
    }
    rules::RuleSet rules = load_rules_or_throw(config);
    const core::HttpConfig http = config.http;
    RunLoop loop(config_path, std::move(config), std::move(rules), *clock,
                 RunLoop::Options{until, !options.no_send});
    std::unique_ptr<HttpEndpoint> endpoint;
    if (http.enabled) {
        endpoint = std::make_unique<HttpEndpoint>(
            http.address, static_cast<std::uint16_t>(http.port),
            [&loop](std::string_view path) { return serve(loop, path); });
        util::log::notice("serving /healthz and /metrics on http://" + http.address + ":" +
                          std::to_string(endpoint->port()));
    }
    SignalThread signals(loop, signal_set);
    Watchdog watchdog(loop);
    return loop.run();
}

} // namespace

int command_run(const std::filesystem::path& config_path, const RunOptions& options) {
    if (!options.once) {
        return run_service(config_path, options);
    }
    const core::Config config = load(config_path);
    util::set_local_timezone(config.timezone);
    std::int64_t now = util::unix_now();
    if (!options.now.empty()) {
        const auto parsed = util::parse_local_time(options.now);
        if (!parsed) {
            std::cerr << "ewsd run: --now '" << options.now
                      << "' is not a local time as YYYY-MM-DDTHH:MM\n";
            return 2;
        }
        now = *parsed;
    }
    int as_of = util::local_day(now);
    if (!options.as_of.empty()) {
        const std::optional<int> parsed = parse_as_of(options.as_of, config, "run");
        if (!parsed) {
            return 2;
        }
        as_of = *parsed;
    }
    const rules::RuleSet rules = load_rules_or_throw(config);
    // Templates and transports are checked before anything changes.
    const Delivery delivery = options.no_send ? Delivery{} : make_delivery(config);
    store::Database db(config.database);
    const CycleReport report = run_cycle(config, rules, db, as_of, now);
    print_cycle(report, as_of);
    int failed = 0;
    for (const auto& l : report.loads) {
        failed += l.status == connectors::LoadReport::Status::rejected ||
                  l.status == connectors::LoadReport::Status::failed;
    }

    util::failpoint("cycle.before_drain");
    if (options.no_send) {
        const auto left = referrals::count_outbox(db, now);
        std::printf("outbox    --no-send: %lld notifications waiting, none sent\n",
                    static_cast<long long>(left.pending));
    } else if (delivery.renderer) {
        failed += send_due(config, db, now, options, delivery);
    }
    return failed == 0 ? 0 : 1;
}

} // namespace ewsd::daemon
