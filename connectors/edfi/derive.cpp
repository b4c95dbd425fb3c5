#include "connectors/edfi/derive.hpp"

#include "connectors/edfi/resources.hpp"
#include "core/descriptors.hpp"
#include "store/edfi_staging.hpp"
#include "store/file_load.hpp"
#include "util/log.hpp"

#include <SQLiteCpp/Exception.h>
#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

namespace ewsd::connectors::edfi {

namespace {

using nlohmann::json;
using store::RecordKind;

// Quarantined records logged one by one per derivation; the rest are summed up.
constexpr std::int64_t max_logged = 10;

std::string str(const json& body, const char* key) {
    const auto it = body.find(key);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Derives the rows of one kind, scope by scope, into one FileLoad.
class Deriver {
public:
    Deriver(store::Database& db, const core::FeedConfig& feed, store::FileLoad& load)
        : m_feed(feed), m_load(load), m_reader(db, feed.name) {}

    void derive(RecordKind kind, const std::string& scope) {
        switch (kind) {
        case RecordKind::students:
            return enrollments(scope);
        case RecordKind::attendance:
            return attendance(scope);
        case RecordKind::grades:
            return grades(scope);
        case RecordKind::incidents:
            return incidents(scope);
        case RecordKind::calendar:
            return calendar(scope);
        }
    }

    // Every scope of a kind, streamed from the staging area (which a
    // derivation only reads), so that memory does not grow with the district.
    void each_scope(RecordKind kind, const std::function<bool(const std::string&)>& fn) {
        m_reader.each_lookup(primary_resource(kind), fn);
    }

private:
    void quarantine(const char* resource, const std::string& id, const std::string& reason) {
        const std::string message = std::string(resource) + " " + id + ": " + reason;
        m_load.quarantine(0, 0, message);
        if (m_load.counts().quarantined <= max_logged) {
            util::log::warning("feed " + m_feed.name + ": record quarantined: " + message);
        }
    }

    // A code through the feed's local map, then the Ed-Fi vocabulary.
    std::optional<std::string> code(const char* resource, const std::string& id,
                                    const std::string& value, const char* field,
                                    const core::CodeMap& map, const core::Vocabulary& vocabulary,
                                    const char* map_key) {
        // A district's own descriptor (uri://district.example/...#ABS) maps by
        // its code value, like a CSV feed's local code.
        if (auto canonical = core::resolve_code(map, vocabulary, code_value(value))) {
            return canonical;
        }
        quarantine(resource, id,
                   "unknown " + std::string(field) + " '" + value + "' (expected an Ed-Fi " +
                       vocabulary.descriptor() +
                       " code value, or a local code listed in the "
                       "feed's " +
                       map_key + ")");
        return std::nullopt;
    }

    // A reference record by its natural key, read once per derivation.
    const json* reference(const char* resource, const std::string& key) {
        auto& cache = m_refs[resource];
        auto it = cache.find(key);
        if (it == cache.end()) {
            const auto rows = m_reader.by_lookup(resource, key);
            std::optional<json> body;
            if (!rows.empty()) {
                body = json::parse(rows.front().body);
            }
            it = cache.emplace(key, std::move(body)).first;
        }
        return it->second ? &*it->second : nullptr;
    }

    void enrollments(const std::string& student) {
        const auto names = m_reader.by_lookup("students", student);
        json person = names.empty() ? json::object() : json::parse(names.front().body);
        for (const auto& r : m_reader.by_lookup("studentSchoolAssociations", student)) {
            const json b = json::parse(r.body);
            store::Enrollment e;
            e.student_id = student;
            e.school_id = str(b, "school");
            const auto grade = core::parse_grade_level(str(b, "grade"));
            if (!grade) {
                quarantine("studentSchoolAssociations", r.id,
                           "entryGradeLevelDescriptor '" + str(b, "grade") +
                               "' is not a grade level");
                continue;
            }
            e.grade_level = *grade;
            e.first_name = str(person, "first");
            e.last_name = str(person, "last");
            e.entry_date = str(b, "entry");
            e.exit_date = str(b, "exit");
            if (!e.exit_date.empty() && e.exit_date < e.entry_date) {
                quarantine("studentSchoolAssociations", r.id,
                           "exitWithdrawDate " + e.exit_date + " is before entryDate " +
                               e.entry_date);
                continue;
            }
            m_load.put(e);
        }
    }

    void attendance(const std::string& student) {
        for (const auto& r : m_reader.by_lookup("studentSchoolAttendanceEvents", student)) {
            const json b = json::parse(r.body);
            store::AttendanceEvent e;
            e.student_id = student;
            e.school_id = str(b, "school");
            e.date = str(b, "date");
            auto category = code("studentSchoolAttendanceEvents", r.id, str(b, "category"),
                                 "attendanceEventCategoryDescriptor", m_feed.category_map,
                                 core::attendance_categories(), "category_map");
            if (!category) {
                continue;
            }
            e.category = std::move(*category);
            e.duration = b.value("duration", 1.0);
            if (e.duration < 0 || e.duration > 1) {
                quarantine("studentSchoolAttendanceEvents", r.id,
                           "eventDuration is not a number from 0 to 1");
                continue;
            }
            m_load.put(e);
        }
    }

    void grades(const std::string& student) {
        for (const auto& r : m_reader.by_lookup("grades", student)) {
            const json b = json::parse(r.body);
            const json* offering = reference("courseOfferings", str(b, "offering"));
            if (offering == nullptr) {
                quarantine("grades", r.id,
                           "its course offering (" + str(b, "offering") + ") was not found");
                continue;
            }
            const json* course = reference("courses", str(*offering, "course"));
            if (course == nullptr) {
                quarantine("grades", r.id,
                           "its course (" + str(*offering, "course") + ") was not found");
                continue;
            }
            const json* period = reference("gradingPeriods", str(b, "period"));
            if (period == nullptr) {
                quarantine("grades", r.id,
                           "its grading period (" + str(b, "period") + ") was not found");
                continue;
            }
            store::Grade g;
            g.student_id = student;
            g.school_id = str(b, "school");
            g.section_id = str(b, "section");
            g.course_code = str(*offering, "code");
            g.course_title = str(*offering, "title");
            if (g.course_title.empty()) {
                g.course_title = str(*course, "title");
            }
            if (str(*course, "subject").empty()) {
                quarantine("grades", r.id,
                           "its course " + g.course_code + " has no academic subject");
                continue;
            }
            auto subject =
                code("grades", r.id, str(*course, "subject"), "academicSubjectDescriptor",
                     m_feed.subject_map, core::academic_subjects(), "subject_map");
            if (!subject) {
                continue;
            }
            g.subject = std::move(*subject);
            g.grading_period = str(*period, "name");
            g.date = str(b, "as_of");
            if (g.date.empty()) {
                g.date = str(*period, "end");
            }
            if (b.contains("numeric")) {
                const double n = b["numeric"].get<double>();
                if (n < 0 || n > 200) {
                    quarantine("grades", r.id, "numericGradeEarned is not a number from 0 to 200");
                    continue;
                }
                g.numeric_grade = n;
            }
            g.letter_grade = str(b, "letter");
            if (!g.numeric_grade && g.letter_grade.empty()) {
                quarantine("grades", r.id,
                           "numericGradeEarned and letterGradeEarned are both empty");
                continue;
            }
            m_load.put(g);
        }
    }

    static int severity(const std::string& behavior) {
        const auto& values = core::behaviors().values();
        const auto it = std::find(values.begin(), values.end(), behavior);
        return static_cast<int>(it - values.begin());
    }

    void incidents(const std::string& student) {
        // One row per incident: the student's gravest behavior in it, and the
        // longest action answering it.
        std::map<std::string, store::Incident> rows;
        for (const auto& r :
             m_reader.by_lookup("studentDisciplineIncidentBehaviorAssociations", student)) {
            const json b = json::parse(r.body);
            const char* resource = "studentDisciplineIncidentBehaviorAssociations";
            const json* incident = reference("disciplineIncidents", str(b, "incident"));
            if (incident == nullptr) {
                quarantine(resource, r.id,
                           "its discipline incident (" + str(b, "incident") + ") was not found");
                continue;
            }
            auto behavior = code(resource, r.id, str(b, "behavior"), "behaviorDescriptor",
                                 m_feed.behavior_map, core::behaviors(), "behavior_map");
            if (!behavior) {
                continue;
            }
            const auto it = rows.find(str(b, "incident"));
            if (it != rows.end() && severity(it->second.behavior) <= severity(*behavior)) {
                continue;
            }
            store::Incident i;
            i.incident_id = str(b, "incident_id");
            i.student_id = student;
            i.school_id = str(b, "school");
            i.date = str(*incident, "date");
            i.behavior = std::move(*behavior);
            rows[str(b, "incident")] = std::move(i);
        }
        std::map<std::string, std::pair<double, std::string>> chosen; // incident -> days, ident
        for (const auto& r : m_reader.by_lookup("disciplineActions", student)) {
            const json b = json::parse(r.body);
            const double days = b.value("days", 0.0);
            const std::string ident = str(b, "ident");
            for (const auto& key : b.value("incidents", json::array())) {
                const auto row = rows.find(key.get<std::string>());
                if (row == rows.end()) {
                    continue;
                }
                const auto prior = chosen.find(row->first);
                if (prior != chosen.end() &&
                    (prior->second.first > days ||
                     (prior->second.first == days && prior->second.second <= ident))) {
                    continue;
                }
                auto action =
                    code("disciplineActions", r.id, str(b, "action"), "disciplineDescriptor",
                         m_feed.action_map, core::discipline_actions(), "action_map");
                if (!action) {
                    continue;
                }
                row->second.action = std::move(*action);
                row->second.action_days = days;
                chosen[row->first] = {days, ident};
            }
        }
        for (const auto& [key, row] : rows) {
            m_load.put(row);
        }
    }

    void calendar(const std::string& school) {
        std::map<std::string, bool> days; // a day is instructional if any calendar says so
        for (const auto& r : m_reader.by_lookup("calendarDates", school)) {
            const json b = json::parse(r.body);
            bool& instructional = days[str(b, "date")];
            instructional = instructional || b.value("instructional", false);
        }
        for (const auto& [date, instructional] : days) {
            m_load.put(store::CalendarDay{school, date, instructional});
        }
    }

    const core::FeedConfig& m_feed;
    store::FileLoad& m_load;
    store::StagingReader m_reader;
    std::map<std::string, std::map<std::string, std::optional<json>>> m_refs;
};

constexpr RecordKind derive_order[] = {RecordKind::calendar, RecordKind::students,
                                       RecordKind::attendance, RecordKind::grades,
                                       RecordKind::incidents};

} // namespace

std::string derived_source(store::RecordKind kind) {
    return std::string("store.") + store::to_string(kind);
}

std::vector<LoadReport> derive_pending(store::Database& db, const core::FeedConfig& feed,
                                       const PollOptions& options) {
    std::vector<LoadReport> reports;
    const auto kinds = store::pending_kinds(db, feed.name);
    for (const RecordKind kind : derive_order) {
        const std::string name = store::to_string(kind);
        if (kinds.count(name) == 0) {
            continue;
        }
        // Named apart from the resource of the same name ("students").
        const std::string source = derived_source(kind);
        LoadReport report{feed.name, source, LoadReport::Status::failed, {}, {}};
        try {
            const auto pending = store::pending_scopes(db, feed.name, name);
            const bool all = std::find(pending.begin(), pending.end(), "*") != pending.end();
            store::FileLoad load(db, feed.name, source, kind, all);
            Deriver deriver(db, feed, load);
            std::size_t scopes = 0;
            bool stopped = false;
            const auto derive = [&](const std::string& scope) {
                if (options.stop != nullptr && (++scopes & 255) == 0 && options.stop->load()) {
                    stopped = true;
                    return false;
                }
                deriver.derive(kind, scope);
                if (!all) {
                    load.replace_scope(scope);
                }
                return true;
            };
            if (all) {
                deriver.each_scope(kind, derive);
            } else {
                for (const auto& scope : pending) {
                    if (!derive(scope)) {
                        break;
                    }
                }
            }
            if (stopped) {
                load.rollback();
                report.status = LoadReport::Status::waiting;
                report.message = "stopped: ewsd is shutting down; derived again next time";
                reports.push_back(std::move(report));
                break;
            }
            store::clear_pending(db, feed.name, name);
            store::FileFingerprint fingerprint;
            fingerprint.size = static_cast<std::int64_t>(scopes);
            report.counts = load.commit(fingerprint);
            report.status = LoadReport::Status::loaded;
            const auto& c = report.counts;
            if (c.quarantined > max_logged) {
                util::log::warning("feed " + feed.name + ": " +
                                   std::to_string(c.quarantined - max_logged) +
                                   " more records quarantined (see `ewsd feeds errors`)");
            }
            util::log::info("feed " + feed.name + ": " + source + ": derived " +
                            std::to_string(c.read) + " rows for " + std::to_string(scopes) +
                            (kind == RecordKind::calendar ? " schools: " : " students: ") +
                            std::to_string(c.inserted) + " new, " + std::to_string(c.updated) +
                            " updated, " + std::to_string(c.unchanged) + " unchanged, " +
                            std::to_string(c.removed) + " removed, " +
                            std::to_string(c.quarantined) + " quarantined");
        } catch (const SQLite::Exception& e) {
            report.message = std::string("database error: ") + e.what();
            util::log::error("feed " + feed.name + ": " + source + ": " + report.message);
        } catch (const nlohmann::json::exception& e) {
            report.message = std::string("staged record unreadable: ") + e.what();
            util::log::error("feed " + feed.name + ": " + source + ": " + report.message);
        }
        reports.push_back(std::move(report));
    }
    return reports;
}

} // namespace ewsd::connectors::edfi
