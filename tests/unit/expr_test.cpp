// rules/expr: values, parsing, checking and evaluation of rule expressions.
#include "rules/expr.hpp"

#include <gtest/gtest.h>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace ewsd::rules {
namespace {

// --- helpers ---

// The tree as an s-expression: binary (op a b), unary (op a), call name(args),
// keyword (= field value), list [a b].
std::string tree(const Expr& expr) {
    auto joined = [](const std::vector<ExprPtr>& items, const char* separator) {
        std::string out;
        for (std::size_t i = 0; i < items.size(); ++i) {
            out += (i == 0 ? "" : separator) + tree(*items[i]);
        }
        return out;
    };
    switch (expr.kind) {
    case Expr::Kind::literal:
        return expr.value.to_text();
    case Expr::Kind::list:
        return "[" + joined(expr.items, " ") + "]";
    case Expr::Kind::name:
        return expr.text;
    case Expr::Kind::window:
        return "<" + expr.window.to_text() + ">";
    case Expr::Kind::unary:
        return "(" + expr.op + " " + tree(*expr.items[0]) + ")";
    case Expr::Kind::binary:
        return "(" + expr.op + " " + joined(expr.items, " ") + ")";
    case Expr::Kind::call:
        return expr.text + "(" + joined(expr.items, ", ") + ")";
    case Expr::Kind::keyword:
        return "(= " + expr.text + " " + tree(*expr.items[0]) + ")";
    }
    return "?";
}

std::string located(const ParseError& error) {
    return std::to_string(error.position.line) + ":" + std::to_string(error.position.column) +
           ": " + error.message;
}

std::string parse_tree(const std::string& text) {
    const Parsed parsed = parse_expression(text);
    if (!parsed.errors.empty()) {
        return "error " + located(parsed.errors[0]);
    }
    return parsed.expr ? tree(*parsed.expr) : "null";
}

std::string parse_error(const std::string& text) {
    const Parsed parsed = parse_expression(text);
    if (parsed.errors.empty()) {
        return "no error";
    }
    EXPECT_EQ(parsed.expr, nullptr);
    return located(parsed.errors[0]);
}

class FakeScope : public Scope {
public:
    std::map<std::string, NameInfo> m_names;
    std::set<std::string> m_rules{"chronic-absence", "suspension"};
    std::vector<std::pair<std::string, Position>> m_flagged;

    [[nodiscard]] const NameInfo* find(const std::string& name) const override {
        const auto found = m_names.find(name);
        return found == m_names.end() ? nullptr : &found->second;
    }
    [[nodiscard]] std::vector<std::string> names() const override {
        std::vector<std::string> out;
        for (const auto& [name, info] : m_names) {
            out.push_back(name);
        }
        return out;
    }
    [[nodiscard]] bool rule_exists(const std::string& id) const override {
        return m_rules.count(id) != 0;
    }
    void note_flagged(const std::string& id, Position where) override {
        m_flagged.emplace_back(id, where);
    }
};

NameInfo constant(Value value) {
    NameInfo info;
    info.kind = NameInfo::Kind::constant;
    info.type = value.type;
    info.value = std::move(value);
    return info;
}

NameInfo attribute(Type type) {
    NameInfo info;
    info.kind = NameInfo::Kind::attribute;
    info.type = type;
    return info;
}

class FakeContext : public EvalContext {
public:
    std::map<std::string, double> m_metrics;
    std::map<std::string, Value> m_attributes;
    std::set<std::string> m_flagged;
    double m_domains = 0;
    std::vector<std::string> m_requests; // every metric and attribute asked for, in order

    double metric(const MetricCall& call) override {
        const std::string key = call.to_text();
        m_requests.push_back(key);
        const auto found = m_metrics.find(key);
        if (found == m_metrics.end()) {
            ADD_FAILURE() << "unexpected metric " << key;
            return 0;
        }
        return found->second;
    }
    Value attribute(const std::string& name) override {
        m_requests.push_back("attribute " + name);
        const auto found = m_attributes.find(name);
        return found == m_attributes.end() ? Value::of(std::string()) : found->second;
    }
    bool flagged(const std::string& rule_id) override {
        m_requests.push_back("flagged " + rule_id);
        return m_flagged.count(rule_id) != 0;
    }
    double flagged_domains() override {
        m_requests.push_back("flagged_domains");
        return m_domains;
    }
};

// A scope like a rule file's: constants, a parameter, a named condition and
// the built-in attributes.
class ExprTest : public ::testing::Test {
protected:
    ExprTest() {
        auto& names = m_scope.m_names;
        names["core_subjects"] = constant(Value::of_list(
            {Value::of(std::string("Mathematics")), Value::of(std::string("Science"))}));
        names["threshold"] = constant(Value::of(0.1));
        names["min_absences"] = constant(Value::of(5.0));
        names["offense"] = constant(Value::of(std::string("State Offense")));
        names["grade_level"] = attribute(Type::number);
        names["school_id"] = attribute(Type::string);

        Parsed parsed = parse_expression("absence_rate(school_year) >= threshold");
        m_condition = std::move(parsed.expr);
        EXPECT_TRUE(check(*m_condition, m_scope, Type::boolean).empty());
        NameInfo condition;
        condition.kind = NameInfo::Kind::condition;
        condition.type = Type::boolean;
        condition.condition = m_condition.get();
        names["chronic"] = condition;

        m_context.m_metrics = {
            {"absences(30d)", 6},
            {"tardies(30d)", 2},
            {"enrolled_days(30d)", 0},
            {"absence_rate(school_year)", 0.125},
            {"consecutive_absences()", 3},
            {"incidents(school_year, behavior = \"State Offense\")", 1},
            {"failing_grades(grading_period, subject in [\"Mathematics\", \"Science\"])", 2},
            {"incidents(school_year, behavior = offense)", 1},
            {"failing_grades(grading_period, subject in core_subjects)", 2},
        };
        m_context.m_attributes = {
            {"grade_level", Value::of(9.0)},
            {"school_id", Value::of(std::string("001"))},
            {"iep", Value::of(std::string("Y"))},
        };
        m_context.m_flagged = {"chronic-absence"};
        m_context.m_domains = 2;
    }

    // "L:C: message" for every check error (the text must parse).
    std::vector<std::string> check_errors(const std::string& text, Type expected = Type::boolean) {
        Parsed parsed = parse_expression(text);
        if (!parsed.errors.empty()) {
            return {"parse error " + located(parsed.errors[0])};
        }
        m_expr = std::move(parsed.expr);
        std::vector<std::string> out;
        for (const auto& error : check(*m_expr, m_scope, expected)) {
            out.push_back(located(error));
        }
        return out;
    }

    std::string check_error(const std::string& text, Type expected = Type::boolean) {
        const auto errors = check_errors(text, expected);
        EXPECT_EQ(errors.size(), 1U) << text;
        return errors.empty() ? "no error" : errors[0];
    }

    EvalResult run(const std::string& text, const NameValues& values = {}) {
        const auto errors = check_errors(text);
        EXPECT_TRUE(errors.empty()) << text << ": " << (errors.empty() ? "" : errors[0]);
        if (!errors.empty()) {
            return {};
        }
        return evaluate(*m_expr, m_context, values);
    }

    bool eval(const std::string& text) { return run(text).value; }

    FakeScope m_scope;
    FakeContext m_context;
    ExprPtr m_condition;
    ExprPtr m_expr;
};

std::string evidence_text(const Evidence& e) {
    return e.metric + " [" + e.window + "] " + Value::of(e.value).to_text() + " " + e.op + " " +
           Value::of(e.threshold).to_text();
}

std::vector<std::string> evidence_texts(const EvalResult& result) {
    std::vector<std::string> out;
    for (const auto& e : result.evidence) {
        out.push_back(evidence_text(e));
    }
    return out;
}

using Strings = std::vector<std::string>;

// --- values, windows, metric calls ---

TEST(ExprValue, NumbersPrintShortestRoundTrip) {
    EXPECT_EQ(Value::of(0.1).to_text(), "0.1");
    EXPECT_EQ(Value::of(2.0).to_text(), "2");
    EXPECT_EQ(Value::of(-3.5).to_text(), "-3.5");
    EXPECT_EQ(Value::of(0.125).to_text(), "0.125");
    EXPECT_EQ(Value::of(1.0 / 3).to_text(), "0.3333333333333333");
}

TEST(ExprValue, TextOfStringsBooleansAndLists) {
    EXPECT_EQ(Value::of(std::string("Mathematics")).to_text(), "\"Mathematics\"");
    EXPECT_EQ(Value::of(std::string("a\"b\\c")).to_text(), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(Value::of(true).to_text(), "true");
    EXPECT_EQ(Value::of(false).to_text(), "false");
    EXPECT_EQ(Value::of_list({Value::of(std::string("a")), Value::of(std::string("b"))}).to_text(),
              "[\"a\", \"b\"]");
    EXPECT_EQ(Value::of_list({}).to_text(), "[]");
}

TEST(ExprValue, EqualityComparesTypeAndContent) {
    EXPECT_EQ(Value::of(1.0), Value::of(1.0));
    EXPECT_FALSE(Value::of(1.0) == Value::of(2.0));
    EXPECT_FALSE(Value::of(1.0) == Value::of(std::string("1")));
    EXPECT_FALSE(Value::of(true) == Value::of(false));
    EXPECT_EQ(Value::of_list({Value::of(1.0)}), Value::of_list({Value::of(1.0)}));
    EXPECT_FALSE(Value::of_list({Value::of(1.0)}) == Value::of_list({Value::of(2.0)}));
}

TEST(ExprValue, TypeNames) {
    EXPECT_STREQ(to_string(Type::number), "number");
    EXPECT_STREQ(to_string(Type::boolean), "boolean");
    EXPECT_STREQ(to_string(Type::string), "string");
    EXPECT_STREQ(to_string(Type::list), "list");
    EXPECT_STREQ(to_string(Type::window), "window");
}

TEST(ExprWindowText, EveryKind) {
    EXPECT_EQ((Window{Window::Kind::days, 30}).to_text(), "30d");
    EXPECT_EQ((Window{Window::Kind::weeks, 6}).to_text(), "6w");
    EXPECT_EQ((Window{Window::Kind::school_days, 20}).to_text(), "20sd");
    EXPECT_EQ((Window{Window::Kind::school_year, 0}).to_text(), "school_year");
    EXPECT_EQ((Window{Window::Kind::grading_period, 0}).to_text(), "grading_period");
    EXPECT_EQ((Window{Window::Kind::all, 0}).to_text(), "all");
}

TEST(ExprMetricCallText, Canonical) {
    MetricCall rate{"absence_rate", Window{Window::Kind::school_year, 0}, {}, {}};
    EXPECT_EQ(rate.to_text(), "absence_rate(school_year)");
    MetricCall incidents{"incidents",
                         Window{Window::Kind::school_year, 0},
                         {RecordFilter{"behavior", RecordFilter::Op::equal, {"State Offense"}, ""}},
                         {}};
    EXPECT_EQ(incidents.to_text(), "incidents(school_year, behavior = \"State Offense\")");
    MetricCall failing{
        "failing_grades",
        Window{Window::Kind::grading_period, 0},
        {RecordFilter{"subject", RecordFilter::Op::in, {"Mathematics", "Science"}, ""},
         RecordFilter{"course_code", RecordFilter::Op::not_in, {"X1"}, ""},
         RecordFilter{"subject", RecordFilter::Op::not_equal, {"Art"}, ""}},
        {}};
    EXPECT_EQ(failing.to_text(), "failing_grades(grading_period, subject in [\"Mathematics\", "
                                 "\"Science\"], course_code not in [\"X1\"], subject != \"Art\")");
    EXPECT_EQ((MetricCall{"attr", std::nullopt, {}, {Value::of(std::string("iep"))}}).to_text(),
              "attr(\"iep\")");
    EXPECT_EQ((MetricCall{"consecutive_absences", std::nullopt, {}, {}}).to_text(),
              "consecutive_absences()");
}

// --- parsing ---

TEST(ExprParse, Literals) {
    EXPECT_EQ(parse_tree("3"), "3");
    EXPECT_EQ(parse_tree("0.10"), "0.1");
    EXPECT_EQ(parse_tree("\"a \\\"quoted\\\" \\\\ b\""), "\"a \\\"quoted\\\" \\\\ b\"");
    EXPECT_EQ(parse_tree("'single \\' \" quoted'"), "\"single ' \\\" quoted\"");
    EXPECT_EQ(parse_tree("true"), "true");
    EXPECT_EQ(parse_tree("false"), "false");
    EXPECT_EQ(parse_tree("[]"), "[]");
    EXPECT_EQ(parse_tree("[1, 2.5, x]"), "[1 2.5 x]");
    EXPECT_EQ(parse_tree("[\"a\"]"), "[\"a\"]");
}

TEST(ExprParse, StringValuesAreUnescaped) {
    const Parsed parsed = parse_expression(R"("a\"b\\c")");
    ASSERT_TRUE(parsed.errors.empty());
    EXPECT_EQ(parsed.expr->value.string, "a\"b\\c");
}

TEST(ExprParse, Windows) {
    EXPECT_EQ(parse_tree("f(30d, 6w, 20sd, school_year, grading_period, all, 1d, 3660sd)"),
              "f(<30d>, <6w>, <20sd>, <school_year>, <grading_period>, <all>, <1d>, <3660sd>)");
    const Parsed parsed = parse_expression("20sd");
    ASSERT_TRUE(parsed.errors.empty());
    EXPECT_EQ(parsed.expr->kind, Expr::Kind::window);
    EXPECT_EQ(parsed.expr->window, (Window{Window::Kind::school_days, 20}));
    EXPECT_EQ(parse_expression("school_year").expr->kind, Expr::Kind::window);
}

TEST(ExprParse, NamesAndCalls) {
    EXPECT_EQ(parse_tree("grade_level"), "grade_level");
    EXPECT_EQ(parse_tree("_x9"), "_x9");
    EXPECT_EQ(parse_tree("consecutive_absences()"), "consecutive_absences()");
    EXPECT_EQ(parse_tree("attr(\"iep\")"), "attr(\"iep\")");
    EXPECT_EQ(parse_tree("incidents(school_year, behavior = \"State Offense\")"),
              "incidents(<school_year>, (= behavior \"State Offense\"))");
    EXPECT_EQ(parse_tree("failing_grades(grading_period, subject in core_subjects)"),
              "failing_grades(<grading_period>, (in subject core_subjects))");
    EXPECT_EQ(parse_tree("f(a != \"x\", b not in [\"y\"])"), "f((!= a \"x\"), (not in b [\"y\"]))");
    EXPECT_EQ(parse_tree("f ( 1 )"), "f(1)");
}

TEST(ExprParse, Precedence) {
    EXPECT_EQ(parse_tree("a or b and c"), "(or a (and b c))");
    EXPECT_EQ(parse_tree("a and b or c"), "(or (and a b) c)");
    EXPECT_EQ(parse_tree("a or b or c"), "(or (or a b) c)");
    EXPECT_EQ(parse_tree("not a and b"), "(and (not a) b)");
    EXPECT_EQ(parse_tree("not not a"), "(not (not a))");
    EXPECT_EQ(parse_tree("not a < 1"), "(not (< a 1))");
    EXPECT_EQ(parse_tree("not a in b"), "(not (in a b))");
    EXPECT_EQ(parse_tree("a not in b"), "(not in a b)");
    EXPECT_EQ(parse_tree("a + b * c"), "(+ a (* b c))");
    EXPECT_EQ(parse_tree("a - b - c"), "(- (- a b) c)");
    EXPECT_EQ(parse_tree("a / b * c"), "(* (/ a b) c)");
    EXPECT_EQ(parse_tree("(a + b) * c"), "(* (+ a b) c)");
    EXPECT_EQ(parse_tree("-a * b"), "(* (- a) b)");
    EXPECT_EQ(parse_tree("- -a"), "(- (- a))");
    EXPECT_EQ(parse_tree("a + 1 >= b * 2 and c == \"x\""),
              "(and (>= (+ a 1) (* b 2)) (== c \"x\"))");
    EXPECT_EQ(parse_tree("a < b or a <= b or a > b or a >= b or a != b"),
              "(or (or (or (or (< a b) (<= a b)) (> a b)) (>= a b)) (!= a b))");
    EXPECT_EQ(parse_tree("a in [1, 2] and not (b or c)"), "(and (in a [1 2]) (not (or b c)))");
}

TEST(ExprParse, PositionsAreOneBasedAcrossLines) {
    const Parsed parsed = parse_expression("absences(30d)\n  >= min_absences");
    ASSERT_TRUE(parsed.errors.empty());
    const Expr& root = *parsed.expr;
    EXPECT_EQ(root.position.line, 2);
    EXPECT_EQ(root.position.column, 3);
    EXPECT_EQ(root.items[0]->position.line, 1);
    EXPECT_EQ(root.items[0]->position.column, 1);
    EXPECT_EQ(root.items[0]->items[0]->position.column, 10);
    EXPECT_EQ(root.items[1]->position.line, 2);
    EXPECT_EQ(root.items[1]->position.column, 6);
}

TEST(ExprParseError, EmptyAndIncomplete) {
    EXPECT_EQ(parse_error(""), "1:1: expected an expression, found end of text");
    EXPECT_EQ(parse_error("   "), "1:4: expected an expression, found end of text");
    EXPECT_EQ(parse_error("absences(30d) >="), "1:17: expected an expression, found end of text");
    EXPECT_EQ(parse_error("a and )"), "1:7: expected an expression, found ')'");
    EXPECT_EQ(parse_error("a * = 2"), "1:5: '=' is only allowed for a filter inside a call; use "
                                      "'==' to compare");
}

TEST(ExprParseError, UnexpectedTokens) {
    EXPECT_EQ(parse_error("a > 1)"), "1:6: unexpected ')'");
    EXPECT_EQ(parse_error("a b"), "1:3: unexpected 'b'");
    EXPECT_EQ(parse_error("a \"b\""), "1:3: unexpected '\"b\"'");
    EXPECT_EQ(parse_error("a not b"), "1:3: unexpected 'not'");
    EXPECT_EQ(parse_error("1 < not a"), "1:5: 'not' cannot appear here; put it before the "
                                        "comparison or use parentheses, like (not x)");
}

TEST(ExprParseError, SingleEqualsOutsideACall) {
    const std::string message =
        "'=' is only allowed for a filter inside a call; use '==' to compare";
    EXPECT_EQ(parse_error("grade_level = 9"), "1:13: " + message);
    EXPECT_EQ(parse_error("(a = 1)"), "1:4: " + message);
    EXPECT_EQ(parse_error("f(a + b = 1)"), "1:9: " + message);
    EXPECT_EQ(parse_error("[a = 1]"), "1:4: " + message);
}

TEST(ExprParseError, UnknownCharacters) {
    EXPECT_EQ(parse_error("a # b"), "1:3: unknown character '#'");
    EXPECT_EQ(parse_error("a && b"), "1:3: unknown character '&' (use 'and')");
    EXPECT_EQ(parse_error("a || b"), "1:3: unknown character '|' (use 'or')");
    EXPECT_EQ(parse_error("!a"), "1:1: unknown character '!' (use 'not', or '!=' to compare)");
    EXPECT_EQ(parse_error("a . b"), "1:3: unknown character '.'");
    EXPECT_EQ(parse_error("a ≥ 1"), "1:3: unknown character '≥'");
}

TEST(ExprParseError, Numbers) {
    EXPECT_EQ(parse_error(".5"), "1:1: a number cannot start with '.'; write 0.5");
    EXPECT_EQ(parse_error("x > 3."), "1:5: expected a digit after '.' in '3.'");
    EXPECT_EQ(parse_error("f(0d)"), "1:3: a window's length must be a whole number from 1 to "
                                    "3660, not '0d'");
    EXPECT_EQ(parse_error("f(3661sd)"), "1:3: a window's length must be a whole number from 1 "
                                        "to 3660, not '3661sd'");
    EXPECT_EQ(parse_error("f(1.5w)"), "1:3: a window's length must be a whole number from 1 to "
                                      "3660, not '1.5w'");
    EXPECT_EQ(parse_error("f(99999999999d)"), "1:3: a window's length must be a whole number "
                                              "from 1 to 3660, not '99999999999d'");
    EXPECT_EQ(parse_error("f(30x)"), "1:3: unknown window unit 'x' in '30x'; use d (days), w "
                                     "(weeks) or sd (school days)");
    EXPECT_EQ(parse_error("f(30days)"), "1:3: unknown window unit 'days' in '30days'; use d "
                                        "(days), w (weeks) or sd (school days)");
}

TEST(ExprParseError, Strings) {
    EXPECT_EQ(parse_error("a == \"abc"), "1:6: unterminated string");
    EXPECT_EQ(parse_error("a == 'abc\" and b"), "1:6: unterminated string");
    EXPECT_EQ(parse_error("a == \"ab\nc\""), "1:6: unterminated string");
    EXPECT_EQ(parse_error("a == \"ab\\"), "1:6: unterminated string");
    EXPECT_EQ(parse_error("a == \"a\\nb\""),
              "1:8: unknown escape '\\n' in a string; only \\\", \\' and \\\\ are allowed");
}

TEST(ExprParseError, UnclosedBrackets) {
    EXPECT_EQ(parse_error("x or (a > 1"), "1:12: expected ')' to close '(' at 1:6");
    EXPECT_EQ(parse_error("(a > 1]"), "1:7: expected ')' to close '(' at 1:1");
    EXPECT_EQ(parse_error("[1, 2"), "1:6: expected ']' to close '[' at 1:1");
    EXPECT_EQ(parse_error("[1 2]"), "1:4: expected ']' to close '[' at 1:1");
    EXPECT_EQ(parse_error("absences(30d > 1"), "1:17: expected ')' to close '(' at 1:9");
}

TEST(ExprParseError, TrailingCommas) {
    EXPECT_EQ(parse_error("[1, 2,]"), "1:6: a trailing comma is not allowed before ']'");
    EXPECT_EQ(parse_error("absences(30d,)"), "1:13: a trailing comma is not allowed before ')'");
    EXPECT_EQ(parse_error("[,]"), "1:2: expected an expression, found ','");
}

TEST(ExprParseError, ChainedComparisons) {
    EXPECT_EQ(parse_error("a < b < c"), "1:7: comparisons cannot be chained; use and");
    EXPECT_EQ(parse_error("a == b != c"), "1:8: comparisons cannot be chained; use and");
    EXPECT_EQ(parse_error("a < b in c"), "1:7: comparisons cannot be chained; use and");
    EXPECT_EQ(parse_error("a in b not in c"), "1:8: comparisons cannot be chained; use and");
    EXPECT_EQ(parse_tree("(a < b) == c"), "(== (< a b) c)");
}

TEST(ExprParseError, PositionsInMultiLineText) {
    EXPECT_EQ(parse_error("absences(30d) > 5\nand\n  tardies(30d) > #"),
              "3:18: unknown character '#'");
    EXPECT_EQ(parse_error("a and\r\n  # b"), "2:3: unknown character '#'");
    EXPECT_EQ(parse_error("a and\r  # b"), "2:3: unknown character '#'");
    EXPECT_EQ(parse_error("a and\n\t(b or c\n"), "3:1: expected ')' to close '(' at 2:2");
    // Columns count characters, not bytes.
    EXPECT_EQ(parse_error("\"é\" == #"), "1:8: unknown character '#'");
}

TEST(ExprParseError, DeepNesting) {
    const std::string deep = std::string(500, '(') + "1" + std::string(500, ')');
    EXPECT_EQ(parse_error(deep), "1:201: the expression is nested too deeply");
    EXPECT_EQ(parse_error(std::string(500, '-') + "1"),
              "1:200: the expression is nested too deeply");
    EXPECT_EQ(parse_tree(std::string(50, '(') + "1" + std::string(50, ')')), "1");
}

// --- checking ---

TEST_F(ExprTest, ChecksAndTypesAValidExpression) {
    EXPECT_EQ(check_errors("absence_rate(school_year) >= threshold and grade_level in [9, 10] "
                           "and school_id != \"002\" and not flagged(\"suspension\") and "
                           "incidents(school_year, behavior = offense, action in [\"Expulsion\"]) "
                           "+ 1 > 0 and failing_grades(grading_period, subject in core_subjects, "
                           "course_code not in [\"X\"], subject != \"Art\") >= 2 and chronic and "
                           "attr(\"iep\") == \"Y\" and consecutive_absences() > 0"),
              Strings{});
    EXPECT_EQ(m_expr->type, Type::boolean);
}

TEST_F(ExprTest, FoldsConstantsAndLinksConditions) {
    ASSERT_EQ(check_errors("absences(30d) > threshold and chronic"), Strings{});
    const Expr& threshold = *m_expr->items[0]->items[1];
    EXPECT_EQ(threshold.kind, Expr::Kind::name);
    EXPECT_EQ(threshold.text, "threshold");
    EXPECT_EQ(threshold.type, Type::number);
    EXPECT_EQ(threshold.value, Value::of(0.1));
    const Expr& chronic = *m_expr->items[1];
    EXPECT_EQ(chronic.condition, m_condition.get());
    EXPECT_EQ(chronic.type, Type::boolean);
    EXPECT_EQ(m_expr->items[0]->items[0]->type, Type::number);
}

TEST_F(ExprTest, ChecksOtherExpectedTypes) {
    EXPECT_EQ(check_errors("grade_level * 2", Type::number), Strings{});
    EXPECT_EQ(check_errors("core_subjects", Type::list), Strings{});
    EXPECT_EQ(check_error("school_id", Type::number),
              "1:1: the expression must be a number, not a string");
}

TEST_F(ExprTest, UnknownNames) {
    EXPECT_EQ(check_error("absense_rate > 0.1"),
              "1:1: unknown name 'absense_rate' (did you mean 'absence_rate'?)");
    EXPECT_EQ(check_error("threshhold < 1"),
              "1:1: unknown name 'threshhold' (did you mean 'threshold'?)");
    EXPECT_EQ(check_error("grade_levle >= 9"),
              "1:1: unknown name 'grade_levle' (did you mean 'grade_level'?)");
    EXPECT_EQ(check_error("1 < zzzzzzzz"), "1:5: unknown name 'zzzzzzzz'");
    EXPECT_EQ(check_error("absence_rate > 0.1"),
              "1:1: 'absence_rate' is a function; call it like absence_rate(school_year)");
    EXPECT_EQ(check_error("consecutive_absences > 3"),
              "1:1: 'consecutive_absences' is a function; call it like consecutive_absences()");
}

TEST_F(ExprTest, UnknownFunctions) {
    EXPECT_EQ(check_error("absense_rate(school_year) > 0.1"),
              "1:1: unknown function 'absense_rate' (did you mean 'absence_rate'?)");
    EXPECT_EQ(check_error("frobnicate(30d) > 1"), "1:1: unknown function 'frobnicate'");
    EXPECT_EQ(check_error("threshold(1) > 1"), "1:1: 'threshold' is not a function");
}

TEST_F(ExprTest, Arity) {
    EXPECT_EQ(check_error("absences() > 1"), "1:1: absences() takes a window, like absences(30d)");
    EXPECT_EQ(check_error("incidents() > 1"),
              "1:1: incidents() takes a window, like incidents(school_year)");
    EXPECT_EQ(check_error("consecutive_absences(30d) > 1"),
              "1:1: consecutive_absences() takes no arguments");
    EXPECT_EQ(check_error("attr() == \"Y\""), "1:1: attr() takes one string, like attr(\"iep\")");
    EXPECT_EQ(check_error("attr(iep) == \"Y\""),
              "1:1: attr() takes one string, like attr(\"iep\")");
    EXPECT_EQ(check_error("attr(\"a\", \"b\") == \"Y\""),
              "1:1: attr() takes one string, like attr(\"iep\")");
    EXPECT_EQ(check_error("flagged(5)"),
              "1:1: flagged() takes one rule id as a string, like flagged(\"chronic-absence\")");
    EXPECT_EQ(check_error("absences(30d, 60d) > 1"),
              "1:15: absences() takes only a window, like absences(30d); it has no filters");
    EXPECT_EQ(check_error("tardies(30d, behavior = \"x\") > 1"),
              "1:14: tardies() takes only a window, like tardies(30d); it has no filters");
}

TEST_F(ExprTest, WindowArguments) {
    EXPECT_EQ(check_error("absences(30) > 1"),
              "1:10: expected a window (30d, 6w, 20sd, school_year, grading_period, all, "
              "september) as the "
              "first argument of absences(), not '30'");
    EXPECT_EQ(check_error("incidents(behavior = \"x\") > 1"),
              "1:11: expected a window (30d, 6w, 20sd, school_year, grading_period, all, "
              "september) as the "
              "first argument of incidents(), not 'behavior = \"x\"'");
    EXPECT_EQ(check_error("30d > 1"), "1:1: '30d' is a window; a window can only be the first "
                                      "argument of a metric, like absences(30d)");
    EXPECT_EQ(check_error("attr(school_year) == \"x\""),
              "1:1: attr() takes one string, like attr(\"iep\")");
    EXPECT_EQ(check_error("grade_level in [all]"),
              "1:17: 'all' is a window; a window can only be the first argument of a metric, "
              "like absences(30d)");
}

TEST_F(ExprTest, BooleanOperators) {
    EXPECT_EQ(check_error("absences(30d) > 1 and 5"),
              "1:23: 'and' needs booleans on both sides, not a number on the right");
    EXPECT_EQ(check_error("school_id or true"),
              "1:1: 'or' needs booleans on both sides, not a string on the left");
    EXPECT_EQ(check_error("not 5"), "1:5: 'not' needs a boolean, not a number");
}

TEST_F(ExprTest, Comparisons) {
    EXPECT_EQ(check_error("school_id == 5"), "1:11: cannot compare a string with a number");
    EXPECT_EQ(check_error("true != 1"), "1:6: cannot compare a boolean with a number");
    EXPECT_EQ(check_error("school_id < \"b\""), "1:11: '<' can only compare numbers, not strings");
    EXPECT_EQ(check_error("true >= false"), "1:6: '>=' can only compare numbers, not booleans");
    EXPECT_EQ(check_error("core_subjects == [\"a\"]"), "1:15: '==' cannot compare lists; use 'in'");
    EXPECT_EQ(check_errors("school_id == \"001\" and true != chronic"), Strings{});
}

TEST_F(ExprTest, Membership) {
    EXPECT_EQ(check_error("grade_level in 5"),
              "1:16: 'in' needs a list on the right, not a number");
    EXPECT_EQ(check_error("school_id not in \"001\""),
              "1:18: 'not in' needs a list on the right, not a string");
    EXPECT_EQ(check_error("chronic in [1]"),
              "1:1: 'in' needs a number or a string on the left, not a boolean");
    EXPECT_EQ(check_error("grade_level in [\"9\"]"),
              "1:13: cannot look for a number in a list of strings");
    EXPECT_EQ(check_error("grade_level in core_subjects"),
              "1:13: cannot look for a number in a list of strings");
    EXPECT_EQ(check_errors("grade_level in []"), Strings{});
}

TEST_F(ExprTest, Lists) {
    EXPECT_EQ(check_error("grade_level in [1, \"a\"]"),
              "1:20: a list's items must all be numbers or all be strings");
    EXPECT_EQ(check_error("grade_level in [true]"),
              "1:17: a list's items must all be numbers or all be strings");
    EXPECT_EQ(check_error("grade_level in [[1]]"),
              "1:17: a list's items must all be numbers or all be strings");
    EXPECT_EQ(check_errors("grade_level in [9, min_absences + 1]"), Strings{});
}

TEST_F(ExprTest, Arithmetic) {
    EXPECT_EQ(check_error("grade_level + \"x\" > 1"),
              "1:15: arithmetic needs numbers on both sides, not a string on the right");
    EXPECT_EQ(check_error("school_id * 2 > 1"),
              "1:1: arithmetic needs numbers on both sides, not a string on the left");
    EXPECT_EQ(check_error("-school_id == \"x\""), "1:2: '-' needs a number, not a string");
    EXPECT_EQ(check_errors("school_id * true == \"x\""),
              (Strings{"1:1: arithmetic needs numbers on both sides, not a string on the left",
                       "1:13: arithmetic needs numbers on both sides, not a boolean on the "
                       "right"}));
}

TEST_F(ExprTest, WholeExpressionMustBeBoolean) {
    EXPECT_EQ(check_error("absences(30d)"),
              "1:1: a rule's condition must be true or false, not a number");
    EXPECT_EQ(check_error("absences(30d) + 1"),
              "1:1: a rule's condition must be true or false, not a number");
    EXPECT_EQ(check_error("attr(\"iep\")"),
              "1:1: a rule's condition must be true or false, not a string");
    EXPECT_EQ(check_error("core_subjects"),
              "1:1: a rule's condition must be true or false, not a list");
}

TEST_F(ExprTest, Filters) {
    EXPECT_EQ(check_error("incidents(school_year, subject = \"x\") > 0"),
              "1:24: incidents() cannot filter on 'subject' (it can on: behavior, action)");
    EXPECT_EQ(check_error("failing_grades(all, behavior in [\"x\"]) > 0"),
              "1:21: failing_grades() cannot filter on 'behavior' (it can on: subject, "
              "course_code)");
    EXPECT_EQ(check_error("incidents(school_year, behavior = school_id) > 0"),
              "1:35: filter values must be constants");
    EXPECT_EQ(check_error("incidents(school_year, behavior = \"a\" + \"b\") > 0"),
              "1:39: filter values must be constants");
    EXPECT_EQ(check_error("incidents(school_year, behavior in [\"a\", chronic]) > 0"),
              "1:42: filter values must be constants");
    EXPECT_EQ(check_error("incidents(school_year, behavior = offence) > 0"),
              "1:35: unknown name 'offence' (did you mean 'offense'?)");
    EXPECT_EQ(check_error("failing_grades(all, course_code in [101]) > 0"),
              "1:36: filter values must be strings or lists of strings");
    EXPECT_EQ(check_error("failing_grades(all, subject = threshold) > 0"),
              "1:31: filter values must be strings or lists of strings");
    EXPECT_EQ(check_error("failing_grades(all, subject in \"Art\") > 0"),
              "1:32: 'in' in a filter needs a list, like subject in [\"Mathematics\", "
              "\"Science\"]");
    EXPECT_EQ(check_error("failing_grades(all, subject = core_subjects) > 0"),
              "1:31: '=' in a filter needs one string; use 'in' for a list");
    EXPECT_EQ(check_error("incidents(school_year, 5) > 0"),
              "1:24: expected a filter like behavior = \"...\" as an argument of incidents(), "
              "not '5'");
}

TEST_F(ExprTest, FlaggedRules) {
    EXPECT_EQ(check_errors("flagged(\"suspension\") or flagged('chronic-absence')"), Strings{});
    ASSERT_EQ(m_scope.m_flagged.size(), 2U);
    EXPECT_EQ(m_scope.m_flagged[0].first, "suspension");
    EXPECT_EQ(m_scope.m_flagged[1].first, "chronic-absence");
    EXPECT_EQ(m_scope.m_flagged[1].second.column, 26);
    EXPECT_EQ(check_error("flagged(\"chronic-absense\")"),
              "1:9: unknown rule 'chronic-absense' in flagged()");
    EXPECT_EQ(m_scope.m_flagged.size(), 2U);
}

TEST_F(ExprTest, ReportsEveryErrorInOnePass) {
    EXPECT_EQ(
        check_errors("absense_rate(school_year) > 0.1 or threshhold > 1\n"
                     "  or absences(30) > 1 or school_id == 1"),
        (Strings{
            "1:1: unknown function 'absense_rate' (did you mean 'absence_rate'?)",
            "1:36: unknown name 'threshhold' (did you mean 'threshold'?)",
            "2:15: expected a window (30d, 6w, 20sd, school_year, grading_period, all, september) "
            "as the first argument of absences(), not '30'",
            "2:36: cannot compare a string with a number"}));
}

TEST_F(ExprTest, NoFollowOnErrorsFromAnUnknownName) {
    EXPECT_EQ(check_errors("nope"), Strings{"1:1: unknown name 'nope'"});
    EXPECT_EQ(check_errors("nope + 1 > 2"), Strings{"1:1: unknown name 'nope'"});
    EXPECT_EQ(check_errors("not nope"), Strings{"1:5: unknown name 'nope'"});
}

// --- evaluation ---

TEST_F(ExprTest, EvaluatesArithmetic) {
    EXPECT_TRUE(eval("grade_level * 2 + 1 == 19"));
    EXPECT_TRUE(eval("10 / 4 == 2.5"));
    EXPECT_TRUE(eval("10 - 4 - 3 == 3"));
    EXPECT_TRUE(eval("-3 + 5 == 2"));
    EXPECT_FALSE(eval("2 + 2 == 5"));
}

TEST_F(ExprTest, DivisionByZeroIsZero) {
    EXPECT_TRUE(eval("absences(30d) / enrolled_days(30d) == 0"));
    EXPECT_TRUE(eval("1 / 0 == 0"));
}

TEST_F(ExprTest, EvaluatesComparisons) {
    EXPECT_TRUE(eval("1 < 2"));
    EXPECT_FALSE(eval("2 < 2"));
    EXPECT_TRUE(eval("2 <= 2"));
    EXPECT_FALSE(eval("1 > 2"));
    EXPECT_TRUE(eval("2 >= 2"));
    EXPECT_TRUE(eval("\"a\" == 'a'"));
    EXPECT_TRUE(eval("\"a\" != \"b\""));
    EXPECT_TRUE(eval("true == true"));
    EXPECT_FALSE(eval("true != true"));
}

TEST_F(ExprTest, EvaluatesMembership) {
    EXPECT_TRUE(eval("school_id in [\"001\", \"002\"]"));
    EXPECT_FALSE(eval("school_id not in [\"001\", \"002\"]"));
    EXPECT_TRUE(eval("grade_level not in [10, 11]"));
    EXPECT_TRUE(eval("\"Science\" in core_subjects"));
    EXPECT_FALSE(eval("\"Art\" in core_subjects"));
    EXPECT_FALSE(eval("grade_level in []"));
}

TEST_F(ExprTest, EvaluatesBooleanOperators) {
    EXPECT_TRUE(eval("true and true"));
    EXPECT_FALSE(eval("true and false"));
    EXPECT_TRUE(eval("false or true"));
    EXPECT_FALSE(eval("false or false"));
    EXPECT_TRUE(eval("not false"));
    EXPECT_FALSE(eval("not (1 < 2)"));
    EXPECT_TRUE(eval("not 1 > 2 and 2 > 1"));
}

TEST_F(ExprTest, NamesUseOverridesThenConstantsThenAttributes) {
    EXPECT_TRUE(run("min_absences == 5").value);
    EXPECT_FALSE(run("min_absences == 5", {{"min_absences", Value::of(8.0)}}).value);
    EXPECT_TRUE(run("min_absences == 8", {{"min_absences", Value::of(8.0)}}).value);
    EXPECT_TRUE(eval("grade_level == 9 and school_id == \"001\""));
    EXPECT_EQ(m_context.m_requests, (Strings{"attribute grade_level", "attribute school_id"}));
}

TEST_F(ExprTest, NamedConditionsAreEvaluated) {
    EXPECT_TRUE(eval("chronic"));
    m_context.m_metrics["absence_rate(school_year)"] = 0.05;
    EXPECT_FALSE(eval("chronic"));
    // A parameter override reaches into the condition.
    EXPECT_TRUE(run("chronic", {{"threshold", Value::of(0.01)}}).value);
}

TEST_F(ExprTest, EvaluatesAttrFlaggedAndFlaggedDomains) {
    EXPECT_TRUE(eval("attr(\"iep\") == \"Y\""));
    EXPECT_FALSE(eval("attr(\"ell\") == \"Y\""));
    EXPECT_TRUE(eval("flagged(\"chronic-absence\")"));
    EXPECT_FALSE(eval("flagged(\"suspension\")"));
    EXPECT_TRUE(eval("flagged_domains() >= 2"));
    EXPECT_EQ(m_context.m_requests,
              (Strings{"attribute iep", "attribute ell", "flagged chronic-absence",
                       "flagged suspension", "flagged_domains"}));
}

TEST_F(ExprTest, PassesWindowsAndFiltersToTheContext) {
    EXPECT_TRUE(eval("incidents(school_year, behavior = offense) == 1"));
    EXPECT_TRUE(eval("failing_grades(grading_period, subject in core_subjects) == 2"));
    EXPECT_TRUE(eval("incidents(school_year, behavior == \"State Offense\") == 1"));
    EXPECT_TRUE(eval("failing_grades(grading_period, subject in [\"Mathematics\", 'Science']) "
                     "== 2"));
    EXPECT_EQ(
        m_context.m_requests,
        // Filters from named constants read as the name; literal values as themselves.
        (Strings{"incidents(school_year, behavior = offense)",
                 "failing_grades(grading_period, subject in core_subjects)",
                 "incidents(school_year, behavior = \"State Offense\")",
                 "failing_grades(grading_period, subject in [\"Mathematics\", \"Science\"])"}));
}

TEST_F(ExprTest, EvidenceRecordsMetricComparisons) {
    const EvalResult result = run("absence_rate(school_year) >= threshold");
    EXPECT_TRUE(result.value);
    ASSERT_EQ(result.evidence.size(), 1U);
    const Evidence& e = result.evidence[0];
    EXPECT_EQ(e.metric, "absence_rate(school_year)");
    EXPECT_EQ(e.window, "school_year");
    EXPECT_EQ(e.value, 0.125);
    EXPECT_EQ(e.op, ">=");
    EXPECT_EQ(e.threshold, 0.1);
}

TEST_F(ExprTest, EvidenceFlipsAMetricOnTheRight) {
    EXPECT_EQ(evidence_texts(run("5 > absences(30d)")), Strings{"absences(30d) [30d] 6 < 5"});
    EXPECT_EQ(evidence_texts(run("min_absences <= absences(30d)")),
              Strings{"absences(30d) [30d] 6 >= 5"});
    EXPECT_EQ(evidence_texts(run("3 == consecutive_absences()")),
              Strings{"consecutive_absences() [] 3 == 3"});
}

TEST_F(ExprTest, EvidenceThresholdsMayBeConstantArithmetic) {
    EXPECT_EQ(evidence_texts(run("absences(30d) > threshold * 40 + 1")),
              Strings{"absences(30d) [30d] 6 > 5"});
    EXPECT_EQ(
        evidence_texts(run("absences(30d) != min_absences", {{"min_absences", Value::of(6.0)}})),
        Strings{"absences(30d) [30d] 6 != 6"});
}

TEST_F(ExprTest, EvidenceDoesNotShortCircuit) {
    const EvalResult with_and = run("absences(30d) > 100 and tardies(30d) > 1");
    EXPECT_FALSE(with_and.value);
    EXPECT_EQ(evidence_texts(with_and),
              (Strings{"absences(30d) [30d] 6 > 100", "tardies(30d) [30d] 2 > 1"}));
    const EvalResult with_or = run("absences(30d) > 1 or tardies(30d) > 100");
    EXPECT_TRUE(with_or.value);
    EXPECT_EQ(evidence_texts(with_or),
              (Strings{"absences(30d) [30d] 6 > 1", "tardies(30d) [30d] 2 > 100"}));
}

TEST_F(ExprTest, EvidenceIncludesNamedConditionsAndFilters) {
    const EvalResult result = run(
        "chronic and incidents(school_year, behavior = offense) >= 1 and flagged_domains() > 1");
    EXPECT_TRUE(result.value);
    EXPECT_EQ(evidence_texts(result),
              (Strings{"absence_rate(school_year) [school_year] 0.125 >= 0.1",
                       "incidents(school_year, behavior = offense) [school_year] 1 >= 1",
                       "flagged_domains() [] 2 > 1"}));
}

TEST_F(ExprTest, NoEvidenceWithoutAMetricAgainstAConstant) {
    EXPECT_TRUE(run("absences(30d) > tardies(30d)").evidence.empty());
    EXPECT_TRUE(run("grade_level >= 9").evidence.empty());
    EXPECT_TRUE(run("absences(30d) / 2 > 1").evidence.empty());
    EXPECT_TRUE(run("attr(\"iep\") == \"Y\"").evidence.empty());
}

} // namespace
} // namespace ewsd::rules
