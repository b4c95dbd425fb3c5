#include "rules/rule_test.hpp"

#include "core/yaml_reader.hpp"
#include "rules/evaluator.hpp"
#include "rules/rule_set.hpp"
#include "util/date.hpp"

#include <fstream>
#include <map>
#include <numeric>
#include <ostream>
#include <set>
#include <sstream>

namespace ewsd::rules {

namespace {

const std::vector<std::string> file_keys{"rule_files", "school_year_start", "pass_mark", "students",
                                         "tests"};
const std::vector<std::string> student_keys{"id",     "school",     "grade",    "entry",
                                            "exit",   "attributes", "absences", "tardies",
                                            "grades", "incidents"};

struct Fixture {
    std::vector<store::StudentData> students;
    std::vector<std::pair<int, std::set<std::pair<std::string, std::string>>>> cases;
    std::vector<int> case_lines;
    MetricSettings settings;
    double pass_mark = 65;
    std::vector<std::filesystem::path> rule_files;
};

int day_of(core::YamlReader& reader, const YAML::Node& node) {
    auto date = reader.date(node);
    return date ? util::to_day_number(*date) : 0;
}

void read_student(core::YamlReader& reader, const YAML::Node& node, int year_start,
                  Fixture& fixture) {
    if (!reader.check_map(node, "a student", student_keys) || !reader.require(node, "id")) {
        return;
    }
    store::StudentData s;
    s.student_id = reader.string(node["id"]).value_or("");
    const std::string school = node["school"] ? reader.string(node["school"]).value_or("") : "1";
    const int grade =
        node["grade"] ? static_cast<int>(reader.integer(node["grade"], -1, 13).value_or(0)) : 9;
    const int entry = node["entry"] ? day_of(reader, node["entry"]) : year_start;
    const int exit = node["exit"] ? day_of(reader, node["exit"]) : store::still_enrolled;
    s.enrollments.push_back({school, entry, exit, grade});
    for (const auto& a : node["attributes"]) {
        s.attributes[a.first.Scalar()] = reader.string(a.second).value_or("");
    }
    // absences: [2025-09-01, {date: 2025-09-02, duration: 0.5, category: Excused Absence}]
    for (const auto& a : node["absences"]) {
        if (a.IsMap()) {
            const double duration =
                a["duration"] ? reader.number(a["duration"], 0, 1, "a duration").value_or(0) : 1.0;
            s.attendance.push_back(
                {day_of(reader, a["date"]),
                 a["category"] ? reader.string(a["category"]).value_or("") : "Unexcused Absence",
                 duration});
        } else {
            s.attendance.push_back({day_of(reader, a), "Unexcused Absence", 1});
        }
    }
    for (const auto& t : node["tardies"]) {
        s.attendance.push_back({day_of(reader, t), "Tardy", 1});
    }
    // grades: [{section: M1, subject: Mathematics, period: P1, date: ..., numeric: 50, letter: F}]
    for (const auto& g : node["grades"]) {
        store::GradeRow row;
        row.section_id = reader.string(g["section"]).value_or("");
        row.school_id = school;
        row.subject = g["subject"] ? reader.string(g["subject"]).value_or("") : "";
        row.course_code = g["course"] ? reader.string(g["course"]).value_or("") : row.section_id;
        row.grading_period = reader.string(g["period"]).value_or("");
        row.day = day_of(reader, g["date"]);
        if (g["numeric"]) {
            row.numeric = reader.number(g["numeric"], 0, 200, "a numeric grade").value_or(0);
        }
        row.letter = g["letter"] ? reader.string(g["letter"]).value_or("") : "";
        s.grades.push_back(std::move(row));
    }
    // incidents: [{id: I1, date: ..., behavior: State Offense, action: ..., days: 3}]
    for (const auto& i : node["incidents"]) {
        store::IncidentRow row;
        row.incident_id = reader.string(i["id"]).value_or("");
        row.day = day_of(reader, i["date"]);
        row.behavior = i["behavior"] ? reader.string(i["behavior"]).value_or("") : "Other";
        row.action = i["action"] ? reader.string(i["action"]).value_or("") : "";
        row.action_days =
            i["days"] ? static_cast<double>(reader.integer(i["days"], 0, 366).value_or(0)) : 0;
        s.incidents.push_back(std::move(row));
    }
    store::sort_rows(s);
    fixture.students.push_back(std::move(s));
}

std::optional<Fixture> read_fixture(const std::filesystem::path& file,
                                    util::Diagnostics& diagnostics) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        diagnostics.error(file.string(), 0, 0, "cannot read the test file");
        return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    core::YamlReader reader(file.string(), diagnostics);
    auto root = reader.parse(text.str());
    if (!root || !reader.check_map(*root, "a rule test file", file_keys)) {
        return std::nullopt;
    }
    const YAML::Node& doc = *root;
    Fixture fixture;
    if (!reader.require(doc, "rule_files") || !reader.require(doc, "school_year_start") ||
        !reader.require(doc, "tests")) {
        return std::nullopt;
    }
    for (const auto& f : doc["rule_files"]) {
        if (auto p = reader.path(f)) {
            fixture.rule_files.push_back(*p);
        }
    }
    const int year_start = day_of(reader, doc["school_year_start"]);
    fixture.settings.school_year_start = year_start;
    if (doc["pass_mark"]) {
        fixture.pass_mark =
            static_cast<double>(reader.integer(doc["pass_mark"], 0, 200).value_or(65));
    }
    fixture.settings.pass_mark_for = [mark = fixture.pass_mark](const std::string&) {
        return mark;
    };
    for (const auto& s : doc["students"]) {
        read_student(reader, s, year_start, fixture);
    }
    for (const auto& t : doc["tests"]) {
        if (!reader.check_map(t, "a test case", {"as_of", "expect"}) ||
            !reader.require(t, "as_of") || !reader.require(t, "expect")) {
            continue;
        }
        std::set<std::pair<std::string, std::string>> expected;
        for (const auto& e : t["expect"]) {
            if (reader.check_map(e, "an expected firing", {"student", "rule"}) &&
                reader.require(e, "student") && reader.require(e, "rule")) {
                expected.emplace(reader.string(e["student"]).value_or(""),
                                 reader.string(e["rule"]).value_or(""));
            }
        }
        fixture.cases.emplace_back(day_of(reader, t["as_of"]), std::move(expected));
        fixture.case_lines.push_back(t.Mark().line + 1);
    }
    if (diagnostics.has_errors()) {
        return std::nullopt;
    }
    return fixture;
}

std::string evidence_text(const RuleOutcome& o) {
    std::string out = o.held ? "        (still firing: its resolve_when does not hold yet)\n" : "";
    for (const auto& e : o.evidence) {
        std::ostringstream line;
        line << "        " << e.metric << " = " << e.value << " (" << e.op << " " << e.threshold
             << ")\n";
        out += line.str();
    }
    return out;
}

} // namespace

RuleTestSummary run_rule_test(const std::filesystem::path& file, std::ostream& out) {
    RuleTestSummary summary;
    util::Diagnostics diagnostics;
    auto fixture = read_fixture(file, diagnostics);
    std::optional<RuleSet> rules;
    if (fixture) {
        std::vector<std::pair<std::string, std::string>> texts;
        for (const auto& path : fixture->rule_files) {
            std::ifstream in(path, std::ios::binary);
            if (!in) {
                diagnostics.error(path.string(), 0, 0, "cannot read the rule file");
                continue;
            }
            std::ostringstream text;
            text << in.rdbuf();
            texts.emplace_back(path.string(), text.str());
        }
        RuleLoad load = load_rule_texts(texts);
        for (const auto& d : load.diagnostics.items()) {
            if (d.severity == util::Diagnostic::Severity::error) {
                diagnostics.error(d.file, d.line, d.column, d.message);
            }
        }
        rules = std::move(load.rules);
    }
    if (!fixture || !rules || diagnostics.has_errors()) {
        for (const auto& d : diagnostics.items()) {
            out << d.format() << "\n";
        }
        summary.load_errors = true;
        return summary;
    }
    const store::Calendars calendars;
    // Cases run in date order, and what fired at one date is the state the
    // next starts from (hysteresis: resolve_when), as if the daemon evaluated
    // on exactly those dates.
    std::vector<std::size_t> order(fixture->cases.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return fixture->cases[a].first < fixture->cases[b].first;
    });
    std::map<std::string, std::set<std::string>> active; // student -> rules firing
    for (const std::size_t c : order) {
        const auto& [as_of, expected] = fixture->cases[c];
        ++summary.cases;
        std::set<std::pair<std::string, std::string>> got;
        std::map<std::pair<std::string, std::string>, RuleOutcome> outcomes;
        for (const auto& student : fixture->students) {
            std::set<std::string>& was = active[student.student_id];
            const EvaluateOptions options{&was, true};
            auto results =
                evaluate_student(*rules, student, calendars, fixture->settings, as_of, options);
            was.clear();
            for (auto& o : results) {
                const auto key = std::make_pair(student.student_id, o.rule->id);
                if (o.fired) {
                    got.insert(key);
                    was.insert(o.rule->id);
                }
                outcomes.emplace(key, std::move(o));
            }
        }
        const std::string date = util::format_iso_date(util::from_day_number(as_of));
        if (got == expected) {
            out << "  ok    " << file.string() << ":" << fixture->case_lines[c] << " as of " << date
                << " (" << got.size() << " firing" << (got.size() == 1 ? "" : "s") << ")\n";
            continue;
        }
        ++summary.failed;
        out << "  FAIL  " << file.string() << ":" << fixture->case_lines[c] << " as of " << date
            << "\n";
        for (const auto& key : expected) {
            if (got.count(key) == 0) {
                out << "    expected, did not fire: " << key.first << " " << key.second << "\n";
                if (const auto it = outcomes.find(key); it != outcomes.end()) {
                    out << (it->second.applies
                                ? evidence_text(it->second)
                                : "        (the rule does not apply to the student)\n");
                } else {
                    out << "        (no such student or rule)\n";
                }
            }
        }
        for (const auto& key : got) {
            if (expected.count(key) == 0) {
                out << "    fired, not expected:    " << key.first << " " << key.second << "\n"
                    << evidence_text(outcomes.at(key));
            }
        }
    }
    return summary;
}

} // namespace ewsd::rules
