#include "daemon/cycle.hpp"

#include "daemon/common.hpp"
#include "referrals/schedule.hpp"
#include "rules/evaluator.hpp"
#include "store/queries.hpp"
#include "store/student_data.hpp"
#include "util/date.hpp"
#include "util/log.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

namespace ewsd::daemon {

namespace {

constexpr std::size_t students_per_transaction = 1000;

struct Stopped {}; // leaves the roster walk early

// Evaluates and applies students in batches, each batch one transaction that
// also takes them off dirty_students: a crash loses at most the batch in
// progress, which the next cycle redoes (its students are still dirty).
class Evaluation {
public:
    Evaluation(const core::Config& config, const rules::RuleSet& rules, store::Database& db,
               int as_of, std::int64_t now, const EvaluationOptions& options,
               EvaluationReport& report)
        : m_rules(rules), m_db(db), m_as_of(as_of),
          m_now(now), m_lifecycle{config.notify.renotify_after_days,
                                  config.notify.escalate_after_days, options.frozen},
          m_options(options), m_report(report), m_calendars(db),
          m_router(referrals::make_router(config.notify, m_calendars, now)),
          m_settings(metric_settings(config)),
          m_undirty(db.sql(), "DELETE FROM dirty_students WHERE student_id = ?") {}

    // False once a stop is requested: the batch in progress rolls back.
    bool visit(const store::StudentData& student) {
        if (m_options.stop != nullptr && m_options.stop->load()) {
            m_txn.reset();
            m_report.stopped = true;
            return false;
        }
        if (!m_txn) {
            m_txn = std::make_unique<SQLite::Transaction>(m_db.sql(),
                                                          SQLite::TransactionBehavior::IMMEDIATE);
        }
        const referrals::LiveReferrals live = referrals::live_referrals(m_db, student.student_id);
        const auto active = referrals::active_rules(live);
        rules::EvaluateOptions options;
        options.active = &active;
        const auto outcomes =
            rules::evaluate_student(m_rules, student, m_calendars, m_settings, m_as_of, options);
        const bool firing = std::any_of(outcomes.begin(), outcomes.end(),
                                        [](const rules::RuleOutcome& o) { return o.fired; });
        const auto counts = referrals::apply_evaluation(m_db, student, live, outcomes, m_as_of,
                                                        m_calendars, m_lifecycle, m_router, m_now);
        add(counts);
        m_undirty.bind(1, student.student_id);
        m_undirty.exec();
        m_undirty.reset();
        ++m_report.evaluated;
        m_report.firing += firing ? 1 : 0;
        if (++m_in_batch == students_per_transaction) {
            commit();
            if (m_options.progress) {
                m_options.progress();
            }
        }
        return true;
    }

    void commit() {
        if (m_txn) {
            m_txn->commit();
            m_txn.reset();
        }
        m_in_batch = 0;
    }

    // The last batch commits together with the marker that this date is done
    // and, after a full pass, an empty change list (after an incremental one,
    // without the students who are no longer enrolled).
    void finish(const std::string& as_of_text, bool full) {
        if (!m_txn) {
            m_txn = std::make_unique<SQLite::Transaction>(m_db.sql(),
                                                          SQLite::TransactionBehavior::IMMEDIATE);
        }
        m_db.sql().exec(full ? "DELETE FROM dirty_students"
                             : "DELETE FROM dirty_students WHERE student_id NOT IN "
                               "(SELECT student_id FROM enrollments)");
        store::set_meta_value(m_db, "evaluated_on", as_of_text);
        commit();
    }

private:
    void add(const referrals::ApplyCounts& c) {
        auto& r = m_report.referrals;
        r.opened += c.opened;
        r.pending += c.pending;
        r.updated += c.updated;
        r.renotified += c.renotified;
        r.resolved += c.resolved;
        r.queued += c.queued;
    }

    const rules::RuleSet& m_rules;
    store::Database& m_db;
    int m_as_of;
    std::int64_t m_now;
    referrals::LifecycleSettings m_lifecycle;
    const EvaluationOptions& m_options;
    EvaluationReport& m_report;
    store::Calendars m_calendars; // read after the ingest: calendars may have changed
    referrals::Router m_router;
    rules::MetricSettings m_settings;
    SQLite::Statement m_undirty;
    std::unique_ptr<SQLite::Transaction> m_txn;
    std::size_t m_in_batch = 0;
};

} // namespace

EvaluationReport evaluate_changes(const core::Config& config, const rules::RuleSet& rules,
                                  store::Database& db, int as_of, std::int64_t now,
                                  const EvaluationOptions& options) {
    EvaluationReport report;
    const std::string as_of_text = util::format_iso_date(util::from_day_number(as_of));
    report.full = store::meta_value(db, "evaluated_on") != as_of_text;
    Evaluation evaluation(config, rules, db, as_of, now, options, report);
    if (report.full) {
        // A second connection reads the roster while the first writes; WAL
        // gives the reader its own snapshot.
        store::Database reader_db(config.database);
        store::StudentReader reader(reader_db);
        try {
            reader.for_each(
                [&](const store::StudentData& s) {
                    if (!evaluation.visit(s)) {
                        throw Stopped{};
                    }
                },
                as_of_text);
        } catch (const Stopped&) {
        }
    } else {
        store::StudentReader reader(db);
        for (const auto& id : store::dirty_students(db)) {
            if (auto student = reader.read(id); student && !evaluation.visit(*student)) {
                break;
            }
        }
    }
    if (!report.stopped) {
        evaluation.finish(as_of_text, report.full);
    }
    return report;
}

CycleReport run_cycle(const core::Config& config, const rules::RuleSet& rules, store::Database& db,
                      int as_of, std::int64_t now) {
    CycleReport report;
    for (const auto& feed_config : config.feeds) {
        // A failing feed does not stop the others: its reports say why.
        try {
            auto feed = connectors::make_feed(feed_config);
            auto loads = feed->poll(db, {});
            report.loads.insert(report.loads.end(), loads.begin(), loads.end());
        } catch (const std::exception& e) {
            util::log::error("feed " + feed_config.name + ": " + e.what());
        }
    }
    report.evaluation = evaluate_changes(config, rules, db, as_of, now);
    return report;
}

} // namespace ewsd::daemon
