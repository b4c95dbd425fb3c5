// The load-time checker: resolves names, checks function calls and types
// every node, collecting every error with the position of the offending node.
#include "rules/expr.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <string_view>

namespace ewsd::rules {
namespace {

// How a built-in function is called.
enum class Shape {
    window,         // (window)
    window_filters, // (window, filter, ...)
    none,           // ()
    attribute,      // ("column")
    rule_id,        // ("rule-id")
};

struct Function {
    std::string_view name;
    Shape shape;
    Type result;
    std::vector<std::string> fields; // filterable record fields
    std::string_view example;
};

const std::vector<Function>& functions() {
    static const std::vector<Function> table = {
        {"absences", Shape::window, Type::number, {}, "absences(30d)"},
        {"excused_absences", Shape::window, Type::number, {}, "excused_absences(30d)"},
        {"unexcused_absences", Shape::window, Type::number, {}, "unexcused_absences(30d)"},
        {"tardies", Shape::window, Type::number, {}, "tardies(30d)"},
        {"enrolled_days", Shape::window, Type::number, {}, "enrolled_days(school_year)"},
        {"absence_rate", Shape::window, Type::number, {}, "absence_rate(school_year)"},
        {"attendance_rate", Shape::window, Type::number, {}, "attendance_rate(school_year)"},
        {"consecutive_absences", Shape::none, Type::number, {}, "consecutive_absences()"},
        {"grade_change", Shape::none, Type::number, {}, "grade_change()"},
        {"flagged_domains", Shape::none, Type::number, {}, "flagged_domains()"},
        {"incidents",
         Shape::window_filters,
         Type::number,
         {"behavior", "action"},
         "incidents(school_year)"},
        {"suspensions",
         Shape::window_filters,
         Type::number,
         {"behavior", "action"},
         "suspensions(school_year)"},
        {"suspension_days",
         Shape::window_filters,
         Type::number,
         {"behavior", "action"},
         "suspension_days(school_year)"},
        {"failing_grades",
         Shape::window_filters,
         Type::number,
         {"subject", "course_code"},
         "failing_grades(grading_period)"},
        {"average_grade",
         Shape::window_filters,
         Type::number,
         {"subject", "course_code"},
         "average_grade(grading_period)"},
        {"attr", Shape::attribute, Type::string, {}, "attr(\"iep\")"},
        {"flagged", Shape::rule_id, Type::boolean, {}, "flagged(\"chronic-absence\")"},
    };
    return table;
}

const Function* find_function(std::string_view name) {
    for (const auto& function : functions()) {
        if (function.name == name) {
            return &function;
        }
    }
    return nullptr;
}

std::vector<std::string> function_names() {
    std::vector<std::string> names;
    for (const auto& function : functions()) {
        names.emplace_back(function.name);
    }
    return names;
}

std::string a(Type type) {
    return type == Type::list || type == Type::window ? std::string("a ") + to_string(type)
           : type == Type::number                     ? "a number"
           : type == Type::string                     ? "a string"
                                                      : "a boolean";
}

std::string plural(Type type) {
    return std::string(to_string(type)) + "s";
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
    const std::string match = util::closest_match(word, candidates);
    return match.empty() ? "" : " (did you mean '" + match + "'?)";
}

bool is_ordering(const std::string& op) {
    return op == "<" || op == "<=" || op == ">" || op == ">=";
}

bool is_membership(const std::string& op) {
    return op == "in" || op == "not in";
}

bool is_string_literal(const Expr& expr) {
    return expr.kind == Expr::Kind::literal && expr.value.type == Type::string;
}

// Source-like text of a node, for messages ("not '30'").
std::string source_text(const Expr& expr) {
    auto joined = [](const std::vector<ExprPtr>& items) {
        std::string out;
        for (std::size_t i = 0; i < items.size(); ++i) {
            out += (i == 0 ? "" : ", ") + source_text(*items[i]);
        }
        return out;
    };
    switch (expr.kind) {
    case Expr::Kind::literal:
        return expr.value.to_text();
    case Expr::Kind::list:
        return "[" + joined(expr.items) + "]";
    case Expr::Kind::name:
        return expr.text;
    case Expr::Kind::window:
        return expr.window.to_text();
    case Expr::Kind::unary:
        return expr.op + (expr.op == "not" ? " " : "") + source_text(*expr.items[0]);
    case Expr::Kind::binary:
        return source_text(*expr.items[0]) + " " + expr.op + " " + source_text(*expr.items[1]);
    case Expr::Kind::call:
        return expr.text + "(" + joined(expr.items) + ")";
    case Expr::Kind::keyword:
        return expr.text + " = " + source_text(*expr.items[0]);
    }
    return "";
}

// Where an expression starts in the text: a binary node sits at its operator.
Position start_of(const Expr& expr) {
    return expr.kind == Expr::Kind::binary ? start_of(*expr.items[0]) : expr.position;
}

class Checker {
public:
    explicit Checker(Scope& scope) : m_scope(scope) {}

    void run(Expr& expr, Type expected) {
        if (!check_node(expr) || expr.type == expected) {
            return;
        }
        if (expected == Type::boolean) {
            error(start_of(expr), "a rule's condition must be true or false, not " + a(expr.type));
        } else {
            error(start_of(expr),
                  "the expression must be " + a(expected) + ", not " + a(expr.type));
        }
    }

    std::vector<ParseError> take_errors() { return std::move(m_errors); }

private:
    Scope& m_scope;
    std::vector<ParseError> m_errors;

    void error(Position where, std::string message) {
        m_errors.push_back(ParseError{where, std::move(message)});
    }

    // Types the node; false when it could not be typed (an error was reported
    // here or below), so that callers do not report follow-on errors.
    bool check_node(Expr& expr) {
        switch (expr.kind) {
        case Expr::Kind::literal:
            expr.type = expr.value.type;
            return true;
        case Expr::Kind::list:
            return check_list(expr);
        case Expr::Kind::name:
            return check_name(expr);
        case Expr::Kind::window:
            expr.type = Type::window;
            error(expr.position, "'" + expr.window.to_text() +
                                     "' is a window; a window can only be the first argument of "
                                     "a metric, like absences(30d)");
            return false;
        case Expr::Kind::unary:
            return check_unary(expr);
        case Expr::Kind::binary:
            return check_binary(expr);
        case Expr::Kind::call:
            return check_call(expr);
        case Expr::Kind::keyword:
            error(expr.position, "'=' is only allowed for a filter inside a call; use '==' to "
                                 "compare");
            return false;
        }
        return false;
    }

    bool check_list(Expr& list) {
        list.type = Type::list;
        bool ok = true;
        for (auto& item : list.items) {
            ok = check_node(*item) && ok;
        }
        if (!ok || list.items.empty()) {
            return ok;
        }
        const Type first = list.items[0]->type;
        for (const auto& item : list.items) {
            if ((item->type != Type::number && item->type != Type::string) || item->type != first) {
                error(item->position, "a list's items must all be numbers or all be strings");
                return false;
            }
        }
        return true;
    }

    bool check_name(Expr& expr) {
        const NameInfo* info = m_scope.find(expr.text);
        if (info == nullptr) {
            report_unknown_name(expr);
            return false;
        }
        switch (info->kind) {
        case NameInfo::Kind::constant:
            expr.type = info->type;
            expr.value = info->value;
            expr.op = "constant";
            break;
        case NameInfo::Kind::condition:
            expr.type = Type::boolean;
            expr.condition = info->condition;
            expr.op = "condition";
            break;
        case NameInfo::Kind::attribute:
            expr.type = info->type;
            expr.op = "attribute";
            break;
        }
        return true;
    }

    void report_unknown_name(const Expr& expr) {
        if (const Function* function = find_function(expr.text)) {
            error(expr.position, "'" + expr.text + "' is a function; call it like " +
                                     std::string(function->example));
            return;
        }
        std::vector<std::string> candidates = m_scope.names();
        const std::vector<std::string> builtins = function_names();
        candidates.insert(candidates.end(), builtins.begin(), builtins.end());
        error(expr.position,
              "unknown name '" + expr.text + "'" + did_you_mean(expr.text, candidates));
    }

    bool check_unary(Expr& expr) {
        Expr& operand = *expr.items[0];
        const bool ok = check_node(operand);
        expr.type = expr.op == "not" ? Type::boolean : Type::number;
        if (ok && operand.type != expr.type) {
            error(operand.position,
                  "'" + expr.op + "' needs " + a(expr.type) + ", not " + a(operand.type));
            return false;
        }
        return ok;
    }

    bool check_binary(Expr& expr) {
        Expr& left = *expr.items[0];
        Expr& right = *expr.items[1];
        const bool left_ok = check_node(left);
        const bool right_ok = check_node(right);
        const std::string& op = expr.op;
        if (op == "and" || op == "or") {
            expr.type = Type::boolean;
            check_side(left_ok, left, Type::boolean, "'" + op + "' needs booleans", "left");
            check_side(right_ok, right, Type::boolean, "'" + op + "' needs booleans", "right");
        } else if (op == "+" || op == "-" || op == "*" || op == "/") {
            expr.type = Type::number;
            // A wrongly typed operand makes the result's type a guess: report no more.
            const bool left_number =
                check_side(left_ok, left, Type::number, "arithmetic needs numbers", "left");
            const bool right_number =
                check_side(right_ok, right, Type::number, "arithmetic needs numbers", "right");
            return left_number && right_number;
        } else {
            expr.type = Type::boolean;
            if (left_ok && right_ok) {
                is_membership(op) ? check_membership(expr) : check_comparison(expr);
            }
        }
        return true;
    }

    // False when the side could not be typed or has the wrong type (reported).
    bool check_side(bool ok, const Expr& side, Type wanted, const std::string& what,
                    const char* which) {
        if (ok && side.type != wanted) {
            error(side.position, what + " on both sides, not " + a(side.type) + " on the " + which);
            return false;
        }
        return ok;
    }

    void check_comparison(const Expr& expr) {
        const Type left = expr.items[0]->type;
        const Type right = expr.items[1]->type;
        if (left != right) {
            error(expr.position, "cannot compare " + a(left) + " with " + a(right));
        } else if (is_ordering(expr.op) && left != Type::number) {
            error(expr.position, "'" + expr.op + "' can only compare numbers, not " + plural(left));
        } else if (left == Type::list) {
            error(expr.position, "'" + expr.op + "' cannot compare lists; use 'in'");
        }
    }

    static std::optional<Type> element_type(const Expr& list) {
        if (list.kind == Expr::Kind::list && !list.items.empty()) {
            return list.items[0]->type;
        }
        if (list.kind == Expr::Kind::name && list.op == "constant" && !list.value.list.empty()) {
            return list.value.list[0].type;
        }
        return std::nullopt;
    }

    void check_membership(const Expr& expr) {
        const Expr& left = *expr.items[0];
        const Expr& right = *expr.items[1];
        const std::string what = "'" + expr.op + "' needs ";
        if (left.type != Type::number && left.type != Type::string) {
            error(left.position, what + "a number or a string on the left, not " + a(left.type));
            return;
        }
        if (right.type != Type::list) {
            error(right.position, what + "a list on the right, not " + a(right.type));
            return;
        }
        const auto element = element_type(right);
        if (element && *element != left.type) {
            error(expr.position,
                  "cannot look for " + a(left.type) + " in a list of " + plural(*element));
        }
    }

    bool check_call(Expr& call) {
        const Function* function = find_function(call.text);
        if (function == nullptr) {
            if (m_scope.find(call.text) != nullptr) {
                error(call.position, "'" + call.text + "' is not a function");
            } else {
                error(call.position, "unknown function '" + call.text + "'" +
                                         did_you_mean(call.text, function_names()));
            }
            return false;
        }
        call.type = function->result;
        const std::string name(function->name);
        switch (function->shape) {
        case Shape::none:
            if (!call.items.empty()) {
                error(call.position, name + "() takes no arguments");
            }
            break;
        case Shape::attribute:
            if (string_argument(call, name + "() takes one string, like attr(\"iep\")")) {
                call.items[0]->type = Type::string;
            }
            break;
        case Shape::rule_id:
            check_flagged(call);
            break;
        case Shape::window:
        case Shape::window_filters:
            check_metric(call, *function);
            break;
        }
        return true;
    }

    bool string_argument(const Expr& call, const std::string& message) {
        if (call.items.size() != 1 || !is_string_literal(*call.items[0])) {
            error(call.position, message);
            return false;
        }
        return true;
    }

    void check_flagged(Expr& call) {
        if (!string_argument(call, "flagged() takes one rule id as a string, like "
                                   "flagged(\"chronic-absence\")")) {
            return;
        }
        Expr& arg = *call.items[0];
        arg.type = Type::string;
        const std::string& id = arg.value.string;
        if (!m_scope.rule_exists(id)) {
            error(arg.position, "unknown rule '" + id + "' in flagged()");
            return;
        }
        m_scope.note_flagged(id, call.position);
    }

    void check_metric(Expr& call, const Function& function) {
        const std::string name(function.name);
        if (call.items.empty()) {
            error(call.position, name + "() takes a window, like " + std::string(function.example));
            return;
        }
        Expr& window = *call.items[0];
        if (window.kind == Expr::Kind::window) {
            window.type = Type::window;
        } else {
            error(window.position, "expected a window (30d, 6w, 20sd, school_year, grading_period, "
                                   "all, september) as the "
                                   "first argument of " +
                                       name + "(), not '" + source_text(window) + "'");
        }
        if (function.shape == Shape::window) {
            if (call.items.size() > 1) {
                error(call.items[1]->position, name + "() takes only a window, like " +
                                                   std::string(function.example) +
                                                   "; it has no filters");
            }
            return;
        }
        for (std::size_t i = 1; i < call.items.size(); ++i) {
            check_filter(*call.items[i], function);
        }
    }

    void check_filter(Expr& arg, const Function& function) {
        const std::string name(function.name);
        Expr* field = nullptr;
        Expr* value = nullptr;
        bool wants_list = false;
        if (arg.kind == Expr::Kind::keyword) {
            field = &arg;
            value = arg.items[0].get();
        } else if (arg.kind == Expr::Kind::binary && arg.items[0]->kind == Expr::Kind::name &&
                   (arg.op == "==" || arg.op == "!=" || is_membership(arg.op))) {
            field = arg.items[0].get();
            value = arg.items[1].get();
            wants_list = is_membership(arg.op);
        } else {
            error(arg.position, "expected a filter like " + function.fields[0] +
                                    " = \"...\" as an argument of " + name + "(), not '" +
                                    source_text(arg) + "'");
            return;
        }
        arg.type = arg.kind == Expr::Kind::keyword ? Type::string : Type::boolean;
        if (field != &arg) {
            field->type = Type::string;
        }
        const auto& fields = function.fields;
        if (std::find(fields.begin(), fields.end(), field->text) == fields.end()) {
            std::string allowed;
            for (const auto& f : fields) {
                allowed += (allowed.empty() ? "" : ", ") + f;
            }
            error(field->position,
                  name + "() cannot filter on '" + field->text + "' (it can on: " + allowed + ")");
        }
        if (!resolve_constant(*value)) {
            return;
        }
        check_filter_value(*value, wants_list, arg.kind == Expr::Kind::keyword ? "=" : arg.op);
    }

    void check_filter_value(const Expr& value, bool wants_list, const std::string& op) {
        const bool strings = value.type == Type::string ||
                             (value.type == Type::list &&
                              std::all_of(value.value.list.begin(), value.value.list.end(),
                                          [](const Value& v) { return v.type == Type::string; }));
        if (!strings) {
            error(value.position, "filter values must be strings or lists of strings");
        } else if (wants_list && value.type != Type::list) {
            error(value.position, "'" + op +
                                      "' in a filter needs a list, like subject in "
                                      "[\"Mathematics\", \"Science\"]");
        } else if (!wants_list && value.type == Type::list) {
            error(value.position, "'" + op + "' in a filter needs one string; use 'in' for a list");
        }
    }

    // Resolves a filter value to a constant in Expr::value (lists included).
    bool resolve_constant(Expr& expr) {
        switch (expr.kind) {
        case Expr::Kind::literal:
            expr.type = expr.value.type;
            return true;
        case Expr::Kind::name: {
            if (!check_name(expr)) {
                return false;
            }
            if (expr.op != "constant") {
                error(expr.position, "filter values must be constants");
                return false;
            }
            return true;
        }
        case Expr::Kind::list: {
            std::vector<Value> values;
            bool ok = true;
            for (auto& item : expr.items) {
                if (item->kind == Expr::Kind::list) {
                    error(item->position, "filter values must be strings or lists of strings");
                    ok = false;
                } else if (resolve_constant(*item)) {
                    values.push_back(item->value);
                } else {
                    ok = false;
                }
            }
            expr.type = Type::list;
            expr.value = Value::of_list(std::move(values));
            return ok;
        }
        default:
            error(expr.position, "filter values must be constants");
            return false;
        }
    }
};

} // namespace

namespace {

void prepare_calls(Expr& expr) {
    for (auto& item : expr.items) {
        prepare_calls(*item);
    }
    if (expr.kind == Expr::Kind::call && expr.type == Type::number && expr.text != "attr" &&
        expr.text != "flagged_domains") {
        expr.call = std::make_shared<const MetricCall>(metric_call(expr));
    }
}

} // namespace

std::vector<ParseError> check(Expr& expr, Scope& scope, Type expected) {
    Checker checker(scope);
    checker.run(expr, expected);
    std::vector<ParseError> errors = checker.take_errors();
    if (errors.empty()) {
        prepare_calls(expr);
    }
    return errors;
}

} // namespace ewsd::rules
