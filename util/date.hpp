#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ewsd::util {

using Date = std::chrono::year_month_day;

// Strict ISO 8601 calendar date, YYYY-MM-DD; nullopt when malformed or not a real day.
std::optional<Date> parse_iso_date(std::string_view text);

std::string format_iso_date(Date date);

// Days since 1970-01-01: the form dates are stored in.
int to_day_number(Date date);
Date from_day_number(int days);

} // namespace ewsd::util

namespace ewsd::util {
// "2026-11-24T17:03:09Z"
std::string format_timestamp_utc(std::chrono::system_clock::time_point when);
} // namespace ewsd::util
