#pragma once
// Text helpers shared by the connectors that speak HTTP through libcurl (the
// webhook notifier, the Ed-Fi client): header matching and the one-line
// excerpt of a server's answer quoted in logs and errors.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ewsd::connectors {

// `text` starts with `prefix`, ignoring ASCII case ("Retry-After:").
bool iequals_prefix(std::string_view text, std::string_view prefix);

// A response body as one short line (at most `max` bytes, cut on a UTF-8
// boundary): anything we sent that must stay private (a server may echo our
// headers) replaced by "[redacted]", control characters and runs of spaces
// as one space.
std::string excerpt(std::string body, const std::vector<std::string>& redactions,
                    std::size_t max = 200);

} // namespace ewsd::connectors
