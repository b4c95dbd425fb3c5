#include "daemon/feed_monitor.hpp"

#include "connectors/feed.hpp"
#include "referrals/outbox.hpp"
#include "rules/dependencies.hpp"
#include "store/queries.hpp"
#include "util/local_time.hpp"
#include "util/log.hpp"

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <algorithm>
#include <limits>

namespace ewsd::daemon {

namespace {

using Status = connectors::LoadReport::Status;

std::string success_key(const std::string& feed) {
    return "feed." + feed + ".last_success";
}
std::string stale_key(const std::string& feed) {
    return "feed." + feed + ".stale";
}

std::int64_t meta_int(store::Database& db, const std::string& key, std::int64_t fallback) {
    const std::string text = store::meta_value(db, key);
    try {
        return text.empty() ? fallback : std::stoll(text);
    } catch (const std::exception&) {
        return fallback;
    }
}

// "37 h", "90 min", "2 d 4 h"
std::string span(std::int64_t seconds) {
    if (seconds < 3600) {
        return std::to_string(std::max<std::int64_t>(seconds / 60, 0)) + " min";
    }
    if (seconds < 3 * 86400) {
        return std::to_string(seconds / 3600) + " h";
    }
    return std::to_string(seconds / 86400) + " d " + std::to_string(seconds % 86400 / 3600) + " h";
}

std::set<std::string> delivered_files(store::Database& db, const std::string& feed) {
    SQLite::Statement q(db.sql(), "SELECT DISTINCT l.file FROM file_loads l JOIN feeds f "
                                  "USING (feed_id) WHERE f.name = ? AND l.status = 'loaded'");
    q.bind(1, feed);
    std::set<std::string> out;
    while (q.executeStep()) {
        out.insert(q.getColumn(0).getString());
    }
    return out;
}

// A feed that has delivered nothing yet may supply anything.
unsigned kinds_of(const std::set<std::string>& files) {
    if (files.empty()) {
        return rules::all_data;
    }
    unsigned kinds = 0;
    for (const auto& f : files) {
        kinds |= data_kind_of_source(f);
    }
    return kinds;
}

} // namespace

unsigned data_kind_of_source(const std::string& source) {
    const auto kind = connectors::record_kind_of_source(source);
    return kind ? rules::data_kind_of(*kind) : rules::all_data;
}

std::int64_t next_poll_after(const core::FeedConfig& feed, std::int64_t now) {
    if (feed.poll_at.empty()) {
        return now + std::max<std::int64_t>(feed.poll_every.count(), 1);
    }
    const int today = util::local_day(now);
    for (int day = today; day <= today + 2; ++day) {
        for (const int minutes : feed.poll_at) {
            const std::int64_t t = util::local_to_unix(day, minutes);
            if (t > now) {
                return t;
            }
        }
    }
    return now + 86400; // unreachable: every day has its poll times
}

FeedMonitor::FeedMonitor(store::Database& db, const std::vector<core::FeedConfig>& feeds,
                         std::int64_t now) {
    for (const auto& f : feeds) {
        add(db, f, now);
    }
}

void FeedMonitor::add(store::Database& db, const core::FeedConfig& config, std::int64_t now) {
    Entry entry{config, connectors::make_feed(config), delivered_files(db, config.name)};
    FeedStatus status;
    status.name = config.name;
    status.max_age = config.max_age.count();
    status.next_poll = now;
    // A feed seen for the first time counts from now, and that is kept, so
    // that restarts do not keep postponing its alert.
    status.last_success = meta_int(db, success_key(config.name), 0);
    if (status.last_success == 0) {
        status.last_success = now;
        store::set_meta_value(db, success_key(config.name), std::to_string(now));
    }
    status.stale = store::meta_value(db, stale_key(config.name)) == "1";
    status.kinds = kinds_of(entry.files);
    m_entries.push_back(std::move(entry));
    m_status.push_back(std::move(status));
}

void FeedMonitor::reconfigure(store::Database& db, const std::vector<core::FeedConfig>& feeds,
                              std::int64_t now) {
    std::vector<Entry> old_entries = std::move(m_entries);
    std::vector<FeedStatus> old_status = std::move(m_status);
    m_entries.clear();
    m_status.clear();
    for (const auto& f : feeds) {
        const auto it = std::find_if(old_status.begin(), old_status.end(),
                                     [&](const FeedStatus& s) { return s.name == f.name; });
        if (it == old_status.end()) {
            add(db, f, now);
            continue;
        }
        const std::size_t i = static_cast<std::size_t>(it - old_status.begin());
        Entry entry{f, connectors::make_feed(f), std::move(old_entries[i].files)};
        FeedStatus status = std::move(old_status[i]);
        status.max_age = f.max_age.count();
        status.next_poll = std::min(status.next_poll, next_poll_after(f, now));
        m_entries.push_back(std::move(entry));
        m_status.push_back(std::move(status));
    }
}

bool FeedMonitor::poll_due(store::Database& db, std::int64_t now, const std::atomic<bool>* stop) {
    bool changed = false;
    for (std::size_t i = 0; i < m_entries.size(); ++i) {
        if (m_status[i].next_poll > now || (stop != nullptr && stop->load())) {
            continue;
        }
        std::vector<connectors::LoadReport> loads;
        try {
            connectors::PollOptions options;
            options.stop = stop;
            loads = m_entries[i].feed->poll(db, options);
        } catch (const std::exception& e) {
            loads.push_back({m_status[i].name, "", Status::failed, {}, e.what()});
            util::log::error("feed " + m_status[i].name + ": " + e.what());
        }
        for (const auto& l : loads) {
            changed = changed || l.status == Status::loaded;
        }
        record(db, i, loads, now);
        m_status[i].next_poll = next_poll_after(m_entries[i].config, now);
    }
    return changed;
}

void FeedMonitor::record(store::Database& db, std::size_t index,
                         const std::vector<connectors::LoadReport>& loads, std::int64_t now) {
    FeedStatus& s = m_status[index];
    Entry& entry = m_entries[index];
    s.last_poll = now;
    s.last_poll_failed = false;
    s.last_error.clear();
    bool new_input = false;
    for (const auto& l : loads) {
        if (l.status == Status::failed || l.status == Status::rejected) {
            s.last_poll_failed = true;
            s.last_error = (l.source.empty() ? "" : l.source + ": ") + l.message;
            continue;
        }
        if (l.status == Status::loaded) {
            entry.files.insert(l.source);
            s.rows_ingested += static_cast<std::uint64_t>(l.counts.read - l.counts.quarantined);
            s.rows_quarantined += static_cast<std::uint64_t>(l.counts.quarantined);
        }
        new_input = new_input ||
                    ((l.status == Status::loaded || l.status == Status::unchanged) && l.new_input);
    }
    ++(s.last_poll_failed ? s.polls_failed : s.polls_ok);
    s.kinds = kinds_of(entry.files);
    if (new_input) {
        s.last_success = now;
        store::set_meta_value(db, success_key(s.name), std::to_string(now));
    }
}

std::string FeedMonitor::stale_reason(const FeedStatus& s, std::int64_t now) {
    std::string reason = "no new data for " + span(now - s.last_success) + " (max_age " +
                         span(s.max_age) + ", last new data " + util::format_local(s.last_success) +
                         ")";
    if (s.last_poll_failed) {
        reason += "; the last poll failed: " + s.last_error;
    }
    return reason;
}

int FeedMonitor::check_staleness(store::Database& db, const core::NotifyConfig& notify,
                                 std::int64_t now) {
    int changes = 0;
    for (auto& s : m_status) {
        const bool stale = s.max_age > 0 && now - s.last_success > s.max_age;
        if (stale == s.stale) {
            continue;
        }
        ++changes;
        s.stale = stale;
        SQLite::Transaction txn(db.sql(), SQLite::TransactionBehavior::IMMEDIATE);
        store::set_meta_value(db, stale_key(s.name), stale ? "1" : "0");
        if (stale) {
            const std::string reason = stale_reason(s, now);
            referrals::queue_alert(
                db, notify, "Feed " + s.name + " is stale",
                "The feed " + s.name + " is stale: " + reason +
                    ".\n\nUntil new data arrives, the rules that read its data open no "
                    "referral and resolve none, so that old data never closes a case. Check the "
                    "SIS export and the feed (`ewsd status`, `ewsd feeds errors`, `journalctl -u "
                    "ewsd`).",
                now);
        } else {
            referrals::queue_alert(db, notify, "Feed " + s.name + " is fresh again",
                                   "New data arrived from the feed " + s.name + " at " +
                                       util::format_local(s.last_success) +
                                       ". The rules that read its data are evaluated again.",
                                   now);
        }
        txn.commit();
    }
    return changes;
}

unsigned FeedMonitor::stale_kinds() const {
    unsigned kinds = 0;
    for (const auto& s : m_status) {
        kinds |= s.stale ? s.kinds : 0U;
    }
    return kinds;
}

std::int64_t FeedMonitor::next_poll() const {
    std::int64_t next = std::numeric_limits<std::int64_t>::max();
    for (const auto& s : m_status) {
        next = std::min(next, s.next_poll);
    }
    return next;
}

std::int64_t FeedMonitor::next_stale_at() const {
    std::int64_t next = 0;
    for (const auto& s : m_status) {
        if (s.max_age > 0 && !s.stale) {
            const std::int64_t at = s.last_success + s.max_age + 1;
            next = next == 0 ? at : std::min(next, at);
        }
    }
    return next;
}

} // namespace ewsd::daemon
