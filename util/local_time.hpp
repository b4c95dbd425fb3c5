#pragma once
// School-local wall-clock time: digest times ("07:30 on instructional days"),
// `--now`, and the local day a Unix time falls on. The process runs in one
// timezone, the config's `timezone`, set once at start-up through TZ (glibc's
// tz database; GCC 12 has no std::chrono::zoned_time).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ewsd::util {

// The clock, as Unix seconds.
std::int64_t unix_now();

// Sets TZ for the process and reloads it. Call from the main thread before
// other threads start (setenv is not thread-safe).
void set_local_timezone(const std::string& timezone);

// The local calendar day (days since 1970-01-01) of a Unix time.
int local_day(std::int64_t unix_seconds);

// Minutes after local midnight of a Unix time.
int local_minutes(std::int64_t unix_seconds);

// The Unix time of `minutes` after local midnight on `day`. A time skipped by
// a DST change moves forward by the gap; a repeated one is its first occurrence.
std::int64_t local_to_unix(int day, int minutes);

// "2026-01-30 07:30" (local).
std::string format_local(std::int64_t unix_seconds);

// "YYYY-MM-DDTHH:MM" or "YYYY-MM-DDTHH:MM:SS" (a space instead of T is
// accepted) as local time; nullopt when malformed.
std::optional<std::int64_t> parse_local_time(std::string_view text);

// "07:30" -> 450 (minutes after midnight); nullopt unless H:MM or HH:MM, 24-hour.
std::optional<int> parse_time_of_day(std::string_view text);

// "90s", "15m", "36h", "2d" -> seconds; nullopt when malformed or not positive.
std::optional<std::int64_t> parse_duration(std::string_view text);

} // namespace ewsd::util
