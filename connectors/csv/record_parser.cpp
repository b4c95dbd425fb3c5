#include "connectors/csv/record_parser.hpp"

#include "util/date.hpp"
#include "util/text.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <set>

namespace ewsd::connectors::csv {

namespace {

using store::RecordKind;

constexpr std::size_t max_id_length = 64;
constexpr std::size_t max_text_length = 256;

// Reads the values of one record, turning each problem into a BadField that
// points at the offending field.
class Values {
public:
    Values(const std::vector<Field>& fields, const std::vector<int>& index, int record_line)
        : m_fields(fields), m_index(index), m_record_line(record_line) {}

    [[nodiscard]] bool present(int column) const { return m_index[column] >= 0; }

    [[nodiscard]] std::string_view raw(int column) const {
        return present(column) ? util::trim(m_fields[m_index[column]].value) : std::string_view();
    }

    [[nodiscard]] BadField bad(int column, std::string message) const {
        if (!present(column)) {
            return {m_record_line, 1, std::move(message)};
        }
        const Field& f = m_fields[m_index[column]];
        return {f.line, f.column, std::move(message)};
    }

    std::optional<BadField> id(int column, const char* name, std::string& out) const {
        const std::string_view v = raw(column);
        if (v.empty()) {
            return bad(column, std::string(name) + " is empty");
        }
        if (v.size() > max_id_length) {
            return bad(column, std::string(name) + " is longer than " +
                                   std::to_string(max_id_length) + " characters");
        }
        out.assign(v);
        return std::nullopt;
    }

    std::optional<BadField> text(int column, const char* name, bool required,
                                 std::string& out) const {
        const std::string_view v = raw(column);
        if (required && v.empty()) {
            return bad(column, std::string(name) + " is empty");
        }
        if (v.size() > max_text_length) {
            return bad(column, std::string(name) + " is longer than " +
                                   std::to_string(max_text_length) + " characters");
        }
        out.assign(v);
        return std::nullopt;
    }

    std::optional<BadField> date(int column, const char* name, bool required,
                                 std::string& out) const {
        const std::string_view v = raw(column);
        if (v.empty()) {
            out.clear();
            return required ? std::optional(bad(column, std::string(name) + " is empty"))
                            : std::nullopt;
        }
        if (!util::parse_iso_date(v)) {
            return bad(column,
                       std::string(name) + " '" + std::string(v) + "' is not a date as YYYY-MM-DD");
        }
        out.assign(v);
        return std::nullopt;
    }

    // A number in [min, max]; `echo` false keeps the value out of the message
    // (grades are student data).
    std::optional<BadField> number(int column, const char* name, double min, double max, bool echo,
                                   std::optional<double>& out) const {
        const std::string_view v = raw(column);
        out.reset();
        if (v.empty()) {
            return std::nullopt;
        }
        double value = 0;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
        if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(value) ||
            value < min || value > max) {
            std::string message = std::string(name);
            if (echo) {
                message += " '" + std::string(v) + "'";
            }
            char range[64];
            std::snprintf(range, sizeof range, " is not a number from %g to %g", min, max);
            return bad(column, message + range);
        }
        out = value;
        return std::nullopt;
    }

    std::optional<BadField> code(int column, const char* name, const core::CodeMap& map,
                                 const core::Vocabulary& vocabulary, const char* map_key,
                                 std::string& out) const {
        const std::string_view v = raw(column);
        if (v.empty()) {
            return bad(column, std::string(name) + " is empty");
        }
        auto canonical = core::resolve_code(map, vocabulary, v);
        if (!canonical) {
            return bad(column, "unknown " + std::string(name) + " '" + std::string(v) +
                                   "' (expected an Ed-Fi " + vocabulary.descriptor() +
                                   " code value or URI, or a local code listed in the feed's " +
                                   map_key + ")");
        }
        out = std::move(*canonical);
        return std::nullopt;
    }

private:
    const std::vector<Field>& m_fields;
    const std::vector<int>& m_index;
    int m_record_line;
};

template <typename T> T& emplace(Record& record) {
    if (auto* p = std::get_if<T>(&record)) {
        return *p;
    }
    return record.emplace<T>();
}

#define EWSD_CHECK(expr)                                                                           \
    if (auto problem = (expr)) {                                                                   \
        return problem;                                                                            \
    }

// Column positions, in the order of each kind's column list below.
namespace col {
enum Students { s_student, s_school, s_grade, s_first, s_last, s_entry, s_exit };
enum Attendance { a_student, a_school, a_date, a_category, a_duration };
enum Grades {
    g_student,
    g_school,
    g_section,
    g_course_code,
    g_course_title,
    g_subject,
    g_period,
    g_date,
    g_numeric,
    g_letter
};
enum Incidents { i_incident, i_student, i_school, i_date, i_behavior, i_action, i_days };
enum Calendar { c_school, c_date, c_instructional };
} // namespace col

std::optional<bool> parse_bool(std::string_view text) {
    const std::string v = util::to_lower_ascii(text);
    if (v == "true" || v == "1" || v == "yes" || v == "y" || v == "t") {
        return true;
    }
    if (v == "false" || v == "0" || v == "no" || v == "n" || v == "f") {
        return false;
    }
    return std::nullopt;
}

} // namespace

std::string file_name(RecordKind kind) {
    return std::string(store::to_string(kind)) + ".csv";
}

RecordParser::RecordParser(RecordKind kind, const core::FeedConfig& feed)
    : m_kind(kind), m_feed(feed) {}

const std::vector<RecordParser::Column>& RecordParser::columns() const {
    static const std::vector<Column> students{
        {"student_id", true}, {"school_id", true},  {"grade_level", true}, {"first_name", true},
        {"last_name", true},  {"entry_date", true}, {"exit_date", true}};
    static const std::vector<Column> attendance{{"student_id", true},
                                                {"school_id", true},
                                                {"date", true},
                                                {"category", true},
                                                {"duration", false}};
    static const std::vector<Column> grades{{"student_id", true},     {"school_id", true},
                                            {"section_id", true},     {"course_code", true},
                                            {"course_title", true},   {"subject", true},
                                            {"grading_period", true}, {"date", true},
                                            {"numeric_grade", true},  {"letter_grade", true}};
    static const std::vector<Column> incidents{
        {"incident_id", true}, {"student_id", true}, {"school_id", true},   {"date", true},
        {"behavior", true},    {"action", false},    {"action_days", false}};
    static const std::vector<Column> calendar{
        {"school_id", true}, {"date", true}, {"instructional", true}};
    switch (m_kind) {
    case RecordKind::students:
        return students;
    case RecordKind::attendance:
        return attendance;
    case RecordKind::grades:
        return grades;
    case RecordKind::incidents:
        return incidents;
    case RecordKind::calendar:
        return calendar;
    }
    return calendar;
}

std::optional<std::string> RecordParser::read_header(const std::vector<Field>& header) {
    const auto& cols = columns();
    m_index.assign(cols.size(), -1);
    m_extra.clear();
    m_width = header.size();
    std::set<std::string> seen;
    for (std::size_t i = 0; i < header.size(); ++i) {
        const std::string name = util::to_lower_ascii(util::trim(header[i].value));
        if (name.empty()) {
            continue;
        }
        if (util::find_invalid_utf8(name) != std::string::npos) {
            return "the header is not valid UTF-8 (column " + std::to_string(header[i].column) +
                   "): is this a CSV file in UTF-8?";
        }
        if (!seen.insert(name).second) {
            return "column '" + name + "' appears twice in the header";
        }
        bool known = false;
        for (std::size_t c = 0; c < cols.size(); ++c) {
            if (name == cols[c].name) {
                m_index[c] = static_cast<int>(i);
                known = true;
            }
        }
        if (!known && m_kind == RecordKind::students) {
            m_extra.emplace_back(name, static_cast<int>(i));
        }
    }
    std::string missing;
    for (std::size_t c = 0; c < cols.size(); ++c) {
        if (cols[c].required && m_index[c] < 0) {
            missing += (missing.empty() ? "" : ", ") + std::string(cols[c].name);
        }
    }
    if (!missing.empty()) {
        std::string found;
        for (const auto& f : header) {
            found += (found.empty() ? "" : ", ") + std::string(util::trim(f.value));
        }
        if (found.size() > 200) {
            found = found.substr(0, 200) + "...";
        }
        return "missing required column" +
               std::string(missing.find(',') == std::string::npos ? "" : "s") + " " + missing +
               " (the header has: " + found + ")";
    }
    return std::nullopt;
}

std::optional<BadField> RecordParser::parse(const std::vector<Field>& fields, Record& out) const {
    const int line = fields.empty() ? 0 : fields.front().line;
    if (fields.size() != m_width) {
        const Field& where = fields.size() > m_width ? fields[m_width] : fields.back();
        return BadField{where.line, where.column,
                        "the row has " + std::to_string(fields.size()) +
                            " fields but the header has " + std::to_string(m_width)};
    }
    for (const Field& f : fields) {
        const std::size_t bad = util::find_invalid_utf8(f.value);
        if (bad != std::string::npos) {
            return BadField{f.line, f.column, "invalid UTF-8 in the field"};
        }
    }
    const Values v(fields, m_index, line);
    switch (m_kind) {
    case RecordKind::students: {
        auto& r = emplace<store::Enrollment>(out);
        EWSD_CHECK(v.id(col::s_student, "student_id", r.student_id));
        EWSD_CHECK(v.id(col::s_school, "school_id", r.school_id));
        const auto grade = core::parse_grade_level(v.raw(col::s_grade));
        if (!grade) {
            return v.bad(col::s_grade, "grade_level '" + std::string(v.raw(col::s_grade)) +
                                           "' is not a grade level (expected 1-12, K, PK or an "
                                           "Ed-Fi GradeLevelDescriptor code value)");
        }
        r.grade_level = *grade;
        EWSD_CHECK(v.text(col::s_first, "first_name", false, r.first_name));
        EWSD_CHECK(v.text(col::s_last, "last_name", false, r.last_name));
        EWSD_CHECK(v.date(col::s_entry, "entry_date", true, r.entry_date));
        EWSD_CHECK(v.date(col::s_exit, "exit_date", false, r.exit_date));
        if (!r.exit_date.empty() && r.exit_date < r.entry_date) {
            return v.bad(col::s_exit,
                         "exit_date " + r.exit_date + " is before entry_date " + r.entry_date);
        }
        r.attributes.clear();
        for (const auto& [name, i] : m_extra) {
            r.attributes[name] = std::string(util::trim(fields[i].value));
        }
        return std::nullopt;
    }
    case RecordKind::attendance: {
        auto& r = emplace<store::AttendanceEvent>(out);
        EWSD_CHECK(v.id(col::a_student, "student_id", r.student_id));
        EWSD_CHECK(v.id(col::a_school, "school_id", r.school_id));
        EWSD_CHECK(v.date(col::a_date, "date", true, r.date));
        EWSD_CHECK(v.code(col::a_category, "category", m_feed.category_map,
                          core::attendance_categories(), "category_map", r.category));
        std::optional<double> duration;
        EWSD_CHECK(v.number(col::a_duration, "duration", 0, 1, true, duration));
        r.duration = duration.value_or(1.0);
        return std::nullopt;
    }
    case RecordKind::grades: {
        auto& r = emplace<store::Grade>(out);
        EWSD_CHECK(v.id(col::g_student, "student_id", r.student_id));
        EWSD_CHECK(v.id(col::g_school, "school_id", r.school_id));
        EWSD_CHECK(v.id(col::g_section, "section_id", r.section_id));
        EWSD_CHECK(v.text(col::g_course_code, "course_code", true, r.course_code));
        EWSD_CHECK(v.text(col::g_course_title, "course_title", false, r.course_title));
        EWSD_CHECK(v.code(col::g_subject, "subject", m_feed.subject_map, core::academic_subjects(),
                          "subject_map", r.subject));
        EWSD_CHECK(v.text(col::g_period, "grading_period", true, r.grading_period));
        EWSD_CHECK(v.date(col::g_date, "date", true, r.date));
        EWSD_CHECK(v.number(col::g_numeric, "numeric_grade", 0, 200, false, r.numeric_grade));
        EWSD_CHECK(v.text(col::g_letter, "letter_grade", false, r.letter_grade));
        if (!r.numeric_grade && r.letter_grade.empty()) {
            return v.bad(col::g_numeric, "numeric_grade and letter_grade are both empty");
        }
        return std::nullopt;
    }
    case RecordKind::incidents: {
        auto& r = emplace<store::Incident>(out);
        EWSD_CHECK(v.id(col::i_incident, "incident_id", r.incident_id));
        EWSD_CHECK(v.id(col::i_student, "student_id", r.student_id));
        EWSD_CHECK(v.id(col::i_school, "school_id", r.school_id));
        EWSD_CHECK(v.date(col::i_date, "date", true, r.date));
        EWSD_CHECK(v.code(col::i_behavior, "behavior", m_feed.behavior_map, core::behaviors(),
                          "behavior_map", r.behavior));
        r.action.clear();
        if (!v.raw(col::i_action).empty()) {
            EWSD_CHECK(v.code(col::i_action, "action", m_feed.action_map,
                              core::discipline_actions(), "action_map", r.action));
        }
        std::optional<double> days;
        EWSD_CHECK(v.number(col::i_days, "action_days", 0, 366, true, days));
        if (days && *days > 0 && r.action.empty()) {
            return v.bad(col::i_days, "action_days is set but action is empty");
        }
        r.action_days = days.value_or(0);
        return std::nullopt;
    }
    case RecordKind::calendar: {
        auto& r = emplace<store::CalendarDay>(out);
        EWSD_CHECK(v.id(col::c_school, "school_id", r.school_id));
        EWSD_CHECK(v.date(col::c_date, "date", true, r.date));
        const auto instructional = parse_bool(v.raw(col::c_instructional));
        if (!instructional) {
            return v.bad(col::c_instructional, "instructional '" +
                                                   std::string(v.raw(col::c_instructional)) +
                                                   "' is not true or false");
        }
        r.instructional = *instructional;
        return std::nullopt;
    }
    }
    return std::nullopt;
}

} // namespace ewsd::connectors::csv
