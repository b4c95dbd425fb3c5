// util/: dates, text helpers, UTF-8 validation, SHA-256, diagnostics and log levels.
#include "tests/support/temp_dir.hpp"
#include "util/date.hpp"
#include "util/diagnostic.hpp"
#include "util/local_time.hpp"
#include "util/log.hpp"
#include "util/sha256.hpp"
#include "util/text.hpp"

#include <gtest/gtest.h>
#include <limits>
#include <stdexcept>

namespace ewsd::util {
namespace {

using namespace std::chrono_literals;
using std::chrono::day;
using std::chrono::month;
using std::chrono::year;

Date ymd(int y, unsigned m, unsigned d) {
    return Date{year{y}, month{m}, day{d}};
}

// --- parse_iso_date / format_iso_date ---

TEST(Base64, RfcTestVectors) {
    // RFC 4648 section 10, and bytes above 0x7f.
    EXPECT_EQ(util::base64(""), "");
    EXPECT_EQ(util::base64("f"), "Zg==");
    EXPECT_EQ(util::base64("fo"), "Zm8=");
    EXPECT_EQ(util::base64("foo"), "Zm9v");
    EXPECT_EQ(util::base64("foob"), "Zm9vYg==");
    EXPECT_EQ(util::base64("fooba"), "Zm9vYmE=");
    EXPECT_EQ(util::base64("foobar"), "Zm9vYmFy");
    EXPECT_EQ(util::base64("\xff\xfe"), "//4=");
}

TEST(ParseIsoDate, AcceptsAValidDate) {
    const auto date = parse_iso_date("2025-08-18");
    ASSERT_TRUE(date.has_value());
    EXPECT_EQ(*date, ymd(2025, 8, 18));
}

TEST(ParseIsoDate, AcceptsFirstAndLastDayOfYear) {
    EXPECT_EQ(parse_iso_date("2025-01-01"), ymd(2025, 1, 1));
    EXPECT_EQ(parse_iso_date("2025-12-31"), ymd(2025, 12, 31));
}

TEST(ParseIsoDate, AcceptsFebruary29InLeapYears) {
    EXPECT_EQ(parse_iso_date("2024-02-29"), ymd(2024, 2, 29));
    EXPECT_EQ(parse_iso_date("2000-02-29"), ymd(2000, 2, 29));
}

TEST(ParseIsoDate, RejectsFebruary29InNonLeapYears) {
    EXPECT_EQ(parse_iso_date("2025-02-29"), std::nullopt);
    EXPECT_EQ(parse_iso_date("1900-02-29"), std::nullopt);
}

TEST(ParseIsoDate, RejectsDaysBeyondTheMonth) {
    EXPECT_EQ(parse_iso_date("2025-04-31"), std::nullopt);
    EXPECT_EQ(parse_iso_date("2025-01-32"), std::nullopt);
    EXPECT_EQ(parse_iso_date("2025-01-00"), std::nullopt);
}

TEST(ParseIsoDate, RejectsMonthOutOfRange) {
    EXPECT_EQ(parse_iso_date("2025-13-01"), std::nullopt);
    EXPECT_EQ(parse_iso_date("2025-00-01"), std::nullopt);
}

TEST(ParseIsoDate, RejectsUnpaddedFields) {
    EXPECT_EQ(parse_iso_date("2025-1-01"), std::nullopt);
    EXPECT_EQ(parse_iso_date("2025-01-1"), std::nullopt);
    EXPECT_EQ(parse_iso_date("25-01-01"), std::nullopt);
}

TEST(ParseIsoDate, RejectsOtherSeparators) {
    EXPECT_EQ(parse_iso_date("2025/01/01"), std::nullopt);
    EXPECT_EQ(parse_iso_date("2025.01.01"), std::nullopt);
    EXPECT_EQ(parse_iso_date("20250101"), std::nullopt);
}

TEST(ParseIsoDate, RejectsLeadingOrTrailingCharacters) {
    EXPECT_EQ(parse_iso_date("2025-01-01x"), std::nullopt);
    EXPECT_EQ(parse_iso_date("2025-01-01 "), std::nullopt);
    EXPECT_EQ(parse_iso_date(" 2025-01-01"), std::nullopt);
    EXPECT_EQ(parse_iso_date("2025-01-01T00:00:00Z"), std::nullopt);
}

TEST(ParseIsoDate, RejectsNonDigitsAndEmpty) {
    EXPECT_EQ(parse_iso_date(""), std::nullopt);
    EXPECT_EQ(parse_iso_date("2025-0a-01"), std::nullopt);
    EXPECT_EQ(parse_iso_date("+025-01-01"), std::nullopt);
    EXPECT_EQ(parse_iso_date("2025-01- 1"), std::nullopt);
}

TEST(FormatIsoDate, PadsMonthDayAndYear) {
    EXPECT_EQ(format_iso_date(ymd(2025, 1, 5)), "2025-01-05");
    EXPECT_EQ(format_iso_date(ymd(987, 12, 31)), "0987-12-31");
}

TEST(FormatIsoDate, RoundTripsWithParse) {
    for (const char* text : {"2024-02-29", "1970-01-01", "2099-12-31"}) {
        const auto date = parse_iso_date(text);
        ASSERT_TRUE(date.has_value()) << text;
        EXPECT_EQ(format_iso_date(*date), text);
    }
}

// --- day numbers ---

TEST(DayNumber, EpochIsZero) {
    EXPECT_EQ(to_day_number(ymd(1970, 1, 1)), 0);
    EXPECT_EQ(from_day_number(0), ymd(1970, 1, 1));
}

TEST(DayNumber, KnownValues) {
    // 30 years of 365 days plus 7 leap days (1972..1996) = 10957; then Jan + Feb 2000 = 60.
    EXPECT_EQ(to_day_number(ymd(2000, 1, 1)), 10957);
    EXPECT_EQ(to_day_number(ymd(2000, 3, 1)), 11017);
    EXPECT_EQ(to_day_number(ymd(1969, 12, 31)), -1);
}

TEST(DayNumber, RoundTripsAcrossLeapDay) {
    const Date leap = ymd(2024, 2, 29);
    const int n = to_day_number(leap);
    EXPECT_EQ(from_day_number(n), leap);
    EXPECT_EQ(from_day_number(n + 1), ymd(2024, 3, 1));
    EXPECT_EQ(from_day_number(n - 1), ymd(2024, 2, 28));
}

TEST(DayNumber, RoundTripsEveryDayOfAYear) {
    const int first = to_day_number(ymd(2025, 1, 1));
    for (int n = first; n < first + 365; ++n) {
        EXPECT_EQ(to_day_number(from_day_number(n)), n);
    }
    EXPECT_EQ(from_day_number(first + 364), ymd(2025, 12, 31));
}

// --- format_timestamp_utc ---

TEST(FormatTimestampUtc, FormatsDateAndTime) {
    const auto when = std::chrono::sys_days{ymd(2026, 11, 24)} + 17h + 3min + 9s;
    EXPECT_EQ(format_timestamp_utc(when), "2026-11-24T17:03:09Z");
}

TEST(FormatTimestampUtc, DropsFractionsOfASecond) {
    const auto when = std::chrono::sys_days{ymd(2025, 1, 2)} + 23h + 59min + 59s + 999ms;
    EXPECT_EQ(format_timestamp_utc(when), "2025-01-02T23:59:59Z");
}

TEST(FormatTimestampUtc, Midnight) {
    const std::chrono::system_clock::time_point when = std::chrono::sys_days{ymd(2025, 3, 1)};
    EXPECT_EQ(format_timestamp_utc(when), "2025-03-01T00:00:00Z");
}

TEST(FormatTimestampUtc, BeforeTheEpoch) {
    const std::chrono::system_clock::time_point when = std::chrono::sys_days{ymd(1970, 1, 1)} - 1s;
    EXPECT_EQ(format_timestamp_utc(when), "1969-12-31T23:59:59Z");
}

// --- trim / to_lower_ascii / iequals ---

TEST(Trim, RemovesSpacesTabsAndLineEndsAtBothEnds) {
    EXPECT_EQ(trim("  a b \t\r\n"), "a b");
    EXPECT_EQ(trim("\tx"), "x");
    EXPECT_EQ(trim("x"), "x");
}

TEST(Trim, AllSpaceOrEmptyBecomesEmpty) {
    EXPECT_EQ(trim(""), "");
    EXPECT_EQ(trim(" \t\r\n "), "");
}

TEST(ToLowerAscii, LowersOnlyAsciiLetters) {
    EXPECT_EQ(to_lower_ascii("Excused ABSENCE 42"), "excused absence 42");
    // "ÀB": the UTF-8 bytes of À are left alone.
    EXPECT_EQ(to_lower_ascii("\xC3\x80"
                             "B"),
              "\xC3\x80"
              "b");
}

TEST(Iequals, ComparesIgnoringAsciiCase) {
    EXPECT_TRUE(iequals("Tardy", "TARDY"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("Tardy", "Tardy "));
    EXPECT_FALSE(iequals("Tardy", "Tardx"));
}

// --- find_invalid_utf8 ---

TEST(FindInvalidUtf8, AsciiAndMultibyteAreValid) {
    EXPECT_EQ(find_invalid_utf8(""), std::string_view::npos);
    EXPECT_EQ(find_invalid_utf8("plain"), std::string_view::npos);
    EXPECT_EQ(find_invalid_utf8("Jos\xC3\xA9"), std::string_view::npos); // é
    EXPECT_EQ(find_invalid_utf8("\xE2\x82\xAC"
                                "5"),
              std::string_view::npos);                                        // €
    EXPECT_EQ(find_invalid_utf8("\xF0\x9F\x98\x80"), std::string_view::npos); // U+1F600
    EXPECT_EQ(find_invalid_utf8("\xF4\x8F\xBF\xBF"), std::string_view::npos); // U+10FFFF
}

TEST(FindInvalidUtf8, TruncatedSequenceAtEnd) {
    EXPECT_EQ(find_invalid_utf8("ab\xC3"), 2U);
    EXPECT_EQ(find_invalid_utf8("a\xE2\x82"), 1U);
}

TEST(FindInvalidUtf8, MissingContinuationByte) {
    EXPECT_EQ(find_invalid_utf8("x\xC3(y"), 1U);
}

TEST(FindInvalidUtf8, LoneContinuationAndBadLeadBytes) {
    EXPECT_EQ(find_invalid_utf8("\x80"), 0U);
    EXPECT_EQ(find_invalid_utf8("ok\xFF"), 2U);
    EXPECT_EQ(find_invalid_utf8("ok\xF8\x88\x80\x80\x80"), 2U);
}

TEST(FindInvalidUtf8, OverlongEncodings) {
    EXPECT_EQ(find_invalid_utf8("\xC0\xAF"), 0U);           // '/' in two bytes
    EXPECT_EQ(find_invalid_utf8("a\xE0\x80\xAF"), 1U);      // '/' in three bytes
    EXPECT_EQ(find_invalid_utf8("ab\xF0\x82\x82\xAC"), 2U); // '€' in four bytes
}

TEST(FindInvalidUtf8, Surrogates) {
    EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), 0U);                     // U+D800
    EXPECT_EQ(find_invalid_utf8("z\xED\xBF\xBF"), 1U);                    // U+DFFF
    EXPECT_EQ(find_invalid_utf8("\xED\x9F\xBF"), std::string_view::npos); // U+D7FF is fine
}

TEST(FindInvalidUtf8, BeyondUnicodeRange) {
    EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0U); // U+110000
}

TEST(FindInvalidUtf8, ReportsFirstBadByteAfterValidMultibyte) {
    EXPECT_EQ(find_invalid_utf8("\xC3\xA9\xC3\xA9\x80"), 4U);
}

// --- edit_distance / closest_match ---

TEST(EditDistance, KnownDistances) {
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3U);
    EXPECT_EQ(edit_distance("", "abc"), 3U);
    EXPECT_EQ(edit_distance("abc", ""), 3U);
    EXPECT_EQ(edit_distance("same", "same"), 0U);
    EXPECT_EQ(edit_distance("absense_rate", "absence_rate"), 1U);
    EXPECT_EQ(edit_distance("cvs", "csv"), 2U);
}

TEST(ClosestMatch, SuggestsTheNearestCandidate) {
    EXPECT_EQ(closest_match("absense_rate", {"tardy_rate", "absence_rate"}), "absence_rate");
    EXPECT_EQ(closest_match("databse", {"database", "timezone", "feeds"}), "database");
}

TEST(ClosestMatch, IgnoresCaseAndReturnsTheCandidateAsSpelled) {
    EXPECT_EQ(closest_match("TIMEZONE", {"feeds", "timezone"}), "timezone");
    EXPECT_EQ(closest_match("snapshot", {"Snapshot"}), "Snapshot");
}

TEST(ClosestMatch, NothingCloseGivesEmpty) {
    EXPECT_EQ(closest_match("xyz", {"database", "timezone"}), "");
    EXPECT_EQ(closest_match("sftp", {"csv"}), "");
    EXPECT_EQ(closest_match("anything", {}), "");
}

TEST(ClosestMatch, ShortWordsAllowTwoEdits) {
    EXPECT_EQ(closest_match("cvs", {"csv"}), "csv");
    EXPECT_EQ(closest_match("abc", {"xyz"}), "");
}

// --- Sha256 ---

constexpr const char* abc_digest =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* empty_digest =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(Sha256, DigestOfAbc) {
    Sha256 hash;
    hash.update("abc");
    EXPECT_EQ(hash.hex_digest(), abc_digest);
}

TEST(Sha256, DigestOfNothing) {
    Sha256 hash;
    EXPECT_EQ(hash.hex_digest(), empty_digest);
}

TEST(Sha256, IncrementalEqualsOneShot) {
    Sha256 hash;
    hash.update("a");
    hash.update("");
    hash.update("b");
    hash.update("c");
    EXPECT_EQ(hash.hex_digest(), abc_digest);
}

TEST(Sha256, TwoBlockMessage) {
    Sha256 hash;
    hash.update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
    EXPECT_EQ(hash.hex_digest(),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, FileDigestMatchesContent) {
    const testing::TempDir dir;
    testing::write_file(dir / "abc.txt", "abc");
    EXPECT_EQ(sha256_file(dir / "abc.txt"), abc_digest);
}

TEST(Sha256, MissingFileThrows) {
    const testing::TempDir dir;
    EXPECT_THROW(sha256_file(dir / "missing.txt"), std::runtime_error);
}

// --- Diagnostic ---

TEST(Diagnostic, FormatsFileLineColumnMessage) {
    const Diagnostic d{Diagnostic::Severity::error, "ewsd.yaml", 3, 7, "bad value"};
    EXPECT_EQ(d.format(), "ewsd.yaml:3:7: bad value");
}

TEST(Diagnostic, LeavesOutUnknownColumn) {
    const Diagnostic d{Diagnostic::Severity::error, "ewsd.yaml", 3, 0, "bad value"};
    EXPECT_EQ(d.format(), "ewsd.yaml:3: bad value");
}

TEST(Diagnostic, LeavesOutUnknownLineAndColumn) {
    const Diagnostic d{Diagnostic::Severity::error, "ewsd.yaml", 0, 0, "cannot read"};
    EXPECT_EQ(d.format(), "ewsd.yaml: cannot read");
}

TEST(Diagnostic, ColumnWithoutLineIsLeftOut) {
    const Diagnostic d{Diagnostic::Severity::error, "ewsd.yaml", 0, 5, "cannot read"};
    EXPECT_EQ(d.format(), "ewsd.yaml: cannot read");
}

TEST(Diagnostic, WarningForm) {
    const Diagnostic d{Diagnostic::Severity::warning, "ewsd.yaml", 12, 15, "unknown key"};
    EXPECT_EQ(d.format(), "ewsd.yaml:12:15: warning: unknown key");
}

TEST(Diagnostics, CollectsInOrderAndKnowsWhetherThereAreErrors) {
    Diagnostics list;
    EXPECT_FALSE(list.has_errors());
    list.warning("a.yaml", 1, 2, "w");
    EXPECT_FALSE(list.has_errors());
    list.error("a.yaml", 3, 4, "e");
    EXPECT_TRUE(list.has_errors());
    ASSERT_EQ(list.items().size(), 2U);
    EXPECT_EQ(list.items()[0].format(), "a.yaml:1:2: warning: w");
    EXPECT_EQ(list.items()[1].format(), "a.yaml:3:4: e");
}

// --- log ---

TEST(LogParseLevel, KnowsEveryLevelName) {
    EXPECT_EQ(log::parse_level("debug"), log::Level::debug);
    EXPECT_EQ(log::parse_level("info"), log::Level::info);
    EXPECT_EQ(log::parse_level("notice"), log::Level::notice);
    EXPECT_EQ(log::parse_level("warning"), log::Level::warning);
    EXPECT_EQ(log::parse_level("error"), log::Level::error);
}

TEST(LogParseLevel, RejectsOtherNames) {
    EXPECT_EQ(log::parse_level(""), std::nullopt);
    EXPECT_EQ(log::parse_level("warn"), std::nullopt);
    EXPECT_EQ(log::parse_level("critical"), std::nullopt);
    EXPECT_EQ(log::parse_level("info "), std::nullopt);
}

TEST(LogLevel, EnabledFollowsTheSetLevel) {
    const log::Level saved = log::level();
    log::set_level(log::Level::warning);
    EXPECT_EQ(log::level(), log::Level::warning);
    EXPECT_TRUE(log::enabled(log::Level::error));
    EXPECT_TRUE(log::enabled(log::Level::warning));
    EXPECT_FALSE(log::enabled(log::Level::notice));
    EXPECT_FALSE(log::enabled(log::Level::debug));
    log::set_level(saved);
}

TEST(Json, StringsAreEscaped) {
    std::string out;
    append_json_string(out, "a\"b\\c\nd\te\x01\u00e9");
    EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\te\\u0001\u00e9\"");
}

TEST(Json, NumbersRoundTripShortest) {
    std::string out;
    for (const double v : {0.1, 3.0, -2.5, 1e21, 0.1 + 0.2}) {
        out.clear();
        append_json_number(out, v);
        EXPECT_EQ(std::stod(out), v) << out;
    }
    out.clear();
    append_json_number(out, 0.1);
    EXPECT_EQ(out, "0.1");
    out.clear();
    append_json_number(out, 3.0);
    EXPECT_EQ(out, "3");
    out.clear();
    append_json_number(out, std::numeric_limits<double>::quiet_NaN());
    EXPECT_EQ(out, "null");
}

} // namespace
} // namespace ewsd::util

namespace ewsd::util {
namespace {

TEST(ParseDuration, UnitsAndMalformedValues) {
    EXPECT_EQ(parse_duration("90s"), 90);
    EXPECT_EQ(parse_duration("15m"), 900);
    EXPECT_EQ(parse_duration("36h"), 36 * 3600);
    EXPECT_EQ(parse_duration("2d"), 2 * 86400);
    for (const char* bad : {"", "5", "0m", "m", "1.5h", "-1h", "10w", "h1", "3 h"}) {
        EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
    }
}

TEST(ParseTimeOfDay, HoursAndMinutes) {
    EXPECT_EQ(parse_time_of_day("07:30"), 450);
    EXPECT_EQ(parse_time_of_day("7:30"), 450);
    EXPECT_EQ(parse_time_of_day("00:00"), 0);
    EXPECT_EQ(parse_time_of_day("23:59"), 23 * 60 + 59);
    for (const char* bad : {"24:00", "7:3", "07:60", "0730", "07:30:00", ":30", "a7:30"}) {
        EXPECT_EQ(parse_time_of_day(bad), std::nullopt) << bad;
    }
}

} // namespace
} // namespace ewsd::util
