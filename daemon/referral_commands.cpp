// `ewsd referrals`: list referrals, and a specialist's acknowledge and close.
#include "daemon/commands.hpp"
#include "daemon/common.hpp"
#include "referrals/lifecycle.hpp"
#include "util/date.hpp"

#include <SQLiteCpp/Transaction.h>
#include <cstdio>
#include <iostream>

namespace ewsd::daemon {

int command_referrals(const std::filesystem::path& config_path, const std::string& state,
                      const std::string& student) {
    static const char* states[] = {"", "pending", "open", "acknowledged", "resolved", "closed"};
    if (std::find(std::begin(states), std::end(states), state) == std::end(states)) {
        std::cerr << "ewsd referrals: --state must be pending, open, acknowledged, resolved or "
                     "closed\n";
        return 2;
    }
    const core::Config config = load(config_path);
    store::Database db(config.database);
    const auto rows = referrals::list_referrals(db, state, student);
    std::printf("%8s %-12s %-28s %-12s %4s %-10s %-8s %5s %-10s %-10s\n", "id", "student", "rule",
                "state", "tier", "domain", "school", "grade", "opened", "updated");
    for (const auto& r : rows) {
        std::printf("%8lld %-12s %-28s %-12s %4d %-10s %-8s %5d %-10s %-10s%s%s\n",
                    static_cast<long long>(r.id), r.student_id.c_str(), r.rule_id.c_str(),
                    r.state.c_str(), r.tier, r.domain.c_str(), r.school_id.c_str(), r.grade_level,
                    r.opened_on.empty() ? "-" : r.opened_on.c_str(), r.updated_on.c_str(),
                    r.note.empty() ? "" : "  note: ", r.note.c_str());
    }
    std::printf("%zu referral%s\n", rows.size(), rows.size() == 1 ? "" : "s");
    return 0;
}

int command_referral_change(const std::filesystem::path& config_path, const std::string& action,
                            const std::string& id_text, const std::string& note) {
    std::size_t used = 0;
    long long id = 0;
    try {
        id = std::stoll(id_text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != id_text.size() || id <= 0) {
        std::cerr << "ewsd referrals " << action << ": '" << id_text
                  << "' is not a referral id (see ewsd referrals)\n";
        return 2;
    }
    const core::Config config = load(config_path);
    store::Database db(config.database);
    const std::string today =
        util::format_iso_date(util::from_day_number(today_in(config.timezone)));
    SQLite::Transaction txn(db.sql(), SQLite::TransactionBehavior::IMMEDIATE);
    const std::string error = action == "ack" ? referrals::acknowledge(db, id, note, today)
                                              : referrals::close(db, id, note, today);
    if (!error.empty()) {
        std::cerr << "ewsd referrals " << action << ": " << error << "\n";
        return 1;
    }
    txn.commit();
    std::printf("referral %lld %s\n", id, action == "ack" ? "acknowledged" : "closed");
    return 0;
}

} // namespace ewsd::daemon
