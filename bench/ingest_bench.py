#!/usr/bin/python3
"""Ingest benchmark: `ewsd ingest` against the sqlite3 shell's own `.import`
of the same CSV files into tables with the same keys and indexes, side by side
in one run (the machine is shared and noisy: compare the ratio).

    bench/ingest_bench.py [--students 200000] [--seed 7] [--work /tmp/ewsd-bench]
                          [--build build]

Generates the district with ewsd-gen-district (once per size and seed), then
runs each loader on a fresh database, reporting wall time, rows/s and peak RSS.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

FILES = ["calendar", "students", "attendance", "grades", "incidents"]

# The comparison tables: the same primary keys (WITHOUT ROWID) and secondary
# indexes as the ewsd store, with the CSV's columns.
IMPORT_SCHEMA = """
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
PRAGMA cache_size=-65536;
CREATE TABLE calendar (school_id, date, instructional, PRIMARY KEY (school_id, date)) WITHOUT ROWID;
CREATE TABLE students (student_id, school_id, grade_level, first_name, last_name, entry_date,
    exit_date, iep, ell, PRIMARY KEY (student_id, school_id, entry_date)) WITHOUT ROWID;
CREATE INDEX students_by_school ON students(school_id, grade_level);
CREATE TABLE attendance (student_id, school_id, date, category, duration,
    PRIMARY KEY (student_id, date, category)) WITHOUT ROWID;
CREATE TABLE grades (student_id, school_id, section_id, course_code, course_title, subject,
    grading_period, date, numeric_grade, letter_grade,
    PRIMARY KEY (student_id, section_id, grading_period)) WITHOUT ROWID;
CREATE INDEX grades_by_student_date ON grades(student_id, date);
CREATE TABLE incidents (incident_id, student_id, school_id, date, behavior, action, action_days,
    PRIMARY KEY (incident_id, student_id)) WITHOUT ROWID;
CREATE INDEX incidents_by_student_date ON incidents(student_id, date);
"""


def peak_rss_mib(args, **kwargs):
    """Runs a command under /usr/bin/time-like accounting using wait4."""
    start = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    # communicate() would reap the child; read the pipes, then wait4 for rusage.
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"{args[0]} failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024.0, out.decode()


def count_rows(folder):
    rows = {}
    for name in FILES:
        with open(os.path.join(folder, name + ".csv"), "rb") as f:
            rows[name] = sum(1 for _ in f) - 1  # generated files have no embedded newlines
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=200000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", default="/tmp/ewsd-bench")
    parser.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    a = parser.parse_args()

    ewsd = os.path.join(a.build, "daemon", "ewsd")
    gen = os.path.join(a.build, "bench", "ewsd-gen-district")
    feeds = os.path.join(a.work, f"district-{a.students}-{a.seed}")
    if not os.path.exists(os.path.join(feeds, "incidents.csv")):
        print(f"generating {a.students} students into {feeds} ...", flush=True)
        subprocess.run([gen, "--students", str(a.students), "--seed", str(a.seed), "--out", feeds],
                       check=True)
    rows = count_rows(feeds)
    total = sum(rows.values())
    size = sum(os.path.getsize(os.path.join(feeds, n + ".csv")) for n in FILES)
    print(f"district: {a.students} students, {total:,} rows, {size / 2**20:.0f} MiB of CSV")
    for n in FILES:
        print(f"  {n + '.csv':16} {rows[n]:>12,} rows")

    # ewsd ingest, fresh store
    run_dir = os.path.join(a.work, "ewsd-run")
    shutil.rmtree(run_dir, ignore_errors=True)
    os.makedirs(run_dir)
    config = os.path.join(run_dir, "ewsd.yaml")
    with open(config, "w") as f:
        f.write(f"database: {run_dir}/ewsd.db\ntimezone: America/Chicago\n"
                f"school_year_start: 2025-08-18\nlog_level: warning\nfeeds:\n"
                f"  - {{name: bench, type: csv, path: {feeds}, settle_seconds: 0}}\n")
    ewsd_s, ewsd_rss, ewsd_out = peak_rss_mib([ewsd, "ingest", "--config", config])
    # The nightly case of a snapshot feed: the same files again, every row
    # compared and found unchanged, then the scan for rows to remove.
    reload_s, reload_rss, _ = peak_rss_mib([ewsd, "ingest", "--force", "--config", config])

    # sqlite3 .import, fresh database with the same keys and indexes
    import_dir = os.path.join(a.work, "import-run")
    shutil.rmtree(import_dir, ignore_errors=True)
    os.makedirs(import_dir)
    script = IMPORT_SCHEMA + "".join(
        f".import --csv --skip 1 {os.path.join(feeds, n + '.csv')} {n}\n" for n in FILES)
    script_path = os.path.join(import_dir, "import.sql")
    with open(script_path, "w") as f:
        f.write(script)
    imp_s, imp_rss, _ = peak_rss_mib(["sqlite3", "-bail", os.path.join(import_dir, "import.db"),
                                      f".read {script_path}"])

    print()
    print(ewsd_out.rstrip())
    print()
    print(f"{'loader':24} {'seconds':>9} {'rows/s':>12} {'peak RSS MiB':>13}")
    print(f"{'ewsd ingest':24} {ewsd_s:9.1f} {total / ewsd_s:12,.0f} {ewsd_rss:13.1f}")
    print(f"{'sqlite3 .import':24} {imp_s:9.1f} {total / imp_s:12,.0f} {imp_rss:13.1f}")
    print(f"{'ewsd snapshot reload':24} {reload_s:9.1f} {total / reload_s:12,.0f} {reload_rss:13.1f}"
          "   (same files again, --force: all rows unchanged)")
    print(f"speed ratio ewsd / .import: {imp_s / ewsd_s:.2f} (target >= 0.50); "
          f"ewsd peak RSS {ewsd_rss:.0f} MiB (target < 512)")


if __name__ == "__main__":
    main()
