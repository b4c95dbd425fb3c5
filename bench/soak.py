#!/usr/bin/python3
"""Soak benchmark: one long-running `ewsd run` through a school year of daily
deltas, on a clock file this script moves, reporting per school day the
cycle time and the process's memory, which must not grow from day to day.

    bench/soak.py [--students 200000] [--seed 7] [--days 180] [--work /tmp/ewsd-bench]
                  [--build build]

The district comes from ewsd-gen-district (generated once per size and seed).
Its attendance, grades and incidents are cut into one delta file per date.
Each school day, the script drops that day's rows into the feed folder (a
delta feed: new rows only), sets the clock to 06:00 (after the feed's 05:30
poll time and the 05:00 start of the evaluation day) and waits for the loop's
pass to finish (/metrics: ewsd_loop_last_pass_timestamp_seconds), then 07:31
for the digests (the file notifier writes every email). It records the wall
time of each step, VmRSS after it, and VmHWM (the peak so far).

Results: a CSV per day in WORK/soak-N-S/days.csv and a summary on stdout.
"""
import argparse
import collections
import csv
import datetime
import os
import shutil
import subprocess
import sys
import time
import urllib.request

DELTA_FILES = ["attendance", "grades", "incidents"]


def generate(args, work):
    district = os.path.join(work, f"district-{args.students}-{args.seed}")
    if not os.path.exists(os.path.join(district, "incidents.csv")):
        gen = os.path.join(args.build, "bench", "ewsd-gen-district")
        subprocess.run([gen, "--students", str(args.students), "--seed", str(args.seed),
                        "--out", district], check=True)
    return district


def split_by_date(district, out):
    """One folder per date holding that date's rows of each delta file."""
    done = os.path.join(out, ".done")
    if os.path.exists(done):
        return
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    for name in DELTA_FILES:
        by_date = collections.defaultdict(list)
        with open(os.path.join(district, name + ".csv"), newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            column = header.index("date")
            for row in reader:
                by_date[row[column]].append(row)
        for date, rows in by_date.items():
            folder = os.path.join(out, date)
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, name + ".csv"), "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(header)
                w.writerows(rows)
    open(done, "w").close()


def school_days(district, limit):
    days = set()
    with open(os.path.join(district, "calendar.csv"), newline="") as f:
        for row in csv.DictReader(f):
            if row["instructional"].lower() in ("true", "yes", "1"):
                days.add(row["date"])
    return sorted(days)[:limit]


CONFIG = """database: {run}/ewsd.db
timezone: America/Chicago
school_year_start: 2025-08-18
log_level: notice
rules_dir: {repo}/config/rules.d
templates_dir: {repo}/config/templates
day_starts_at: "05:00"
http: {{port: 0}}
feeds:
  - {{name: sis, type: csv, path: {run}/feed, mode: delta, settle_seconds: 0,
     poll_at: ["05:30"], max_age: 5d}}
specialists:
  - {{id: attendance, name: Attendance team, email: att@district.invalid,
     domains: [attendance], delivery: digest}}
  - {{id: behavior, name: Behavior team, email: beh@district.invalid, domains: [behavior],
     delivery: digest}}
  - {{id: courses, name: Course team, email: crs@district.invalid, domains: [course],
     delivery: digest}}
  - {{id: sst, name: Student support team, email: sst@district.invalid}}
routes:
  - {{match: {{domain: attendance}}, to: [attendance]}}
  - {{match: {{domain: behavior}}, to: [behavior]}}
  - {{match: {{domain: course}}, to: [courses]}}
  - {{match: {{}}, to: [sst]}}
admin: sst
delivery: {{output_dir: {run}/out, message_id_domain: soak.invalid}}
"""


def set_clock(run, local):
    with open(os.path.join(run, "clock.tmp"), "w") as f:
        f.write(local + "\n")
    os.rename(os.path.join(run, "clock.tmp"), os.path.join(run, "clock"))


def drop(run, source, name):
    """Copies a delta file into the feed folder as an SIS export would: renamed into place."""
    target = os.path.join(run, "feed", name)
    shutil.copyfile(source, target + ".tmp")
    os.rename(target + ".tmp", target)


def metrics(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            values[key] = float(value)
    return values


def memory(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024.0
    return out


def wait_for_pass(proc, port, at):
    """Until the loop has finished a pass at clock time `at` (Unix seconds)."""
    while True:
        if proc.poll() is not None:
            sys.exit(f"ewsd exited ({proc.returncode}); see the log")
        try:
            m = metrics(port)
            if m.get("ewsd_loop_last_pass_timestamp_seconds", 0) >= at:
                return m
        except OSError:
            pass
        time.sleep(0.05)


def local_unix(local):
    """A local time of America/Chicago as Unix seconds (the config's timezone)."""
    os.environ["TZ"] = "America/Chicago"
    time.tzset()
    return int(time.mktime(time.strptime(local, "%Y-%m-%dT%H:%M")))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=200000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--work", default="/tmp/ewsd-bench")
    parser.add_argument("--build", default="build")
    args = parser.parse_args()
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args.build = os.path.abspath(args.build)

    district = generate(args, args.work)
    deltas = os.path.join(args.work, f"deltas-{args.students}-{args.seed}")
    print("splitting the district into daily deltas ...", flush=True)
    split_by_date(district, deltas)
    run = os.path.join(args.work, f"soak-{args.students}-{args.seed}")
    shutil.rmtree(run, ignore_errors=True)
    os.makedirs(os.path.join(run, "feed"))
    with open(os.path.join(run, "ewsd.yaml"), "w") as f:
        f.write(CONFIG.format(run=run, repo=repo))
    # The roster and the calendar are there from the first day.
    drop(run, os.path.join(district, "students.csv"), "students.csv")
    drop(run, os.path.join(district, "calendar.csv"), "calendar.csv")

    days = school_days(district, args.days)
    set_clock(run, days[0] + "T04:00")
    log = open(os.path.join(run, "ewsd.log"), "w")
    proc = subprocess.Popen([os.path.join(args.build, "daemon", "ewsd"), "run", "--config",
                             os.path.join(run, "ewsd.yaml"), "--clock",
                             os.path.join(run, "clock")], stderr=subprocess.PIPE, text=True)
    port = None
    for line in proc.stderr:
        log.write(line)
        if "/metrics on http://127.0.0.1:" in line:
            port = int(line.rsplit(":", 1)[1])
            break
    # The log goes to a file from here on, so that the pipe never fills.
    import threading
    threading.Thread(target=lambda: [log.write(l) for l in proc.stderr], daemon=True).start()
    wait_for_pass(proc, port, local_unix(days[0] + "T04:00"))

    rows = []
    start = time.monotonic()
    with open(os.path.join(run, "days.csv"), "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["day", "date", "morning_s", "digests_s", "rss_mib", "hwm_mib",
                      "evaluation_s", "open_referrals", "messages_sent", "outbox_pending"])
        for n, day in enumerate(days, 1):
            folder = os.path.join(deltas, day)
            for name in DELTA_FILES:
                source = os.path.join(folder, name + ".csv")
                if os.path.exists(source):
                    drop(run, source, name + ".csv")
            t0 = time.monotonic()
            set_clock(run, day + "T06:00")
            m = wait_for_pass(proc, port, local_unix(day + "T06:00"))
            t1 = time.monotonic()
            set_clock(run, day + "T07:31")
            m = wait_for_pass(proc, port, local_unix(day + "T07:31"))
            t2 = time.monotonic()
            mem = memory(proc.pid)
            row = [n, day, round(t1 - t0, 2), round(t2 - t1, 2), round(mem["VmRSS"], 1),
                   round(mem["VmHWM"], 1), round(m["ewsd_evaluation_duration_seconds"], 2),
                   int(m['ewsd_referrals{state="open"}']), int(m["ewsd_messages_sent_total"]),
                   int(m['ewsd_outbox_messages{state="pending"}'])]
            out.writerow(row)
            f.flush()
            rows.append(row)
            print(" ".join(str(v) for v in row), flush=True)

    proc.terminate()
    proc.wait(timeout=30)
    total = time.monotonic() - start
    third = max(len(rows) // 3, 1)

    def mean(values):
        return sum(values) / len(values)

    early = rows[third:2 * third] if len(rows) >= 3 else rows
    late = rows[-third:]
    print(f"\n{len(rows)} school days in {total / 60:.1f} min, {args.students} students")
    print(f"morning pass (poll + evaluate + send): first {rows[0][2]} s, "
          f"middle third mean {mean([r[2] for r in early]):.2f} s, "
          f"last third mean {mean([r[2] for r in late]):.2f} s")
    print(f"RSS after each day: min {min(r[4] for r in rows)} MiB, max {max(r[4] for r in rows)}"
          f" MiB; middle third mean {mean([r[4] for r in early]):.1f} MiB, "
          f"last third mean {mean([r[4] for r in late]):.1f} MiB; peak (VmHWM) {rows[-1][5]} MiB")
    print(f"open referrals at the end: {rows[-1][7]}; messages sent: {rows[-1][8]}")
    print(f"per-day figures: {os.path.join(run, 'days.csv')}")


if __name__ == "__main__":
    main()
