#include "util/local_time.hpp"

#include "util/date.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace ewsd::util {

namespace {

constexpr std::int64_t seconds_per_day = 86'400;

std::tm local_tm(std::int64_t unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm local{};
    localtime_r(&t, &local);
    return local;
}

int day_of(const std::tm& local) {
    return to_day_number(Date{std::chrono::year{local.tm_year + 1900},
                              std::chrono::month{static_cast<unsigned>(local.tm_mon + 1)},
                              std::chrono::day{static_cast<unsigned>(local.tm_mday)}});
}

// The local wall clock at `unix_seconds`, counted as if it were UTC: the
// local time's day number * 86400 + seconds after local midnight.
std::int64_t wall_seconds(std::int64_t unix_seconds) {
    const std::tm local = local_tm(unix_seconds);
    const std::int64_t since_midnight = local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec;
    return day_of(local) * seconds_per_day + since_midnight;
}

// Local time minus UTC, in seconds.
std::int64_t utc_offset(std::int64_t unix_seconds) {
    return wall_seconds(unix_seconds) - unix_seconds;
}

// Two ASCII digits at `at`, or -1.
int two_digits(std::string_view text, std::size_t at) {
    const auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (!digit(text[at]) || !digit(text[at + 1])) {
        return -1;
    }
    return (text[at] - '0') * 10 + (text[at + 1] - '0');
}

} // namespace

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void set_local_timezone(const std::string& timezone) {
    setenv("TZ", timezone.c_str(), 1);
    tzset();
}

int local_day(std::int64_t unix_seconds) {
    return day_of(local_tm(unix_seconds));
}

int local_minutes(std::int64_t unix_seconds) {
    const std::tm local = local_tm(unix_seconds);
    return local.tm_hour * 60 + local.tm_min;
}

// Not mktime with tm_isdst = -1: glibc resolves a repeated hour from a guess
// cached by earlier calls, and in zones whose winter time is the "DST" one
// (Europe/Dublin) no choice of tm_isdst means "first occurrence". Instead the
// wall time is tried with the UTC offsets in force two days either side (no
// zone changes offset twice that quickly) and kept where it maps back.
std::int64_t local_to_unix(int day, int minutes) {
    const std::int64_t wall = std::int64_t{day} * seconds_per_day + std::int64_t{minutes} * 60;
    const std::int64_t with_earlier = wall - utc_offset(wall - 2 * seconds_per_day);
    const std::int64_t with_later = wall - utc_offset(wall + 2 * seconds_per_day);
    const bool earlier_fits = wall_seconds(with_earlier) == wall;
    const bool later_fits = wall_seconds(with_later) == wall;
    if (earlier_fits && later_fits) {
        return std::min(with_earlier, with_later); // repeated: the first occurrence
    }
    if (later_fits) {
        return with_later;
    }
    // Fits with the earlier offset, or skipped by a gap: read with the offset
    // from before the gap, it lands the gap's length later.
    return with_earlier;
}

std::string format_local(std::int64_t unix_seconds) {
    const std::tm local = local_tm(unix_seconds);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d %02d:%02d", local.tm_year + 1900,
                  local.tm_mon + 1, local.tm_mday, local.tm_hour, local.tm_min);
    return buffer;
}

std::optional<std::int64_t> parse_local_time(std::string_view text) {
    const bool with_seconds = text.size() == 19;
    if ((text.size() != 16 && !with_seconds) || (text[10] != 'T' && text[10] != ' ') ||
        text[13] != ':' || (with_seconds && text[16] != ':')) {
        return std::nullopt;
    }
    const auto date = parse_iso_date(text.substr(0, 10));
    const int hour = two_digits(text, 11);
    const int minute = two_digits(text, 14);
    const int second = with_seconds ? two_digits(text, 17) : 0;
    if (!date || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) {
        return std::nullopt;
    }
    return local_to_unix(to_day_number(*date), hour * 60 + minute) + second;
}

std::optional<int> parse_time_of_day(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 2 || text.size() != colon + 3 ||
        text.find_first_not_of("0123456789:") != std::string_view::npos ||
        text.find(':', colon + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    const int hours = colon == 1 ? text[0] - '0' : two_digits(text, 0);
    const int minutes = two_digits(text, colon + 1);
    if (hours > 23 || minutes > 59) {
        return std::nullopt;
    }
    return hours * 60 + minutes;
}

std::optional<std::int64_t> parse_duration(std::string_view text) {
    if (text.size() < 2 || text.size() > 12) {
        return std::nullopt;
    }
    std::int64_t unit = 0;
    switch (text.back()) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    default:
        return std::nullopt;
    }
    std::int64_t value = 0;
    for (const char c : text.substr(0, text.size() - 1)) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    if (value == 0) {
        return std::nullopt;
    }
    return value * unit;
}

} // namespace ewsd::util
