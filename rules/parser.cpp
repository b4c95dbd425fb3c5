// The expression lexer and recursive-descent parser. Grammar: docs/rules.md.
#include "rules/expr.hpp"

#include <charconv>
#include <string_view>
#include <system_error>
#include <utility>

namespace ewsd::rules {
namespace {

constexpr int max_window_count = 3660;
constexpr int max_nesting = 200;

enum class Tok {
    number,
    window,
    string,
    ident,
    kw_and,
    kw_or,
    kw_not,
    kw_in,
    kw_true,
    kw_false,
    lparen,
    rparen,
    lbracket,
    rbracket,
    comma,
    assign,
    eq,
    ne,
    lt,
    le,
    gt,
    ge,
    plus,
    minus,
    star,
    slash,
    end,
    error, // a lexical error: `text` is the message
};

struct Token {
    Tok kind = Tok::end;
    Position position;
    std::string text; // the source text (the message for Tok::error, the contents for strings)
    double number = 0;
    Window window;
};

bool is_ident_start(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_ident_char(char c) {
    return is_ident_start(c) || is_digit(c);
}

// Turns text into tokens, tracking 1-based line and column (columns count
// UTF-8 characters, not bytes). Stops at the first lexical error.
class Lexer {
public:
    explicit Lexer(std::string_view text) : m_text(text) {}

    std::vector<Token> run() {
        std::vector<Token> tokens;
        for (;;) {
            skip_space();
            Token token = next();
            const Tok kind = token.kind;
            tokens.push_back(std::move(token));
            if (kind == Tok::end || kind == Tok::error) {
                return tokens;
            }
        }
    }

private:
    std::string_view m_text;
    std::size_t m_at = 0;
    Position m_pos;

    [[nodiscard]] char peek(std::size_t ahead = 0) const {
        return m_at + ahead < m_text.size() ? m_text[m_at + ahead] : '\0';
    }

    [[nodiscard]] bool at_end() const { return m_at >= m_text.size(); }

    void advance() {
        const char c = m_text[m_at++];
        if (c == '\n' || (c == '\r' && peek() != '\n')) {
            ++m_pos.line;
            m_pos.column = 1;
        } else if (c != '\r' && (static_cast<unsigned char>(c) & 0xC0) != 0x80) {
            ++m_pos.column;
        }
    }

    void skip_space() {
        while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) {
            advance();
        }
    }

    static Token error(Position where, std::string message) {
        Token token;
        token.kind = Tok::error;
        token.position = where;
        token.text = std::move(message);
        return token;
    }

    Token simple(Tok kind, std::size_t length) {
        Token token;
        token.kind = kind;
        token.position = m_pos;
        token.text = std::string(m_text.substr(m_at, length));
        for (std::size_t i = 0; i < length; ++i) {
            advance();
        }
        return token;
    }

    Token next() {
        if (at_end()) {
            Token token;
            token.position = m_pos;
            return token;
        }
        const char c = peek();
        if (is_digit(c)) {
            return number();
        }
        if (is_ident_start(c)) {
            return identifier();
        }
        if (c == '"' || c == '\'') {
            return string();
        }
        return punctuation(c);
    }

    Token punctuation(char c) {
        const char d = peek(1);
        switch (c) {
        case '(':
            return simple(Tok::lparen, 1);
        case ')':
            return simple(Tok::rparen, 1);
        case '[':
            return simple(Tok::lbracket, 1);
        case ']':
            return simple(Tok::rbracket, 1);
        case ',':
            return simple(Tok::comma, 1);
        case '+':
            return simple(Tok::plus, 1);
        case '-':
            return simple(Tok::minus, 1);
        case '*':
            return simple(Tok::star, 1);
        case '/':
            return simple(Tok::slash, 1);
        case '=':
            return d == '=' ? simple(Tok::eq, 2) : simple(Tok::assign, 1);
        case '<':
            return d == '=' ? simple(Tok::le, 2) : simple(Tok::lt, 1);
        case '>':
            return d == '=' ? simple(Tok::ge, 2) : simple(Tok::gt, 1);
        case '!':
            if (d == '=') {
                return simple(Tok::ne, 2);
            }
            return error(m_pos, "unknown character '!' (use 'not', or '!=' to compare)");
        case '&':
            return error(m_pos, "unknown character '&' (use 'and')");
        case '|':
            return error(m_pos, "unknown character '|' (use 'or')");
        case '.':
            if (is_digit(d)) {
                std::size_t end = m_at + 1;
                while (end < m_text.size() && is_digit(m_text[end])) {
                    ++end;
                }
                return error(m_pos, "a number cannot start with '.'; write 0" +
                                        std::string(m_text.substr(m_at, end - m_at)));
            }
            break;
        default:
            break;
        }
        return error(m_pos, "unknown character '" + utf8_char() + "'");
    }

    [[nodiscard]] std::string utf8_char() const {
        const auto lead = static_cast<unsigned char>(peek());
        std::size_t length = 1;
        if (lead >= 0xF0) {
            length = 4;
        } else if (lead >= 0xE0) {
            length = 3;
        } else if (lead >= 0xC0) {
            length = 2;
        }
        return std::string(m_text.substr(m_at, length));
    }

    Token number() {
        const Position start = m_pos;
        const std::size_t begin = m_at;
        while (is_digit(peek())) {
            advance();
        }
        bool whole = true;
        if (peek() == '.') {
            if (!is_digit(peek(1))) {
                return error(start, "expected a digit after '.' in '" +
                                        std::string(m_text.substr(begin, m_at + 1 - begin)) + "'");
            }
            whole = false;
            advance();
            while (is_digit(peek())) {
                advance();
            }
        }
        const std::string_view digits = m_text.substr(begin, m_at - begin);
        const std::size_t unit_begin = m_at;
        while (is_ident_char(peek())) {
            advance();
        }
        const std::string_view unit = m_text.substr(unit_begin, m_at - unit_begin);
        Token token;
        token.position = start;
        token.text = std::string(m_text.substr(begin, m_at - begin));
        if (unit.empty()) {
            token.kind = Tok::number;
            std::from_chars(digits.data(), digits.data() + digits.size(), token.number);
            return token;
        }
        return window(std::move(token), digits, unit, whole);
    }

    static Token window(Token token, std::string_view digits, std::string_view unit, bool whole) {
        if (unit != "d" && unit != "w" && unit != "sd") {
            return error(token.position, "unknown window unit '" + std::string(unit) + "' in '" +
                                             token.text +
                                             "'; use d (days), w (weeks) or sd (school days)");
        }
        int count = 0;
        const auto parsed = std::from_chars(digits.data(), digits.data() + digits.size(), count);
        if (!whole || parsed.ec != std::errc{} || count < 1 || count > max_window_count) {
            return error(token.position, "a window's length must be a whole number from 1 to " +
                                             std::to_string(max_window_count) + ", not '" +
                                             token.text + "'");
        }
        token.kind = Tok::window;
        token.window.count = count;
        token.window.kind = unit == "d"   ? Window::Kind::days
                            : unit == "w" ? Window::Kind::weeks
                                          : Window::Kind::school_days;
        return token;
    }

    Token identifier() {
        Token token;
        token.position = m_pos;
        const std::size_t begin = m_at;
        while (is_ident_char(peek())) {
            advance();
        }
        token.text = std::string(m_text.substr(begin, m_at - begin));
        static const std::pair<const char*, Tok> keywords[] = {
            {"and", Tok::kw_and}, {"or", Tok::kw_or},     {"not", Tok::kw_not},
            {"in", Tok::kw_in},   {"true", Tok::kw_true}, {"false", Tok::kw_false},
        };
        token.kind = Tok::ident;
        for (const auto& [word, kind] : keywords) {
            if (token.text == word) {
                token.kind = kind;
            }
        }
        return token;
    }

    Token string() {
        const Position start = m_pos;
        const char quote = peek();
        advance();
        Token token;
        token.kind = Tok::string;
        token.position = start;
        for (;;) {
            if (at_end() || peek() == '\n' || peek() == '\r') {
                return error(start, "unterminated string");
            }
            const char c = peek();
            if (c == quote) {
                advance();
                return token;
            }
            if (c == '\\') {
                const Position escape = m_pos;
                advance();
                const char e = peek();
                if (e != '"' && e != '\'' && e != '\\') {
                    if (at_end() || e == '\n' || e == '\r') {
                        return error(start, "unterminated string");
                    }
                    return error(escape, "unknown escape '\\" + utf8_char() +
                                             "' in a string; only \\\", \\' and \\\\ are allowed");
                }
            }
            token.text += peek();
            advance();
        }
    }
};

struct SyntaxError {
    Position position;
    std::string message;
};

std::string describe(const Token& token) {
    if (token.kind == Tok::end) {
        return "end of text";
    }
    if (token.kind == Tok::string) {
        return "'\"" + token.text + "\"'";
    }
    return "'" + token.text + "'";
}

std::string position_text(Position p) {
    return std::to_string(p.line) + ":" + std::to_string(p.column);
}

ExprPtr make(Expr::Kind kind, Position position) {
    auto expr = std::make_unique<Expr>();
    expr->kind = kind;
    expr->position = position;
    return expr;
}

ExprPtr make_binary(std::string op, Position position, ExprPtr left, ExprPtr right) {
    auto expr = make(Expr::Kind::binary, position);
    expr->op = std::move(op);
    expr->items.push_back(std::move(left));
    expr->items.push_back(std::move(right));
    return expr;
}

bool is_window_name(const std::string& name) {
    return name == "school_year" || name == "grading_period" || name == "all" ||
           month_window(name) != 0;
}

class Parser {
public:
    explicit Parser(std::vector<Token> tokens) : m_tokens(std::move(tokens)) {}

    ExprPtr parse() {
        ExprPtr expr = parse_or();
        if (current().kind != Tok::end) {
            fail_unexpected(current());
        }
        return expr;
    }

private:
    std::vector<Token> m_tokens;
    std::size_t m_at = 0;
    int m_depth = 0;

    // Counts nesting so that a pathological text cannot overflow the stack.
    class DepthGuard {
    public:
        explicit DepthGuard(Parser& parser) : m_parser(parser) {
            if (++m_parser.m_depth > max_nesting) {
                throw SyntaxError{m_parser.current().position,
                                  "the expression is nested too deeply"};
            }
        }
        ~DepthGuard() { --m_parser.m_depth; }
        DepthGuard(const DepthGuard&) = delete;
        DepthGuard& operator=(const DepthGuard&) = delete;

    private:
        Parser& m_parser;
    };

    [[nodiscard]] const Token& current() const { return m_tokens[m_at]; }

    [[nodiscard]] const Token& peek_next() const {
        return m_tokens[m_at + 1 < m_tokens.size() ? m_at + 1 : m_at];
    }

    const Token& take() {
        const Token& token = m_tokens[m_at];
        if (token.kind != Tok::end && token.kind != Tok::error) {
            ++m_at;
        }
        return token;
    }

    // Lexical errors and a stray '=' explain themselves wherever they turn up.
    static void fail_special(const Token& token) {
        if (token.kind == Tok::error) {
            throw SyntaxError{token.position, token.text};
        }
        if (token.kind == Tok::assign) {
            throw SyntaxError{
                token.position,
                "'=' is only allowed for a filter inside a call; use '==' to compare"};
        }
    }

    [[noreturn]] static void fail_unexpected(const Token& token) {
        fail_special(token);
        throw SyntaxError{token.position, "unexpected " + describe(token)};
    }

    void expect_close(Tok close, const Token& open) {
        if (current().kind == close) {
            take();
            return;
        }
        fail_special(current());
        const char* closer = close == Tok::rparen ? "')'" : "']'";
        throw SyntaxError{current().position, std::string("expected ") + closer + " to close '" +
                                                  open.text + "' at " +
                                                  position_text(open.position)};
    }

    ExprPtr parse_or() {
        const DepthGuard guard(*this);
        ExprPtr left = parse_and();
        while (current().kind == Tok::kw_or) {
            const Position at = take().position;
            left = make_binary("or", at, std::move(left), parse_and());
        }
        return left;
    }

    ExprPtr parse_and() {
        ExprPtr left = parse_not();
        while (current().kind == Tok::kw_and) {
            const Position at = take().position;
            left = make_binary("and", at, std::move(left), parse_not());
        }
        return left;
    }

    ExprPtr parse_not() {
        if (current().kind != Tok::kw_not) {
            return parse_comparison();
        }
        const DepthGuard guard(*this);
        auto expr = make(Expr::Kind::unary, take().position);
        expr->op = "not";
        expr->items.push_back(parse_not());
        return expr;
    }

    [[nodiscard]] bool at_comparison() const {
        switch (current().kind) {
        case Tok::lt:
        case Tok::le:
        case Tok::gt:
        case Tok::ge:
        case Tok::eq:
        case Tok::ne:
        case Tok::kw_in:
            return true;
        case Tok::kw_not:
            return peek_next().kind == Tok::kw_in;
        default:
            return false;
        }
    }

    ExprPtr parse_comparison() {
        ExprPtr left = parse_additive();
        if (!at_comparison()) {
            return left;
        }
        const Token& op = take();
        std::string op_text = op.text;
        if (op.kind == Tok::kw_not) {
            take();
            op_text = "not in";
        }
        ExprPtr expr = make_binary(op_text, op.position, std::move(left), parse_additive());
        if (at_comparison()) {
            throw SyntaxError{current().position, "comparisons cannot be chained; use and"};
        }
        return expr;
    }

    ExprPtr parse_additive() {
        ExprPtr left = parse_multiplicative();
        while (current().kind == Tok::plus || current().kind == Tok::minus) {
            const Token& op = take();
            left = make_binary(op.text, op.position, std::move(left), parse_multiplicative());
        }
        return left;
    }

    ExprPtr parse_multiplicative() {
        ExprPtr left = parse_unary();
        while (current().kind == Tok::star || current().kind == Tok::slash) {
            const Token& op = take();
            left = make_binary(op.text, op.position, std::move(left), parse_unary());
        }
        return left;
    }

    ExprPtr parse_unary() {
        if (current().kind != Tok::minus) {
            return parse_primary();
        }
        const DepthGuard guard(*this);
        auto expr = make(Expr::Kind::unary, take().position);
        expr->op = "-";
        expr->items.push_back(parse_unary());
        return expr;
    }

    ExprPtr parse_primary() {
        const Token& token = current();
        switch (token.kind) {
        case Tok::number: {
            auto expr = make(Expr::Kind::literal, take().position);
            expr->value = Value::of(token.number);
            return expr;
        }
        case Tok::string: {
            auto expr = make(Expr::Kind::literal, take().position);
            expr->value = Value::of(token.text);
            return expr;
        }
        case Tok::kw_true:
        case Tok::kw_false: {
            auto expr = make(Expr::Kind::literal, take().position);
            expr->value = Value::of(token.kind == Tok::kw_true);
            return expr;
        }
        case Tok::window: {
            auto expr = make(Expr::Kind::window, take().position);
            expr->window = token.window;
            return expr;
        }
        case Tok::ident:
            return parse_name();
        case Tok::lparen: {
            const Token& open = take();
            ExprPtr inner = parse_or();
            expect_close(Tok::rparen, open);
            return inner;
        }
        case Tok::lbracket:
            return parse_list();
        case Tok::kw_not:
            throw SyntaxError{token.position,
                              "'not' cannot appear here; put it before the comparison or use "
                              "parentheses, like (not x)"};
        default:
            break;
        }
        fail_special(token);
        throw SyntaxError{token.position, "expected an expression, found " + describe(token)};
    }

    ExprPtr parse_name() {
        const Token& token = take();
        if (current().kind == Tok::lparen) {
            return parse_call(token);
        }
        if (is_window_name(token.text)) {
            auto expr = make(Expr::Kind::window, token.position);
            expr->window.kind = token.text == "school_year"      ? Window::Kind::school_year
                                : token.text == "grading_period" ? Window::Kind::grading_period
                                                                 : Window::Kind::all;
            if (const int month = month_window(token.text); month != 0) {
                expr->window.kind = Window::Kind::month;
                expr->window.count = month;
            }
            return expr;
        }
        auto expr = make(Expr::Kind::name, token.position);
        expr->text = token.text;
        return expr;
    }

    // Items separated by commas up to `close`; no trailing comma.
    template <typename ParseItem>
    void parse_items(Expr& into, const Token& open, Tok close, ParseItem parse_item) {
        if (current().kind == close) {
            take();
            return;
        }
        for (;;) {
            into.items.push_back(parse_item());
            if (current().kind != Tok::comma) {
                expect_close(close, open);
                return;
            }
            const Token& comma = take();
            if (current().kind == close) {
                throw SyntaxError{comma.position,
                                  "a trailing comma is not allowed before " + describe(current())};
            }
        }
    }

    ExprPtr parse_list() {
        const Token& open = take();
        auto expr = make(Expr::Kind::list, open.position);
        parse_items(*expr, open, Tok::rbracket, [this] { return parse_or(); });
        return expr;
    }

    ExprPtr parse_call(const Token& name) {
        auto expr = make(Expr::Kind::call, name.position);
        expr->text = name.text;
        const Token& open = take();
        parse_items(*expr, open, Tok::rparen, [this] { return parse_argument(); });
        return expr;
    }

    ExprPtr parse_argument() {
        if (current().kind != Tok::ident || peek_next().kind != Tok::assign) {
            return parse_or();
        }
        const Token& field = take();
        take();
        auto expr = make(Expr::Kind::keyword, field.position);
        expr->text = field.text;
        expr->items.push_back(parse_or());
        return expr;
    }
};

} // namespace

Parsed parse_expression(const std::string& text) {
    Parsed parsed;
    try {
        Parser parser(Lexer(text).run());
        parsed.expr = parser.parse();
    } catch (const SyntaxError& error) {
        parsed.errors.push_back(ParseError{error.position, error.message});
    }
    return parsed;
}

} // namespace ewsd::rules
