#include "daemon/commands.hpp"

#include "connectors/feed.hpp"
#include "core/config.hpp"
#include "daemon/common.hpp"
#include "referrals/routing.hpp"
#include "rules/evaluator.hpp"
#include "rules/rule_set.hpp"
#include "rules/rule_test.hpp"
#include "store/database.hpp"
#include "store/queries.hpp"
#include "store/student_data.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

namespace ewsd::daemon {

int command_check(const std::filesystem::path& config) {
    const core::ConfigLoad result = core::load_config(config);
    int errors = 0;
    int warnings = 0;
    const auto print = [&](const util::Diagnostics& diagnostics) {
        for (const auto& d : diagnostics.items()) {
            std::cout << d.format() << "\n";
            (d.severity == util::Diagnostic::Severity::error ? errors : warnings)++;
        }
    };
    print(result.diagnostics);
    std::size_t rule_count = 0;
    if (result.config) {
        const rules::RuleLoad rules = rules::load_rules(result.config->rules_dir);
        print(rules.diagnostics);
        rule_count = rules.rules ? rules.rules->rules.size() : 0;
        if (rules.rules) {
            print(referrals::route_coverage_warnings(*result.config, *rules.rules,
                                                     today_in(result.config->timezone)));
        }
        if (!result.config->notify.empty()) {
            // The templates render once with sample data; a broken one fails here.
            try {
                const referrals::Renderer renderer(render_settings(*result.config));
            } catch (const std::exception& e) {
                std::cout << config.string() << ": error: " << e.what() << "\n";
                ++errors;
            }
        }
    }
    if (result.config && errors == 0) {
        std::cout << config.string() << ": valid (" << result.config->feeds.size() << " feed"
                  << (result.config->feeds.size() == 1 ? "" : "s") << ", " << rule_count << " rule"
                  << (rule_count == 1 ? "" : "s") << ", " << warnings << " warning"
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

namespace {

std::string number_text(double value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", value);
    return buf;
}

// One line of `ewsd evaluate --format json`.
void append_firing_json(std::string& out, const std::string& student_id,
                        const rules::RuleOutcome& o, const std::string& as_of) {
    out += "{\"student_id\":";
    util::append_json_string(out, student_id);
    out += ",\"rule_id\":";
    util::append_json_string(out, o.rule->id);
    out += ",\"tier\":";
    out += std::to_string(o.rule->tier);
    out += ",\"domain\":";
    util::append_json_string(out, rules::to_string(o.rule->domain));
    out += ",\"as_of\":";
    util::append_json_string(out, as_of);
    out += ",\"evidence\":[";
    for (std::size_t i = 0; i < o.evidence.size(); ++i) {
        const auto& e = o.evidence[i];
        out += i == 0 ? "{\"metric\":" : ",{\"metric\":";
        util::append_json_string(out, e.metric);
        out += ",\"window\":";
        util::append_json_string(out, e.window);
        out += ",\"value\":";
        util::append_json_number(out, e.value);
        out += ",\"op\":";
        util::append_json_string(out, e.op);
        out += ",\"threshold\":";
        util::append_json_number(out, e.threshold);
        out += '}';
    }
    out += "]}\n";
}

} // namespace

int command_explain(const std::filesystem::path& config_path, const std::string& student_id,
                    const std::string& as_of_text) {
    const core::Config config = load(config_path);
    const std::optional<int> as_of = parse_as_of(as_of_text, config, "explain");
    if (!as_of) {
        return 2;
    }
    const rules::RuleSet rule_set = load_rules_or_throw(config);
    store::Database db(config.database);
    const store::Calendars calendars(db);
    const rules::MetricSettings settings = metric_settings(config);
    store::StudentReader reader(db);
    const auto student = reader.read(student_id);
    if (!student) {
        std::cerr << "ewsd explain: no enrolled student '" << student_id << "'\n";
        return 2;
    }
    const auto* enrollment = store::current_enrollment(*student, *as_of);
    std::printf("student %s, school %s, grade %d, as of %s\n", student_id.c_str(),
                enrollment ? enrollment->school_id.c_str() : "?",
                enrollment ? enrollment->grade_level : 0,
                util::format_iso_date(util::from_day_number(*as_of)).c_str());
    rules::EvaluateOptions all_evidence;
    all_evidence.all_evidence = true;
    for (const auto& o :
         rules::evaluate_student(rule_set, *student, calendars, settings, *as_of, all_evidence)) {
        const char* verdict = !o.applies ? "does not apply" : o.fired ? "FIRED" : "not fired";
        std::printf("\n%-28s tier %d  %-10s %s\n", o.rule->id.c_str(), o.rule->tier,
                    rules::to_string(o.rule->domain), verdict);
        for (const auto& e : o.evidence) {
            std::printf("    %-46s = %-8s %-2s %-8s %s\n", e.metric.c_str(),
                        number_text(e.value).c_str(), e.op.c_str(),
                        number_text(e.threshold).c_str(), e.holds ? "yes" : "no");
        }
    }
    return 0;
}

int command_evaluate(const std::filesystem::path& config_path, const EvaluateOptions& options) {
    const core::Config config = load(config_path);
    if (options.format != "table" && options.format != "json") {
        std::cerr << "ewsd evaluate: --format must be table or json\n";
        return 2;
    }
    const std::optional<int> as_of_day = parse_as_of(options.as_of, config, "evaluate");
    if (!as_of_day) {
        return 2;
    }
    const int as_of = *as_of_day;
    rules::RuleSet rule_set = load_rules_or_throw(config);
    if (!options.rule.empty()) {
        const bool known = std::any_of(rule_set.rules.begin(), rule_set.rules.end(),
                                       [&](const rules::Rule& r) { return r.id == options.rule; });
        if (!known) {
            std::cerr << "ewsd evaluate: no rule '" << options.rule << "'\n";
            return 2;
        }
    }
    store::Database db(config.database);
    const store::Calendars calendars(db);
    const rules::MetricSettings settings = metric_settings(config);

    const std::string as_of_text = util::format_iso_date(util::from_day_number(as_of));
    std::atomic<std::size_t> students = 0;
    std::atomic<std::size_t> flagged = 0;
    const bool json = options.format == "json";
    if (!json) {
        std::printf("as of %s\n%-12s %-8s %5s %4s  %s\n", as_of_text.c_str(), "student", "school",
                    "grade", "tier", "rules fired (highest tier first)");
    }
    // Called from several threads at once: it touches only `out` and atomics.
    // JSON lines are written by hand: nlohmann::json cost a fifth of the time.
    const auto visit = [&](const store::StudentData& student, std::string& out) {
        ++students;
        const auto outcomes =
            rules::evaluate_student(rule_set, student, calendars, settings, as_of);
        std::vector<const rules::RuleOutcome*> fired;
        for (const auto& o : outcomes) {
            if (o.fired && (options.rule.empty() || o.rule->id == options.rule)) {
                fired.push_back(&o);
            }
        }
        if (fired.empty()) {
            return;
        }
        ++flagged;
        std::stable_sort(fired.begin(), fired.end(), [](const auto* a, const auto* b) {
            return a->rule->tier > b->rule->tier;
        });
        if (json) {
            for (const auto* o : fired) {
                append_firing_json(out, student.student_id, *o, as_of_text);
            }
            return;
        }
        // "tier\tline\n": sorted by tier once every student is in.
        const auto* enrollment = store::current_enrollment(student, as_of);
        char line[128];
        std::snprintf(line, sizeof line, "%d\t%-12s %-8s %5d %4d  ", fired.front()->rule->tier,
                      student.student_id.c_str(), enrollment ? enrollment->school_id.c_str() : "",
                      enrollment ? enrollment->grade_level : 0, fired.front()->rule->tier);
        out += line;
        for (std::size_t i = 0; i < fired.size(); ++i) {
            out += (i == 0 ? "" : ", ") + fired[i]->rule->id;
        }
        out += '\n';
    };
    std::vector<std::pair<int, std::string>> table; // (tier, line)
    const auto emit = [&](std::string& out) {
        if (json) {
            std::fwrite(out.data(), 1, out.size(), stdout);
            return;
        }
        std::size_t at = 0;
        while (at < out.size()) {
            const std::size_t tab = out.find('\t', at);
            const std::size_t end = out.find('\n', tab);
            table.emplace_back(std::stoi(out.substr(at, tab - at)),
                               out.substr(tab + 1, end - tab - 1));
            at = end + 1;
        }
    };
    const auto visit_one = [&](const store::StudentData& student) {
        std::string out;
        visit(student, out);
        emit(out);
    };
    if (!options.student.empty()) {
        store::StudentReader reader(db);
        auto student = reader.read(options.student);
        if (!student) {
            std::cerr << "ewsd evaluate: no enrolled student '" << options.student << "'\n";
            return 2;
        }
        visit_one(*student);
    } else if (options.changed) {
        // Incremental: one indexed read per changed student, not a full scan.
        store::StudentReader reader(db);
        for (const auto& id : store::dirty_students(db)) {
            if (auto student = reader.read(id)) {
                visit_one(*student);
            }
        }
    } else {
        store::for_each_parallel(config.database, as_of_text, options.threads, visit, emit);
    }
    if (!json) {
        // Highest tier first; students in id order within a tier.
        std::stable_sort(table.begin(), table.end(),
                         [](const auto& a, const auto& b) { return a.first > b.first; });
        for (const auto& [tier, line] : table) {
            std::printf("%s\n", line.c_str());
        }
        std::printf("%zu of %zu students flagged\n", flagged.load(), students.load());
    }
    std::fflush(stdout);
    return 0;
}

int command_test(const std::vector<std::string>& files) {
    int cases = 0;
    int failed = 0;
    bool errors = false;
    for (const auto& file : files) {
        std::cout << file << "\n";
        const rules::RuleTestSummary s = rules::run_rule_test(file, std::cout);
        cases += s.cases;
        failed += s.failed;
        errors = errors || s.load_errors;
    }
    std::cout << (failed == 0 && !errors ? "PASS" : "FAIL") << ": " << cases - failed << " of "
              << cases << " cases passed" << (errors ? ", and some files could not be loaded" : "")
              << "\n";
    return failed == 0 && !errors ? 0 : 1;
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
    // Name a CSV file by its path on disk, so that an editor can jump to the
    // row; an Ed-Fi feed's rows by the feed and the kind derived (the reason
    // names the API resource and the record's id).
    const auto file_path = [&](const std::string& feed_name, const std::string& file) {
        for (const auto& f : config.feeds) {
            if (f.name == feed_name && f.type == "csv") {
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
        std::cout << file_path(q.feed, q.file);
        if (q.line > 0) {
            std::cout << ":" << q.line << ":" << q.column;
        }
        std::cout << ": " << q.reason << "\n";
        ++problems;
    }
    if (problems == 0) {
        std::cout << "no quarantined rows or rejected files\n";
    }
    return 0;
}

} // namespace ewsd::daemon
