#pragma once
// Ed-Fi descriptor vocabularies. Feeds name categories by code value
// ("Excused Absence") or by full descriptor URI
// ("uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence"); both
// match case-insensitively. The store keeps the canonical code value.

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ewsd::core {

class Vocabulary {
public:
    // `closed`: only these values are accepted; an open vocabulary keeps
    // unknown values as given (and only canonicalises the case of known ones).
    Vocabulary(std::string descriptor, std::vector<std::string> values, bool closed);

    [[nodiscard]] const std::string& descriptor() const { return m_descriptor; }
    [[nodiscard]] const std::vector<std::string>& values() const { return m_values; }
    [[nodiscard]] bool closed() const { return m_closed; }

    // The canonical code value of `text` (a code value or descriptor URI), or
    // nullopt when a closed vocabulary does not know it.
    [[nodiscard]] std::optional<std::string> canonical(std::string_view text) const;

private:
    std::string m_descriptor;
    std::vector<std::string> m_values;
    bool m_closed;
    std::unordered_map<std::string, std::string> m_by_lower;
};

const Vocabulary& attendance_categories();
const Vocabulary& behaviors();
const Vocabulary& discipline_actions();
const Vocabulary& academic_subjects();

// Grade level as a number: PK = -1, K = 0, 1..12, Postsecondary = 13. Accepts
// numbers ("6", "06"), "K"/"KG"/"PK", and Ed-Fi GradeLevelDescriptor code
// values or URIs ("Sixth grade").
std::optional<int> parse_grade_level(std::string_view text);

// A feed's local codes mapped onto one vocabulary (keys compared case-insensitively).
class CodeMap {
public:
    void add(std::string_view local_code, std::string canonical_value);
    [[nodiscard]] const std::string* find(std::string_view local_code) const;
    [[nodiscard]] bool empty() const { return m_map.empty(); }

private:
    std::unordered_map<std::string, std::string> m_map;
};

// Map first, then the vocabulary; nullopt when neither knows the value.
std::optional<std::string> resolve_code(const CodeMap& map, const Vocabulary& vocabulary,
                                        std::string_view text);

} // namespace ewsd::core
