// `ewsd run --once`: one cycle of the main job (ingest, evaluate, referrals).
#include "daemon/commands.hpp"
#include "daemon/common.hpp"
#include "daemon/cycle.hpp"
#include "util/date.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>

namespace ewsd::daemon {

int command_run(const std::filesystem::path& config_path, const RunOptions& options) {
    if (!options.once) {
        std::cerr << "ewsd run: only --once (a single cycle) is available in this version\n";
        return 2;
    }
    const core::Config config = load(config_path);
    const std::optional<int> as_of = parse_as_of(options.as_of, config, "run");
    if (!as_of) {
        return 2;
    }
    const rules::RuleSet rules = load_rules_or_throw(config);
    store::Database db(config.database);
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    const referrals::LifecycleSettings lifecycle;
    // Routing to specialists comes with the notification config; until it is
    // configured, referrals are kept but nobody is notified.
    const referrals::Router router = [](const referrals::RouteRequest&) {
        return std::vector<referrals::Recipient>{};
    };
    const CycleReport report = run_cycle(config, rules, db, *as_of, now, lifecycle, router);

    int failed = 0;
    for (const auto& l : report.loads) {
        if (l.status == connectors::LoadReport::Status::loaded ||
            l.status == connectors::LoadReport::Status::rejected ||
            l.status == connectors::LoadReport::Status::failed) {
            std::printf("ingest    %s/%s: %s%s%s\n", l.feed.c_str(), l.source.c_str(),
                        connectors::to_string(l.status), l.message.empty() ? "" : ": ",
                        l.message.c_str());
        }
        failed += l.status == connectors::LoadReport::Status::rejected ||
                  l.status == connectors::LoadReport::Status::failed;
    }
    const auto& r = report.referrals;
    std::printf("evaluate  as of %s: %zu students (%s), %zu with a rule firing\n",
                util::format_iso_date(util::from_day_number(*as_of)).c_str(), report.evaluated,
                report.full ? "all: a new date" : "changed since the last cycle", report.firing);
    std::printf("referrals %d opened, %d pending, %d updated, %d reminders, %d resolved; "
                "%d notifications queued\n",
                r.opened, r.pending, r.updated, r.renotified, r.resolved, r.queued);
    return failed == 0 ? 0 : 1;
}

} // namespace ewsd::daemon
