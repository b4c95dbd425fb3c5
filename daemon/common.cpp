#include "daemon/common.hpp"

#include "util/date.hpp"
#include "util/log.hpp"

#include <cstdlib>
#include <ctime>
#include <iostream>

namespace ewsd::daemon {

core::Config load(const std::filesystem::path& path) {
    core::Config config = core::load_config_or_throw(path);
    util::log::set_level(config.log_level);
    return config;
}

int today_in(const std::string& timezone) {
    setenv("TZ", timezone.c_str(), 1);
    tzset();
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    return util::to_day_number(
        util::Date{std::chrono::year{local.tm_year + 1900},
                   std::chrono::month{static_cast<unsigned>(local.tm_mon + 1)},
                   std::chrono::day{static_cast<unsigned>(local.tm_mday)}});
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

} // namespace ewsd::daemon
