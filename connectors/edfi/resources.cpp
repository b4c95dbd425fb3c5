#include "connectors/edfi/resources.hpp"

#include "util/date.hpp"
#include "util/text.hpp"

#include <nlohmann/json.hpp>
#include <optional>

namespace ewsd::connectors::edfi {

namespace {

using nlohmann::json;
using store::RecordKind;
using Scope = Resource::Scope;

// Reads the fields of one record; the first missing or malformed required
// field is kept as the problem.
class Fields {
public:
    explicit Fields(const json& item) : m_item(item) {}

    // A string or integer at `path` ("schoolReference.schoolId"), as text.
    std::string text(const char* path, bool required = true) {
        const json* v = find(path);
        if (v != nullptr && v->is_string()) {
            return v->get<std::string>();
        }
        if (v != nullptr && v->is_number_integer()) {
            return std::to_string(v->get<long long>());
        }
        if (required || (v != nullptr && !v->is_null())) {
            fail(path, v == nullptr || v->is_null() ? "is missing" : "is not a string");
        }
        return {};
    }

    std::string date(const char* path, bool required = true) {
        std::string d = text(path, required);
        if (!d.empty() && !util::parse_iso_date(d)) {
            fail(path, "'" + d + "' is not a date as YYYY-MM-DD");
            d.clear();
        }
        return d;
    }

    std::optional<double> number(const char* path) {
        const json* v = find(path);
        if (v == nullptr || v->is_null()) {
            return std::nullopt;
        }
        if (!v->is_number()) {
            fail(path, "is not a number");
            return std::nullopt;
        }
        return v->get<double>();
    }

    [[nodiscard]] const json* find(const char* path) const {
        const json* v = &m_item;
        std::string_view rest(path);
        while (!rest.empty()) {
            const auto dot = rest.find('.');
            const std::string part(rest.substr(0, dot));
            rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
            if (!v->is_object()) {
                return nullptr;
            }
            const auto it = v->find(part);
            if (it == v->end()) {
                return nullptr;
            }
            v = &*it;
        }
        return v;
    }

    void fail(const std::string& path, const std::string& what) {
        if (m_problem.empty()) {
            m_problem = path + " " + what;
        }
    }
    [[nodiscard]] const std::string& problem() const { return m_problem; }

private:
    const json& m_item;
    std::string m_problem;
};

bool in_year(const Filter& filter, const std::string& year) {
    return year.empty() || filter.school_year == 0 || year == std::to_string(filter.school_year);
}

bool in_schools(const Filter& filter, const std::string& school) {
    return filter.schools.empty() || filter.schools.count(school) > 0;
}

bool instructional_event(const std::string& descriptor) {
    const std::string code = util::to_lower_ascii(code_value(descriptor));
    return code == "instructional day" || code == "make-up day" ||
           code == "student late arrival/early dismissal";
}

// The keys of records others refer to, built the same way on both sides.
std::string incident_key(Fields& f, const char* prefix) {
    const std::string p(prefix);
    return join_key(
        {f.text((p + ".schoolId").c_str()), f.text((p + ".incidentIdentifier").c_str())});
}

std::string period_key(Fields& f, const std::string& descriptor, const char* name_path,
                       const std::string& school, const std::string& year) {
    return join_key(
        {util::to_lower_ascii(code_value(descriptor)), f.text(name_path), school, year});
}

json reduce(const Resource& r, Fields& f, const Filter& filter, std::string& lookup, bool& keep) {
    const std::string name = r.name;
    const bool ds4 = filter.data_standard == 4;
    json body = json::object();
    keep = true;
    if (name == "students") {
        lookup = f.text("studentUniqueId");
        body["first"] = f.text("firstName", false);
        body["last"] = f.text("lastSurname", false);
    } else if (name == "studentSchoolAssociations") {
        lookup = f.text("studentReference.studentUniqueId");
        body["school"] = f.text("schoolReference.schoolId");
        body["entry"] = f.date("entryDate");
        body["exit"] = f.date("exitWithdrawDate", false);
        body["grade"] = f.text("entryGradeLevelDescriptor");
        keep = in_schools(filter, body["school"]) &&
               in_year(filter, f.text("schoolYearTypeReference.schoolYear", false));
    } else if (name == "studentSchoolAttendanceEvents") {
        lookup = f.text("studentReference.studentUniqueId");
        body["school"] = f.text("schoolReference.schoolId");
        body["date"] = f.date("eventDate");
        body["category"] = f.text("attendanceEventCategoryDescriptor");
        if (auto d = f.number("eventDuration")) {
            body["duration"] = *d;
        }
        keep = in_schools(filter, body["school"]) &&
               in_year(filter, f.text("sessionReference.schoolYear", false));
    } else if (name == "courses") {
        lookup = join_key({f.text("courseCode"), f.text("educationOrganizationReference."
                                                        "educationOrganizationId")});
        body["title"] = f.text("courseTitle", false);
        std::string subject;
        if (ds4) {
            subject = f.text("academicSubjectDescriptor", false);
        } else if (const json* subjects = f.find("academicSubjects");
                   subjects != nullptr && subjects->is_array() && !subjects->empty() &&
                   (*subjects)[0].is_object()) {
            subject = (*subjects)[0].value("academicSubjectDescriptor", "");
        }
        body["subject"] = subject;
    } else if (name == "courseOfferings") {
        const std::string school = f.text("schoolReference.schoolId");
        const std::string year = f.text("sessionReference.schoolYear");
        lookup = join_key(
            {f.text("localCourseCode"), school, year, f.text("sessionReference.sessionName")});
        body["code"] = f.text("courseReference.courseCode");
        body["course"] =
            join_key({body["code"], f.text("courseReference.educationOrganizationId")});
        body["title"] = f.text("localCourseTitle", false);
        keep = in_schools(filter, school) && in_year(filter, year);
    } else if (name == "gradingPeriods") {
        const std::string school = f.text("schoolReference.schoolId");
        const std::string year = f.text("schoolYearTypeReference.schoolYear");
        const std::string descriptor = f.text("gradingPeriodDescriptor");
        const char* name_path = ds4 ? "periodSequence" : "gradingPeriodName";
        lookup = period_key(f, descriptor, name_path, school, year);
        body["name"] = ds4 ? code_value(descriptor) : f.text("gradingPeriodName");
        body["end"] = f.date("endDate");
        keep = in_schools(filter, school) && in_year(filter, year);
    } else if (name == "grades") {
        const char* ssa = "studentSectionAssociationReference";
        const std::string p(ssa);
        const auto at = [&](const char* field) { return f.text((p + "." + field).c_str()); };
        lookup = at("studentUniqueId");
        const std::string school = at("schoolId");
        const std::string year = at("schoolYear");
        body["school"] = school;
        body["section"] = at("sectionIdentifier");
        body["offering"] = join_key({at("localCourseCode"), school, year, at("sessionName")});
        const std::string descriptor = f.text("gradingPeriodReference.gradingPeriodDescriptor");
        const char* name_path = ds4 ? "gradingPeriodReference.periodSequence"
                                    : "gradingPeriodReference.gradingPeriodName";
        body["period"] =
            period_key(f, descriptor, name_path, f.text("gradingPeriodReference.schoolId"),
                       f.text("gradingPeriodReference.schoolYear"));
        body["as_of"] = f.date("currentGradeAsOfDate", false);
        if (auto n = f.number("numericGradeEarned")) {
            body["numeric"] = *n;
        }
        body["letter"] = f.text("letterGradeEarned", false);
        const std::string type = util::to_lower_ascii(code_value(f.text("gradeTypeDescriptor")));
        keep = in_schools(filter, school) && in_year(filter, year) &&
               (filter.grade_types.empty() || filter.grade_types.count(type) > 0);
    } else if (name == "disciplineIncidents") {
        const std::string school = f.text("schoolReference.schoolId");
        lookup = join_key({school, f.text("incidentIdentifier")});
        body["date"] = f.date("incidentDate");
        keep = in_schools(filter, school);
    } else if (name == "studentDisciplineIncidentBehaviorAssociations") {
        lookup = f.text("studentReference.studentUniqueId");
        const std::string school = f.text("disciplineIncidentReference.schoolId");
        body["incident"] = incident_key(f, "disciplineIncidentReference");
        body["incident_id"] = f.text("disciplineIncidentReference.incidentIdentifier");
        body["school"] = school;
        body["behavior"] = f.text("behaviorDescriptor");
        keep = in_schools(filter, school);
    } else if (name == "disciplineActions") {
        lookup = f.text("studentReference.studentUniqueId");
        body["ident"] = f.text("disciplineActionIdentifier");
        std::string action;
        if (const json* d = f.find("disciplines");
            d != nullptr && d->is_array() && !d->empty() && (*d)[0].is_object()) {
            action = (*d)[0].value("disciplineDescriptor", "");
        }
        if (action.empty()) {
            f.fail("disciplines", "is missing or empty");
        }
        body["action"] = action;
        if (auto days = f.number("actualDisciplineActionLength")) {
            body["days"] = *days;
        } else if (auto planned = f.number("disciplineActionLength")) {
            body["days"] = *planned;
        }
        // The incidents it answers: through the student's behavior in each
        // (Data Standard 4 and 5) or the older student-incident association (4).
        json incidents = json::array();
        for (const auto& [array, ref] :
             {std::pair{"studentDisciplineIncidentBehaviorAssociations",
                        "studentDisciplineIncidentBehaviorAssociationReference"},
              std::pair{"studentDisciplineIncidentAssociations",
                        "studentDisciplineIncidentAssociationReference"}}) {
            const json* links = f.find(array);
            if (links == nullptr || !links->is_array()) {
                continue;
            }
            for (const auto& link : *links) {
                Fields l(link);
                const std::string p(ref);
                const std::string key = join_key({l.text((p + ".schoolId").c_str()),
                                                  l.text((p + ".incidentIdentifier").c_str())});
                if (l.problem().empty()) {
                    incidents.push_back(key);
                }
            }
        }
        body["incidents"] = incidents;
        keep = in_schools(filter, f.text("responsibilitySchoolReference.schoolId"));
    } else if (name == "calendarDates") {
        const std::string school = f.text("calendarReference.schoolId");
        lookup = school;
        body["date"] = f.date("date");
        bool instructional = false;
        if (const json* events = f.find("calendarEvents");
            events != nullptr && events->is_array()) {
            for (const auto& e : *events) {
                if (e.is_object() && instructional_event(e.value("calendarEventDescriptor", ""))) {
                    instructional = true;
                }
            }
        }
        body["instructional"] = instructional;
        keep =
            in_schools(filter, school) && in_year(filter, f.text("calendarReference.schoolYear"));
    }
    return body;
}

} // namespace

const std::vector<Resource>& resources() {
    static const std::vector<Resource> list{
        {"calendarDates", RecordKind::calendar, Scope::school},
        {"students", RecordKind::students, Scope::student},
        {"studentSchoolAssociations", RecordKind::students, Scope::student},
        {"studentSchoolAttendanceEvents", RecordKind::attendance, Scope::student},
        {"courses", RecordKind::grades, Scope::all},
        {"courseOfferings", RecordKind::grades, Scope::all},
        {"gradingPeriods", RecordKind::grades, Scope::all},
        {"grades", RecordKind::grades, Scope::student},
        {"disciplineIncidents", RecordKind::incidents, Scope::all},
        {"studentDisciplineIncidentBehaviorAssociations", RecordKind::incidents, Scope::student},
        {"disciplineActions", RecordKind::incidents, Scope::student},
    };
    return list;
}

const char* primary_resource(RecordKind kind) {
    switch (kind) {
    case RecordKind::students:
        return "studentSchoolAssociations";
    case RecordKind::attendance:
        return "studentSchoolAttendanceEvents";
    case RecordKind::grades:
        return "grades";
    case RecordKind::incidents:
        return "studentDisciplineIncidentBehaviorAssociations";
    case RecordKind::calendar:
        return "calendarDates";
    }
    return "";
}

std::string code_value(const std::string& descriptor) {
    const auto hash = descriptor.rfind('#');
    return hash == std::string::npos ? descriptor : descriptor.substr(hash + 1);
}

std::string join_key(std::initializer_list<std::string> parts) {
    std::string key;
    for (const auto& p : parts) {
        if (!key.empty()) {
            key += '|';
        }
        key += p;
    }
    return key;
}

Extracted extract(const Resource& resource, const nlohmann::json& item, const Filter& filter) {
    Extracted out;
    if (!item.is_object()) {
        out.problem = "the record is not a JSON object";
        return out;
    }
    Fields f(item);
    out.record.id = f.text("id");
    bool keep = true;
    const json body = reduce(resource, f, filter, out.record.lookup, keep);
    if (!f.problem().empty()) {
        out.problem = f.problem();
        return out;
    }
    if (out.record.lookup.empty()) {
        out.problem = "the record's key is empty";
        return out;
    }
    out.record.body = body.dump();
    out.status = keep ? Extracted::Status::staged : Extracted::Status::filtered;
    return out;
}

store::PendingScope pending_for(const Resource& resource, const store::StagedRecord& record) {
    const std::string kind = store::to_string(resource.kind);
    switch (resource.scope) {
    case Scope::student:
    case Scope::school:
        return {kind, record.lookup};
    case Scope::all:
        break;
    }
    return {kind, "*"};
}

} // namespace ewsd::connectors::edfi
