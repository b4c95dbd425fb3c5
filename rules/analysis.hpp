#pragma once
// Load-time analysis of checked expressions: finds conditions that can never
// hold for any student (a rate compared with a number above 1, a count below
// 0, `false and ...`), so that `ewsd check` warns of rules that can never fire.

#include "rules/expr.hpp"

#include <optional>
#include <string>

namespace ewsd::rules {

struct NeverHolds {
    Position position; // of the comparison (or literal) that never holds
    std::string reason;
};

// Whether `expr` can never be true, whatever the student's data, with these
// parameter values. Conservative: nullopt when it might hold.
std::optional<NeverHolds> never_holds(const Expr& expr, const NameValues& params);

} // namespace ewsd::rules
