#pragma once
// A referral's evidence in plain words for the specialists who read the
// notifications: "absent 12.5% of enrolled school days this school year
// (threshold 10%)" rather than "absence_rate(school_year) 0.125 >= 0.1".

#include "referrals/model.hpp"

#include <string>
#include <vector>

namespace ewsd::referrals {

// One comparison in words. The metric text (name(window, filters...)) is
// parsed simply; an unknown metric reads "metric = value (op threshold)".
std::string evidence_in_words(const EvidenceItem& e);

// All of a referral's evidence in words, one line per metric: comparisons of
// the same metric and value are joined ("3 incidents this school year
// (threshold 2, at most 4)").
std::vector<std::string> evidence_lines(const std::vector<EvidenceItem>& evidence);

// The window as a phrase: "30d" -> "in the last 30 days", "school_year" -> "this
// school year", "september" -> "in September".
std::string window_in_words(const std::string& window);

// A number without trailing zeros: 7 -> "7", 7.5 -> "7.5", 62.3333 -> "62.33".
std::string format_number(double value);

} // namespace ewsd::referrals
