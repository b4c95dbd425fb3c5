#!/usr/bin/python3
"""Evaluate benchmark: `ewsd evaluate` of the default rule set against the same
rules written as SQL (bench/default_rules.sql) run by the sqlite3 shell on the
same database, side by side in one run (the machine is shared and noisy:
compare the ratio). The two sets of (student_id, rule_id) firings must be
identical: the SQL is a correctness cross-check of ewsd's metrics. The SQL is
written for speed (index-driven, calendars numbered once), not as a strawman.

    bench/evaluate_bench.py [--config /tmp/ewsd-bench/ewsd-run/ewsd.yaml]
                            [--as-of 2026-01-30] [--build build] [--work DIR]

The config is the one `bench/ingest_bench.py` writes (add `rules_dir:` naming
config/rules.d, the default rule set). Neither writes to its database:
`ewsd evaluate` only reads, and sqlite3 opens it with -readonly (the SQL
creates TEMP tables only). The database file is read once beforehand so that
neither run pays for a cold page cache. Reports wall time, students/s and
peak RSS of each, the speed ratio, and the firings per rule of both. Targets
(200,000 students): ewsd <= 10 s, <= 1 GiB peak RSS, >= 5x faster than the
SQL. Exits 1 when the firings differ.
"""
import argparse
import collections
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RULES_SQL = os.path.join(HERE, "default_rules.sql")

# The default rule set (config/rules.d/10-abc.yaml), in file order.
DEFAULT_RULES = [
    "chronic-absence-approaching", "chronic-absence", "chronic-absence-severe",
    "recent-attendance", "early-absences", "early-absences-many",
    "suspension", "behavior-incidents", "behavior-incidents-serious",
    "failing-core-course", "course-failure", "course-failures", "multiple-domains",
]
EXAMPLES = 3  # differences shown per rule and side


def read_config(path):
    """The few top-level keys needed, read from the YAML without a YAML library
    (scalars only; relative paths resolve against the config's folder, as ewsd
    does)."""
    keys = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"^(database|school_year_start|rules_dir|pass_mark)\s*:\s*(.*?)\s*(#.*)?$",
                         line)
            if m:
                keys[m.group(1)] = m.group(2).strip("'\"")
    base = os.path.dirname(os.path.abspath(path))

    def resolve(p):
        return os.path.normpath(os.path.join(base, os.path.expandvars(p)))

    if "school_year_start" not in keys:
        sys.exit(f"{path}: no school_year_start")
    return {
        "database": resolve(keys.get("database", "/var/lib/ewsd/ewsd.db")),
        "rules_dir": resolve(keys.get("rules_dir", "/etc/ewsd/rules.d")),
        "school_year_start": keys["school_year_start"],
        "pass_mark": keys.get("pass_mark"),
    }


def run_measured(args, stdout_path, stdin_path=None):
    """Runs a command with its stdout to a file; returns (wall seconds, peak
    RSS MiB) from wait4's rusage."""
    with open(stdout_path, "wb") as out, open(stdin_path or os.devnull, "rb") as stdin:
        start = time.monotonic()
        proc = subprocess.Popen(args, stdin=stdin, stdout=out, stderr=subprocess.PIPE)
        err = proc.stderr.read()  # small; reading it before wait4 avoids a full pipe
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # reaped by wait4: keep Popen from waiting again
    if code != 0:
        sys.exit(f"{args[0]} failed ({code}):\n{err.decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_maxrss / 1024.0


def warm(path):
    """Reads the database once so that neither run pays for a cold page cache."""
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


def ewsd_firings(path):
    firings = collections.Counter()
    with open(path) as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                firings[(row["student_id"], row["rule_id"])] += 1
    return firings


def sql_firings(path):
    firings = collections.Counter()
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                student, rule = line.split("|")
                firings[(student, rule)] += 1
    return firings


def compare(ewsd, sql):
    """Prints the firings per rule of both and the differences; returns True
    when the sets are identical (and neither lists a firing twice)."""
    e_rules = collections.Counter(rule for _, rule in ewsd)
    s_rules = collections.Counter(rule for _, rule in sql)
    rules = DEFAULT_RULES + sorted((set(e_rules) | set(s_rules)) - set(DEFAULT_RULES))
    only_ewsd = set(ewsd) - set(sql)
    only_sql = set(sql) - set(ewsd)
    ok = not only_ewsd and not only_sql
    print(f"{'rule':30} {'ewsd':>9} {'SQL':>9}  verdict")
    for rule in rules:
        diff = sum(1 for f in only_ewsd if f[1] == rule) + sum(1 for f in only_sql if f[1] == rule)
        verdict = "MATCH" if diff == 0 else f"MISMATCH ({diff} differ)"
        print(f"{rule:30} {e_rules[rule]:9,} {s_rules[rule]:9,}  {verdict}")
    print(f"{'total':30} {len(ewsd):9,} {len(sql):9,}")
    for name, firings in (("ewsd", ewsd), ("SQL", sql)):
        twice = sorted(f for f, n in firings.items() if n > 1)
        if twice:
            ok = False
            print(f"{name} lists {len(twice)} firings more than once, e.g. "
                  + ", ".join(f"{s} {r}" for s, r in twice[:EXAMPLES]))
    for rule in rules:
        for side, missing_from, diffs in (("ewsd", "SQL", only_ewsd), ("SQL", "ewsd", only_sql)):
            students = sorted(s for s, r in diffs if r == rule)
            if students:
                print(f"  {rule}: {len(students)} fired by {side} only (not by {missing_from}), e.g. "
                      + " ".join(students[:EXAMPLES]))
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="/tmp/ewsd-bench/ewsd-run/ewsd.yaml")
    parser.add_argument("--as-of", default="2026-01-30")
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--work", help="where the two outputs go (default: the config's folder)")
    a = parser.parse_args()

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", a.as_of):
        sys.exit(f"--as-of '{a.as_of}' is not a date as YYYY-MM-DD")
    config = read_config(a.config)
    if config["pass_mark"] is not None:
        sys.exit(f"{a.config} sets pass_mark: {RULES_SQL} assumes the default pass mark of 65")
    rule_files = sorted(f for f in os.listdir(config["rules_dir"]) if f.endswith(".yaml")) \
        if os.path.isdir(config["rules_dir"]) else []
    if rule_files != ["10-abc.yaml"]:
        print(f"warning: rules_dir {config['rules_dir']} holds {rule_files or 'no rule files'}, "
              "not just the default rule set 10-abc.yaml that the SQL implements", file=sys.stderr)
    ewsd = os.path.join(a.build, "daemon", "ewsd")
    db_path = config["database"]
    work = a.work or os.path.dirname(os.path.abspath(a.config))
    os.makedirs(work, exist_ok=True)

    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        students = db.execute("SELECT count(DISTINCT student_id) FROM enrollments").fetchone()[0]
    size = os.path.getsize(db_path)
    print(f"database: {db_path}, {students:,} enrolled students, {size / 2**20:,.0f} MiB; "
          f"as of {a.as_of}, school year from {config['school_year_start']}")
    warm(db_path)

    # ewsd evaluate: one JSON object per firing; on one thread, then on every core
    cmd = [ewsd, "evaluate", "--config", a.config, "--as-of", a.as_of, "--format", "json"]
    ewsd1_out = os.path.join(work, "evaluate-ewsd-1.json")
    ewsd1_s, ewsd1_rss = run_measured(cmd + ["--threads", "1"], ewsd1_out)
    ewsd_out = os.path.join(work, "evaluate-ewsd.json")
    ewsd_s, ewsd_rss = run_measured(cmd, ewsd_out)
    cores = os.cpu_count()

    # the SQL, by the sqlite3 shell on the same database, read-only
    driver = os.path.join(work, "evaluate-sql-driver.sql")
    with open(driver, "w") as f:
        f.write("CREATE TEMP TABLE bench_params (as_of TEXT, school_year_start TEXT);\n"
                f"INSERT INTO bench_params VALUES ('{a.as_of}', '{config['school_year_start']}');\n"
                f".read {RULES_SQL}\n")
    sql_out = os.path.join(work, "evaluate-sql.txt")
    sql_s, sql_rss = run_measured(["sqlite3", "-readonly", "-bail", db_path], sql_out, driver)

    print()
    print(f"{'evaluator':24} {'seconds':>9} {'students/s':>12} {'peak RSS MiB':>13}")
    print(f"{'ewsd evaluate, 1 thread':24} {ewsd1_s:9.2f} {students / ewsd1_s:12,.0f} "
          f"{ewsd1_rss:13.1f}")
    print(f"{f'ewsd evaluate, {cores} threads':24} {ewsd_s:9.2f} {students / ewsd_s:12,.0f} "
          f"{ewsd_rss:13.1f}")
    print(f"{'sqlite3 (SQL rules)':24} {sql_s:9.2f} {students / sql_s:12,.0f} {sql_rss:13.1f}")
    ratio = sql_s / ewsd_s
    print(f"speed ratio SQL / ewsd: {ratio:.2f} on {cores} threads, {sql_s / ewsd1_s:.2f} on one "
          f"(target >= 5); ewsd {ewsd_s:.1f} s (target <= 10), "
          f"peak RSS {max(ewsd_rss, ewsd1_rss):.0f} MiB (target <= 1024)")
    print()
    with open(ewsd1_out) as one, open(ewsd_out) as many:
        if one.read() != many.read():
            print(f"outputs of 1 and {cores} threads differ: {ewsd1_out}, {ewsd_out}")
            return 1
    ok = compare(ewsd_firings(ewsd_out), sql_firings(sql_out))
    print()
    if ok:
        print("firings: MATCH")
        return 0
    print(f"firings: MISMATCH (outputs: {ewsd_out}, {sql_out}; "
          f"see `{ewsd} explain STUDENT --as-of {a.as_of} --config {a.config}`)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
