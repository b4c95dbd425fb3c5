// `ewsd run --once`: one cycle of the main job (ingest, evaluate, referrals),
// then the outbox drained.
#include "daemon/commands.hpp"
#include "daemon/common.hpp"
#include "daemon/cycle.hpp"
#include "referrals/outbox.hpp"
#include "util/date.hpp"
#include "util/failpoint.hpp"
#include "util/local_time.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>

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
    const auto& r = report.referrals;
    std::printf("evaluate  as of %s: %zu students (%s), %zu with a rule firing\n",
                util::format_iso_date(util::from_day_number(as_of)).c_str(), report.evaluated,
                report.full ? "all: a new date" : "changed since the last cycle", report.firing);
    std::printf("referrals %d opened, %d pending, %d updated, %d reminders, %d resolved; "
                "%d notifications queued\n",
                r.opened, r.pending, r.updated, r.renotified, r.resolved, r.queued);
}

// Drains the outbox; returns the rows given up on in this drain.
int send_due(const core::Config& config, store::Database& db, std::int64_t now,
             const RunOptions& options, const referrals::Renderer& renderer,
             const referrals::Transports& transports) {
    const auto& notify = config.notify;
    SendLock lock(config.database);
    if (!lock.held()) {
        std::printf("outbox    another ewsd process is sending; left to it\n");
        return 0;
    }
    const store::Calendars calendars(db);
    referrals::OutboxSettings settings;
    settings.retry_for = notify.retry_for;
    settings.flush_digests = options.flush_digests;
    const referrals::DrainReport d = referrals::drain(db, notify, renderer, transports, calendars,
                                                      settings, now, std::random_device{}());
    const referrals::OutboxCounts left = referrals::count_outbox(db, now);
    std::printf("outbox    %d messages sent (%d notifications), %d to retry, %d given up, "
                "%d held back by caseload caps; %lld waiting, %lld dead\n",
                d.messages_sent, d.notifications_sent, d.retrying, d.dead, d.held_back,
                static_cast<long long>(left.pending), static_cast<long long>(left.dead));
    if (transports.email_channel == "file" && notify.output_dir) {
        std::printf("          emails are written to %s\n", notify.output_dir->c_str());
    }
    return d.dead;
}

} // namespace

int command_run(const std::filesystem::path& config_path, const RunOptions& options) {
    if (!options.once) {
        std::cerr << "ewsd run: only --once (a single cycle) is available in this version\n";
        return 2;
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
    const bool sending = !options.no_send && !config.notify.empty();
    std::optional<referrals::Renderer> renderer;
    referrals::Transports transports;
    if (sending) {
        renderer.emplace(render_settings(config));
        transports = referrals::make_transports(config.notify);
    }
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
    } else if (sending) {
        failed += send_due(config, db, now, options, *renderer, transports);
    }
    return failed == 0 ? 0 : 1;
}

} // namespace ewsd::daemon
