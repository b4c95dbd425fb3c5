// The real ewsd binary: `run --once` opens referrals once, a second cycle on
// the same date evaluates nobody, a new date re-evaluates everyone without
// duplicates; `referrals` lists them; ack and close change state.
#include "tests/support/basic_district.hpp"

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>

namespace ewsd {
namespace {

class ReferralsCliTest : public testing::BasicDistrict {
protected:
    void SetUp() override { make_district(); }

    long long count(const std::string& sql) {
        SQLite::Database db((dir / "state/ewsd.db").string());
        return db.execAndGet(sql).getInt64();
    }
};

TEST_F(ReferralsCliTest, CyclesOpenReferralsOnceAndSpecialistsChangeThem) {
    const auto first = ewsd({"run", "--once", "--as-of", "2025-10-31"});
    ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
    EXPECT_NE(first.out.find("(all: a new date)"), std::string::npos) << first.out;
    const long long opened = count("SELECT count(*) FROM referrals WHERE state = 'open'");
    EXPECT_GT(opened, 0);
    EXPECT_EQ(count("SELECT count(*) FROM dirty_students"), 0);

    const auto same_day = ewsd({"run", "--once", "--as-of", "2025-10-31"});
    EXPECT_NE(same_day.out.find("0 students (changed since the last cycle)"), std::string::npos)
        << same_day.out;
    const auto next_day = ewsd({"run", "--once", "--as-of", "2025-11-03"});
    EXPECT_NE(next_day.out.find("(all: a new date)"), std::string::npos);
    EXPECT_EQ(count("SELECT count(*) FROM referrals WHERE state = 'open'"), opened);
    EXPECT_EQ(count("SELECT count(*) FROM (SELECT 1 FROM referrals WHERE state IN ('pending', "
                    "'open', 'acknowledged') GROUP BY student_id, rule_id HAVING count(*) > 1)"),
              0);

    const long long id = count("SELECT min(referral_id) FROM referrals WHERE state = 'open'");
    const auto listed = ewsd({"referrals", "--state", "open"});
    EXPECT_EQ(listed.exit_code, 0);
    EXPECT_NE(listed.out.find(std::to_string(opened) + " referral"), std::string::npos)
        << listed.out;
    EXPECT_EQ(ewsd({"referrals", "ack", std::to_string(id), "--note", "called home"}).exit_code, 0);
    EXPECT_EQ(ewsd({"referrals", "ack", std::to_string(id)}).exit_code, 1); // already acked
    EXPECT_EQ(ewsd({"referrals", "close", std::to_string(id), "--note", "moved"}).exit_code, 0);
    EXPECT_EQ(ewsd({"referrals", "close", "nope"}).exit_code, 2);
    EXPECT_EQ(count("SELECT count(*) FROM referrals WHERE referral_id = " + std::to_string(id) +
                    " AND state = 'closed' AND note = 'moved'"),
              1);
    EXPECT_EQ(ewsd({"referrals", "--state", "bogus"}).exit_code, 2);
}

} // namespace
} // namespace ewsd
