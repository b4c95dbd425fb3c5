#pragma once
// Draining the transactional outbox: every due notification is rendered and
// sent through its channel, and the result recorded (sent, retry later with
// exponential backoff and jitter, or dead) together with an audit row, in one
// transaction per message sent. Digest rows of a recipient go as one message
// (at most digest_max_items referrals each); a digest once tried keeps its
// rows (its batch), so a retry carries the same Message-ID and webhook-id.
//
// At least once: a crash after the server accepted a message and before the
// result is committed sends it again on the next drain, with the same
// Message-ID / webhook-id (docs/operations.md). Nothing else is sent twice,
// and nothing is lost: a row leaves `pending` only as `sent` or `dead`, and
// dead rows stay listed (`ewsd outbox`) until requeued (`ewsd outbox retry`).

#include "core/notify_config.hpp"
#include "referrals/render.hpp"
#include "referrals/transports.hpp"
#include "store/database.hpp"
#include "store/student_data.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ewsd::referrals {

struct OutboxSettings {
    std::chrono::seconds retry_for{std::chrono::hours(72)}; // from the first attempt
    std::chrono::seconds backoff_first{60};                 // doubled per attempt, +-20% jitter
    std::chrono::seconds backoff_max{std::chrono::hours(1)};
    std::size_t digest_max_items = 500;
    bool flush_digests =
        false; // digests are due now, whatever their time (run --once --flush-digests)
    std::function<void()> progress; // after each message (the run loop's watchdog)
};

struct DrainReport {
    int messages_sent = 0;      // emails / posts accepted
    int notifications_sent = 0; // outbox rows they carried
    int retrying = 0;           // rows that will be tried again
    int dead = 0;               // rows given up on (or refused for good)
    int held_back = 0;          // rows past a caseload cap, now waiting for the next day's digest
    int alerts_queued = 0;      // operational alerts written to the outbox
    // Attempts that did not deliver, by notifier (email, file, webhook).
    std::map<std::string, int> failures_by_notifier;
};

// Sends what is due at `now` (Unix seconds). `seed` drives the jitter. Stops
// between messages when `stop` becomes true. Rows for a recipient no longer
// in the config, or a channel they no longer have, go dead with an alert.
DrainReport drain(store::Database& db, const core::NotifyConfig& notify, const Renderer& renderer,
                  const Transports& transports, const store::Calendars& calendars,
                  const OutboxSettings& settings, std::int64_t now, std::uint64_t seed,
                  const std::atomic<bool>* stop = nullptr);

// An operational alert to the admin contact (each of their channels),
// immediately; logged as an error too. Returns the rows queued (0 without an
// admin). Runs in the caller's transaction, if any.
int queue_alert(store::Database& db, const core::NotifyConfig& notify, const std::string& subject,
                const std::string& text, std::int64_t now);

// `ewsd outbox`.
struct OutboxRow {
    std::int64_t message_id = 0;
    std::string kind;
    std::int64_t referral_id = 0; // 0 for alerts
    std::string student_id;
    std::string recipient;
    std::string channel;
    std::string delivery;
    std::string state;
    std::int64_t created_at = 0;
    std::int64_t due_at = 0;
    int attempts = 0;
    std::string last_error;
};
// Pending and dead rows (or only `state`'s), oldest first, at most `limit`.
std::vector<OutboxRow> list_outbox(store::Database& db, const std::string& state,
                                   std::size_t limit);
struct OutboxCounts {
    std::int64_t pending = 0;
    std::int64_t due = 0; // pending and due at `now`
    std::int64_t dead = 0;
    std::int64_t sent = 0;
};
OutboxCounts count_outbox(store::Database& db, std::int64_t now);

// Requeues a dead (or pending) row: due at the next drain whatever its clock,
// attempts reset, and its webhook endpoint enabled again if a 410 had
// disabled it. Returns an error message, or empty on success.
std::string retry(store::Database& db, std::int64_t message_id);

} // namespace ewsd::referrals
