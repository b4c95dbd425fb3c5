#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ewsd::util {

std::string_view trim(std::string_view text);

// Appends `text` as a JSON string literal (quotes and escapes included).
void append_json_string(std::string& out, std::string_view text);
// Appends a number in JSON's shortest round-trip form (integers without ".0").
void append_json_number(std::string& out, double value);
std::string to_lower_ascii(std::string_view text);
// Standard base64 (RFC 4648, with padding).
std::string base64(std::string_view bytes);
bool iequals(std::string_view a, std::string_view b);

// Where the first byte that is not valid UTF-8 sits, or npos when all of it is valid.
std::size_t find_invalid_utf8(std::string_view text);

// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, or empty when none is close enough to suggest.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

} // namespace ewsd::util
