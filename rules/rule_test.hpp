#pragma once
// Rule unit tests, in the spirit of `promtool test rules`: a YAML file names
// rule files, gives fixture students with their rows inline, and lists the
// (student, rule) firings expected on each as-of date. See docs/rules.md.

#include <filesystem>
#include <iosfwd>

namespace ewsd::rules {

struct RuleTestSummary {
    int cases = 0;
    int failed = 0;
    bool load_errors = false;
};

// Runs every test case of the file, printing a readable report (a diff of
// expected and actual firings, with each metric's value) to `out`.
RuleTestSummary run_rule_test(const std::filesystem::path& file, std::ostream& out);

} // namespace ewsd::rules
