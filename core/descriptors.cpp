#include "core/descriptors.hpp"

#include "util/text.hpp"

#include <array>

namespace ewsd::core {

namespace {

// The part after '#' of "uri://ed-fi.org/SomethingDescriptor#Code Value".
std::string_view strip_uri(std::string_view text) {
    if (text.substr(0, 6) == "uri://" || text.substr(0, 7) == "http://" ||
        text.substr(0, 8) == "https://") {
        const auto hash = text.rfind('#');
        if (hash != std::string_view::npos) {
            return text.substr(hash + 1);
        }
    }
    return text;
}

} // namespace

Vocabulary::Vocabulary(std::string descriptor, std::vector<std::string> values, bool closed)
    : m_descriptor(std::move(descriptor)), m_values(std::move(values)), m_closed(closed) {
    for (const auto& v : m_values) {
        m_by_lower.emplace(util::to_lower_ascii(v), v);
    }
}

std::optional<std::string> Vocabulary::canonical(std::string_view text) const {
    const std::string_view code = util::trim(strip_uri(util::trim(text)));
    if (code.empty()) {
        return std::nullopt;
    }
    const auto it = m_by_lower.find(util::to_lower_ascii(code));
    if (it != m_by_lower.end()) {
        return it->second;
    }
    if (m_closed) {
        return std::nullopt;
    }
    return std::string(code);
}

const Vocabulary& attendance_categories() {
    static const Vocabulary v("AttendanceEventCategoryDescriptor",
                              {"In Attendance", "Excused Absence", "Unexcused Absence", "Tardy",
                               "Early departure", "Partial"},
                              true);
    return v;
}

const Vocabulary& behaviors() {
    static const Vocabulary v(
        "BehaviorDescriptor",
        {"State Offense", "School Code of Conduct", "School Violation", "Other"}, true);
    return v;
}

const Vocabulary& discipline_actions() {
    static const Vocabulary v("DisciplineDescriptor",
                              {"In School Suspension", "Out of School Suspension", "Expulsion",
                               "Removal from Classroom", "Removal from School", "Detention",
                               "Community Service", "Corporal Punishment", "Warning", "Other"},
                              false);
    return v;
}

const Vocabulary& academic_subjects() {
    static const Vocabulary v("AcademicSubjectDescriptor",
                              {"English Language and Literature",
                               "English Language Arts",
                               "Reading",
                               "Writing",
                               "Mathematics",
                               "Science",
                               "Life and Physical Sciences",
                               "Social Sciences",
                               "Social Sciences and History",
                               "Social Studies",
                               "Fine and Performing Arts",
                               "Foreign Language and Literature",
                               "Physical, Health, and Safety Education",
                               "Career and Technical Education",
                               "Computer and Information Sciences",
                               "Religious Education and Theology",
                               "Military Science",
                               "Composite",
                               "Critical Reading",
                               "Economics",
                               "Other"},
                              false);
    return v;
}

std::optional<int> parse_grade_level(std::string_view text) {
    const std::string lower = util::to_lower_ascii(util::trim(strip_uri(util::trim(text))));
    if (lower.empty()) {
        return std::nullopt;
    }
    if (lower.size() <= 2 && lower.find_first_not_of("0123456789") == std::string::npos) {
        const int n = std::stoi(lower);
        if (n <= 12) {
            return n;
        }
        return std::nullopt;
    }
    static const std::array<std::pair<const char*, int>, 18> names{{
        {"pk", -1},
        {"preschool/prekindergarten", -1},
        {"k", 0},
        {"kg", 0},
        {"kindergarten", 0},
        {"first grade", 1},
        {"second grade", 2},
        {"third grade", 3},
        {"fourth grade", 4},
        {"fifth grade", 5},
        {"sixth grade", 6},
        {"seventh grade", 7},
        {"eighth grade", 8},
        {"ninth grade", 9},
        {"tenth grade", 10},
        {"eleventh grade", 11},
        {"twelfth grade", 12},
        {"postsecondary", 13},
    }};
    for (const auto& [name, level] : names) {
        if (lower == name) {
            return level;
        }
    }
    return std::nullopt;
}

void CodeMap::add(std::string_view local_code, std::string canonical_value) {
    m_map[util::to_lower_ascii(util::trim(local_code))] = std::move(canonical_value);
}

const std::string* CodeMap::find(std::string_view local_code) const {
    if (m_map.empty()) {
        return nullptr;
    }
    const auto it = m_map.find(util::to_lower_ascii(util::trim(local_code)));
    return it == m_map.end() ? nullptr : &it->second;
}

std::optional<std::string> resolve_code(const CodeMap& map, const Vocabulary& vocabulary,
                                        std::string_view text) {
    if (const std::string* mapped = map.find(text)) {
        return *mapped;
    }
    return vocabulary.canonical(text);
}

} // namespace ewsd::core
