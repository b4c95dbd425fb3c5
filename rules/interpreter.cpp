// Evaluates a checked expression for one student, keeping every comparison of
// a metric with a threshold as evidence.
#include "rules/expr.hpp"

#include <algorithm>

namespace ewsd::rules {
namespace {

bool is_comparison(const std::string& op) {
    return op == "<" || op == "<=" || op == ">" || op == ">=" || op == "==" || op == "!=";
}

// The operator that reads the same with its sides swapped: 5 < m is m > 5.
std::string flipped(const std::string& op) {
    if (op == "<") {
        return ">";
    }
    if (op == ">") {
        return "<";
    }
    if (op == "<=") {
        return ">=";
    }
    if (op == ">=") {
        return "<=";
    }
    return op;
}

bool is_metric(const Expr& expr) {
    return expr.kind == Expr::Kind::call && expr.type == Type::number;
}

bool contains_call(const Expr& expr) {
    return expr.kind == Expr::Kind::call ||
           std::any_of(expr.items.begin(), expr.items.end(),
                       [](const ExprPtr& item) { return contains_call(*item); });
}

std::vector<std::string> strings_of(const Value& value) {
    if (value.type == Type::string) {
        return {value.string};
    }
    std::vector<std::string> out;
    for (const auto& item : value.list) {
        out.push_back(item.string);
    }
    return out;
}

std::string name_of(const Expr& values) {
    return values.kind == Expr::Kind::name ? values.text : std::string();
}

RecordFilter::Op filter_op(const std::string& op) {
    if (op == "!=") {
        return RecordFilter::Op::not_equal;
    }
    if (op == "in") {
        return RecordFilter::Op::in;
    }
    if (op == "not in") {
        return RecordFilter::Op::not_in;
    }
    return RecordFilter::Op::equal;
}

} // namespace

// The call as the EvalContext sees it; filter values were resolved by check().
MetricCall metric_call(const Expr& call) {
    MetricCall out;
    out.name = call.text;
    for (const auto& arg : call.items) {
        switch (arg->kind) {
        case Expr::Kind::window:
            out.window = arg->window;
            break;
        case Expr::Kind::keyword:
            out.filters.push_back(RecordFilter{arg->text, RecordFilter::Op::equal,
                                               strings_of(arg->items[0]->value),
                                               name_of(*arg->items[0])});
            break;
        case Expr::Kind::binary:
            out.filters.push_back(RecordFilter{arg->items[0]->text, filter_op(arg->op),
                                               strings_of(arg->items[1]->value),
                                               name_of(*arg->items[1])});
            break;
        default:
            out.args.push_back(arg->value);
            break;
        }
    }
    return out;
}

namespace {

bool compare(const std::string& op, const Value& left, const Value& right) {
    if (op == "==") {
        return left == right;
    }
    if (op == "!=") {
        return !(left == right);
    }
    const double a = left.number;
    const double b = right.number;
    if (op == "<") {
        return a < b;
    }
    if (op == "<=") {
        return a <= b;
    }
    if (op == ">") {
        return a > b;
    }
    return a >= b;
}

double arithmetic(const std::string& op, double a, double b) {
    if (op == "+") {
        return a + b;
    }
    if (op == "-") {
        return a - b;
    }
    if (op == "*") {
        return a * b;
    }
    return b == 0 ? 0 : a / b; // a rate over no days is no rate, not infinity
}

class Interpreter {
public:
    Interpreter(EvalContext& context, const NameValues& names, bool with_evidence)
        : m_context(context), m_names(names), m_with_evidence(with_evidence) {}

    Value eval(const Expr& expr) {
        switch (expr.kind) {
        case Expr::Kind::literal:
            return expr.value;
        case Expr::Kind::list: {
            std::vector<Value> items;
            for (const auto& item : expr.items) {
                items.push_back(eval(*item));
            }
            return Value::of_list(std::move(items));
        }
        case Expr::Kind::name:
            return name(expr);
        case Expr::Kind::unary: {
            const Value operand = eval(*expr.items[0]);
            return expr.op == "not" ? Value::of(!operand.boolean) : Value::of(-operand.number);
        }
        case Expr::Kind::binary:
            return binary(expr);
        case Expr::Kind::call:
            return call(expr);
        case Expr::Kind::keyword:
            return eval(*expr.items[0]);
        case Expr::Kind::window:
            break;
        }
        return Value{};
    }

    std::vector<Evidence> take_evidence() { return std::move(m_evidence); }

private:
    EvalContext& m_context;
    const NameValues& m_names;
    bool m_with_evidence;
    std::vector<Evidence> m_evidence;

    Value name(const Expr& expr) {
        if (const auto found = m_names.find(expr.text); found != m_names.end()) {
            return found->second;
        }
        if (expr.condition != nullptr) {
            return eval(*expr.condition);
        }
        if (expr.op == "attribute") {
            return m_context.attribute(expr.text);
        }
        return expr.value;
    }

    Value call(const Expr& expr) {
        if (expr.text == "attr") {
            return m_context.attribute(expr.items[0]->value.string);
        }
        if (expr.text == "flagged") {
            return Value::of(m_context.flagged(expr.items[0]->value.string));
        }
        if (expr.text == "flagged_domains") {
            return Value::of(m_context.flagged_domains());
        }
        return Value::of(m_context.metric(expr.call ? *expr.call : metric_call(expr)));
    }

    Value binary(const Expr& expr) {
        // Both sides always: `and`/`or` do not short-circuit, so evidence is complete.
        const Value left = eval(*expr.items[0]);
        const Value right = eval(*expr.items[1]);
        const std::string& op = expr.op;
        if (op == "and") {
            return Value::of(left.boolean && right.boolean);
        }
        if (op == "or") {
            return Value::of(left.boolean || right.boolean);
        }
        if (op == "in" || op == "not in") {
            const bool found =
                std::find(right.list.begin(), right.list.end(), left) != right.list.end();
            return Value::of(op == "in" ? found : !found);
        }
        if (is_comparison(op)) {
            const bool holds = compare(op, left, right);
            note_evidence(expr, left, right, holds);
            return Value::of(holds);
        }
        return Value::of(arithmetic(op, left.number, right.number));
    }

    void note_evidence(const Expr& expr, const Value& left, const Value& right, bool holds) {
        const Expr& a = *expr.items[0];
        const Expr& b = *expr.items[1];
        if (is_metric(a) && !contains_call(b)) {
            add_evidence(a, left.number, expr.op, right.number, holds);
        } else if (is_metric(b) && !contains_call(a)) {
            add_evidence(b, right.number, flipped(expr.op), left.number, holds);
        }
    }

    void add_evidence(const Expr& metric, double value, const std::string& op, double threshold,
                      bool holds) {
        if (!m_with_evidence) {
            return;
        }
        const MetricCall call = metric.call ? *metric.call : metric_call(metric);
        m_evidence.push_back(Evidence{call.to_text(), call.window ? call.window->to_text() : "",
                                      value, op, threshold, holds});
    }
};

} // namespace

EvalResult evaluate(const Expr& expr, EvalContext& context, const NameValues& names,
                    bool with_evidence) {
    Interpreter interpreter(context, names, with_evidence);
    const Value value = interpreter.eval(expr);
    EvalResult result;
    result.value = value.type == Type::boolean && value.boolean;
    result.evidence = interpreter.take_evidence();
    return result;
}

} // namespace ewsd::rules
