#!/usr/bin/python3
"""Ed-Fi feed benchmark: `ewsd ingest` of a district through the Ed-Fi ODS/API
feed (the fake server tests/support/edfi_server.py) side by side with the CSV
feed of the same district, at two sizes, in one run (the machine is shared and
noisy: compare the ratios).

    bench/edfi_bench.py [--sizes 2000,8000] [--seed 7] [--work /tmp/ewsd-edfi-bench]
                        [--build build] [--change-percent 1] [--deletes 50]

For each size: generate the district with ewsd-gen-district, convert its CSV
files into Ed-Fi Data Standard 5 resources (the inverse of the mapping in
docs/feeds.md and tests/data/edfi/convert.py), then on fresh databases
  1. `ewsd ingest` of a CSV feed of the files,
  2. `ewsd ingest` of an Ed-Fi feed (page_size 500) served by edfi_server.py,
  3. change --change-percent % of the attendance events and grades and delete
     --deletes of each through the server's /_control routes (the server keeps
     running: its change versions are the point), then `ewsd ingest` again.
ewsd is measured by wait4: wall time, its own CPU (user + sys) and peak RSS.
The server's CPU comes from /proc/PID/stat. At the smallest size the two
stores are compared: row counts and contents per table.

The plan of the per-student staging read is printed: it must use the
lookup index (a scan of the resource per student made the first version of
the full load quadratic: 563 s of CPU at 8,000 students).
"""
import argparse
import collections
import csv
import datetime
import hashlib
import http.client
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time

PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
SUPPORT = os.path.join(HERE, "..", "tests", "support")
KEY, SECRET = "ewsd-bench", "bench-secret"
URI = "uri://ed-fi.org/"
DISTRICT_ID = 255901  # the LEA that owns the courses
CSV_FILES = ["students", "attendance", "grades", "incidents", "calendar"]
RESOURCES = ["students", "studentSchoolAssociations", "studentSchoolAttendanceEvents", "courses",
             "courseOfferings", "gradingPeriods", "grades", "disciplineIncidents",
             "studentDisciplineIncidentBehaviorAssociations", "disciplineActions", "calendarDates"]
STORE_TABLES = {  # the store's rows as the integration test compares them (no provenance)
    "students": "SELECT student_id, first_name, last_name FROM students ORDER BY 1",
    "enrollments": "SELECT student_id, school_id, entry_date, exit_date, grade_level FROM enrollments "
                   "ORDER BY 1, 2, 3",
    "attendance": "SELECT student_id, date, category, school_id, duration FROM attendance ORDER BY 1, 2, 3",
    "grades": "SELECT student_id, section_id, grading_period, school_id, course_code, course_title, subject, "
              "date, numeric_grade, letter_grade FROM grades ORDER BY 1, 2, 3",
    "incidents": "SELECT incident_id, student_id, school_id, date, behavior, action, action_days "
                 "FROM incidents ORDER BY 1, 2",
    "calendar": "SELECT school_id, date, instructional FROM calendar ORDER BY 1, 2",
}
GRADE_NAMES = ["Kindergarten", "First grade", "Second grade", "Third grade", "Fourth grade", "Fifth grade",
               "Sixth grade", "Seventh grade", "Eighth grade", "Ninth grade", "Tenth grade",
               "Eleventh grade", "Twelfth grade"]
ORDINALS = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth"]


# ---------------------------------------------------------------- CSV -> Ed-Fi DS 5

def record_id(resource, *key):
    """A stable resource id (the ODS's are GUIDs): MD5 of the resource and its natural key."""
    return hashlib.md5("|".join((resource,) + tuple(str(k) for k in key)).encode()).hexdigest()


def number(text):
    f = float(text)
    return int(f) if f.is_integer() else f


def school_ref(school):
    return int(school) if school.isdigit() else school


class ArrayWriter:
    """A JSON array, one record per line, written as the records come."""

    def __init__(self, path):
        self.f = open(path, "w", encoding="utf-8", buffering=1 << 20)
        self.count = 0

    def add(self, resource, key, record):
        rec = {"id": record_id(resource, *key)}
        rec.update(record)
        self.f.write(("[\n" if self.count == 0 else ",\n") + json.dumps(rec, separators=(",", ":"),
                                                                        ensure_ascii=False))
        self.count += 1

    def close(self):
        self.f.write("[]\n" if self.count == 0 else "\n]\n")
        self.f.close()


def csv_rows(folder, name):
    with open(os.path.join(folder, name + ".csv"), newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        for row in reader:
            yield dict(zip(header, row))


def school_year_of(feeds):
    first = min(r["date"] for r in csv_rows(feeds, "calendar"))
    start = datetime.date.fromisoformat(first)
    return start, start.year + 1 if start.month >= 7 else start.year


def convert(feeds, out):
    """Writes out/<resource>.json; returns {resource: records}. Memory: the
    enrollments, courses, grading periods and incidents (small), never the
    attendance or grades."""
    os.makedirs(out, exist_ok=True)
    start, year = school_year_of(feeds)
    writers = {r: ArrayWriter(os.path.join(out, r + ".json")) for r in RESOURCES}
    spring = None  # the first January school day: the spring session starts there

    w = writers["calendarDates"]
    for r in csv_rows(feeds, "calendar"):
        day = datetime.date.fromisoformat(r["date"])
        if r["instructional"] == "true":
            event = "Instructional day"
            if spring is None and day.month == 1:
                spring = r["date"]
        else:
            event = "Non-instructional day" if day.weekday() >= 5 else "Holiday"
        cal = {"calendarCode": "%s_%d" % (r["school_id"], year), "schoolId": school_ref(r["school_id"]),
               "schoolYear": year}
        w.add("calendarDates", (r["school_id"], r["date"]),
              {"calendarReference": cal, "date": r["date"],
               "calendarEvents": [{"calendarEventDescriptor": URI + "CalendarEventDescriptor#" + event}]})
    spring = spring or "%d-01-01" % year

    def session(day):
        return "%d-%d %s Semester" % (year - 1, year, "Fall" if day < spring else "Spring")

    entry = {}  # (student, school) -> entry date: a section association's begin date
    seen = set()
    for r in csv_rows(feeds, "students"):
        sid, school = r["student_id"], r["school_id"]
        grade = int(r["grade_level"]) if r["grade_level"].isdigit() else None
        if sid not in seen:
            seen.add(sid)
            writers["students"].add("students", (sid,), {
                "studentUniqueId": sid, "firstName": r["first_name"], "lastSurname": r["last_name"],
                "birthDate": "%d-09-01" % (start.year - 6 - (grade or 0))})
        entry[(sid, school)] = r["entry_date"]
        rec = {"entryDate": r["entry_date"], "schoolReference": {"schoolId": school_ref(school)},
               "schoolYearTypeReference": {"schoolYear": year}, "studentReference": {"studentUniqueId": sid},
               "entryGradeLevelDescriptor": URI + "GradeLevelDescriptor#" +
               (GRADE_NAMES[grade] if grade is not None else r["grade_level"])}
        if r["exit_date"]:
            rec["exitWithdrawDate"] = r["exit_date"]
        writers["studentSchoolAssociations"].add("studentSchoolAssociations", (sid, school, r["entry_date"]), rec)
    del seen

    w = writers["studentSchoolAttendanceEvents"]
    for r in csv_rows(feeds, "attendance"):
        school = school_ref(r["school_id"])
        rec = {"attendanceEventCategoryDescriptor": URI + "AttendanceEventCategoryDescriptor#" + r["category"],
               "eventDate": r["date"], "schoolReference": {"schoolId": school},
               "sessionReference": {"schoolId": school, "schoolYear": year, "sessionName": session(r["date"])},
               "studentReference": {"studentUniqueId": r["student_id"]}}
        if r["duration"]:
            rec["eventDuration"] = number(r["duration"])
        w.add("studentSchoolAttendanceEvents", (r["student_id"], r["date"], r["category"]), rec)

    # Grades, pass 1: courses, offerings and each grading period's date.
    courses = {}    # code -> (title, subject)
    offerings = {}  # (code, school) -> title
    dates = collections.defaultdict(collections.Counter)  # (school, period) -> dates
    for r in csv_rows(feeds, "grades"):
        code = r["course_code"]
        course = courses.setdefault(code, (r["course_title"], r["subject"]))
        if course[1] != r["subject"]:
            sys.exit("course %s: two subjects (%s, %s): not one Ed-Fi course" % (code, course[1], r["subject"]))
        offerings.setdefault((code, r["school_id"]), r["course_title"])
        dates[(r["school_id"], r["grading_period"])][r["date"]] += 1
    offering_session = "%d-%d Year Round" % (year - 1, year)
    for code, (title, subject) in sorted(courses.items()):
        writers["courses"].add("courses", (DISTRICT_ID, code), {
            "courseCode": code, "courseTitle": title, "numberOfParts": 1,
            "identificationCodes": [{"courseIdentificationSystemDescriptor":
                                     URI + "CourseIdentificationSystemDescriptor#LEA course code",
                                     "identificationCode": code}],
            "educationOrganizationReference": {"educationOrganizationId": DISTRICT_ID},
            "academicSubjects": [{"academicSubjectDescriptor": URI + "AcademicSubjectDescriptor#" + subject}]})
    for (code, school), title in sorted(offerings.items()):
        rec = {"localCourseCode": code,
               "courseReference": {"courseCode": code, "educationOrganizationId": DISTRICT_ID},
               "schoolReference": {"schoolId": school_ref(school)},
               "sessionReference": {"schoolId": school_ref(school), "schoolYear": year,
                                    "sessionName": offering_session}}
        if title != courses[code][0]:
            rec["localCourseTitle"] = title
        writers["courseOfferings"].add("courseOfferings", (school, offering_session, code, year), rec)
    periods = {}  # (school, name) -> (descriptor, end date)
    for school in sorted({s for s, _ in dates}):
        mine = sorted((d.most_common(1)[0][0], name) for (s, name), d in dates.items() if s == school)
        begin = start.isoformat()
        for i, (end, name) in enumerate(mine):
            desc = URI + "GradingPeriodDescriptor#" + (ORDINALS[i] + " Six Weeks" if i < 6 else name)
            periods[(school, name)] = (desc, end)
            writers["gradingPeriods"].add("gradingPeriods", (school, year, begin, desc, name), {
                "gradingPeriodDescriptor": desc, "gradingPeriodName": name,
                "schoolReference": {"schoolId": school_ref(school)}, "schoolYearTypeReference": {"schoolYear": year},
                "beginDate": begin, "endDate": end, "periodSequence": i + 1})
            begin = (datetime.date.fromisoformat(end) + datetime.timedelta(days=1)).isoformat()
    del dates

    # Grades, pass 2.
    w = writers["grades"]
    grade_type = URI + "GradeTypeDescriptor#Grading Period"
    for r in csv_rows(feeds, "grades"):
        sid, school, period = r["student_id"], r["school_id"], r["grading_period"]
        desc, end = periods[(school, period)]
        rec = {"gradeTypeDescriptor": grade_type,
               "gradingPeriodReference": {"gradingPeriodDescriptor": desc, "gradingPeriodName": period,
                                          "schoolId": school_ref(school), "schoolYear": year},
               "studentSectionAssociationReference": {
                   "beginDate": entry.get((sid, school), start.isoformat()), "localCourseCode": r["course_code"],
                   "schoolId": school_ref(school), "schoolYear": year, "sectionIdentifier": r["section_id"],
                   "sessionName": offering_session, "studentUniqueId": sid}}
        if r["letter_grade"]:
            rec["letterGradeEarned"] = r["letter_grade"]
        if r["numeric_grade"]:
            rec["numericGradeEarned"] = number(r["numeric_grade"])
        if r["date"] != end:
            rec["currentGradeIndicator"] = True
            rec["currentGradeAsOfDate"] = r["date"]
        w.add("grades", (sid, r["section_id"], period, "Grading Period"), rec)

    incident_dates = {}
    for r in csv_rows(feeds, "incidents"):
        inc, sid, school = r["incident_id"], r["student_id"], r["school_id"]
        known = incident_dates.setdefault((inc, school), r["date"])
        if known != r["date"]:
            sys.exit("incident %s at %s: two dates (%s, %s)" % (inc, school, known, r["date"]))
        behavior = URI + "BehaviorDescriptor#" + r["behavior"]
        writers["studentDisciplineIncidentBehaviorAssociations"].add(
            "studentDisciplineIncidentBehaviorAssociations", (school, inc, sid, behavior), {
                "behaviorDescriptor": behavior,
                "disciplineIncidentReference": {"incidentIdentifier": inc, "schoolId": school_ref(school)},
                "studentReference": {"studentUniqueId": sid},
                "disciplineIncidentParticipationCodes": [{"disciplineIncidentParticipationCodeDescriptor":
                                                          URI + "DisciplineIncidentParticipationCodeDescriptor#"
                                                          "Perpetrator"}]})
        if r["action"]:
            ident = "%s-%s" % (inc, sid)
            rec = {"disciplineActionIdentifier": ident, "disciplineDate": r["date"],
                   "disciplines": [{"disciplineDescriptor": URI + "DisciplineDescriptor#" + r["action"]}],
                   "responsibilitySchoolReference": {"schoolId": school_ref(school)},
                   "studentReference": {"studentUniqueId": sid},
                   "studentDisciplineIncidentBehaviorAssociations": [
                       {"studentDisciplineIncidentBehaviorAssociationReference": {
                           "behaviorDescriptor": behavior, "incidentIdentifier": inc,
                           "schoolId": school_ref(school), "studentUniqueId": sid}}]}
            if r["action_days"]:
                rec["disciplineActionLength"] = rec["actualDisciplineActionLength"] = number(r["action_days"])
            writers["disciplineActions"].add("disciplineActions", (sid, r["date"], ident), rec)
    for (inc, school), day in sorted(incident_dates.items()):
        writers["disciplineIncidents"].add("disciplineIncidents", (school, inc), {
            "incidentIdentifier": inc, "schoolReference": {"schoolId": school_ref(school)}, "incidentDate": day})

    counts = {}
    for name, w in writers.items():
        w.close()
        counts[name] = w.count
    return counts, year, start


# ---------------------------------------------------------------- processes

def run_ewsd(args):
    """(wall s, CPU s, peak RSS MiB, stdout) of one ewsd run, from wait4."""
    start = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({proc.returncode}):\n{out.decode()[-2000:]}\n{err.decode()[-2000:]}")
    if err.strip():
        print(err.decode().rstrip(), file=sys.stderr)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, out.decode()


def proc_cpu(pid):
    """User + system CPU seconds of a running process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_hwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


class Server:
    """tests/support/edfi_server.py over a data folder."""

    def __init__(self, data, run_dir):
        port_file = os.path.join(run_dir, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        script = [os.path.join(SUPPORT, "edfi_server.py")]
        self.log = open(os.path.join(run_dir, "server.log"), "w")
        started = time.monotonic()
        self.proc = subprocess.Popen([PYTHON] + script + ["--port", "0", "--port-file", port_file, "--data", data,
                                                          "--key", KEY, "--secret", SECRET],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        while not os.path.exists(port_file):
            if self.proc.poll() is not None:
                sys.exit(f"edfi_server.py exited ({self.proc.returncode}); see {self.log.name}")
            time.sleep(0.1)
        with open(port_file) as f:
            self.port = int(f.read())
        self.load_seconds = time.monotonic() - started
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)

    def cpu(self):
        return proc_cpu(self.proc.pid)

    def hwm(self):
        return proc_hwm_mib(self.proc.pid)

    def call(self, method, path, body=None, headers=None):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        hdrs = dict(headers or {})
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        self.conn.request(method, path, body=data, headers=hdrs)
        resp = self.conn.getresponse()
        payload = resp.read()
        if resp.status >= 400:
            sys.exit(f"{method} {path}: HTTP {resp.status}: {payload[:300]!r}")
        return json.loads(payload) if payload else None

    def requests(self):
        return self.call("GET", "/_control/requests")

    def stop(self):
        self.conn.close()
        self.proc.terminate()
        self.proc.wait()
        self.log.close()


# ---------------------------------------------------------------- the store

def store_counts(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in STORE_TABLES}
    finally:
        con.close()


def store_digests(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out = {}
        for table, sql in STORE_TABLES.items():
            h = hashlib.sha256()
            for row in con.execute(sql):
                h.update(repr(row).encode())
            out[table] = h.hexdigest()
        return out
    finally:
        con.close()


def lookup_plan(db):
    """The query plan of the staging read derivation runs per student
    (StagingReader::by_lookup in store/edfi_staging.cpp)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("EXPLAIN QUERY PLAN SELECT id, body FROM edfi_records INDEXED BY "
                           "edfi_records_by_lookup WHERE feed_id = ? AND resource = ? AND lookup = ? "
                           "ORDER BY id", (1, "grades", "S0000001")).fetchall()
        return "; ".join(r[-1] for r in rows)
    finally:
        con.close()


def quarantined(out):
    """Sum of the `quarantined` counts in ewsd ingest's report."""
    total = 0
    for line in out.splitlines():
        parts = line.replace(",", " ").split()
        for i, word in enumerate(parts):
            if word == "quarantined" and i > 0 and parts[i - 1].isdigit():
                total += int(parts[i - 1])
    return total


# ---------------------------------------------------------------- the incremental poll

def changed_records(path, every, phase, change):
    """Records of a resource file (one per line) picked every `every`-th from
    `phase`, each passed through change()."""
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            line = line.strip().rstrip(",")
            if line in ("[", "]", "[]") or i % every != phase:
                continue
            yield change(json.loads(line))


def change_attendance(r):
    cat = r["attendanceEventCategoryDescriptor"]
    if cat.endswith("#Excused Absence"):
        r["attendanceEventCategoryDescriptor"] = cat.replace("#Excused", "#Unexcused")
    elif cat.endswith("#Unexcused Absence"):
        r["attendanceEventCategoryDescriptor"] = cat.replace("#Unexcused", "#Excused")
    else:
        r["arrivalTime"] = "08:20:00"  # a field ewsd does not read: staged, derives to the same row
    return r


def change_grade(r):
    if "numericGradeEarned" in r:
        r["numericGradeEarned"] = min(100, r["numericGradeEarned"] + 1)
    else:
        r["letterGradeEarned"] = "B" if r.get("letterGradeEarned") != "B" else "C"
    return r


def apply_changes(server, data, percent, deletes):
    """Upserts and deletes through /_control, on one keep-alive connection."""
    every = max(1, round(100 / percent))
    done = collections.Counter()
    for resource, change in (("studentSchoolAttendanceEvents", change_attendance), ("grades", change_grade)):
        path = os.path.join(data, resource + ".json")
        for rec in changed_records(path, every, every // 3, change):
            server.call("POST", f"/_control/upsert/{resource}", rec)
            done[resource + " changed"] += 1
        gone = 0
        for rec in changed_records(path, every, (2 * every) // 3, lambda r: r):
            if gone == deletes:
                break
            server.call("POST", f"/_control/delete/{resource}/{rec['id']}", {})
            gone += 1
        done[resource + " deleted"] = gone
    return done


# ---------------------------------------------------------------- one size

def write_config(path, db, start, feed):
    with open(path, "w") as f:
        f.write(f"database: {db}\ntimezone: America/Chicago\nschool_year_start: {start.isoformat()}\n"
                f"log_level: warning\nfeeds:\n{feed}")


def bench_size(a, students, compare):
    ewsd = os.path.join(a.build, "daemon", "ewsd")
    gen = os.path.join(a.build, "bench", "ewsd-gen-district")
    base = os.path.join(a.work, f"district-{students}-{a.seed}")
    feeds = os.path.join(base, "csv")
    data = os.path.join(base, "edfi")
    if not os.path.exists(os.path.join(feeds, "incidents.csv")):
        print(f"generating {students} students into {feeds} ...", flush=True)
        subprocess.run([gen, "--students", str(students), "--seed", str(a.seed), "--out", feeds], check=True)
    t = time.monotonic()
    counts, year, start = convert(feeds, data)
    print(f"converted to Ed-Fi in {time.monotonic() - t:.1f} s: " +
          ", ".join(f"{r} {n:,}" for r, n in counts.items()), flush=True)
    res = {"students": students, "records": sum(counts.values()), "resource_counts": counts,
           "json_mib": sum(os.path.getsize(os.path.join(data, r + ".json")) for r in RESOURCES) / 2**20,
           "csv_mib": sum(os.path.getsize(os.path.join(feeds, n + ".csv")) for n in CSV_FILES) / 2**20}
    res["rows"] = sum(sum(1 for _ in open(os.path.join(feeds, n + ".csv"), "rb")) - 1 for n in CSV_FILES)

    # CSV feed, fresh store
    run = os.path.join(base, "csv-run")
    shutil.rmtree(run, ignore_errors=True)
    os.makedirs(run)
    write_config(os.path.join(run, "ewsd.yaml"), os.path.join(run, "ewsd.db"), start,
                 f"  - {{name: bench, type: csv, path: {feeds}, settle_seconds: 0}}\n")
    print("csv: ewsd ingest ...", flush=True)
    res["csv"] = run_ewsd([ewsd, "ingest", "--config", os.path.join(run, "ewsd.yaml")])[:3]
    csv_db = os.path.join(run, "ewsd.db")

    # Ed-Fi feed, fresh store
    run = os.path.join(base, "edfi-run")
    shutil.rmtree(run, ignore_errors=True)
    os.makedirs(run)
    secret = os.path.join(run, "secret")
    with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(SECRET + "\n")
    print("edfi_server.py: loading ...", flush=True)
    server = Server(data, run)
    try:
        res["server_load_s"] = server.load_seconds
        config = os.path.join(run, "ewsd.yaml")
        write_config(config, os.path.join(run, "ewsd.db"), start,
                     f"  - name: bench\n    type: edfi\n    url: http://127.0.0.1:{server.port}/api\n"
                     f"    key: {KEY}\n    secret: {{file: {secret}}}\n    school_year: {year}\n"
                     f"    page_size: 500\n")
        print("edfi: ewsd ingest (full load) ...", flush=True)
        cpu0 = server.cpu()
        wall, cpu, rss, out = run_ewsd([ewsd, "ingest", "--config", config])
        res["edfi_full"] = (wall, cpu, rss, server.cpu() - cpu0, len(server.requests()))
        res["edfi_full_quarantined"] = quarantined(out)
        edfi_db = os.path.join(run, "ewsd.db")
        res["csv_counts"], res["edfi_counts"] = store_counts(csv_db), store_counts(edfi_db)
        res["lookup_plan"] = lookup_plan(edfi_db)
        if compare:
            d_csv, d_edfi = store_digests(csv_db), store_digests(edfi_db)
            res["content_diff"] = [t for t in STORE_TABLES if d_csv[t] != d_edfi[t]]

        print("edfi: changing records through /_control ...", flush=True)
        t = time.monotonic()
        res["changes"] = apply_changes(server, data, a.change_percent, a.deletes)
        res["change_s"] = time.monotonic() - t
        before = len(server.requests())
        print("edfi: ewsd ingest (incremental) ...", flush=True)
        cpu0 = server.cpu()
        wall, cpu, rss, out = run_ewsd([ewsd, "ingest", "--config", config])
        res["edfi_incr"] = (wall, cpu, rss, server.cpu() - cpu0, len(server.requests()) - before)
        res["incr_report"] = out
        res["incr_counts"] = store_counts(edfi_db)
        res["server_hwm"] = server.hwm()
    finally:
        server.stop()
    return res


# ---------------------------------------------------------------- report

def report(results):
    print()
    for r in results:
        print(f"{r['students']:,} students: {r['rows']:,} CSV rows ({r['csv_mib']:.0f} MiB), "
              f"{r['records']:,} Ed-Fi records ({r['json_mib']:.0f} MiB of JSON); server loaded in "
              f"{r['server_load_s']:.0f} s, peak {r['server_hwm']:.0f} MiB")
        diff = {t: (r["csv_counts"][t], r["edfi_counts"][t]) for t in STORE_TABLES
                if r["csv_counts"][t] != r["edfi_counts"][t]}
        print("  store rows, csv = edfi: " + ("yes" if not diff else "NO: " + repr(diff)) +
              "  (" + ", ".join(f"{t} {n:,}" for t, n in r["edfi_counts"].items()) + ")")
        if "content_diff" in r:
            print("  store contents, csv = edfi: " +
                  ("yes" if not r["content_diff"] else "NO, tables differ: " + ", ".join(r["content_diff"])))
        print(f"  plan of the per-student staging read: {r['lookup_plan']}")
        if r["edfi_full_quarantined"]:
            print(f"  quarantined in the Ed-Fi full load: {r['edfi_full_quarantined']:,}")
        ch = r["changes"]
        print("  incremental: " + ", ".join(f"{k} {v:,}" for k, v in ch.items()) +
              f" (through /_control in {r['change_s']:.0f} s)")
        exp_att = r["edfi_counts"]["attendance"] - ch["studentSchoolAttendanceEvents deleted"]
        exp_gr = r["edfi_counts"]["grades"] - ch["grades deleted"]
        got = r["incr_counts"]
        print(f"  after it: attendance {got['attendance']:,} (expected {exp_att:,}), "
              f"grades {got['grades']:,} (expected {exp_gr:,})")
        for line in r["incr_report"].splitlines():
            if "store." in line:
                print("    " + line.strip())
    print()
    head = (f"{'students':>8} {'rows':>10} | {'CSV wall':>8} {'CPU':>6} {'RSS':>5} | {'Ed-Fi full wall':>15} "
            f"{'ewsd CPU':>8} {'RSS':>5} {'srv CPU':>7} {'req':>5} | {'incr wall':>9} {'CPU':>5} {'RSS':>5} "
            f"{'srv CPU':>7} {'req':>5}")
    print(head)
    print("-" * len(head))
    for r in results:
        c, f, i = r["csv"], r["edfi_full"], r["edfi_incr"]
        print(f"{r['students']:>8,} {r['rows']:>10,} | {c[0]:7.1f}s {c[1]:5.1f}s {c[2]:5.0f} | {f[0]:14.1f}s "
              f"{f[1]:7.1f}s {f[2]:5.0f} {f[3]:6.1f}s {f[4]:>5,} | {i[0]:8.1f}s {i[1]:4.1f}s {i[2]:5.0f} "
              f"{i[3]:6.1f}s {i[4]:>5,}")
    print("(seconds; RSS = peak RSS in MiB; req = HTTP requests to the Ed-Fi API)")
    print()
    for r in results:
        print(f"{r['students']:,} students: Ed-Fi/CSV ewsd CPU {r['edfi_full'][1] / r['csv'][1]:.2f}, "
              f"wall {r['edfi_full'][0] / r['csv'][0]:.2f}; incremental/full ewsd CPU "
              f"{r['edfi_incr'][1] / r['edfi_full'][1]:.3f}")
    if len(results) > 1:
        lo, hi = results[0], results[-1]
        print(f"peak RSS {hi['students']:,} / {lo['students']:,} students (data x{hi['rows'] / lo['rows']:.2f}): "
              f"CSV {hi['csv'][2] / lo['csv'][2]:.2f}, Ed-Fi full {hi['edfi_full'][2] / lo['edfi_full'][2]:.2f}, "
              f"Ed-Fi incremental {hi['edfi_incr'][2] / lo['edfi_incr'][2]:.2f}")
        print(f"ewsd CPU {hi['students']:,} / {lo['students']:,}: CSV {hi['csv'][1] / lo['csv'][1]:.2f}, "
              f"Ed-Fi full {hi['edfi_full'][1] / lo['edfi_full'][1]:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2000,8000", help="students, comma-separated")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", default="/tmp/ewsd-edfi-bench")
    parser.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--change-percent", type=float, default=1.0,
                        help="of attendance events and grades changed before the incremental poll")
    parser.add_argument("--deletes", type=int, default=50, help="attendance events and grades deleted (each)")
    a = parser.parse_args()
    sizes = sorted(int(s) for s in a.sizes.split(","))
    results = [bench_size(a, n, compare=(i == 0)) for i, n in enumerate(sizes)]
    report(results)


if __name__ == "__main__":
    main()
