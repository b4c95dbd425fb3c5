// Ed-Fi vocabularies, grade levels and a feed's local code maps.
#include "core/descriptors.hpp"

#include <gtest/gtest.h>

namespace ewsd::core {
namespace {

// --- Vocabulary::canonical ---

TEST(Vocabulary, CodeValueMapsToItself) {
    EXPECT_EQ(attendance_categories().canonical("Excused Absence"), "Excused Absence");
    EXPECT_EQ(attendance_categories().canonical("Early departure"), "Early departure");
}

TEST(Vocabulary, MatchesCaseInsensitivelyAndReturnsCanonicalCase) {
    EXPECT_EQ(attendance_categories().canonical("excused absence"), "Excused Absence");
    EXPECT_EQ(attendance_categories().canonical("TARDY"), "Tardy");
    EXPECT_EQ(attendance_categories().canonical("early DEPARTURE"), "Early departure");
}

TEST(Vocabulary, TrimsSurroundingSpaces) {
    EXPECT_EQ(attendance_categories().canonical("  Tardy \t"), "Tardy");
}

TEST(Vocabulary, AcceptsFullDescriptorUri) {
    EXPECT_EQ(attendance_categories().canonical(
                  "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Excused Absence"),
              "Excused Absence");
    EXPECT_EQ(attendance_categories().canonical(
                  "uri://ed-fi.org/AttendanceEventCategoryDescriptor#unexcused absence"),
              "Unexcused Absence");
}

TEST(Vocabulary, AcceptsHttpUris) {
    EXPECT_EQ(behaviors().canonical("http://example.org/BehaviorDescriptor#Other"), "Other");
    EXPECT_EQ(behaviors().canonical("https://example.org/BehaviorDescriptor#school violation"),
              "School Violation");
}

TEST(Vocabulary, ClosedVocabularyRejectsUnknownValues) {
    EXPECT_TRUE(attendance_categories().closed());
    EXPECT_EQ(attendance_categories().canonical("Absent"), std::nullopt);
    EXPECT_EQ(attendance_categories().canonical(
                  "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Absent"),
              std::nullopt);
    EXPECT_EQ(behaviors().canonical("Fighting"), std::nullopt);
}

TEST(Vocabulary, EmptyValueIsRejectedEvenByAnOpenVocabulary) {
    EXPECT_EQ(attendance_categories().canonical(""), std::nullopt);
    EXPECT_EQ(academic_subjects().canonical("   "), std::nullopt);
    EXPECT_EQ(academic_subjects().canonical("uri://ed-fi.org/AcademicSubjectDescriptor#"),
              std::nullopt);
}

TEST(Vocabulary, OpenVocabularyKeepsUnknownValuesVerbatim) {
    EXPECT_FALSE(academic_subjects().closed());
    EXPECT_EQ(academic_subjects().canonical("Robotics Lab"), "Robotics Lab");
    EXPECT_EQ(discipline_actions().canonical("Lunch detention"), "Lunch detention");
}

TEST(Vocabulary, OpenVocabularyStillCanonicalisesKnownValues) {
    EXPECT_EQ(academic_subjects().canonical("mathematics"), "Mathematics");
    EXPECT_EQ(discipline_actions().canonical("uri://ed-fi.org/DisciplineDescriptor#expulsion"),
              "Expulsion");
}

TEST(Vocabulary, OpenVocabularyStripsUriOfUnknownValue) {
    EXPECT_EQ(
        academic_subjects().canonical("uri://district.org/AcademicSubjectDescriptor#Robotics"),
        "Robotics");
}

TEST(Vocabulary, DescriptorNames) {
    EXPECT_EQ(attendance_categories().descriptor(), "AttendanceEventCategoryDescriptor");
    EXPECT_EQ(behaviors().descriptor(), "BehaviorDescriptor");
    EXPECT_EQ(discipline_actions().descriptor(), "DisciplineDescriptor");
    EXPECT_EQ(academic_subjects().descriptor(), "AcademicSubjectDescriptor");
}

TEST(Vocabulary, AttendanceCategoriesInDocumentedOrder) {
    const std::vector<std::string> expected{"In Attendance", "Excused Absence", "Unexcused Absence",
                                            "Tardy",         "Early departure", "Partial"};
    EXPECT_EQ(attendance_categories().values(), expected);
}

TEST(Vocabulary, CustomVocabulary) {
    const Vocabulary v("ColorDescriptor", {"Red", "Dark Blue"}, true);
    EXPECT_EQ(v.canonical("dark blue"), "Dark Blue");
    EXPECT_EQ(v.canonical("Green"), std::nullopt);
    const Vocabulary open("ColorDescriptor", {"Red"}, false);
    EXPECT_EQ(open.canonical("Green"), "Green");
}

// --- parse_grade_level ---

TEST(GradeLevel, Numbers) {
    EXPECT_EQ(parse_grade_level("6"), 6);
    EXPECT_EQ(parse_grade_level("1"), 1);
    EXPECT_EQ(parse_grade_level("12"), 12);
}

TEST(GradeLevel, ZeroPaddedNumbers) {
    EXPECT_EQ(parse_grade_level("06"), 6);
    EXPECT_EQ(parse_grade_level("09"), 9);
}

TEST(GradeLevel, KindergartenAndPreK) {
    EXPECT_EQ(parse_grade_level("K"), 0);
    EXPECT_EQ(parse_grade_level("kg"), 0);
    EXPECT_EQ(parse_grade_level("Kindergarten"), 0);
    EXPECT_EQ(parse_grade_level("PK"), -1);
    EXPECT_EQ(parse_grade_level("pk"), -1);
    EXPECT_EQ(parse_grade_level("Preschool/Prekindergarten"), -1);
}

TEST(GradeLevel, DescriptorCodeValues) {
    EXPECT_EQ(parse_grade_level("Sixth grade"), 6);
    EXPECT_EQ(parse_grade_level("SIXTH GRADE"), 6);
    EXPECT_EQ(parse_grade_level("First grade"), 1);
    EXPECT_EQ(parse_grade_level("Twelfth grade"), 12);
    EXPECT_EQ(parse_grade_level("Postsecondary"), 13);
}

TEST(GradeLevel, DescriptorUri) {
    EXPECT_EQ(parse_grade_level("uri://ed-fi.org/GradeLevelDescriptor#Sixth grade"), 6);
    EXPECT_EQ(parse_grade_level("uri://ed-fi.org/GradeLevelDescriptor#Kindergarten"), 0);
}

TEST(GradeLevel, TrimsSpaces) {
    EXPECT_EQ(parse_grade_level(" 7 "), 7);
    EXPECT_EQ(parse_grade_level(" Sixth grade "), 6);
}

// docs/feeds.md: grade_level is `1`-`12`, K/KG, PK or a GradeLevelDescriptor code value.
TEST(GradeLevel, NumbersAbove12AreRejected) {
    EXPECT_EQ(parse_grade_level("13"), std::nullopt);
    EXPECT_EQ(parse_grade_level("14"), std::nullopt);
    EXPECT_EQ(parse_grade_level("99"), std::nullopt);
    EXPECT_EQ(parse_grade_level("100"), std::nullopt);
}

TEST(GradeLevel, NonGradesAreRejected) {
    EXPECT_EQ(parse_grade_level("abc"), std::nullopt);
    EXPECT_EQ(parse_grade_level(""), std::nullopt);
    EXPECT_EQ(parse_grade_level("-1"), std::nullopt);
    EXPECT_EQ(parse_grade_level("6th"), std::nullopt);
    EXPECT_EQ(parse_grade_level("6.0"), std::nullopt);
}

// --- CodeMap / resolve_code ---

TEST(CodeMap, EmptyMapFindsNothing) {
    const CodeMap map;
    EXPECT_TRUE(map.empty());
    EXPECT_EQ(map.find("A"), nullptr);
}

TEST(CodeMap, FindsKeysCaseInsensitivelyAndTrimmed) {
    CodeMap map;
    map.add("EX", "Excused Absence");
    EXPECT_FALSE(map.empty());
    const std::string* found = map.find("ex");
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(*found, "Excused Absence");
    ASSERT_NE(map.find(" Ex "), nullptr);
    EXPECT_EQ(*map.find(" Ex "), "Excused Absence");
    EXPECT_EQ(map.find("E"), nullptr);
}

TEST(CodeMap, LaterAddReplacesEarlier) {
    CodeMap map;
    map.add("a", "Tardy");
    map.add("A", "Unexcused Absence");
    ASSERT_NE(map.find("a"), nullptr);
    EXPECT_EQ(*map.find("a"), "Unexcused Absence");
}

TEST(ResolveCode, MapComesBeforeVocabulary) {
    CodeMap map;
    // A local code that is also a code value: the feed's meaning wins.
    map.add("Tardy", "Early departure");
    EXPECT_EQ(resolve_code(map, attendance_categories(), "TARDY"), "Early departure");
}

TEST(ResolveCode, LocalCodeMapsToCanonicalValue) {
    CodeMap map;
    map.add("A", "Unexcused Absence");
    EXPECT_EQ(resolve_code(map, attendance_categories(), "a"), "Unexcused Absence");
}

TEST(ResolveCode, FallsBackToVocabulary) {
    CodeMap map;
    map.add("A", "Unexcused Absence");
    EXPECT_EQ(resolve_code(map, attendance_categories(), "excused absence"), "Excused Absence");
    EXPECT_EQ(resolve_code(map, attendance_categories(),
                           "uri://ed-fi.org/AttendanceEventCategoryDescriptor#Tardy"),
              "Tardy");
}

TEST(ResolveCode, UnknownToBothIsNullopt) {
    CodeMap map;
    map.add("A", "Unexcused Absence");
    EXPECT_EQ(resolve_code(map, attendance_categories(), "X"), std::nullopt);
    EXPECT_EQ(resolve_code(CodeMap{}, behaviors(), "Fighting"), std::nullopt);
}

TEST(ResolveCode, OpenVocabularyKeepsUnmappedValue) {
    EXPECT_EQ(resolve_code(CodeMap{}, academic_subjects(), "Robotics"), "Robotics");
}

} // namespace
} // namespace ewsd::core
