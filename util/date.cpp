#include "util/date.hpp"

#include <cstdio>

namespace ewsd::util {

namespace {

bool parse_digits(std::string_view text, int& out) {
    out = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
        out = out * 10 + (c - '0');
    }
    return !text.empty();
}

} // namespace

std::optional<Date> parse_iso_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    int y = 0;
    int m = 0;
    int d = 0;
    if (!parse_digits(text.substr(0, 4), y) || !parse_digits(text.substr(5, 2), m) ||
        !parse_digits(text.substr(8, 2), d)) {
        return std::nullopt;
    }
    Date date{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
              std::chrono::day{static_cast<unsigned>(d)}};
    if (!date.ok()) {
        return std::nullopt;
    }
    return date;
}

std::string format_iso_date(Date date) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
    return buf;
}

int to_day_number(Date date) {
    return static_cast<int>(std::chrono::sys_days{date}.time_since_epoch().count());
}

Date from_day_number(int days) {
    return Date{std::chrono::sys_days{std::chrono::days{days}}};
}

} // namespace ewsd::util

namespace ewsd::util {

std::string format_timestamp_utc(std::chrono::system_clock::time_point when) {
    const auto seconds = std::chrono::floor<std::chrono::seconds>(when);
    const auto day = std::chrono::floor<std::chrono::days>(seconds);
    const std::chrono::hh_mm_ss time{seconds - day};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ", format_iso_date(Date{day}).c_str(),
                  static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                  static_cast<int>(time.seconds().count()));
    return buf;
}

} // namespace ewsd::util
