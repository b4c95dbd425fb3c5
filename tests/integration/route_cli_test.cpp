// The real ewsd binary: `ewsd route` explaining who would receive a referral,
// and the route coverage warning of `ewsd check`.
#include "tests/support/basic_district.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ewsd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::write_file;

// The basic fixture: S0001 (101, grade 6), S0002 (101, grade 7), S0003 (101,
// grade 8, then 102 from 2025-11-03).
class RouteCliTest : public testing::BasicDistrict {
protected:
    void SetUp() override {
        make_district(notify);
        ASSERT_EQ(ewsd({"ingest"}).exit_code, 0);
    }

    // Lines 8-17.
    const std::string notify =
        "specialists:\n"
        "  - {id: garcia, name: Ana Garcia, email: agarcia@district.org, schools: [101],\n"
        "     delivery: digest, digest_time: \"06:45\", max_new_per_day: 15, lead: lopez}\n"
        "  - {id: lopez, name: Luis Lopez, email: llopez@district.org,\n"
        "     webhook: {url: \"https://hooks.district.org/ewsd\", secret: whsec_c2VjcmV0}}\n"
        "routes:\n"
        "  - {match: {domain: attendance}, to: [garcia]}\n"
        "  - {match: {domain: [behavior, course, composite]}, to: [garcia]}\n"
        "  - {match: {}, to: [lopez]}\n"
        "delivery: {output_dir: outbox}\n";
};

TEST_F(RouteCliTest, ShowsTheMatchingRouteAndTheRecipientsDelivery) {
    const auto result = ewsd({"route", "S0001", "chronic-absence", "--as-of", "2025-10-02"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, "student S0001, school 101, grade 6, as of 2025-10-02\n"
                          "rule chronic-absence: notify attendance, domain attendance, tier 2\n"
                          "\n"
                          "+ route 1 (ewsd.yaml:14:5): domain attendance matches -> garcia\n"
                          "\n"
                          "recipients:\n"
                          "  garcia (Ana Garcia): digest at 06:45; email agarcia@district.org; "
                          "at most 15 new a day (overflow: lopez)\n");
}

TEST_F(RouteCliTest, TierThreeGoesAtOnceEvenToDigestRecipients) {
    const auto result = ewsd({"route", "S0002", "chronic-absence-severe", "--as-of", "2025-10-02"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_THAT(result.out, HasSubstr("  garcia (Ana Garcia): immediate (tier 3 goes at once, even "
                                      "to digest recipients; other tiers wait for the digest at "
                                      "06:45); email agarcia@district.org"));
}

TEST_F(RouteCliTest, OutOfScopeFallsThroughToTheFallback) {
    // From 2025-11-03 S0003 is at school 102, outside garcia's scope.
    const auto result = ewsd({"route", "S0003", "suspension", "--as-of", "2025-11-10"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out,
              "student S0003, school 102, grade 8, as of 2025-11-10\n"
              "rule suspension: notify behavior, domain behavior, tier 2\n"
              "\n"
              "- route 1 (ewsd.yaml:14:5): domain behavior not in [attendance]\n"
              "- route 2 (ewsd.yaml:15:5): domain behavior matches, but no specialist in `to` "
              "covers the referral (garcia: school 102 not in [101]); trying the next route\n"
              "+ route 3 (ewsd.yaml:16:5): fallback (match: {}) -> lopez\n"
              "\n"
              "recipients (only the fallback route reached this referral):\n"
              "  lopez (Luis Lopez): immediate; email llopez@district.org; webhook "
              "https://hooks.district.org/ewsd\n");
    // Before the move, garcia has them.
    EXPECT_THAT(ewsd({"route", "S0003", "suspension", "--as-of", "2025-10-02"}).out,
                HasSubstr("+ route 2 (ewsd.yaml:15:5): domain behavior matches -> garcia\n"));
}

TEST_F(RouteCliTest, UnknownStudentOrRuleExitsWithTwo) {
    const auto student = ewsd({"route", "NOBODY", "suspension"});
    EXPECT_EQ(student.exit_code, 2);
    EXPECT_EQ(student.err, "ewsd route: no enrolled student 'NOBODY'\n");
    const auto rule = ewsd({"route", "S0001", "suspensoin"});
    EXPECT_EQ(rule.exit_code, 2);
    EXPECT_EQ(rule.err, "ewsd route: no rule 'suspensoin' (did you mean 'suspension'?)\n");
    EXPECT_EQ(ewsd({"route", "S0001"}).exit_code, 2);
}

TEST_F(RouteCliTest, WithoutRoutesSaysNoOneIsNotified) {
    write_file(dir / "ewsd.yaml", base_config);
    const auto result = ewsd({"route", "S0001", "suspension", "--as-of", "2025-10-02"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_THAT(result.out, HasSubstr("no routes are configured in "));
    EXPECT_THAT(result.out, HasSubstr(": referrals are evaluated, but no one is notified\n"));
}

TEST_F(RouteCliTest, CheckWarnsOfPairsOnlyTheFallbackReaches) {
    // Today S0003 is at 102, where no one but the fallback covers any domain.
    const auto result = ewsd({"check"});
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    const std::string config = (dir / "ewsd.yaml").string();
    EXPECT_THAT(result.out,
                HasSubstr(config +
                          ":16:5: warning: routing: 4 of 12 (student, domain) pairs in the roster "
                          "reach only the fallback route (no other route's match and scope covers "
                          "them), e.g.:\n"
                          "    S0003 (school 102, grade 8): attendance (rule "
                          "chronic-absence-approaching)\n"
                          "    S0003 (school 102, grade 8): behavior (rule suspension)\n"));
    EXPECT_THAT(result.out, HasSubstr(": valid (1 feed, 13 rules, 1 warning)\n"));
}

TEST_F(RouteCliTest, CheckWithoutADatabaseSaysNothingAboutCoverage) {
    std::filesystem::remove_all(dir / "state");
    const auto result = ewsd({"check"});
    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    EXPECT_THAT(result.out, Not(HasSubstr("routing:")));
    EXPECT_FALSE(std::filesystem::exists(dir / "state/ewsd.db"));
}

TEST_F(RouteCliTest, CheckReportsRoutingErrorsWithPositions) {
    write_file(dir / "ewsd.yaml", base_config +
                                      "specialists: [{id: garcia, email: a@district.org}]\n"
                                      "routes: [{match: {domain: attendance}, to: garsia}]\n");
    const auto result = ewsd({"check"});
    EXPECT_EQ(result.exit_code, 1);
    const std::string config = (dir / "ewsd.yaml").string();
    EXPECT_THAT(result.out,
                HasSubstr(config + ":9:44: no specialist with id 'garsia' (did you mean "
                                   "'garcia'?)\n"));
    EXPECT_THAT(result.out, HasSubstr(config + ":9:10: the last route must be a fallback with "
                                               "`match: {}` so that every referral reaches "
                                               "someone\n"));
    EXPECT_THAT(result.out,
                HasSubstr(config + ":8:35: nothing could deliver email to this address: configure "
                                   "`smtp`, or `delivery.output_dir` to write messages to "
                                   "files\n"));
}

} // namespace
} // namespace ewsd
