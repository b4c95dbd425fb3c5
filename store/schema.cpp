// The schema, as a list of migrations. Never edit a migration that has been
// released; add a new one.
//
// Every data table carries its provenance: feed_id (the feed that last wrote
// the row), seen_load (the last file load that contained it; a snapshot load
// removes its feed's rows it did not see), and changed_seq (a store-wide
// sequence number, set when the row was inserted or its values last changed).
//
// Data tables are WITHOUT ROWID, keyed by student first, so one student's rows
// sit together and a per-student, per-window read is one index range.
#include "store/database.hpp"

#include <array>

namespace ewsd::store {

namespace {

constexpr std::array migrations{
    // 1: the foundation
    R"sql(
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE feeds (
    feed_id INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE
);

-- One row per attempt to load a file (history); the latest per (feed, file)
-- holds the content hash that lets an identical re-dropped file be skipped.
CREATE TABLE file_loads (
    load_id      INTEGER PRIMARY KEY,
    feed_id      INTEGER NOT NULL REFERENCES feeds(feed_id),
    file         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('loaded', 'rejected')),
    sha256       TEXT NOT NULL,
    size         INTEGER NOT NULL,
    mtime_ns     INTEGER NOT NULL,
    loaded_at    TEXT NOT NULL,
    mode         TEXT NOT NULL,
    rows_read    INTEGER NOT NULL DEFAULT 0,
    rows_new     INTEGER NOT NULL DEFAULT 0,
    rows_updated INTEGER NOT NULL DEFAULT 0,
    rows_unchanged INTEGER NOT NULL DEFAULT 0,
    rows_removed INTEGER NOT NULL DEFAULT 0,
    rows_quarantined INTEGER NOT NULL DEFAULT 0,
    error        TEXT
);
CREATE INDEX file_loads_by_file ON file_loads(feed_id, file, load_id);

-- Per-feed, per-resource sync positions (Ed-Fi change versions and the like).
CREATE TABLE feed_cursors (
    feed_id  INTEGER NOT NULL REFERENCES feeds(feed_id),
    resource TEXT NOT NULL,
    cursor   TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (feed_id, resource)
) WITHOUT ROWID;

CREATE TABLE quarantine (
    quarantine_id INTEGER PRIMARY KEY,
    load_id  INTEGER NOT NULL REFERENCES file_loads(load_id) ON DELETE CASCADE,
    line     INTEGER NOT NULL,
    col      INTEGER NOT NULL,
    reason   TEXT NOT NULL
);
CREATE INDEX quarantine_by_load ON quarantine(load_id);

CREATE TABLE students (
    student_id  TEXT PRIMARY KEY,
    first_name  TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    attributes  TEXT NOT NULL DEFAULT '{}',
    feed_id     INTEGER NOT NULL,
    seen_load   INTEGER NOT NULL,
    changed_seq INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE enrollments (
    student_id  TEXT NOT NULL,
    school_id   TEXT NOT NULL,
    entry_date  TEXT NOT NULL,
    exit_date   TEXT,
    grade_level INTEGER NOT NULL,
    feed_id     INTEGER NOT NULL,
    seen_load   INTEGER NOT NULL,
    changed_seq INTEGER NOT NULL,
    PRIMARY KEY (student_id, school_id, entry_date)
) WITHOUT ROWID;
CREATE INDEX enrollments_by_school ON enrollments(school_id, grade_level);

CREATE TABLE attendance (
    student_id  TEXT NOT NULL,
    date        TEXT NOT NULL,
    category    TEXT NOT NULL,
    school_id   TEXT NOT NULL,
    duration    REAL NOT NULL,
    feed_id     INTEGER NOT NULL,
    seen_load   INTEGER NOT NULL,
    changed_seq INTEGER NOT NULL,
    PRIMARY KEY (student_id, date, category)
) WITHOUT ROWID;

CREATE TABLE grades (
    student_id     TEXT NOT NULL,
    section_id     TEXT NOT NULL,
    grading_period TEXT NOT NULL,
    school_id      TEXT NOT NULL,
    course_code    TEXT NOT NULL,
    course_title   TEXT NOT NULL,
    subject        TEXT NOT NULL,
    date           TEXT NOT NULL,
    numeric_grade  REAL,
    letter_grade   TEXT,
    feed_id     INTEGER NOT NULL,
    seen_load   INTEGER NOT NULL,
    changed_seq INTEGER NOT NULL,
    PRIMARY KEY (student_id, section_id, grading_period)
) WITHOUT ROWID;
CREATE INDEX grades_by_student_date ON grades(student_id, date);

CREATE TABLE incidents (
    incident_id TEXT NOT NULL,
    student_id  TEXT NOT NULL,
    school_id   TEXT NOT NULL,
    date        TEXT NOT NULL,
    behavior    TEXT NOT NULL,
    action      TEXT,
    action_days REAL NOT NULL DEFAULT 0,
    feed_id     INTEGER NOT NULL,
    seen_load   INTEGER NOT NULL,
    changed_seq INTEGER NOT NULL,
    PRIMARY KEY (incident_id, student_id)
) WITHOUT ROWID;
CREATE INDEX incidents_by_student_date ON incidents(student_id, date);

CREATE TABLE calendar (
    school_id     TEXT NOT NULL,
    date          TEXT NOT NULL,
    instructional INTEGER NOT NULL,
    feed_id     INTEGER NOT NULL,
    seen_load   INTEGER NOT NULL,
    changed_seq INTEGER NOT NULL,
    PRIMARY KEY (school_id, date)
) WITHOUT ROWID;

-- Students whose data changed since the evaluator last looked: written by
-- each committed load, consumed by incremental re-evaluation.
CREATE TABLE dirty_students (
    student_id TEXT PRIMARY KEY
) WITHOUT ROWID;
)sql",
    // 2: referrals, the outbox of their notifications, and the delivery audit
    R"sql(
-- One row per referral: a (student, rule) from the day its condition first
-- held to its resolution or closing. Dates are school-local as-of dates.
CREATE TABLE referrals (
    referral_id      INTEGER PRIMARY KEY,
    student_id       TEXT NOT NULL,
    rule_id          TEXT NOT NULL,
    state            TEXT NOT NULL
        CHECK (state IN ('pending', 'open', 'acknowledged', 'resolved', 'closed')),
    tier             INTEGER NOT NULL,
    domain           TEXT NOT NULL,
    notify           TEXT NOT NULL,
    school_id        TEXT NOT NULL,
    grade_level      INTEGER NOT NULL,
    first_seen       TEXT NOT NULL, -- the condition first held (pending from here)
    opened_on        TEXT,          -- notified as open
    last_notified_on TEXT,
    renotify_count   INTEGER NOT NULL DEFAULT 0,
    escalated        INTEGER NOT NULL DEFAULT 0,
    updated_on       TEXT NOT NULL,
    ended_on         TEXT,          -- resolved or closed
    note             TEXT,          -- a specialist's note (ack) or close reason
    -- A closed referral holds back a new one while the condition keeps
    -- holding; it is released once the condition stops.
    released         INTEGER NOT NULL DEFAULT 0,
    evidence         TEXT NOT NULL DEFAULT '[]' -- JSON, from the latest evaluation
);
-- At most one live referral per student and rule.
CREATE UNIQUE INDEX referrals_live ON referrals(student_id, rule_id)
    WHERE state IN ('pending', 'open', 'acknowledged');
CREATE INDEX referrals_by_state ON referrals(state, student_id);

-- The transactional outbox: written in the transaction of the referral change
-- that causes it, drained by the sender. One row per message and recipient.
CREATE TABLE outbox (
    message_id   INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL, -- referral.opened|updated|renotified|resolved, alert
    referral_id  INTEGER REFERENCES referrals(referral_id),
    student_id   TEXT,
    recipient    TEXT NOT NULL, -- specialist id
    delivery     TEXT NOT NULL CHECK (delivery IN ('immediate', 'digest')),
    state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
    created_at   INTEGER NOT NULL, -- Unix seconds
    due_at       INTEGER NOT NULL, -- the next attempt (backoff) or the digest time
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    sent_at      INTEGER,
    payload      TEXT NOT NULL     -- JSON: the referral as it was when queued
);
CREATE INDEX outbox_due ON outbox(state, due_at);

-- Every delivery attempt: when, to whom, which students and rules, the result.
CREATE TABLE delivery_attempts (
    attempt_id  INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    recipient   TEXT NOT NULL,
    channel     TEXT NOT NULL, -- email, webhook, file
    message_ids TEXT NOT NULL, -- outbox rows carried (a digest carries several)
    students    TEXT NOT NULL,
    rules       TEXT NOT NULL,
    result      TEXT NOT NULL, -- delivered, retry_later, failed_permanently, endpoint_gone
    detail      TEXT NOT NULL
);
)sql",
    // 3: delivery: the outbox row's channel, digest batches kept across
    // retries, the first attempt (retry_for counts from it), and webhook
    // endpoints disabled by 410 Gone
    R"sql(
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'email'
    CHECK (channel IN ('email', 'webhook'));
-- The digest a row was first tried in (the smallest message_id of that
-- digest): a retried digest carries exactly the same rows, so its Message-ID
-- and webhook-id stay the same.
ALTER TABLE outbox ADD COLUMN batch INTEGER;
ALTER TABLE outbox ADD COLUMN first_attempt_at INTEGER;
CREATE INDEX outbox_by_recipient ON outbox(recipient, channel, state, due_at);

-- A webhook endpoint that answered 410 Gone: nothing more is posted to this
-- URL until `ewsd outbox retry` (or a new URL in the config).
CREATE TABLE disabled_endpoints (
    recipient   TEXT NOT NULL,
    url         TEXT NOT NULL,
    disabled_at INTEGER NOT NULL,
    detail      TEXT NOT NULL,
    PRIMARY KEY (recipient, url)
);
)sql",
    // 4: Ed-Fi ODS/API feeds. The API's records, reduced to the fields ewsd
    // reads, staged as they arrive (a page per transaction); the store's rows
    // are derived from them, for the scopes left pending by what changed.
    R"sql(
CREATE TABLE edfi_records (
    feed_id   INTEGER NOT NULL,
    resource  TEXT NOT NULL,    -- e.g. studentSchoolAttendanceEvents
    id        TEXT NOT NULL,    -- the API's resource id, which /deletes names
    lookup    TEXT NOT NULL,    -- the student, school or natural key it is read by
    body      TEXT NOT NULL,    -- JSON: the fields ewsd reads
    seen_sync INTEGER NOT NULL, -- the last full load that returned it
    PRIMARY KEY (feed_id, resource, id)
) WITHOUT ROWID;
CREATE INDEX edfi_records_by_lookup ON edfi_records(feed_id, resource, lookup);

-- What must be derived again: a kind of store rows for one student (or
-- school, for the calendar), or for all ('*').
CREATE TABLE edfi_pending (
    feed_id INTEGER NOT NULL,
    kind    TEXT NOT NULL,
    scope   TEXT NOT NULL,
    PRIMARY KEY (feed_id, kind, scope)
) WITHOUT ROWID;
)sql",
};

} // namespace

const char* migration_sql(int index) {
    return migrations.at(static_cast<std::size_t>(index));
}
int migration_count() {
    return static_cast<int>(migrations.size());
}

} // namespace ewsd::store
