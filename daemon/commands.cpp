#include "daemon/commands.hpp"

#include "connectors/feed.hpp"
#include "core/config.hpp"
#include "store/database.hpp"
#include "store/queries.hpp"
#include "util/log.hpp"

#include <cstdio>
#include <iostream>

namespace ewsd::daemon {

namespace {

core::Config load(const std::filesystem::path& path) {
    core::Config config = core::load_config_or_throw(path);
    util::log::set_level(config.log_level);
    return config;
}

} // namespace

int command_check(const std::filesystem::path& config) {
    const core::ConfigLoad result = core::load_config(config);
    int errors = 0;
    int warnings = 0;
    for (const auto& d : result.diagnostics.items()) {
        std::cout << d.format() << "\n";
        (d.severity == util::Diagnostic::Severity::error ? errors : warnings)++;
    }
    if (result.config) {
        std::cout << config.string() << ": valid (" << result.config->feeds.size() << " feed"
                  << (result.config->feeds.size() == 1 ? "" : "s") << ", " << warnings << " warning"
                  << (warnings == 1 ? "" : "s") << ")\n";
        return 0;
    }
    std::cout << config.string() << ": invalid (" << errors << " error" << (errors == 1 ? "" : "s")
              << ", " << warnings << " warning" << (warnings == 1 ? "" : "s") << ")\n";
    return 1;
}

int command_ingest(const std::filesystem::path& config_path, const IngestOptions& options) {
    const core::Config config = load(config_path);
    store::Database db(config.database);
    std::vector<connectors::LoadReport> reports;
    bool found = options.feed.empty();
    for (const auto& feed_config : config.feeds) {
        if (!options.feed.empty() && feed_config.name != options.feed) {
            continue;
        }
        found = true;
        auto feed = connectors::make_feed(feed_config);
        auto feed_reports = feed->poll(db, {options.force});
        reports.insert(reports.end(), feed_reports.begin(), feed_reports.end());
    }
    if (!found) {
        std::cerr << "ewsd ingest: no feed named '" << options.feed << "' in "
                  << config_path.string() << "\n";
        return 2;
    }
    std::printf("%-16s %-16s %9s %9s %9s %9s %9s %11s  %s\n", "feed", "file", "read", "new",
                "updated", "unchanged", "removed", "quarantined", "status");
    bool ok = true;
    for (const auto& r : reports) {
        const auto& c = r.counts;
        std::printf("%-16s %-16s %9lld %9lld %9lld %9lld %9lld %11lld  %s%s%s\n", r.feed.c_str(),
                    r.source.c_str(), static_cast<long long>(c.read),
                    static_cast<long long>(c.inserted), static_cast<long long>(c.updated),
                    static_cast<long long>(c.unchanged), static_cast<long long>(c.removed),
                    static_cast<long long>(c.quarantined), connectors::to_string(r.status),
                    r.message.empty() ? "" : ": ", r.message.c_str());
        if (r.status == connectors::LoadReport::Status::rejected ||
            r.status == connectors::LoadReport::Status::failed) {
            ok = false;
        }
    }
    if (reports.empty()) {
        std::printf("(no feed files found)\n");
    }
    return ok ? 0 : 1;
}

int command_status(const std::filesystem::path& config_path) {
    const core::Config config = load(config_path);
    store::Database db(config.database);
    const store::StoreStats s = store::store_stats(db);
    std::printf("database:    %s (schema version %d)\n", config.database.c_str(),
                db.user_version());
    std::printf("students:    %lld (%lld enrollments in %lld schools)\n",
                static_cast<long long>(s.students), static_cast<long long>(s.enrollments),
                static_cast<long long>(s.schools));
    std::printf("attendance:  %lld events (%lld absences, %lld tardies)\n",
                static_cast<long long>(s.attendance_events), static_cast<long long>(s.absences),
                static_cast<long long>(s.tardies));
    std::printf("grades:      %lld (%lld course sections)\n", static_cast<long long>(s.grades),
                static_cast<long long>(s.sections));
    std::printf("incidents:   %lld (%lld student rows, %lld suspensions)\n",
                static_cast<long long>(s.incidents), static_cast<long long>(s.incident_rows),
                static_cast<long long>(s.suspensions));
    std::printf("calendar:    %lld days (%lld instructional)\n",
                static_cast<long long>(s.calendar_days),
                static_cast<long long>(s.instructional_days));
    std::printf("quarantined: %lld rows in the latest loads%s\n",
                static_cast<long long>(s.quarantined),
                s.quarantined > 0 ? " (ewsd feeds errors lists them)" : "");
    std::printf("to evaluate: %lld students changed since the last evaluation\n",
                static_cast<long long>(s.dirty_students));
    const auto loads = store::latest_loads(db);
    if (!loads.empty()) {
        std::printf("\nlatest loads:\n");
    }
    for (const auto& l : loads) {
        std::printf("  %-16s %-16s %-8s %s  %lld rows, %lld quarantined%s%s\n", l.feed.c_str(),
                    l.file.c_str(), l.status.c_str(), l.loaded_at.c_str(),
                    static_cast<long long>(l.rows_read), static_cast<long long>(l.rows_quarantined),
                    l.error.empty() ? "" : ": ", l.error.c_str());
    }
    return 0;
}

int command_feeds_errors(const std::filesystem::path& config_path, const std::string& feed,
                         bool all) {
    const core::Config config = load(config_path);
    store::Database db(config.database);
    // Name the file by its path on disk, so that an editor can jump to the row.
    const auto file_path = [&](const std::string& feed_name, const std::string& file) {
        for (const auto& f : config.feeds) {
            if (f.name == feed_name) {
                return (f.path / file).string();
            }
        }
        return feed_name + "/" + file;
    };
    int problems = 0;
    for (const auto& l : store::latest_loads(db)) {
        if (l.status == "rejected" && (feed.empty() || l.feed == feed)) {
            std::cout << file_path(l.feed, l.file) << ": file rejected at " << l.loaded_at << ": "
                      << l.error << "\n";
            ++problems;
        }
    }
    for (const auto& q : store::quarantined_rows(db, feed, all)) {
        std::cout << file_path(q.feed, q.file) << ":" << q.line << ":" << q.column << ": "
                  << q.reason << "\n";
        ++problems;
    }
    if (problems == 0) {
        std::cout << "no quarantined rows or rejected files\n";
    }
    return 0;
}

} // namespace ewsd::daemon
