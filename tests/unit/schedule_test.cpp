// When notifications are due: school-local time across DST changes, digest
// times on instructional days (and weekdays when there is no calendar ahead),
// and the router's recipients, channels and due times.
#include "core/notify_config.hpp"
#include "referrals/schedule.hpp"
#include "tests/support/notify_yaml.hpp"
#include "util/date.hpp"
#include "util/local_time.hpp"

#include <algorithm>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ewsd::referrals {
namespace {

using ::testing::ElementsAre;

constexpr std::int64_t hour = 3600;

int day(const char* iso) {
    return util::to_day_number(*util::parse_iso_date(iso));
}

std::int64_t at(const char* local) {
    const auto t = util::parse_local_time(local);
    EXPECT_TRUE(t) << local;
    return t.value_or(0);
}

// The weekdays from `from` to `to` (inclusive), less `closed`.
std::vector<int> weekdays(const char* from, const char* to, const std::vector<int>& closed = {}) {
    std::vector<int> out;
    for (int d = day(from); d <= day(to); ++d) {
        const std::chrono::weekday w{std::chrono::sys_days{std::chrono::days{d}}};
        if (w != std::chrono::Saturday && w != std::chrono::Sunday &&
            std::find(closed.begin(), closed.end(), d) == closed.end()) {
            out.push_back(d);
        }
    }
    return out;
}

class LocalTimeTest : public ::testing::Test {
protected:
    void SetUp() override { util::set_local_timezone("America/Chicago"); }
};

TEST_F(LocalTimeTest, RoundTripsAnOrdinaryDay) {
    const std::int64_t t = util::local_to_unix(day("2026-01-27"), 7 * 60 + 30);
    EXPECT_EQ(t, 1769520600); // 13:30Z: CST is UTC-6
    EXPECT_EQ(util::local_day(t), day("2026-01-27"));
    EXPECT_EQ(util::local_minutes(t), 7 * 60 + 30);
    EXPECT_EQ(util::format_local(t), "2026-01-27 07:30");
    EXPECT_EQ(util::local_day(t - 7 * hour - 1800 - 1), day("2026-01-26")); // 23:59:59
}

// Every local minute of the day maps back to itself, except 02:00-02:59,
// which does not exist: it moves forward by the hour skipped.
TEST_F(LocalTimeTest, SpringForwardSkipsAnHour) {
    const int d = day("2026-03-08");
    for (int m = 0; m < 24 * 60; ++m) {
        const std::int64_t t = util::local_to_unix(d, m);
        const bool skipped = m >= 2 * 60 && m < 3 * 60;
        EXPECT_EQ(util::local_day(t), d) << m;
        EXPECT_EQ(util::local_minutes(t), skipped ? m + 60 : m) << m;
    }
    EXPECT_EQ(util::local_to_unix(d, 2 * 60 + 30), 1772958600); // 08:30Z = 03:30 CDT
    EXPECT_EQ(util::format_local(1772958600), "2026-03-08 03:30");
    EXPECT_EQ(util::local_to_unix(d, 3 * 60) - util::local_to_unix(d, 60 + 59), 60);
}

// 01:00-01:59 happens twice (CDT, then CST): a local time means the first.
TEST_F(LocalTimeTest, FallBackTakesTheFirstOfARepeatedHour) {
    const int d = day("2026-11-01");
    EXPECT_EQ(util::local_to_unix(d, 60 + 30), 1793514600); // 06:30Z = 01:30 CDT
    // From the first 01:59 to 02:00, the second 01:xx in between.
    EXPECT_EQ(util::local_to_unix(d, 2 * 60) - util::local_to_unix(d, 60 + 59), hour + 60);
    // Every minute of the day's 25 hours reads back as itself,
    // or (the second 01:xx) as the first occurrence an hour earlier.
    const std::int64_t midnight = util::local_to_unix(d, 0);
    const std::int64_t cst = 1793516400; // 07:00Z: 02:00 CDT becomes 01:00 CST
    for (std::int64_t t = midnight; t < midnight + 25 * hour; t += 60) {
        const std::int64_t back = util::local_to_unix(util::local_day(t), util::local_minutes(t));
        const bool second_occurrence = t >= cst && t < cst + hour;
        EXPECT_EQ(back, second_occurrence ? t - hour : t) << util::format_local(t);
    }
    EXPECT_EQ(util::local_day(midnight + 25 * hour), d + 1);
}

// Ireland's winter time is the tz database's "daylight" time (negative DST),
// so the first of the repeated hour is the one with tm_isdst == 0 there.
TEST_F(LocalTimeTest, FirstOccurrenceDoesNotDependOnTheDstFlag) {
    util::set_local_timezone("Europe/Dublin");
    EXPECT_EQ(util::local_to_unix(day("2026-10-25"), 60 + 30), 1792888200); // 00:30Z = 01:30 IST
    EXPECT_EQ(util::local_to_unix(day("2026-03-29"), 60 + 30), 1774747800); // skipped: 02:30 IST
}

TEST_F(LocalTimeTest, ParsesLocalTimes) {
    const std::int64_t t = util::local_to_unix(day("2026-01-27"), 8 * 60);
    EXPECT_EQ(util::parse_local_time("2026-01-27T08:00"), t);
    EXPECT_EQ(util::parse_local_time("2026-01-27 08:00"), t);
    EXPECT_EQ(util::parse_local_time("2026-01-27T08:00:00"), t);
    EXPECT_EQ(util::parse_local_time("2026-01-27 08:00:59"), t + 59);
    EXPECT_EQ(util::parse_local_time("2026-01-27T00:00"), t - 8 * hour);
    EXPECT_EQ(util::parse_local_time("2026-01-27T23:59"), t + 16 * hour - 60);
    EXPECT_EQ(util::parse_local_time("2028-02-29T12:00"),
              util::local_to_unix(day("2028-02-29"), 720));
    EXPECT_EQ(util::parse_local_time("2026-03-08T02:30"), 1772958600);
    EXPECT_EQ(util::parse_local_time("2026-11-01T01:30:15"), 1793514615);
}

TEST_F(LocalTimeTest, RejectsMalformedLocalTimes) {
    for (const char* bad : {"",
                            "2026-01-27",
                            "2026-01-27T",
                            "2026-01-27T8:00",
                            "2026-01-27T08:0",
                            "2026-01-27T08",
                            "2026-01-27T08:00Z",
                            "2026-01-27T08:00:00Z",
                            "2026-01-27T08:00+01",
                            "2026-01-27T08:00 ",
                            " 2026-01-27T08:00",
                            "2026-01-27t08:00",
                            "2026-01-27_08:00",
                            "2026-01-27T08.00",
                            "2026-01-27T08:00:0",
                            "2026-01-27T08:00-00",
                            "2026/01/27 08:00",
                            "26-01-27T08:00:00",
                            "2026-1-27T08:00:00",
                            "2026-01-27T0a:00",
                            "2026-01-27T08:-1",
                            "2026-01-27T+8:00",
                            "2026-01-27T24:00",
                            "2026-01-27T07:60",
                            "2026-01-27T07:30:60",
                            "2026-02-29T07:30",
                            "2026-13-01T07:30",
                            "2026-00-10T07:30",
                            "2026-01-32T07:30",
                            "2026-01-00T07:30",
                            "2026-01-27T07:30:00.5"}) {
        EXPECT_EQ(util::parse_local_time(bad), std::nullopt) << '"' << bad << '"';
    }
}

// School 101's calendar: weekdays from 2026-01-05 to 2026-05-29 but Monday
// 2026-02-16 (a holiday), then from 2026-08-19. Digests at 07:30.
class DigestTimeTest : public ::testing::Test {
protected:
    void SetUp() override {
        util::set_local_timezone("America/Chicago");
        std::vector<int> days = weekdays("2026-01-05", "2026-05-29", {day("2026-02-16")});
        const std::vector<int> autumn = weekdays("2026-08-19", "2026-12-18");
        days.insert(days.end(), autumn.begin(), autumn.end());
        calendars.set("101", days);
    }

    std::string next(const char* now, const std::string& school = "101") const {
        return util::format_local(next_digest_at(calendars, school, digest, at(now)));
    }
    std::string next_day(const char* now, const std::string& school = "101") const {
        return util::format_local(next_day_digest_at(calendars, school, digest, at(now)));
    }

    store::Calendars calendars;
    int digest = 7 * 60 + 30;
};

TEST_F(DigestTimeTest, BeforeTheDigestTimeIsToday) {
    EXPECT_EQ(next("2026-01-27T07:00"), "2026-01-27 07:30"); // a Tuesday
    EXPECT_EQ(next("2026-01-27T00:00"), "2026-01-27 07:30");
}

TEST_F(DigestTimeTest, AtTheDigestTimeIsNow) {
    EXPECT_EQ(next_digest_at(calendars, "101", digest, at("2026-01-27T07:30")),
              at("2026-01-27T07:30"));
}

TEST_F(DigestTimeTest, AfterTheDigestTimeIsTheNextInstructionalDay) {
    EXPECT_EQ(next("2026-01-27T07:30:01"), "2026-01-28 07:30");
    EXPECT_EQ(next("2026-01-27T23:59"), "2026-01-28 07:30");
}

TEST_F(DigestTimeTest, SkipsWeekendsAndHolidays) {
    EXPECT_EQ(next("2026-01-30T08:00"), "2026-02-02 07:30"); // Friday -> Monday
    EXPECT_EQ(next("2026-01-31T06:00"), "2026-02-02 07:30"); // Saturday, before 07:30
    EXPECT_EQ(next("2026-02-13T08:00"), "2026-02-17 07:30"); // Friday -> Tuesday (holiday)
    EXPECT_EQ(next("2026-02-16T07:00"), "2026-02-17 07:30"); // on the holiday itself
}

// 07:30 on the Monday after the change is 07:30 CDT, not 08:30.
TEST_F(DigestTimeTest, KeepsTheLocalTimeAcrossDst) {
    EXPECT_EQ(next_digest_at(calendars, "101", digest, at("2026-03-06T08:00")),
              1773059400); // 12:30Z
}

TEST_F(DigestTimeTest, WithoutACalendarDigestsGoOnWeekdays) {
    EXPECT_EQ(next("2026-01-29T07:00", "999"), "2026-01-29 07:30"); // Thursday
    EXPECT_EQ(next("2026-01-29T08:00", "999"), "2026-01-30 07:30");
    EXPECT_EQ(next("2026-01-30T08:00", "999"), "2026-02-02 07:30"); // Friday -> Monday
    EXPECT_EQ(next("2026-02-01T12:00", "999"), "2026-02-02 07:30"); // Sunday
}

// Summer: 2026-06-12 is more than 60 days before school starts again; from
// 2026-07-01 the first day back is within reach and the digest waits for it.
TEST_F(DigestTimeTest, SummerFallsBackToWeekdaysBeyondSixtyDays) {
    EXPECT_EQ(next("2026-06-12T08:00"), "2026-06-15 07:30");
    EXPECT_EQ(next("2026-05-29T08:00"), "2026-06-01 07:30"); // after the last day's digest
    EXPECT_EQ(next("2026-07-01T08:00"), "2026-08-19 07:30");
}

TEST_F(DigestTimeTest, NextDaySkipsTodayEvenBeforeTheDigestTime) {
    EXPECT_EQ(next_day("2026-01-27T06:00"), "2026-01-28 07:30");
    EXPECT_EQ(next_day("2026-01-27T09:00"), "2026-01-28 07:30");
    EXPECT_EQ(next_day("2026-01-30T06:00"), "2026-02-02 07:30");
    EXPECT_EQ(next_day("2026-02-13T06:00"), "2026-02-17 07:30");
    EXPECT_EQ(next_day("2026-01-29T06:00", "999"), "2026-01-30 07:30");
}

// garcia: digest at 06:45, lead lopez. kim: email and webhook, at once, no
// lead. ng: no lead either. The admin stands in for leads.
const char* const notify_yaml = R"yaml(delivery: {output_dir: outbox}
specialists:
  - {id: garcia, email: a@district.org, delivery: digest, digest_time: "06:45", lead: lopez}
  - id: kim
    email: k@district.org
    webhook: {url: "https://hooks.district.org/kim", secret: whsec_c2VjcmV0}
  - {id: ng, email: n@district.org}
  - {id: lopez, email: l@district.org}
  - {id: hook, webhook: {url: "https://hooks.district.org/team", secret: whsec_c2VjcmV0}}
  - {id: admin, email: d@district.org}
routes:
  - {match: {domain: attendance}, to: [garcia]}
  - {match: {domain: behavior}, to: [kim]}
  - {match: {domain: course}, to: [garcia, kim, ng, lopez]}
  - {match: {}, to: [hook]}
admin: admin
)yaml";

using testing::parse_notify_config;

class RouterTest : public ::testing::Test {
protected:
    void SetUp() override {
        util::set_local_timezone("America/Chicago");
        calendars.set("101", weekdays("2026-01-05", "2026-05-29"));
        now = at("2026-01-27T08:00"); // Tuesday, after garcia's 06:45 digest
    }

    // "garcia email digest 2026-01-28 06:45", "kim webhook now".
    std::vector<std::string> recipients(const std::string& domain, int tier,
                                        Event event = Event::opened, bool escalate = false) {
        Referral r;
        r.student.school_id = "101";
        r.student.grade_level = 7;
        r.domain = domain;
        r.notify = domain;
        r.tier = tier;
        const Router router = make_router(notify, calendars, now);
        std::vector<std::string> out;
        for (const Recipient& to : router(RouteRequest{&r, event, escalate})) {
            out.push_back(to.specialist_id + " " + to.channel + (to.digest ? " digest " : " ") +
                          (to.due_at == now ? "now" : util::format_local(to.due_at)));
        }
        return out;
    }

    core::NotifyConfig notify = parse_notify_config(notify_yaml);
    store::Calendars calendars;
    std::int64_t now = 0;
};

TEST_F(RouterTest, DigestSpecialistWaitsForTheDigestTime) {
    EXPECT_THAT(recipients("attendance", 1), ElementsAre("garcia email digest 2026-01-28 06:45"));
    EXPECT_THAT(recipients("attendance", 2, Event::renotified),
                ElementsAre("garcia email digest 2026-01-28 06:45"));
    now = at("2026-01-27T06:00");
    EXPECT_THAT(recipients("attendance", 2), ElementsAre("garcia email digest 2026-01-27 06:45"));
}

TEST_F(RouterTest, TierThreeGoesAtOnceButItsResolutionWaits) {
    EXPECT_THAT(recipients("attendance", 3), ElementsAre("garcia email now"));
    EXPECT_THAT(recipients("attendance", 3, Event::updated), ElementsAre("garcia email now"));
    EXPECT_THAT(recipients("attendance", 3, Event::resolved),
                ElementsAre("garcia email digest 2026-01-28 06:45"));
}

TEST_F(RouterTest, OneRecipientPerChannel) {
    EXPECT_THAT(recipients("behavior", 1), ElementsAre("kim email now", "kim webhook now"));
    EXPECT_THAT(recipients("other", 1), ElementsAre("hook webhook now"));
}

TEST_F(RouterTest, EscalationAlsoReachesTheLeadAtOnce) {
    EXPECT_THAT(recipients("attendance", 2, Event::renotified, true),
                ElementsAre("garcia email digest 2026-01-28 06:45", "lopez email now"));
}

TEST_F(RouterTest, EscalationReachesTheAdminWhenThereIsNoLead) {
    EXPECT_THAT(recipients("behavior", 2, Event::renotified, true),
                ElementsAre("kim email now", "kim webhook now", "admin email now"));
}

// lopez (garcia's lead) is routed already; kim, ng and lopez have no lead,
// so the admin is added once for all three.
TEST_F(RouterTest, EscalationAddsEachContactOnce) {
    EXPECT_THAT(recipients("course", 2, Event::renotified, true),
                ElementsAre("garcia email digest 2026-01-28 06:45", "kim email now",
                            "kim webhook now", "ng email now", "lopez email now",
                            "admin email now"));
}

} // namespace
} // namespace ewsd::referrals
