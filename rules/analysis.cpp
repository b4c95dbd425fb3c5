#include "rules/analysis.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

namespace ewsd::rules {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// The values a numeric expression can take, [lo, hi].
struct Range {
    double lo = -inf;
    double hi = inf;
};

enum class Truth { never, always, maybe };

struct Verdict {
    Truth truth = Truth::maybe;
    Position position;
    std::string reason; // why it never holds
};

Range metric_range(const std::string& name) {
    static const std::set<std::string> counts{
        "absences",      "excused_absences", "unexcused_absences",
        "tardies",       "enrolled_days",    "incidents",
        "suspensions",   "suspension_days",  "consecutive_absences",
        "failing_grades"};
    if (name == "absence_rate" || name == "attendance_rate") {
        return {0, 1};
    }
    if (name == "flagged_domains") {
        return {0, 3}; // attendance, behavior, course
    }
    if (counts.count(name) != 0) {
        return {0, inf};
    }
    return {};
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

std::string describe(const Range& r) {
    if (r.lo == r.hi) {
        return number(r.lo);
    }
    if (std::isinf(r.lo) && std::isinf(r.hi)) {
        return "any number";
    }
    if (std::isinf(r.hi)) {
        return "at least " + number(r.lo);
    }
    if (std::isinf(r.lo)) {
        return "at most " + number(r.hi);
    }
    return "between " + number(r.lo) + " and " + number(r.hi);
}

std::string side_text(const Expr& e) {
    if (e.call) {
        return e.call->to_text();
    }
    if (e.kind == Expr::Kind::name) {
        return e.text;
    }
    return "the " + std::string(e.kind == Expr::Kind::literal ? "number" : "expression");
}

class Analyzer {
public:
    explicit Analyzer(const NameValues& params) : m_params(params) {}

    Range range(const Expr& e) const {
        switch (e.kind) {
        case Expr::Kind::literal:
            return e.value.type == Type::number ? Range{e.value.number, e.value.number} : Range{};
        case Expr::Kind::name: {
            if (const auto it = m_params.find(e.text);
                it != m_params.end() && it->second.type == Type::number) {
                return {it->second.number, it->second.number};
            }
            if (e.op == "constant" && e.value.type == Type::number) {
                return {e.value.number, e.value.number};
            }
            if (e.text == "grade_level") {
                return {-1, 13}; // pre-kindergarten to grade 13
            }
            return {};
        }
        case Expr::Kind::unary: {
            const Range r = range(*e.items[0]);
            return {-r.hi, -r.lo};
        }
        case Expr::Kind::binary:
            return arithmetic(e);
        case Expr::Kind::call:
            return metric_range(e.text);
        default:
            return {};
        }
    }

    Verdict truth(const Expr& e) const {
        switch (e.kind) {
        case Expr::Kind::literal:
            if (e.value.type == Type::boolean) {
                return e.value.boolean ? Verdict{Truth::always, e.position, ""}
                                       : Verdict{Truth::never, e.position, "it is false"};
            }
            return {};
        case Expr::Kind::name:
            return name(e);
        case Expr::Kind::unary:
            if (e.op == "not") {
                const Verdict v = truth(*e.items[0]);
                if (v.truth == Truth::always) {
                    return {Truth::never, e.position, "what follows 'not' always holds"};
                }
                return {v.truth == Truth::never ? Truth::always : Truth::maybe, e.position, ""};
            }
            return {};
        case Expr::Kind::binary:
            return binary(e);
        default:
            return {};
        }
    }

private:
    const NameValues& m_params;

    Verdict name(const Expr& e) const {
        const Value* value = nullptr;
        if (const auto it = m_params.find(e.text); it != m_params.end()) {
            value = &it->second;
        } else if (e.op == "constant") {
            value = &e.value;
        }
        if (value != nullptr && value->type == Type::boolean) {
            return value->boolean ? Verdict{Truth::always, e.position, ""}
                                  : Verdict{Truth::never, e.position, "'" + e.text + "' is false"};
        }
        if (e.condition != nullptr) {
            Verdict v = truth(*e.condition);
            if (v.truth == Truth::never) {
                // Point at the use; say why the condition never holds.
                return {Truth::never, e.position,
                        "the condition '" + e.text + "' never holds: " + v.reason};
            }
            return {v.truth, e.position, ""};
        }
        return {};
    }

    Range arithmetic(const Expr& e) const {
        const Range a = range(*e.items[0]);
        const Range b = range(*e.items[1]);
        if (e.op == "+") {
            return {a.lo + b.lo, a.hi + b.hi};
        }
        if (e.op == "-") {
            return {a.lo - b.hi, a.hi - b.lo};
        }
        if (e.op == "*" || e.op == "/") {
            if (e.op == "/" && b.lo <= 0 && b.hi >= 0) {
                return {};
            }
            const double p[] = {
                a.lo * (e.op == "*" ? b.lo : 1 / b.lo), a.lo * (e.op == "*" ? b.hi : 1 / b.hi),
                a.hi * (e.op == "*" ? b.lo : 1 / b.lo), a.hi * (e.op == "*" ? b.hi : 1 / b.hi)};
            if (std::any_of(std::begin(p), std::end(p), [](double x) { return std::isnan(x); })) {
                return {};
            }
            return {*std::min_element(std::begin(p), std::end(p)),
                    *std::max_element(std::begin(p), std::end(p))};
        }
        return {};
    }

    Verdict binary(const Expr& e) const {
        if (e.op == "and" || e.op == "or") {
            const Verdict a = truth(*e.items[0]);
            const Verdict b = truth(*e.items[1]);
            if (e.op == "and") {
                if (a.truth == Truth::never) {
                    return a;
                }
                if (b.truth == Truth::never) {
                    return b;
                }
                return {a.truth == Truth::always && b.truth == Truth::always ? Truth::always
                                                                             : Truth::maybe,
                        e.position, ""};
            }
            if (a.truth == Truth::never && b.truth == Truth::never) {
                return {Truth::never, a.position, a.reason + ", and " + b.reason};
            }
            return {a.truth == Truth::always || b.truth == Truth::always ? Truth::always
                                                                         : Truth::maybe,
                    e.position, ""};
        }
        const Expr& left = *e.items[0];
        const Expr& right = *e.items[1];
        if (left.type != Type::number || right.type != Type::number) {
            return {};
        }
        const Range l = range(left);
        const Range r = range(right);
        bool never = false;
        bool always = false;
        if (e.op == "<") {
            never = l.lo >= r.hi;
            always = l.hi < r.lo;
        } else if (e.op == "<=") {
            never = l.lo > r.hi;
            always = l.hi <= r.lo;
        } else if (e.op == ">") {
            never = l.hi <= r.lo;
            always = l.lo > r.hi;
        } else if (e.op == ">=") {
            never = l.hi < r.lo;
            always = l.lo >= r.hi;
        } else if (e.op == "==" || e.op == "!=") {
            const bool disjoint = l.hi < r.lo || l.lo > r.hi;
            const bool same_point = l.lo == l.hi && r.lo == r.hi && l.lo == r.lo;
            never = e.op == "==" ? disjoint : same_point;
            always = e.op == "==" ? same_point : disjoint;
        }
        if (never) {
            return {Truth::never, e.position,
                    "'" + e.op + "' never holds: " + side_text(left) + " is " + describe(l) +
                        " and " + side_text(right) + " is " + describe(r)};
        }
        return {always ? Truth::always : Truth::maybe, e.position, ""};
    }
};

} // namespace

std::optional<NeverHolds> never_holds(const Expr& expr, const NameValues& params) {
    const Analyzer analyzer(params);
    const Verdict v = analyzer.truth(expr);
    if (v.truth != Truth::never) {
        return std::nullopt;
    }
    return NeverHolds{v.position, v.reason};
}

} // namespace ewsd::rules
