#pragma once
// The kinds of data each rule reads, so that a stale feed freezes only the
// rules that depend on what it supplies (the run loop's stale-data guard).

#include "rules/rule_set.hpp"
#include "store/file_load.hpp"

#include <set>
#include <string>

namespace ewsd::rules {

// Bit flags. Every rule reads the roster (enrollment, grade, school) and the
// calendar (school days); the rest follow from the metrics it calls.
enum DataKind : unsigned {
    roster = 1U,
    calendar = 2U,
    attendance = 4U,
    grades = 8U,
    incidents = 16U,
    all_data = 31U,
};

// What `rule` reads through its conditions, the named conditions they use,
// and, for flagged("id"), the rules it names; flagged_domains() reads everything.
unsigned data_read_by(const RuleSet& rules, const Rule& rule);

// The ids of the rules that read any of `kinds`.
std::set<std::string> rules_reading(const RuleSet& rules, unsigned kinds);

// The kind of data a stored record kind is (students and enrollments are
// the roster).
unsigned data_kind_of(store::RecordKind kind);

} // namespace ewsd::rules
