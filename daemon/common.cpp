#include "daemon/common.hpp"

#include "util/date.hpp"
#include "util/local_time.hpp"
#include "util/log.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <random>
#include <sys/file.h>
#include <unistd.h>

namespace ewsd::daemon {

core::Config load(const std::filesystem::path& path) {
    core::Config config = core::load_config_or_throw(path);
    util::log::set_level(config.log_level);
    return config;
}

int today_in(const std::string& timezone) {
    util::set_local_timezone(timezone);
    return util::local_day(util::unix_now());
}

rules::RuleSet load_rules_or_throw(const core::Config& config) {
    rules::RuleLoad load = rules::load_rules(config.rules_dir);
    const std::string errors = load.diagnostics.log_warnings_and_join_errors();
    if (!load.rules) {
        throw core::ConfigError(errors);
    }
    return std::move(*load.rules);
}

std::optional<int> parse_as_of(const std::string& text, const core::Config& config,
                               const char* command) {
    if (text.empty()) {
        return today_in(config.timezone);
    }
    if (auto date = util::parse_iso_date(text)) {
        return util::to_day_number(*date);
    }
    std::cerr << "ewsd " << command << ": --as-of '" << text << "' is not a date as YYYY-MM-DD\n";
    return std::nullopt;
}

rules::MetricSettings metric_settings(const core::Config& config) {
    rules::MetricSettings settings;
    settings.school_year_start = util::to_day_number(config.school_year_start);
    settings.pass_mark_for = [&config](const std::string& school) {
        return config.pass_mark_for(school);
    };
    return settings;
}

referrals::RenderSettings render_settings(const core::Config& config) {
    const auto& notify = config.notify;
    referrals::RenderSettings s;
    s.templates_dir = config.templates_dir;
    s.email_student_names = notify.email_student_names;
    s.from = notify.smtp && !notify.smtp->from.empty()
                 ? notify.smtp->from
                 : "Early Warning <ewsd@" + notify.message_id_domain + ">";
    s.message_id_domain = notify.message_id_domain;
    return s;
}

SendLock::SendLock(const std::filesystem::path& database) {
    const std::string path = database.string() + ".send-lock";
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m_fd < 0) {
        throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    }
    if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(m_fd);
        m_fd = -1;
    }
}

SendLock::~SendLock() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

Delivery make_delivery(const core::Config& config) {
    Delivery delivery;
    if (!config.notify.empty()) {
        delivery.renderer.emplace(render_settings(config));
        delivery.transports = referrals::make_transports(config.notify);
    }
    return delivery;
}

std::optional<referrals::DrainReport> drain_due(const core::Config& config, store::Database& db,
                                                const Delivery& delivery,
                                                referrals::OutboxSettings settings,
                                                std::int64_t now, const std::atomic<bool>* stop) {
    SendLock lock(config.database);
    if (!lock.held()) {
        return std::nullopt;
    }
    const store::Calendars calendars(db);
    settings.retry_for = config.notify.retry_for;
    return referrals::drain(db, config.notify, *delivery.renderer, delivery.transports, calendars,
                            settings, now, std::random_device{}(), stop);
}

} // namespace ewsd::daemon
