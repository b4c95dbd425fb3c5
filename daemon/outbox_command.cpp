// `ewsd outbox`: what waits to be sent and what was given up on;
// `ewsd outbox retry ID...` requeues.
#include "daemon/commands.hpp"
#include "daemon/common.hpp"
#include "referrals/outbox.hpp"
#include "util/local_time.hpp"

#include <cstdio>
#include <iostream>

namespace ewsd::daemon {

int command_outbox(const std::filesystem::path& config_path, const std::string& state,
                   std::size_t limit) {
    if (!state.empty() && state != "pending" && state != "dead" && state != "sent") {
        std::cerr << "ewsd outbox: --state must be pending, dead or sent\n";
        return 2;
    }
    const core::Config config = load(config_path);
    util::set_local_timezone(config.timezone);
    store::Database db(config.database);
    const auto rows = referrals::list_outbox(db, state, limit);
    const auto counts = referrals::count_outbox(db, util::unix_now());
    std::printf("%-7s %-8s %-20s %-12s %-8s %-9s %-16s %-8s %s\n", "ID", "STATE", "KIND",
                "RECIPIENT", "CHANNEL", "DELIVERY", "DUE (local)", "ATTEMPTS",
                "STUDENT / LAST ERROR");
    for (const auto& r : rows) {
        std::string last = r.student_id;
        if (!r.last_error.empty()) {
            last += (last.empty() ? "" : "  ") + r.last_error;
        }
        std::printf("%-7lld %-8s %-20s %-12s %-8s %-9s %-16s %-8d %s\n",
                    static_cast<long long>(r.message_id), r.state.c_str(), r.kind.c_str(),
                    r.recipient.c_str(), r.channel.c_str(), r.delivery.c_str(),
                    r.state == "pending" ? util::format_local(r.due_at).c_str() : "-", r.attempts,
                    last.c_str());
    }
    std::printf("%lld pending (%lld due now), %lld dead, %lld sent\n",
                static_cast<long long>(counts.pending), static_cast<long long>(counts.due),
                static_cast<long long>(counts.dead), static_cast<long long>(counts.sent));
    return 0;
}

int command_outbox_retry(const std::filesystem::path& config_path,
                         const std::vector<std::string>& ids) {
    const core::Config config = load(config_path);
    store::Database db(config.database);
    int failed = 0;
    for (const auto& text : ids) {
        std::int64_t id = 0;
        try {
            std::size_t used = 0;
            id = std::stoll(text, &used);
            if (used != text.size() || id <= 0) {
                throw std::invalid_argument(text);
            }
        } catch (const std::exception&) {
            std::cerr << "ewsd outbox retry: '" << text << "' is not a message id\n";
            ++failed;
            continue;
        }
        const std::string error = referrals::retry(db, id);
        if (!error.empty()) {
            std::cerr << "ewsd outbox retry: " << error << "\n";
            ++failed;
        } else {
            std::printf("message %lld requeued: it goes at the next drain (ewsd run)\n",
                        static_cast<long long>(id));
        }
    }
    return failed == 0 ? 0 : 1;
}

} // namespace ewsd::daemon
