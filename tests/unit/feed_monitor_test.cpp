// The service's view of its feeds: when each is due, and the stale-data
// guard's transitions, kept in the store across restarts.
#include "daemon/feed_monitor.hpp"
#include "rules/dependencies.hpp"
#include "store/database.hpp"
#include "store/queries.hpp"
#include "tests/support/temp_dir.hpp"
#include "util/local_time.hpp"

#include <gtest/gtest.h>

namespace ewsd::daemon {
namespace {

std::int64_t at(const char* local) {
    return *util::parse_local_time(local);
}

class FeedMonitorTest : public ::testing::Test {
protected:
    FeedMonitorTest() : db(dir / "ewsd.db") {
        util::set_local_timezone("America/Chicago");
        std::filesystem::create_directories(dir / "feeds");
        feed.name = "sis";
        feed.type = "csv";
        feed.path = dir / "feeds";
        feed.settle_time = std::chrono::seconds(0);
        feed.max_age = std::chrono::hours(1);
    }

    testing::TempDir dir;
    store::Database db;
    core::FeedConfig feed;
    core::NotifyConfig notify; // no admin: alerts are only logged
};

TEST(DataKindOfSource, CsvFilesAndUnknownSources) {
    EXPECT_EQ(data_kind_of_source("attendance.csv"), rules::attendance);
    EXPECT_EQ(data_kind_of_source("students.csv"), rules::roster);
    EXPECT_EQ(data_kind_of_source("calendar.csv"), rules::calendar);
    EXPECT_EQ(data_kind_of_source("grades.csv"), rules::grades);
    EXPECT_EQ(data_kind_of_source("incidents.csv"), rules::incidents);
    EXPECT_EQ(data_kind_of_source("something-else"), static_cast<unsigned>(rules::all_data));
}

TEST_F(FeedMonitorTest, AnIntervalOrTheNextDailyTime) {
    EXPECT_EQ(next_poll_after(feed, 1000), 1060);
    feed.poll_at = {5 * 60 + 30, 12 * 60};
    EXPECT_EQ(next_poll_after(feed, at("2026-01-30T04:00")), at("2026-01-30T05:30"));
    EXPECT_EQ(next_poll_after(feed, at("2026-01-30T05:30")), at("2026-01-30T12:00"));
    EXPECT_EQ(next_poll_after(feed, at("2026-01-30T13:00")), at("2026-01-31T05:30"));
    // 02:30 does not exist on the spring-forward day: 03:30 instead.
    feed.poll_at = {2 * 60 + 30};
    EXPECT_EQ(next_poll_after(feed, at("2026-03-08T00:00")), at("2026-03-08T03:30"));
}

TEST_F(FeedMonitorTest, StaleAfterMaxAgeOnceAcrossRestartsAndFreshWithNewInput) {
    const std::int64_t t0 = at("2026-01-30T06:00");
    {
        FeedMonitor monitor(db, {feed}, t0);
        EXPECT_FALSE(monitor.poll_due(db, t0, nullptr)); // an empty folder
        EXPECT_EQ(monitor.check_staleness(db, notify, t0 + 3600), 0);
        EXPECT_EQ(monitor.next_stale_at(), t0 + 3601);
        EXPECT_EQ(monitor.check_staleness(db, notify, t0 + 3601), 1);
        ASSERT_TRUE(monitor.statuses()[0].stale);
        // A feed that never delivered may supply anything.
        EXPECT_EQ(monitor.stale_kinds(), 31U);
        EXPECT_EQ(FeedMonitor::stale_reason(monitor.statuses()[0], t0 + 7200),
                  "no new data for 2 h (max_age 1 h, last new data 2026-01-30 06:00)");
    }
    // A restart remembers: no second alert.
    FeedMonitor monitor(db, {feed}, t0 + 7200);
    EXPECT_TRUE(monitor.statuses()[0].stale);
    EXPECT_EQ(monitor.check_staleness(db, notify, t0 + 7200), 0);

    testing::write_file(
        dir / "feeds/attendance.csv",
        "student_id,school_id,date,category\nS1,101,2026-01-29,Unexcused Absence\n");
    EXPECT_TRUE(monitor.poll_due(db, t0 + 7200, nullptr));
    EXPECT_EQ(monitor.check_staleness(db, notify, t0 + 7200), 1);
    EXPECT_FALSE(monitor.statuses()[0].stale);
    EXPECT_EQ(monitor.statuses()[0].kinds, 4U); // attendance only, now that it is known
    EXPECT_EQ(monitor.statuses()[0].rows_ingested, 1U);
    EXPECT_EQ(store::meta_value(db, "feed.sis.stale"), "0");
}

TEST_F(FeedMonitorTest, AFailingPollIsCountedAndNamed) {
    feed.path = dir / "missing";
    FeedMonitor monitor(db, {feed}, 100);
    EXPECT_FALSE(monitor.poll_due(db, 100, nullptr));
    const FeedStatus& s = monitor.statuses()[0];
    EXPECT_TRUE(s.last_poll_failed);
    EXPECT_EQ(s.polls_failed, 1U);
    EXPECT_EQ(s.next_poll, 160);
    EXPECT_NE(s.last_error.find("does not exist"), std::string::npos) << s.last_error;
}

} // namespace
} // namespace ewsd::daemon
