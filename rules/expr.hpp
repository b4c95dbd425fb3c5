#pragma once
// The rule expression language: values, the syntax tree, parsing and checking
// (every mistake caught at load time, with a position inside the expression),
// and evaluation against an EvalContext. Grammar: docs/rules.md.
//
// No clock, no I/O: metric values come from the EvalContext the caller gives.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ewsd::rules {

// 1-based line and column inside the expression text (the text's first
// character is 1:1). The rule loader maps them to file positions.
struct Position {
    int line = 1;
    int column = 1;
};

enum class Type { number, boolean, string, list, window };
const char* to_string(Type type);

struct Value {
    Type type = Type::boolean;
    double number = 0;
    bool boolean = false;
    std::string string;
    std::vector<Value> list; // elements are numbers or strings

    static Value of(double n);
    static Value of(bool b);
    static Value of(std::string s);
    static Value of_list(std::vector<Value> items);
    [[nodiscard]] std::string to_text() const; // 0.1, "Mathematics", ["a", "b"], true
    bool operator==(const Value& other) const;
};

// A time window over which a metric is computed, relative to the as-of date.
// The month window names, "january" .. "december"; 0 when `name` is none.
int month_window(const std::string& name);
const char* month_window_name(int month);

struct Window {
    enum class Kind {
        days,           // Nd: the N calendar days ending on the as-of date (inclusive)
        weeks,          // Nw: 7N calendar days
        school_days,    // Nsd: the last N instructional days up to the as-of date
        school_year,    // from the configured school year start to the as-of date
        grading_period, // the student's latest grading period with a grade dated <= as-of
        all,
        month, // january .. december: the latest such month, up to the as-of date
    };
    Kind kind = Kind::all;
    int count = 0;                             // N for days, weeks, school_days; 1-12 for month
    [[nodiscard]] std::string to_text() const; // "30d", "6w", "20sd", "school_year", "september"
    bool operator==(const Window& other) const = default;
};

// A condition on the records a metric counts, written as a call argument:
//   incidents(school_year, behavior = "State Offense")
//   failing_grades(grading_period, subject in core_subjects)
// Values are constants, resolved when the expression is checked.
struct RecordFilter {
    std::string field; // behavior, action, subject, course_code, category
    enum class Op { equal, not_equal, in, not_in } op = Op::equal;
    std::vector<std::string> values;
    // The constant the values came from ("core_subjects"), if they were named:
    // evidence reads better with the name than with the list.
    std::string values_name;
    bool operator==(const RecordFilter& other) const = default;
};

// One call of a metric or attribute function, as the EvalContext sees it.
struct MetricCall {
    std::string name; // absences, incidents, attr, flagged, ...
    std::optional<Window> window;
    std::vector<RecordFilter> filters;
    std::vector<Value> args; // other constant arguments: attr("iep"), flagged("id")
    [[nodiscard]] std::string
    to_text() const; // canonical text: incidents(school_year, behavior = "State Offense")
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    enum class Kind {
        literal, // number, string, boolean: in `value`
        list,    // [a, b, c]: `items`
        name,    // a named constant, list, condition, rule parameter, or attribute (grade_level,
                 // school_id)
        window,  // 30d, 20sd, school_year, ...: `window`
        unary,   // `op` ("not" or "-") applied to items[0]
        binary,  // items[0] `op` items[1]; op: and or < <= > >= == != in + - * /
        call,    // `text` = function name, `items` = arguments
        keyword, // inside a call: `text` = field, items[0] = value (from `field = value`)
    };
    Kind kind = Kind::literal;
    Position position;
    Value value;
    std::string text;
    std::string op; // unary/binary operator; a checked name: "constant", "attribute" or "condition"
    Window window;
    std::vector<ExprPtr> items;
    Type type = Type::boolean;       // set by check()
    const Expr* condition = nullptr; // set by check() for a name that is a named condition
    // Set by check() for a metric call: the call as the EvalContext sees it,
    // built once at load time rather than at each evaluation.
    std::shared_ptr<const MetricCall> call;
};

struct ParseError {
    Position position;
    std::string message;
};

struct Parsed {
    ExprPtr expr;                   // null when there are errors
    std::vector<ParseError> errors; // syntax errors (the first one, or more if recovered)
};

// Parses the text of one expression.
Parsed parse_expression(const std::string& text);

// What a name means where an expression is checked.
struct NameInfo {
    enum class Kind { constant, condition, attribute } kind = Kind::constant;
    Type type = Type::number;
    Value value;                     // for constants (numbers, strings, booleans, lists)
    const Expr* condition = nullptr; // for named conditions (checked, boolean)
};

// Names known to a check: definitions, rule parameters, and the built-in
// attributes grade_level (number) and school_id (string).
class Scope {
public:
    virtual ~Scope() = default;
    [[nodiscard]] virtual const NameInfo* find(const std::string& name) const = 0;
    [[nodiscard]] virtual std::vector<std::string> names() const = 0; // for "did you mean"
    // Whether a rule id exists (for flagged("id")); the loader also records the edge for cycle
    // checks.
    [[nodiscard]] virtual bool rule_exists(const std::string& id) const = 0;
    virtual void note_flagged(const std::string& id, Position where) = 0;
};

// Checks an expression in place: resolves names, checks functions (unknown
// function with "did you mean", arity, window arguments, filter fields),
// types every node, and requires the whole to be `expected`.
std::vector<ParseError> check(Expr& expr, Scope& scope, Type expected);

// One metric compared with a threshold, kept as the reason a rule fired.
struct Evidence {
    std::string metric; // MetricCall::to_text(), e.g. "absence_rate(school_year)"
    std::string window; // Window::to_text(), empty when the metric has none
    double value = 0;
    std::string op; // ">=", "<", ...
    double threshold = 0;
    bool holds = false; // whether the comparison was true
};

// Where an evaluation gets its data: one student, one as-of date.
class EvalContext {
public:
    virtual ~EvalContext() = default;
    virtual double metric(const MetricCall& call) = 0;    // numeric metrics
    virtual Value attribute(const std::string& name) = 0; // grade_level, school_id, attr("x")
    virtual bool flagged(const std::string& rule_id) = 0;
    virtual double flagged_domains() = 0;
};

// Values for names at evaluation time (rule parameters may differ per student
// through overrides); falls back to the constants the checker resolved.
using NameValues = std::map<std::string, Value>;

struct EvalResult {
    bool value = false;
    // Every comparison of a metric with a constant, in source order. `and` and
    // `or` evaluate both sides (no short-circuit) so that the evidence is
    // complete for `ewsd explain`.
    std::vector<Evidence> evidence;
};

// Evaluates a checked boolean expression. Without `with_evidence` the
// evidence stays empty (the evaluator asks for it only where it is shown).
EvalResult evaluate(const Expr& expr, EvalContext& context, const NameValues& names,
                    bool with_evidence = true);

// A checked metric call as the EvalContext sees it (filter values resolved).
MetricCall metric_call(const Expr& call);

} // namespace ewsd::rules
