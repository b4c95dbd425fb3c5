-- The default rule set (config/rules.d/10-abc.yaml) written as plain SQL, for
-- bench/evaluate_bench.py: the same firings as `ewsd evaluate`, computed by
-- the sqlite3 shell on the same store (SQLite 3.40 dialect).
--
-- Input: a TEMP table the caller creates and fills before `.read`-ing this file
--
--   CREATE TEMP TABLE bench_params (as_of TEXT, school_year_start TEXT);
--   INSERT INTO bench_params VALUES ('2026-01-30', '2025-08-18');
--
-- Output: one row `student_id|rule_id` per firing, ordered by student and rule.
-- Only TEMP tables are created, so the database may be opened read-only.
--
-- The metrics follow rules/metrics.cpp (the reference implementation):
--
-- * Enrolled days: per enrollment, its school's calendar days with
--   instructional = 1 from max(entry_date, school_year_start - 366 days) to
--   min(exit_date, as_of) (an empty or NULL exit_date means still enrolled);
--   a school without any instructional calendar row counts Monday to Friday.
--   Overlapping enrollments count a day once.
-- * Windows are date ranges ending on as_of: school_year starts on
--   school_year_start; 20sd on the 20th-last enrolled day (all of them when
--   fewer). Over grading_period, grade metrics take the grades of the current
--   period(s): those whose first grade dated <= as_of is the latest.
--   Absences, incidents and grades are counted by their date in the range,
--   whether or not that date is an enrolled day.
-- * Rows of one student are ordered as ewsd orders them: by date, ties in
--   primary-key order (grades: section_id, grading_period; enrollments:
--   entry_date, then school_id). "Latest" means last in that order.
-- * failing: numeric_grade < 65 (the default pass_mark; the bench config sets
--   none), or, with no numeric grade, the letter F (or f).
--   (Ties between grades of one section on one date are broken as ewsd
--   breaks them, to mirror it exactly.)
--
-- It is written to be fast, as a careful SQL author would: the store's indexes
-- drive each lookup (grades by student and date), and each school's calendar
-- is numbered once so that an enrollment's days are counted by subtraction
-- rather than by joining every day (only students with several enrollments
-- list their days, to count a day once). A plain translation that lists every
-- student's days and windows over all grades takes several times longer.

DROP TABLE IF EXISTS temp.p;
CREATE TEMP TABLE p AS
SELECT as_of,
       school_year_start,
       date(school_year_start, '-366 days') AS days_from,
       65.0 AS pass_mark,
       -- the `september` window: the latest September that began by as_of
       (CASE WHEN strftime('%m', as_of) >= '09' THEN CAST(strftime('%Y', as_of) AS INTEGER)
             ELSE CAST(strftime('%Y', as_of) AS INTEGER) - 1 END) || '-09-01' AS sept_from,
       (CASE WHEN strftime('%m', as_of) >= '09' THEN CAST(strftime('%Y', as_of) AS INTEGER)
             ELSE CAST(strftime('%Y', as_of) AS INTEGER) - 1 END) || '-09-30' AS sept_to
FROM bench_params;

-- The enrolled students, with the attributes of their current enrollment: the
-- latest with entry_date <= as_of, else the first one.
DROP TABLE IF EXISTS temp.student;
CREATE TEMP TABLE student (
    student_id  TEXT PRIMARY KEY,
    school_id   TEXT,
    grade_level INTEGER
) WITHOUT ROWID;
INSERT INTO student
SELECT student_id, school_id, grade_level
FROM (SELECT e.student_id, e.school_id, e.grade_level,
             row_number() OVER (
                 PARTITION BY e.student_id
                 ORDER BY e.entry_date <= p.as_of DESC,
                          CASE WHEN e.entry_date <= p.as_of THEN e.entry_date END DESC,
                          CASE WHEN e.entry_date <= p.as_of THEN e.school_id END DESC,
                          e.entry_date, e.school_id) AS k
      FROM enrollments e, p)
WHERE k = 1;

-- Each school's instructional days, numbered in date order, so that the days
-- of one enrollment are counted by subtracting numbers. A school without any
-- instructional calendar row counts Monday to Friday (the days that can count:
-- from school_year_start - 366 days to as_of).
DROP TABLE IF EXISTS temp.school_day;
CREATE TEMP TABLE school_day (
    school_id TEXT,
    date      TEXT,
    n         INTEGER NOT NULL,
    PRIMARY KEY (school_id, date)
) WITHOUT ROWID;
INSERT INTO school_day
SELECT school_id, date, row_number() OVER (PARTITION BY school_id ORDER BY date)
FROM calendar WHERE instructional = 1;
INSERT INTO school_day
WITH RECURSIVE day(day) AS (
    SELECT days_from FROM p
    UNION ALL
    SELECT date(day, '+1 day') FROM day, p WHERE day < p.as_of)
SELECT s.school_id, d.day, row_number() OVER (PARTITION BY s.school_id ORDER BY d.day)
FROM (SELECT DISTINCT school_id FROM enrollments
      WHERE school_id NOT IN (SELECT school_id FROM school_day)) s, day d
WHERE strftime('%w', d.day) NOT IN ('0', '6');
CREATE INDEX temp.school_day_by_n ON school_day (school_id, n);

-- Each enrollment's range of dates that can count, from max(entry_date,
-- school_year_start - 366 days) to min(exit_date, as_of).
DROP TABLE IF EXISTS temp.span;
CREATE TEMP TABLE span AS
SELECT e.student_id, e.school_id,
       max(e.entry_date, p.days_from) AS d_from,
       CASE WHEN coalesce(e.exit_date, '') = '' THEN p.as_of
            ELSE min(e.exit_date, p.as_of) END AS d_to,
       count(*) OVER (PARTITION BY e.student_id) AS spans
FROM enrollments e, p;

-- Enrolled days per student, summarized: the days in the school year, and the
-- first day and number of the last 20 (the 20sd window).
DROP TABLE IF EXISTS temp.enrolled;
CREATE TEMP TABLE enrolled (
    student_id  TEXT PRIMARY KEY,
    year_days   INTEGER NOT NULL,
    sd20_from   TEXT NOT NULL,
    sd20_days   INTEGER NOT NULL
) WITHOUT ROWID;
-- One enrollment (nearly every student): numbers of the first and last day.
INSERT INTO enrolled
SELECT student_id, coalesce(max(0, last - year_first + 1), 0),
       (SELECT date FROM school_day d WHERE d.school_id = b.school_id
                                        AND d.n = max(b.first, b.last - 19)),
       min(20, last - first + 1)
FROM (SELECT s.student_id, s.school_id,
             (SELECT n FROM school_day d WHERE d.school_id = s.school_id AND d.date >= s.d_from
              ORDER BY d.date LIMIT 1) AS first,
             (SELECT n FROM school_day d WHERE d.school_id = s.school_id
                                           AND d.date >= max(s.d_from, p.school_year_start)
              ORDER BY d.date LIMIT 1) AS year_first,
             (SELECT n FROM school_day d WHERE d.school_id = s.school_id AND d.date <= s.d_to
              ORDER BY d.date DESC LIMIT 1) AS last
      FROM span s, p WHERE s.spans = 1) b
WHERE first <= last;
-- Several enrollments: their days, a day counted once however many overlap.
INSERT INTO enrolled
WITH day AS (
    SELECT DISTINCT s.student_id, d.date AS day
    FROM span s JOIN school_day d ON d.school_id = s.school_id AND d.date BETWEEN s.d_from AND s.d_to
    WHERE s.spans > 1),
ranked AS (
    SELECT student_id, day, row_number() OVER (PARTITION BY student_id ORDER BY day DESC) AS k
    FROM day)
SELECT student_id,
       sum(day >= p.school_year_start),
       min(CASE WHEN k <= 20 THEN day END),
       sum(k <= 20)
FROM ranked, p
GROUP BY student_id;

-- Absences per student: in the school year and in the 20sd window (a date
-- range: absences on days that are not enrolled days count too).
DROP TABLE IF EXISTS temp.absence;
CREATE TEMP TABLE absence (
    student_id TEXT PRIMARY KEY,
    year_abs   REAL,   -- absences(school_year)
    sd20_abs   REAL,   -- absences(20sd)
    sept_abs   REAL    -- absences(september)
) WITHOUT ROWID;
INSERT INTO absence
SELECT a.student_id,
       sum(CASE WHEN a.date >= p.school_year_start THEN a.duration ELSE 0.0 END),
       sum(CASE WHEN a.date >= en.sd20_from THEN a.duration ELSE 0.0 END),
       sum(CASE WHEN a.date BETWEEN p.sept_from AND p.sept_to THEN a.duration ELSE 0.0 END)
FROM attendance a JOIN p JOIN enrolled en ON en.student_id = a.student_id
WHERE a.category IN ('Excused Absence', 'Unexcused Absence') AND a.date <= p.as_of
GROUP BY a.student_id;

-- Incidents per student in the school year, each counted once.
DROP TABLE IF EXISTS temp.incident;
CREATE TEMP TABLE incident (
    student_id  TEXT PRIMARY KEY,
    incidents   INTEGER,   -- incidents(school_year)
    suspensions INTEGER,   -- suspensions(school_year)
    state       INTEGER    -- incidents(school_year, behavior = "State Offense")
) WITHOUT ROWID;
INSERT INTO incident
SELECT i.student_id,
       count(DISTINCT i.incident_id),
       count(DISTINCT CASE WHEN i.action IN ('In School Suspension', 'Out of School Suspension')
                           THEN i.incident_id END),
       count(DISTINCT CASE WHEN i.behavior = 'State Offense' THEN i.incident_id END)
FROM incidents i JOIN p
WHERE i.date BETWEEN p.school_year_start AND p.as_of
GROUP BY i.student_id;

-- The current grading period(s) per student: among the periods with a grade
-- dated <= as_of, the one whose first such grade is latest (periods that began
-- the same day are current together; a late correction to an earlier period
-- does not make it current). Students without a grade up to as_of have none.
DROP TABLE IF EXISTS temp.current_period;
CREATE TEMP TABLE current_period (
    student_id     TEXT NOT NULL,
    grading_period TEXT NOT NULL,
    PRIMARY KEY (student_id, grading_period)
) WITHOUT ROWID;
INSERT INTO current_period
WITH firsts AS (
    SELECT s.student_id, g.grading_period, min(g.date) AS first
    FROM student s CROSS JOIN p CROSS JOIN grades g   -- the (student_id, date) index covers it
    WHERE g.student_id = s.student_id AND g.date <= p.as_of
    GROUP BY s.student_id, g.grading_period)
SELECT student_id, grading_period
FROM (SELECT student_id, grading_period, first,
             max(first) OVER (PARTITION BY student_id) AS latest
      FROM firsts)
WHERE first = latest;

-- Failing sections per student over grading_period: each section's latest
-- grade (dated <= as_of) of the current period(s), over all grades and over
-- core-subject grades (the subject filter applies before "latest", as in ewsd).
DROP TABLE IF EXISTS temp.course;
CREATE TEMP TABLE course (
    student_id   TEXT PRIMARY KEY,
    failing      INTEGER,   -- failing_grades(grading_period)
    failing_core INTEGER    -- failing_grades(grading_period, subject in core_subjects)
) WITHOUT ROWID;
INSERT INTO course
WITH in_period AS (
    SELECT g.student_id, g.section_id, g.grading_period, g.date,
           g.subject IN ('Mathematics', 'English Language and Literature',
                         'English Language Arts', 'Science', 'Social Studies',
                         'Social Sciences and History') AS core,   -- core_subjects
           CASE WHEN g.numeric_grade IS NOT NULL THEN g.numeric_grade < p.pass_mark
                ELSE coalesce(g.letter_grade, '') IN ('F', 'f') END AS fail
    FROM current_period cp CROSS JOIN p CROSS JOIN grades g   -- CROSS JOIN: students outer
    WHERE g.student_id = cp.student_id AND g.grading_period = cp.grading_period
      AND g.date <= p.as_of),
section_latest AS (
    SELECT student_id, fail, 0 AS core_only,
           row_number() OVER (PARTITION BY student_id, section_id
                              ORDER BY date DESC, grading_period DESC) AS k
    FROM in_period
    UNION ALL
    SELECT student_id, fail, 1,
           row_number() OVER (PARTITION BY student_id, section_id
                              ORDER BY date DESC, grading_period DESC)
    FROM in_period WHERE core)
SELECT student_id, sum(fail AND NOT core_only), sum(fail AND core_only)
FROM section_latest WHERE k = 1
GROUP BY student_id;

-- Every metric the default rules use, per enrolled student.
DROP TABLE IF EXISTS temp.metric;
CREATE TEMP TABLE metric (
    student_id   TEXT PRIMARY KEY,
    school_id    TEXT,
    grade_level  INTEGER,
    year_days    INTEGER,   -- enrolled_days(school_year)
    year_rate    REAL,      -- absence_rate(school_year)
    sd20_days    INTEGER,   -- enrolled_days(20sd)
    sd20_rate    REAL,      -- attendance_rate(20sd)
    sept_abs     REAL,      -- absences(september)
    incidents    INTEGER,
    suspensions  INTEGER,
    state        INTEGER,
    failing      INTEGER,
    failing_core INTEGER
) WITHOUT ROWID;
INSERT INTO metric
SELECT s.student_id, s.school_id, s.grade_level,
       coalesce(en.year_days, 0),
       CASE WHEN coalesce(en.year_days, 0) = 0 THEN 0.0
            ELSE coalesce(ab.year_abs, 0.0) / en.year_days END,
       coalesce(en.sd20_days, 0),
       1.0 - CASE WHEN coalesce(en.sd20_days, 0) = 0 THEN 0.0
                  ELSE coalesce(ab.sd20_abs, 0.0) / en.sd20_days END,
       coalesce(ab.sept_abs, 0.0),
       coalesce(i.incidents, 0), coalesce(i.suspensions, 0), coalesce(i.state, 0),
       coalesce(c.failing, 0), coalesce(c.failing_core, 0)
FROM student s
     LEFT JOIN enrolled en ON en.student_id = s.student_id
     LEFT JOIN absence ab ON ab.student_id = s.student_id
     LEFT JOIN incident i ON i.student_id = s.student_id
     LEFT JOIN course c ON c.student_id = s.student_id;

-- The rules' `when` (and `applies_to`), as written in 10-abc.yaml.
DROP TABLE IF EXISTS temp.fired;
CREATE TEMP TABLE fired (student_id TEXT, rule_id TEXT, domain TEXT);
INSERT INTO fired
SELECT student_id, 'chronic-absence-approaching', 'attendance' FROM metric
 WHERE year_days >= 20 AND year_rate >= 0.05 AND year_rate < 0.10
UNION ALL
SELECT student_id, 'chronic-absence', 'attendance' FROM metric
 WHERE year_days >= 20 AND year_rate >= 0.10 AND year_rate < 0.20
UNION ALL
SELECT student_id, 'chronic-absence-severe', 'attendance' FROM metric
 WHERE year_days >= 20 AND year_rate >= 0.20
UNION ALL
SELECT student_id, 'recent-attendance', 'attendance' FROM metric
 WHERE sd20_days >= 10 AND sd20_rate < 0.90
UNION ALL
SELECT student_id, 'early-absences', 'attendance' FROM metric
 WHERE sept_abs >= 2 AND sept_abs <= 4
UNION ALL
SELECT student_id, 'early-absences-many', 'attendance' FROM metric
 WHERE sept_abs > 4
UNION ALL
SELECT student_id, 'suspension', 'behavior' FROM metric
 WHERE suspensions >= 1
UNION ALL
SELECT student_id, 'behavior-incidents', 'behavior' FROM metric
 WHERE incidents >= 2 AND incidents < 5 AND state = 0
UNION ALL
SELECT student_id, 'behavior-incidents-serious', 'behavior' FROM metric
 WHERE incidents >= 5 OR state >= 1
UNION ALL
SELECT student_id, 'failing-core-course', 'course' FROM metric
 WHERE grade_level >= 6 AND grade_level <= 9 AND failing_core >= 1
UNION ALL
SELECT student_id, 'course-failure', 'course' FROM metric
 WHERE grade_level >= 9 AND failing = 1
UNION ALL
SELECT student_id, 'course-failures', 'course' FROM metric
 WHERE grade_level >= 9 AND failing >= 2;

-- The composite rule: non-composite rules firing in two or more domains.
INSERT INTO fired
SELECT student_id, 'multiple-domains', 'composite' FROM fired
 GROUP BY student_id HAVING count(DISTINCT domain) >= 2;

SELECT student_id, rule_id FROM fired ORDER BY student_id, rule_id;
