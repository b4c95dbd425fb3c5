#!/usr/bin/python3
"""Build the Ed-Fi fixtures in tests/data/edfi/ from the Grand Bend sample XML.

Writes, next to this script:
  ds5/<resource>.json  records as the Ed-Fi ODS/API (Data Standard 5.0) returns them
  ds4/<resource>.json  the same district for Data Standard 4.0
  csv/*.csv            the same district as an ewsd CSV feed folder, derived from
                       the ds5 records by the Ed-Fi -> CSV mapping (see README.md)

Deterministic: every synthesized choice comes from a SHA-256 of a fixed salt and
the record's natural key, never from the clock or an unseeded generator.

Usage: /usr/bin/python3 tests/data/edfi/convert.py [--xml-dir DIR] [--spec-dir DIR]
Standard library only; with PyYAML installed the records are also checked
against the OpenAPI schemas in --spec-dir.
"""

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import os
import statistics
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_XML = "/work/shared/data/edfi/grand-bend-sample-xml"
DEFAULT_SPEC = "/work/shared/data/edfi/api-specifications"
NS = "{http://ed-fi.org/5.2.0}"
SALT = "ewsd-edfi-fixtures-v1"

SCHOOL_YEAR = 2022
YEAR_START = dt.date(2021, 8, 23)
YEAR_END = dt.date(2022, 5, 27)
FALL = "2021-2022 Fall Semester"

URI = "uri://ed-fi.org/"
GRADE_LEVELS = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh",
                "Eighth", "Ninth", "Tenth", "Eleventh", "Twelfth"]

# Non-instructional weekdays. They match the XML: no attendance event falls on
# them, and with them the grading periods' TotalInstructionalDays of the fall
# semester (29, 25, 27) come out exactly.
HOLIDAYS = {
    dt.date(2021, 9, 6): "Holiday",             # Labor Day
    dt.date(2021, 11, 24): "Holiday",           # Thanksgiving break
    dt.date(2021, 11, 25): "Holiday",
    dt.date(2021, 11, 26): "Holiday",
    dt.date(2022, 1, 3): "Teacher only day",    # the spring session starts on 01-04
    dt.date(2022, 1, 17): "Holiday",            # Martin Luther King Jr. Day
}
for _d in range(20, 32):
    if dt.date(2021, 12, _d).weekday() < 5:
        HOLIDAYS[dt.date(2021, 12, _d)] = "Holiday"  # winter break
for _d in range(14, 19):
    HOLIDAYS[dt.date(2022, 3, _d)] = "Holiday"       # spring break
EARLY_DISMISSAL = {dt.date(2022, 5, 27)}             # last day: instructional, short

RESOURCES = ["students", "studentSchoolAssociations", "studentSchoolAttendanceEvents",
             "courses", "courseOfferings", "sections", "studentSectionAssociations",
             "gradingPeriods", "grades", "disciplineIncidents",
             "studentDisciplineIncidentBehaviorAssociations", "disciplineActions",
             "calendarDates"]

# How many students get section associations and grades (the rest only an
# enrollment), to keep the fixtures small.
GRADED_STUDENTS = 70
EXITS = 19        # ~2% of 960
TRANSFERS = 10    # ~1%: of the exits, those who enroll at another school


# ---------------------------------------------------------------- helpers

def digest(*parts):
    return hashlib.sha256("|".join([SALT] + [str(p) for p in parts]).encode()).hexdigest()


def frac(*parts):
    """A deterministic number in [0, 1) for these parts."""
    return int(digest(*parts)[:13], 16) / float(1 << 52)


def record_id(resource, key):
    return hashlib.md5(("%s|%s" % (resource, json.dumps(key, sort_keys=True))).encode()).hexdigest()


def code(uri):
    return uri.split("#", 1)[1] if "#" in uri else uri


def school_year(text):
    """XML "2021-2022" -> 2022."""
    return int(text.split("-")[1])


def text(elem, path):
    found = elem.find(path)
    return None if found is None else found.text.strip()


def q(*names):
    """An ElementTree path in the Ed-Fi namespace: q('a', 'b') -> '{ns}a/{ns}b'."""
    return "/".join(name if name in (".", "..") else NS + name for name in names)


def deep(name):
    return ".//" + NS + name


def number(value):
    """XML decimal text -> int when whole, else float."""
    f = float(value)
    return int(f) if f.is_integer() else f


def weekdays(start, end):
    d = start
    while d <= end:
        if d.weekday() < 5:
            yield d
        d += dt.timedelta(days=1)


def is_school_day(d):
    return d.weekday() < 5 and d not in HOLIDAYS and YEAR_START <= d <= YEAR_END


def next_school_day(d):
    d += dt.timedelta(days=1)
    while not is_school_day(d):
        d += dt.timedelta(days=1)
    return d


def grade_level_uri(n):
    return URI + "GradeLevelDescriptor#%s grade" % GRADE_LEVELS[n - 1]


def grade_number(uri):
    return GRADE_LEVELS.index(code(uri).split(" ")[0]) + 1


def ref_school(sid):
    return {"schoolId": sid}


def ref_student(usi):
    return {"studentUniqueId": usi}


# ---------------------------------------------------------------- reading the XML

class District:
    def __init__(self, xml_dir):
        self.dir = xml_dir
        self.notes = []
        self.read_schools()
        self.read_students()
        self.read_calendar()
        self.read_schedule()
        self.read_attendance()
        self.read_discipline()

    def root(self, name):
        return ET.parse(os.path.join(self.dir, name)).getroot()

    def read_schools(self):
        root = self.root("EducationOrganization.xml")
        self.schools = {}  # schoolId -> sorted grade numbers
        for s in root.findall(q("School")):
            sid = int(text(s, q("SchoolId")))
            self.schools[sid] = sorted(grade_number(g.text) for g in s.findall(q("GradeLevel")))
        self.courses = []
        for c in root.findall(q("Course")):
            rec = {
                "courseCode": text(c, q("CourseCode")),
                "courseTitle": text(c, q("CourseTitle")),
                "numberOfParts": int(text(c, q("NumberOfParts"))),
                "identificationCodes": [],
                "educationOrganizationReference": {
                    "educationOrganizationId": int(text(c, deep("EducationOrganizationId")))},
                "academicSubjects": [{"academicSubjectDescriptor": a.text.strip()}
                                     for a in c.findall(q("AcademicSubject"))],
            }
            for ic in c.findall(q("CourseIdentificationCode")):
                item = {"courseIdentificationSystemDescriptor": text(ic, q("CourseIdentificationSystem")),
                        "identificationCode": text(ic, q("IdentificationCode"))}
                if text(ic, q("CourseCatalogURL")):
                    item["courseCatalogURL"] = text(ic, q("CourseCatalogURL"))
                rec["identificationCodes"].append(item)
            if text(c, q("CourseDescription")):
                rec["courseDescription"] = text(c, q("CourseDescription"))
            self.courses.append(rec)

    def read_students(self):
        self.students = []
        for s in self.root("Student.xml").findall(q("Student")):
            rec = {"studentUniqueId": text(s, q("StudentUniqueId")),
                   "firstName": text(s, q("Name", "FirstName"))}
            if text(s, q("Name", "MiddleName")):
                rec["middleName"] = text(s, q("Name", "MiddleName"))
            rec["lastSurname"] = text(s, q("Name", "LastSurname"))
            rec["birthDate"] = text(s, q("BirthData", "BirthDate"))
            self.students.append(rec)

    def read_calendar(self):
        root = self.root("EducationOrgCalendar.xml")
        self.sessions = {}  # (schoolId, sessionName) -> (begin, end)
        for s in root.findall(q("Session")):
            key = (int(text(s, deep("SchoolId"))), text(s, q("SessionName")))
            self.sessions[key] = (dt.date.fromisoformat(text(s, q("BeginDate"))),
                                  dt.date.fromisoformat(text(s, q("EndDate"))))
        self.grading_periods = []
        for g in root.findall(q("GradingPeriod")):
            self.grading_periods.append({
                "gradingPeriodDescriptor": text(g, q("GradingPeriod")),
                "gradingPeriodName": text(g, q("GradingPeriodName")),
                "schoolReference": ref_school(int(text(g, deep("SchoolId")))),
                "schoolYearTypeReference": {"schoolYear": school_year(text(g, q("SchoolYear")))},
                "beginDate": text(g, q("BeginDate")),
                "endDate": text(g, q("EndDate")),
                "periodSequence": int(text(g, q("PeriodSequence"))),
                "totalInstructionalDays": int(text(g, q("TotalInstructionalDays"))),
            })
        self.calendar_codes = {}
        for c in root.findall(q("Calendar")):
            self.calendar_codes[int(text(c, deep("SchoolId")))] = text(c, q("CalendarCode"))
        self.xml_calendar_dates = []
        for c in root.findall(q("CalendarDate")):
            self.xml_calendar_dates.append((int(text(c, deep("SchoolId"))), text(c, deep("CalendarCode")),
                                            dt.date.fromisoformat(text(c, q("Date"))),
                                            [e.text.strip() for e in c.findall(q("CalendarEvent"))]))

    def read_schedule(self):
        root = self.root("MasterSchedule.xml")
        self.offerings = {}
        for o in root.findall(q("CourseOffering")):
            sid = int(text(o, q("SchoolReference", "SchoolIdentity", "SchoolId")))
            rec = {
                "localCourseCode": text(o, q("LocalCourseCode")),
                "courseReference": {"courseCode": text(o, deep("CourseCode")),
                                    "educationOrganizationId": int(text(o, deep("EducationOrganizationId")))},
                "schoolReference": ref_school(sid),
                "sessionReference": {"schoolId": sid,
                                     "schoolYear": school_year(text(o, deep("SchoolYear"))),
                                     "sessionName": text(o, deep("SessionName"))},
            }
            if text(o, q("LocalCourseTitle")):
                rec["localCourseTitle"] = text(o, q("LocalCourseTitle"))
            key = (rec["localCourseCode"], sid, rec["sessionReference"]["sessionName"])
            if key in self.offerings:
                if self.offerings[key] != rec:
                    raise SystemExit("MasterSchedule.xml: conflicting course offerings %r" % (key,))
                self.notes.append("MasterSchedule.xml: course offering %s/%s/%s appears twice "
                                  "(identical); kept once" % key)
                continue
            self.offerings[key] = rec
        self.sections = []
        for s in root.findall(q("Section")):
            sid = int(text(s, q("CourseOfferingReference", "CourseOfferingIdentity", "SchoolReference",
                                "SchoolIdentity", "SchoolId")))
            rec = {
                "sectionIdentifier": text(s, q("SectionIdentifier")),
                "courseOfferingReference": {
                    "localCourseCode": text(s, deep("LocalCourseCode")),
                    "schoolId": sid,
                    "schoolYear": school_year(text(s, deep("SchoolYear"))),
                    "sessionName": text(s, deep("SessionName"))},
            }
            self.sections.append(rec)

    def read_attendance(self):
        self.attendance = []
        seen = set()
        for e in self.root("StudentSchoolAttendance.xml").findall(q("StudentSchoolAttendanceEvent")):
            ev = e.find(q("AttendanceEvent"))
            sid = int(text(e, q("SchoolReference", "SchoolIdentity", "SchoolId")))
            rec = {
                "attendanceEventCategoryDescriptor": text(ev, q("AttendanceEventCategory")),
                "eventDate": text(ev, q("EventDate")),
                "schoolReference": ref_school(sid),
                "sessionReference": {
                    "schoolId": int(text(e, q("SessionReference", "SessionIdentity", "SchoolReference",
                                              "SchoolIdentity", "SchoolId"))),
                    "schoolYear": school_year(text(e, deep("SchoolYear"))),
                    "sessionName": text(e, deep("SessionName"))},
                "studentReference": ref_student(text(e, deep("StudentUniqueId"))),
            }
            if text(ev, q("EventDuration")):
                rec["eventDuration"] = number(text(ev, q("EventDuration")))
            if text(e, q("SchoolAttendanceDuration")):
                rec["schoolAttendanceDuration"] = int(text(e, q("SchoolAttendanceDuration")))
            if text(e, q("ArrivalTime")):
                rec["arrivalTime"] = text(e, q("ArrivalTime"))
            key = (rec["studentReference"]["studentUniqueId"], rec["eventDate"],
                   code(rec["attendanceEventCategoryDescriptor"]))
            if key in seen:
                # The store key is (student, date, category): keep the first one only.
                self.notes.append("StudentSchoolAttendance.xml: duplicate event %s %s %s dropped" % key)
                continue
            seen.add(key)
            self.attendance.append(rec)

    def read_discipline(self):
        root = self.root("StudentDiscipline.xml")
        by_xml_id = {}
        self.incidents = []
        for i in root.findall(q("DisciplineIncident")):
            rec = {"incidentIdentifier": text(i, q("IncidentIdentifier")),
                   "schoolReference": ref_school(int(text(i, deep("SchoolId")))),
                   "incidentDate": text(i, q("IncidentDate"))}
            for tag, prop in (("IncidentTime", "incidentTime"),
                              ("IncidentLocation", "incidentLocationDescriptor"),
                              ("ReporterDescription", "reporterDescriptionDescriptor"),
                              ("ReporterName", "reporterName")):
                if text(i, q(tag)):
                    rec[prop] = text(i, q(tag))
            if text(i, q("ReportedToLawEnforcement")):
                rec["reportedToLawEnforcement"] = text(i, q("ReportedToLawEnforcement")) == "true"
            behaviors = []
            for b in i.findall(q("Behavior")):
                item = {"behaviorDescriptor": text(b, q("Behavior"))}
                if text(b, q("BehaviorDetailedDescription")):
                    item["behaviorDetailedDescription"] = text(b, q("BehaviorDetailedDescription"))
                behaviors.append(item)
            if behaviors:
                rec["behaviors"] = behaviors
            by_xml_id[i.get("id")] = rec
            self.incidents.append(rec)

        self.behavior_associations = []
        for a in root.findall(q("StudentDisciplineIncidentBehaviorAssociation")):
            ref = a.find(q("DisciplineIncidentReference"))
            if ref.get("ref"):
                inc = by_xml_id[ref.get("ref")]
                inc_id, sid = inc["incidentIdentifier"], inc["schoolReference"]["schoolId"]
            else:
                inc_id, sid = text(ref, deep("IncidentIdentifier")), int(text(ref, deep("SchoolId")))
            rec = {"behaviorDescriptor": text(a, q("Behavior")),
                   "disciplineIncidentReference": {"incidentIdentifier": inc_id, "schoolId": sid},
                   "studentReference": ref_student(text(a, deep("StudentUniqueId")))}
            if text(a, q("BehaviorDetailedDescription")):
                rec["behaviorDetailedDescription"] = text(a, q("BehaviorDetailedDescription"))
            codes = [c.text.strip() for c in a.findall(q("DisciplineIncidentParticipationCode"))]
            if codes:
                rec["disciplineIncidentParticipationCodes"] = [
                    {"disciplineIncidentParticipationCodeDescriptor": c} for c in codes]
            self.behavior_associations.append(rec)

        self.actions = []
        for a in root.findall(q("DisciplineAction")):
            usi = text(a, q("StudentReference", "StudentIdentity", "StudentUniqueId"))
            rec = {"disciplineActionIdentifier": text(a, q("DisciplineActionIdentifier")),
                   "disciplineDate": text(a, q("DisciplineDate")),
                   "disciplines": [{"disciplineDescriptor": d.text.strip()} for d in a.findall(q("Discipline"))],
                   "responsibilitySchoolReference": ref_school(int(text(a, deep("SchoolId")))),
                   "studentReference": ref_student(usi)}
            for tag, prop in (("DisciplineActionLength", "disciplineActionLength"),
                              ("ActualDisciplineActionLength", "actualDisciplineActionLength")):
                if text(a, q(tag)):
                    rec[prop] = number(text(a, q(tag)))
            if text(a, q("DisciplineActionLengthDifferenceReason")):
                rec["disciplineActionLengthDifferenceReasonDescriptor"] = text(
                    a, q("DisciplineActionLengthDifferenceReason"))
            if text(a, q("IEPPlacementMeetingIndicator")):
                rec["iepPlacementMeetingIndicator"] = text(a, q("IEPPlacementMeetingIndicator")) == "true"
            links = []
            for r in a.findall(q("StudentDisciplineIncidentBehaviorAssociationReference")):
                links.append({"behaviorDescriptor": text(r, deep("Behavior")),
                              "incidentIdentifier": text(r, deep("IncidentIdentifier")),
                              "schoolId": int(text(r, deep("SchoolId"))),
                              "studentUniqueId": text(r, deep("StudentUniqueId"))})
            # Actions linked only by incident: link the student's behavior(s) in it.
            for r in a.findall(q("StudentDisciplineIncidentAssociationReference")):
                inc_id, sid = text(r, deep("IncidentIdentifier")), int(text(r, deep("SchoolId")))
                for b in self.behavior_associations:
                    if (b["disciplineIncidentReference"] == {"incidentIdentifier": inc_id, "schoolId": sid}
                            and b["studentReference"]["studentUniqueId"] == usi):
                        links.append({"behaviorDescriptor": b["behaviorDescriptor"], "incidentIdentifier": inc_id,
                                      "schoolId": sid, "studentUniqueId": usi})
            if links:
                rec["studentDisciplineIncidentBehaviorAssociations"] = [
                    {"studentDisciplineIncidentBehaviorAssociationReference": ln} for ln in links]
            self.actions.append(rec)


# ---------------------------------------------------------------- synthesis

def age_on(birth, day):
    b = dt.date.fromisoformat(birth)
    return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


def clamp(v, lo, hi):
    return max(lo, min(hi, v))


def school_for_grade(schools, grade):
    for sid, grades in sorted(schools.items()):
        if grade in grades:
            return sid
    raise SystemExit("no school teaches grade %d" % grade)


def enrollments(d):
    """One studentSchoolAssociation per student, plus the transfers' second one."""
    school_of = {}   # student -> school named by their records in the XML
    last_day = {}    # student -> date of their last record
    def seen(usi, sid, day, what):
        if school_of.setdefault(usi, sid) != sid:
            raise SystemExit("student %s has %s at two schools" % (usi, what))
        last_day[usi] = max(last_day.get(usi, day), day)
    for a in d.attendance:
        seen(a["studentReference"]["studentUniqueId"], a["schoolReference"]["schoolId"],
             dt.date.fromisoformat(a["eventDate"]), "attendance")
    incident_date = {(i["incidentIdentifier"], i["schoolReference"]["schoolId"]): i["incidentDate"]
                     for i in d.incidents}
    for b in d.behavior_associations:
        ref = b["disciplineIncidentReference"]
        seen(b["studentReference"]["studentUniqueId"], ref["schoolId"],
             dt.date.fromisoformat(incident_date[(ref["incidentIdentifier"], ref["schoolId"])]), "incidents")
    for a in d.actions:
        seen(a["studentReference"]["studentUniqueId"], a["responsibilitySchoolReference"]["schoolId"],
             dt.date.fromisoformat(a["disciplineDate"]), "discipline actions")

    first = {}
    for s in d.students:
        usi = s["studentUniqueId"]
        # Grade from the age on September 1st. The usual rule would be age - 5, but
        # the sample's birth dates fit the schools their records name best with
        # age - 4 (elementary 4-9 years, middle 9-12, high 12-16).
        grade = clamp(age_on(s["birthDate"], dt.date(2021, 9, 1)) - 4, 1, 12)
        sid = school_of.get(usi) or school_for_grade(d.schools, grade)
        grade = clamp(grade, d.schools[sid][0], d.schools[sid][-1])
        first[usi] = [sid, grade, None]

    exit_days = [day for day in weekdays(dt.date(2022, 1, 10), dt.date(2022, 5, 13)) if is_school_day(day)]
    order = sorted(first, key=lambda usi: digest("exit", usi))
    def exit_day(usi):
        day = exit_days[int(frac("exit-day", usi) * len(exit_days))]
        return day if day > last_day.get(usi, dt.date.min) else None
    transfers = []
    for usi in order:  # a transfer is a move up to the next school: fifth or eighth graders
        sid, grade, _ = first[usi]
        if len(transfers) < TRANSFERS and grade == d.schools[sid][-1] and grade < 12 and exit_day(usi):
            first[usi][2] = exit_day(usi)
            transfers.append(usi)
    exits = len(transfers)
    for usi in order:
        if exits < EXITS and first[usi][2] is None and exit_day(usi):
            first[usi][2] = exit_day(usi)
            exits += 1

    out = []
    def ssa(usi, sid, grade, entry, exit_):
        rec = {"entryDate": entry.isoformat(),
               "schoolReference": ref_school(sid),
               "schoolYearTypeReference": {"schoolYear": SCHOOL_YEAR},
               "studentReference": ref_student(usi),
               "entryGradeLevelDescriptor": grade_level_uri(grade)}
        if exit_:
            rec["exitWithdrawDate"] = exit_.isoformat()
        out.append(rec)
    for usi, (sid, grade, exit_) in sorted(first.items()):
        ssa(usi, sid, grade, YEAR_START, exit_)
        if usi in transfers:
            ssa(usi, school_for_grade(d.schools, grade + 1), grade + 1, next_school_day(exit_), None)
    return out, first


def section_associations(d, first):
    """3-5 fall sections for each of GRADED_STUDENTS students, courses fitting their grade."""
    absences = {}
    for a in d.attendance:
        if "Absence" in a["attendanceEventCategoryDescriptor"]:
            usi = a["studentReference"]["studentUniqueId"]
            absences[usi] = absences.get(usi, 0) + 1
    disciplined = {b["studentReference"]["studentUniqueId"] for b in d.behavior_associations}
    # Everyone with an incident, the 20 most absent, then a deterministic sample.
    chosen = sorted(disciplined)
    for usi in sorted(absences, key=lambda u: (-absences[u], u))[:20]:
        if usi not in chosen:
            chosen.append(usi)
    for usi in sorted(first, key=lambda u: digest("graded", u)):
        if len(chosen) >= GRADED_STUDENTS:
            break
        if usi not in chosen:
            chosen.append(usi)

    fall = {}
    for s in d.sections:
        ref = s["courseOfferingReference"]
        if ref["sessionName"] == FALL:
            fall.setdefault((ref["schoolId"], ref["localCourseCode"]), []).append(s)
    out = []
    for usi in sorted(chosen):
        sid, grade, _ = first[usi]
        def fits(course_code):
            suffix = course_code.rsplit("-", 1)[-1]
            return grade >= 9 or (suffix.isdigit() and int(suffix) == grade)
        courses = sorted((c for (s, c) in fall if s == sid and fits(c)), key=lambda c: digest("course", usi, c))
        n = 3 + int(frac("sections", usi) * 3)
        if len(courses) < 3:
            raise SystemExit("student %s: only %d courses for grade %d" % (usi, len(courses), grade))
        for course in courses[:n]:
            options = sorted(fall[(sid, course)], key=lambda s: s["sectionIdentifier"])
            sec = options[int(frac("section", usi, course) * len(options))]
            ref = sec["courseOfferingReference"]
            out.append({"beginDate": YEAR_START.isoformat(),
                        "sectionReference": {"localCourseCode": ref["localCourseCode"], "schoolId": ref["schoolId"],
                                             "schoolYear": ref["schoolYear"],
                                             "sectionIdentifier": sec["sectionIdentifier"],
                                             "sessionName": ref["sessionName"]},
                        "studentReference": ref_student(usi)})
    return out, absences


def letter(n):
    return "A" if n >= 90 else "B" if n >= 80 else "C" if n >= 70 else "D" if n >= 65 else "F"


def grades(d, ssecas, absences):
    """Grading Period grades for the fall grading periods; a few Semester grades too."""
    periods = sorted((g for g in d.grading_periods if g["endDate"] < "2022-01-01"),
                     key=lambda g: (g["schoolReference"]["schoolId"], g["beginDate"]))
    out = []
    for a in ssecas:
        sec, usi = a["sectionReference"], a["studentReference"]["studentUniqueId"]
        ssa_ref = {"beginDate": a["beginDate"], "localCourseCode": sec["localCourseCode"],
                   "schoolId": sec["schoolId"], "schoolYear": sec["schoolYear"],
                   "sectionIdentifier": sec["sectionIdentifier"], "sessionName": sec["sessionName"],
                   "studentUniqueId": usi}
        # Students who miss school tend to fail; the spread gives ~10% below 65.
        ability = statistics.NormalDist(83 - 0.6 * min(absences.get(usi, 0), 20), 8).inv_cdf(
            0.001 + 0.998 * frac("ability", usi))
        mine = [g for g in periods if g["schoolReference"]["schoolId"] == sec["schoolId"]]
        for g in mine:
            n = round(statistics.NormalDist(ability, 7).inv_cdf(0.001 + 0.998 * frac(
                "grade", usi, sec["sectionIdentifier"], g["gradingPeriodName"])))
            n = clamp(n, 40, 100)
            rec = {"gradeTypeDescriptor": URI + "GradeTypeDescriptor#Grading Period",
                   "gradingPeriodReference": {"gradingPeriodDescriptor": g["gradingPeriodDescriptor"],
                                              "gradingPeriodName": g["gradingPeriodName"],
                                              "schoolId": sec["schoolId"], "schoolYear": SCHOOL_YEAR},
                   "studentSectionAssociationReference": ssa_ref,
                   "letterGradeEarned": letter(n)}
            if frac("letter-only", usi, sec["sectionIdentifier"], g["gradingPeriodName"]) >= 0.02:
                rec["numericGradeEarned"] = n
            if g is mine[-1] and frac("progress", usi) < 0.1:
                # A progress grade, given before the period ends.
                rec["currentGradeIndicator"] = True
                rec["currentGradeAsOfDate"] = "2021-12-10"
            out.append(rec)
        if frac("semester", usi) < 0.1:
            # Not a grading-period grade: the CSV mapping leaves it out.
            g = mine[-1]
            n = clamp(round(ability), 40, 100)
            out.append({"gradeTypeDescriptor": URI + "GradeTypeDescriptor#Semester",
                        "gradingPeriodReference": {"gradingPeriodDescriptor": g["gradingPeriodDescriptor"],
                                                   "gradingPeriodName": g["gradingPeriodName"],
                                                   "schoolId": sec["schoolId"], "schoolYear": SCHOOL_YEAR},
                        "studentSectionAssociationReference": ssa_ref,
                        "letterGradeEarned": letter(n), "numericGradeEarned": n})
    return out


def calendar_dates(d):
    out = []
    xml_events = {(sid, day): events for sid, _, day, events in d.xml_calendar_dates}
    for sid in sorted(d.schools):
        cal = {"calendarCode": d.calendar_codes.get(sid, "%d_%d" % (sid, SCHOOL_YEAR)),
               "schoolId": sid, "schoolYear": SCHOOL_YEAR}
        for day in weekdays(YEAR_START, YEAR_END):
            if day in HOLIDAYS:
                events = [URI + "CalendarEventDescriptor#" + HOLIDAYS[day]]
            elif day in EARLY_DISMISSAL:
                events = [URI + "CalendarEventDescriptor#Student late arrival/early dismissal"]
            else:
                events = [URI + "CalendarEventDescriptor#Instructional day"]
            if (sid, day) in xml_events:
                if xml_events[(sid, day)] != events:
                    raise SystemExit("calendar date %s of %d disagrees with the XML" % (day, sid))
                del xml_events[(sid, day)]
            out.append({"calendarReference": dict(cal), "date": day.isoformat(),
                        "calendarEvents": [{"calendarEventDescriptor": e} for e in events]})
    if xml_events:
        raise SystemExit("calendar dates of the XML not used: %r" % sorted(xml_events))
    return out


# ---------------------------------------------------------------- natural keys, ids, DS 4.0

def natural_key(resource, r):
    """The resource's identity in the ODS/API, as a tuple (also the sort key)."""
    ref = lambda name: tuple(sorted(r[name].items()))
    return {
        "students": lambda: (r["studentUniqueId"],),
        "studentSchoolAssociations": lambda: (r["studentReference"]["studentUniqueId"],
                                              r["schoolReference"]["schoolId"], r["entryDate"]),
        "studentSchoolAttendanceEvents": lambda: (r["studentReference"]["studentUniqueId"], r["eventDate"],
                                                  r["attendanceEventCategoryDescriptor"],
                                                  ref("schoolReference"), ref("sessionReference")),
        "courses": lambda: (r["educationOrganizationReference"]["educationOrganizationId"], r["courseCode"]),
        "courseOfferings": lambda: (r["schoolReference"]["schoolId"], r["sessionReference"]["sessionName"],
                                    r["localCourseCode"], r["sessionReference"]["schoolYear"]),
        "sections": lambda: (r["courseOfferingReference"]["schoolId"], r["courseOfferingReference"]["sessionName"],
                             r["courseOfferingReference"]["localCourseCode"], r["sectionIdentifier"],
                             r["courseOfferingReference"]["schoolYear"]),
        "studentSectionAssociations": lambda: (r["studentReference"]["studentUniqueId"], r["beginDate"],
                                               ref("sectionReference")),
        "gradingPeriods": lambda: (r["schoolReference"]["schoolId"], r["schoolYearTypeReference"]["schoolYear"],
                                   r["beginDate"], r["gradingPeriodDescriptor"], r["gradingPeriodName"]),
        "grades": lambda: (r["studentSectionAssociationReference"]["studentUniqueId"],
                           ref("studentSectionAssociationReference"), ref("gradingPeriodReference"),
                           r["gradeTypeDescriptor"]),
        "disciplineIncidents": lambda: (r["schoolReference"]["schoolId"], int(r["incidentIdentifier"])),
        "studentDisciplineIncidentBehaviorAssociations": lambda: (
            r["disciplineIncidentReference"]["schoolId"], int(r["disciplineIncidentReference"]["incidentIdentifier"]),
            r["studentReference"]["studentUniqueId"], r["behaviorDescriptor"]),
        "disciplineActions": lambda: (r["studentReference"]["studentUniqueId"], r["disciplineDate"],
                                      int(r["disciplineActionIdentifier"])),
        "calendarDates": lambda: (r["calendarReference"]["schoolId"], r["calendarReference"]["calendarCode"],
                                  r["date"]),
    }[resource]()


def with_id(resource, records):
    keyed = sorted(((natural_key(resource, r), r) for r in records), key=lambda kr: kr[0])
    out = []
    for i, (key, r) in enumerate(keyed):
        if i and keyed[i - 1][0] == key:
            raise SystemExit("%s: duplicate natural key %r" % (resource, key))
        out.append(dict([("id", record_id(resource, key))] + list(r.items())))
    return out


def to_ds4(resource, r, period_sequence):
    r = json.loads(json.dumps(r))
    if resource == "gradingPeriods":
        del r["gradingPeriodName"]
    elif resource == "grades":
        ref = r["gradingPeriodReference"]
        seq = period_sequence[(ref["schoolId"], ref["gradingPeriodDescriptor"], ref["gradingPeriodName"])]
        r["gradingPeriodReference"] = {"gradingPeriodDescriptor": ref["gradingPeriodDescriptor"],
                                       "periodSequence": seq, "schoolId": ref["schoolId"],
                                       "schoolYear": ref["schoolYear"]}
    elif resource == "courses":
        subjects = r.pop("academicSubjects", [])
        if len(subjects) > 1:
            raise SystemExit("course %s: DS 4.0 holds one academic subject" % r["courseCode"])
        items = list(r.items())
        if subjects:
            items.insert(6, ("academicSubjectDescriptor", subjects[0]["academicSubjectDescriptor"]))
        r = dict(items)
    return r


# ---------------------------------------------------------------- the Ed-Fi -> CSV mapping

def fmt_num(v):
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def csv_rows(ds5):
    """The ewsd CSV feed as the C++ connector maps the DS 5.0 records."""
    students = {s["studentUniqueId"]: s for s in ds5["students"]}
    rows = {"students": [], "attendance": [], "grades": [], "incidents": [], "calendar": []}

    for a in ds5["studentSchoolAssociations"]:
        s = students[a["studentReference"]["studentUniqueId"]]
        rows["students"].append([s["studentUniqueId"], str(a["schoolReference"]["schoolId"]),
                                 code(a["entryGradeLevelDescriptor"]), s["firstName"], s["lastSurname"],
                                 a["entryDate"], a.get("exitWithdrawDate", "")])

    seen = set()
    for e in ds5["studentSchoolAttendanceEvents"]:
        row = [e["studentReference"]["studentUniqueId"], str(e["schoolReference"]["schoolId"]), e["eventDate"],
               code(e["attendanceEventCategoryDescriptor"]), fmt_num(e.get("eventDuration"))]
        if (row[0], row[2], row[3]) not in seen:
            seen.add((row[0], row[2], row[3]))
            rows["attendance"].append(row)

    offerings = {(o["localCourseCode"], o["schoolReference"]["schoolId"], o["sessionReference"]["schoolYear"],
                  o["sessionReference"]["sessionName"]): o for o in ds5["courseOfferings"]}
    courses = {(c["courseCode"], c["educationOrganizationReference"]["educationOrganizationId"]): c
               for c in ds5["courses"]}
    periods = {(g["gradingPeriodDescriptor"], g["gradingPeriodName"], g["schoolReference"]["schoolId"],
                g["schoolYearTypeReference"]["schoolYear"]): g for g in ds5["gradingPeriods"]}
    for g in ds5["grades"]:
        if code(g["gradeTypeDescriptor"]) != "Grading Period":
            continue
        s, p = g["studentSectionAssociationReference"], g["gradingPeriodReference"]
        o = offerings[(s["localCourseCode"], s["schoolId"], s["schoolYear"], s["sessionName"])]
        c = courses[(o["courseReference"]["courseCode"], o["courseReference"]["educationOrganizationId"])]
        period = periods[(p["gradingPeriodDescriptor"], p["gradingPeriodName"], p["schoolId"], p["schoolYear"])]
        rows["grades"].append([s["studentUniqueId"], str(s["schoolId"]), s["sectionIdentifier"], c["courseCode"],
                               o.get("localCourseTitle") or c["courseTitle"],
                               code(c["academicSubjects"][0]["academicSubjectDescriptor"]),
                               p["gradingPeriodName"], g.get("currentGradeAsOfDate") or period["endDate"],
                               fmt_num(g.get("numericGradeEarned")), g.get("letterGradeEarned", "")])

    incidents = {(i["incidentIdentifier"], i["schoolReference"]["schoolId"]): i for i in ds5["disciplineIncidents"]}
    order = ["State Offense", "School Code of Conduct", "School Violation", "Other"]
    chosen = {}
    for b in ds5["studentDisciplineIncidentBehaviorAssociations"]:
        ref, usi = b["disciplineIncidentReference"], b["studentReference"]["studentUniqueId"]
        key = (ref["incidentIdentifier"], usi)
        rank = order.index(code(b["behaviorDescriptor"]))
        if key not in chosen or rank < chosen[key][0]:
            chosen[key] = (rank, b)
    for (inc_id, usi), (_, b) in chosen.items():
        ref = b["disciplineIncidentReference"]
        target = {"behaviorDescriptor": b["behaviorDescriptor"], "incidentIdentifier": ref["incidentIdentifier"],
                  "schoolId": ref["schoolId"], "studentUniqueId": usi}
        actions = [a for a in ds5["disciplineActions"] if a["studentReference"]["studentUniqueId"] == usi and any(
            x["studentDisciplineIncidentBehaviorAssociationReference"] == target
            for x in a.get("studentDisciplineIncidentBehaviorAssociations", []))]
        def length(a):
            return a.get("actualDisciplineActionLength", a.get("disciplineActionLength"))
        action, days = "", ""
        if actions:
            best = min(actions, key=lambda a: (-(length(a) or 0), a["disciplineActionIdentifier"]))
            action, days = code(best["disciplines"][0]["disciplineDescriptor"]), fmt_num(length(best))
        rows["incidents"].append([inc_id, usi, str(ref["schoolId"]),
                                  incidents[(ref["incidentIdentifier"], ref["schoolId"])]["incidentDate"],
                                  code(b["behaviorDescriptor"]), action, days])

    instructional = {"instructional day", "make-up day", "student late arrival/early dismissal"}
    for c in ds5["calendarDates"]:
        flag = any(code(e["calendarEventDescriptor"]).lower() in instructional for e in c["calendarEvents"])
        rows["calendar"].append([str(c["calendarReference"]["schoolId"]), c["date"], "true" if flag else "false"])

    keys = {"students": (0, 1, 5), "attendance": (0, 2, 3), "grades": (0, 2, 6), "incidents": (0, 1),
            "calendar": (0, 1)}
    for name, cols in keys.items():
        rows[name].sort(key=lambda row: tuple(row[i] for i in cols))
        seen = set()
        for row in rows[name]:
            k = tuple(row[i] for i in cols)
            if k in seen:
                raise SystemExit("%s.csv: duplicate key %r" % (name, k))
            seen.add(k)
    return rows


CSV_HEADERS = {
    "students": "student_id,school_id,grade_level,first_name,last_name,entry_date,exit_date",
    "attendance": "student_id,school_id,date,category,duration",
    "grades": "student_id,school_id,section_id,course_code,course_title,subject,grading_period,date,"
              "numeric_grade,letter_grade",
    "incidents": "incident_id,student_id,school_id,date,behavior,action,action_days",
    "calendar": "school_id,date,instructional",
}


# ---------------------------------------------------------------- checks

def check_references(ds5):
    def keys(resource, fn):
        return {fn(r) for r in ds5[resource]}
    students = keys("students", lambda r: r["studentUniqueId"])
    ssa = {}
    for r in ds5["studentSchoolAssociations"]:
        ssa.setdefault(r["studentReference"]["studentUniqueId"], set()).add(r["schoolReference"]["schoolId"])
    if set(ssa) != students:
        raise SystemExit("every student needs an enrollment, and only students")
    for res in ("studentSchoolAttendanceEvents", "studentSectionAssociations", "disciplineActions",
                "studentDisciplineIncidentBehaviorAssociations"):
        for r in ds5[res]:
            usi = r["studentReference"]["studentUniqueId"]
            sid = (r.get("schoolReference") or r.get("sectionReference") or r.get("responsibilitySchoolReference")
                   or r.get("disciplineIncidentReference"))["schoolId"]
            if sid not in ssa.get(usi, ()):
                raise SystemExit("%s: student %s not enrolled at %d" % (res, usi, sid))
    courses = keys("courses", lambda r: (r["courseCode"], r["educationOrganizationReference"]["educationOrganizationId"]))
    offerings = keys("courseOfferings", lambda r: (r["localCourseCode"], r["schoolReference"]["schoolId"],
                                                   r["sessionReference"]["schoolYear"],
                                                   r["sessionReference"]["sessionName"]))
    for r in ds5["courseOfferings"]:
        assert (r["courseReference"]["courseCode"], r["courseReference"]["educationOrganizationId"]) in courses
    sections = keys("sections", lambda r: tuple(sorted(dict(r["courseOfferingReference"],
                                                            sectionIdentifier=r["sectionIdentifier"]).items())))
    for r in ds5["sections"]:
        c = r["courseOfferingReference"]
        assert (c["localCourseCode"], c["schoolId"], c["schoolYear"], c["sessionName"]) in offerings
    sscas = set()
    for r in ds5["studentSectionAssociations"]:
        assert tuple(sorted(r["sectionReference"].items())) in sections
        sscas.add(tuple(sorted(dict(r["sectionReference"], beginDate=r["beginDate"],
                                    studentUniqueId=r["studentReference"]["studentUniqueId"]).items())))
    periods = keys("gradingPeriods", lambda r: (r["gradingPeriodDescriptor"], r["gradingPeriodName"],
                                                r["schoolReference"]["schoolId"],
                                                r["schoolYearTypeReference"]["schoolYear"]))
    for r in ds5["grades"]:
        p = r["gradingPeriodReference"]
        assert (p["gradingPeriodDescriptor"], p["gradingPeriodName"], p["schoolId"], p["schoolYear"]) in periods
        assert tuple(sorted(r["studentSectionAssociationReference"].items())) in sscas
    incidents = keys("disciplineIncidents", lambda r: (r["incidentIdentifier"], r["schoolReference"]["schoolId"]))
    sdibas = set()
    for r in ds5["studentDisciplineIncidentBehaviorAssociations"]:
        ref = r["disciplineIncidentReference"]
        assert (ref["incidentIdentifier"], ref["schoolId"]) in incidents
        sdibas.add((r["behaviorDescriptor"], ref["incidentIdentifier"], ref["schoolId"],
                    r["studentReference"]["studentUniqueId"]))
    for r in ds5["disciplineActions"]:
        for x in r.get("studentDisciplineIncidentBehaviorAssociations", []):
            x = x["studentDisciplineIncidentBehaviorAssociationReference"]
            assert (x["behaviorDescriptor"], x["incidentIdentifier"], x["schoolId"], x["studentUniqueId"]) in sdibas


def check_values(ds5, notes):
    allowed = {
        "attendance category": ({"In Attendance", "Excused Absence", "Unexcused Absence", "Tardy",
                                 "Early departure", "Partial"},
                                [e["attendanceEventCategoryDescriptor"] for e in ds5["studentSchoolAttendanceEvents"]]),
        "behavior": ({"State Offense", "School Code of Conduct", "School Violation", "Other"},
                     [b["behaviorDescriptor"] for b in ds5["studentDisciplineIncidentBehaviorAssociations"]]),
    }
    for what, (ok, values) in allowed.items():
        bad = sorted({code(v) for v in values} - ok)
        if bad:
            notes.append("%s code values outside ewsd's list: %s" % (what, ", ".join(bad)))


class SchemaChecker:
    """Checks records against components.schemas of an Ed-Fi OpenAPI specification."""

    def __init__(self, path):
        import yaml  # only here: the conversion itself needs the standard library only
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with open(path) as f:
            self.schemas = yaml.load(f, Loader=loader)["components"]["schemas"]

    def check(self, resource, records):
        name = "edFi_" + resource[:-1]
        for r in records:
            self.value(self.schemas[name], r, "%s[%s]" % (resource, r.get("id")))

    def value(self, schema, v, where):
        if "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[1]]
        kind = schema.get("type", "object")
        if kind == "object":
            if not isinstance(v, dict):
                raise SystemExit("%s: not an object" % where)
            props = schema.get("properties", {})
            for p in schema.get("required", []):
                if p not in v:
                    raise SystemExit("%s: missing %s" % (where, p))
            for p, item in v.items():
                if p not in props or p in ("link", "_etag"):
                    raise SystemExit("%s: unknown property %s" % (where, p))
                self.value(props[p], item, where + "." + p)
        elif kind == "array":
            if not isinstance(v, list) or not v:
                raise SystemExit("%s: not a non-empty array" % where)
            for i, item in enumerate(v):
                self.value(schema["items"], item, "%s[%d]" % (where, i))
        elif kind == "string":
            if not isinstance(v, str) or len(v) > schema.get("maxLength", 1 << 30):
                raise SystemExit("%s: bad string %r" % (where, v))
            if schema.get("format") == "date":
                dt.date.fromisoformat(v)
        elif kind == "integer":
            if not isinstance(v, int) or isinstance(v, bool):
                raise SystemExit("%s: not an integer" % where)
        elif kind == "number":
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise SystemExit("%s: not a number" % where)
        elif kind == "boolean":
            if not isinstance(v, bool):
                raise SystemExit("%s: not a boolean" % where)


# ---------------------------------------------------------------- output

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.islink(path):
        os.remove(path)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(data)


def json_array(records):
    """One record per line: small, and diffs stay readable."""
    lines = [json.dumps(r, separators=(",", ":"), ensure_ascii=False) for r in records]
    return "[\n" + ",\n".join(lines) + "\n]\n"


def csv_text(header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        w.writerow(row)
    return header + "\n" + buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--xml-dir", default=DEFAULT_XML)
    ap.add_argument("--spec-dir", default=DEFAULT_SPEC)
    args = ap.parse_args()

    d = District(args.xml_dir)
    ssas, first = enrollments(d)
    ssecas, absences = section_associations(d, first)
    raw = {
        "students": d.students,
        "studentSchoolAssociations": ssas,
        "studentSchoolAttendanceEvents": d.attendance,
        "courses": d.courses,
        "courseOfferings": list(d.offerings.values()),
        "sections": d.sections,
        "studentSectionAssociations": ssecas,
        "gradingPeriods": d.grading_periods,
        "grades": grades(d, ssecas, absences),
        "disciplineIncidents": d.incidents,
        "studentDisciplineIncidentBehaviorAssociations": d.behavior_associations,
        "disciplineActions": d.actions,
        "calendarDates": calendar_dates(d),
    }
    ds5 = {res: with_id(res, raw[res]) for res in RESOURCES}
    check_references(ds5)
    check_values(ds5, d.notes)
    seq = {(g["schoolReference"]["schoolId"], g["gradingPeriodDescriptor"], g["gradingPeriodName"]):
           g["periodSequence"] for g in ds5["gradingPeriods"]}
    ds4 = {res: [to_ds4(res, r, seq) for r in ds5[res]] for res in RESOURCES}

    try:
        for version, data in (("5.0", ds5), ("4.0", ds4)):
            checker = SchemaChecker(os.path.join(args.spec_dir, "resources-ds-%s.yaml" % version))
            for res in RESOURCES:
                checker.check(res, data[res])
    except ImportError:
        print("PyYAML not installed: records not checked against the schemas", file=sys.stderr)

    for res in RESOURCES:
        text5, text4 = json_array(ds5[res]), json_array(ds4[res])
        write(os.path.join(HERE, "ds5", res + ".json"), text5)
        path4 = os.path.join(HERE, "ds4", res + ".json")
        if text4 == text5:
            # Identical in both standards: a symbolic link keeps the fixtures small.
            if os.path.lexists(path4):
                os.remove(path4)
            os.symlink(os.path.join("..", "ds5", res + ".json"), path4)
        else:
            write(path4, text4)
    rows = csv_rows(ds5)
    for name, header in CSV_HEADERS.items():
        write(os.path.join(HERE, "csv", name + ".csv"), csv_text(header, rows[name]))

    for res in RESOURCES:
        print("%-46s %6d" % (res, len(ds5[res])))
    for name in CSV_HEADERS:
        print("csv/%-42s %6d" % (name + ".csv", len(rows[name])))
    for note in d.notes:
        print("note:", note)


if __name__ == "__main__":
    main()
