#include "referrals/evidence_text.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>

namespace ewsd::referrals {

namespace {

enum class Kind { count, rate, number };

struct MetricText {
    std::string name;
    std::string window;
    std::vector<std::string> filters;
};

// Splits "name(a, b = \"x, y\", c in [\"p\", \"q\"])" at the commas outside
// quotes and brackets.
MetricText parse_metric(const std::string& text) {
    MetricText out;
    const auto open = text.find('(');
    if (open == std::string::npos || text.back() != ')') {
        out.name = text;
        return out;
    }
    out.name = text.substr(0, open);
    std::vector<std::string> args;
    std::string current;
    bool quoted = false;
    int depth = 0;
    for (std::size_t i = open + 1; i + 1 < text.size(); ++i) {
        const char c = text[i];
        if (c == '"' && (i == 0 || text[i - 1] != '\\')) {
            quoted = !quoted;
        } else if (!quoted && c == '[') {
            ++depth;
        } else if (!quoted && c == ']') {
            --depth;
        } else if (!quoted && depth == 0 && c == ',') {
            args.push_back(current);
            current.clear();
            continue;
        }
        current += c;
    }
    args.push_back(current);
    for (auto& arg : args) {
        const auto first = arg.find_first_not_of(' ');
        const auto last = arg.find_last_not_of(' ');
        arg = first == std::string::npos ? "" : arg.substr(first, last - first + 1);
    }
    if (!args.empty() && !args.front().empty() && args.front().find(' ') == std::string::npos) {
        out.window = args.front();
        args.erase(args.begin());
    }
    for (auto& arg : args) {
        if (!arg.empty()) {
            out.filters.push_back(arg);
        }
    }
    return out;
}

// "\"a\"" -> "a"; "[\"a\", \"b, c\"]" -> "a or b, c".
std::string quoted_values(const std::string& text) {
    std::string out;
    std::string current;
    bool quoted = false;
    int count = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted && c == '\\' && i + 1 < text.size()) {
            current += text[++i];
        } else if (c == '"') {
            if (quoted) {
                out += (count++ == 0 ? "" : " or ") + current;
                current.clear();
            }
            quoted = !quoted;
        } else if (quoted) {
            current += c;
        }
    }
    return out;
}

std::string named(std::string s) {
    for (auto& c : s) {
        if (c == '_') {
            c = ' ';
        }
    }
    return s;
}

// behavior = "State Offense" -> "behavior: State Offense"; subject in core_subjects
// -> "core subjects"; subject in ["A", "B"] -> "subject: A or B".
std::string filter_in_words(const std::string& filter) {
    struct Op {
        const char* text;
        const char* words;
    };
    for (const Op op : {Op{" not in ", " not "}, Op{" != ", " not "}, Op{" == ", ": "},
                        Op{" = ", ": "}, Op{" in ", ": "}}) {
        const auto pos = filter.find(op.text);
        if (pos == std::string::npos) {
            continue;
        }
        const std::string field = filter.substr(0, pos);
        const std::string value = filter.substr(pos + std::string(op.text).size());
        const bool literal = !value.empty() && (value[0] == '"' || value[0] == '[');
        if (!literal) {
            return std::string(op.words) == ": " ? named(value) : "not " + named(value);
        }
        return field + op.words + quoted_values(value);
    }
    return filter;
}

bool is_digits(const std::string& s) {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
            return false;
        }
    }
    return true;
}

std::string plural(double n, const char* one, const char* many) {
    return format_number(n) + " " + (n == 1 ? one : many);
}

std::string percent(double rate) {
    return format_number(std::round(rate * 1000) / 10) + "%";
}

std::string value_text(double value, Kind kind) {
    return kind == Kind::rate ? percent(value) : format_number(value);
}

std::string threshold_in_words(const std::string& op, double threshold, Kind kind) {
    if (kind == Kind::count && ((op == ">=" && threshold == 1) || (op == ">" && threshold == 0))) {
        return ""; // "any" is the threshold: the count says it
    }
    const std::string t = value_text(threshold, kind);
    if (op == ">=") {
        return "threshold " + t;
    }
    if (op == ">") {
        return "more than " + t;
    }
    if (op == "<") {
        return "below " + t;
    }
    if (op == "<=") {
        return "at most " + t;
    }
    if (op == "==") {
        return "exactly " + t;
    }
    if (op == "!=") {
        return "not " + t;
    }
    return op + " " + t;
}

// "N school days" windows read "of the last 20 school days" after a rate.
std::string rate_scope(const std::string& window) {
    if (window.size() > 2 && window.ends_with("sd") &&
        is_digits(window.substr(0, window.size() - 2))) {
        return "of the last " + plural(std::stod(window), "school day", "school days");
    }
    return "of enrolled school days " + window_in_words(window);
}

std::string with_window(std::string text, const std::string& window) {
    const auto words = window_in_words(window);
    return words.empty() ? text : text + " " + words;
}

// The metric and its value in words, or empty for an unknown metric.
std::string metric_in_words(const MetricText& m, double v, Kind& kind) {
    kind = Kind::count;
    const auto& w = m.window;
    if (m.name == "absences") {
        return with_window(plural(v, "day", "days") + " absent", w);
    }
    if (m.name == "excused_absences" || m.name == "unexcused_absences") {
        const std::string which = m.name == "excused_absences" ? "excused" : "unexcused";
        return with_window(plural(v, "day", "days") + " of " + which + " absence", w);
    }
    if (m.name == "tardies") {
        return with_window(plural(v, "tardy", "tardies"), w);
    }
    if (m.name == "enrolled_days") {
        return with_window("enrolled " + plural(v, "school day", "school days"), w);
    }
    if (m.name == "consecutive_absences") {
        return "absent " + plural(v, "school day", "school days") + " in a row";
    }
    if (m.name == "incidents") {
        return with_window(plural(v, "incident", "incidents"), w);
    }
    if (m.name == "suspensions") {
        return with_window(plural(v, "suspension", "suspensions"), w);
    }
    if (m.name == "suspension_days") {
        return with_window(plural(v, "day", "days") + " suspended", w);
    }
    if (m.name == "failing_grades") {
        return with_window(plural(v, "failing course", "failing courses"), w);
    }
    if (m.name == "flagged_domains") {
        return "flags in " + format_number(v) + " of the 3 ABC domains";
    }
    kind = Kind::rate;
    if (m.name == "absence_rate") {
        return "absent " + percent(v) + " " + rate_scope(w);
    }
    if (m.name == "attendance_rate") {
        return "attended " + percent(v) + " " + rate_scope(w);
    }
    kind = Kind::number;
    if (m.name == "average_grade") {
        return with_window("average grade " + format_number(v), w);
    }
    if (m.name == "grade_change") {
        const std::string change = v == 0  ? "unchanged"
                                   : v > 0 ? "up " + plural(v, "point", "points")
                                           : "down " + plural(-v, "point", "points");
        return "average grade " + change + " since the previous grading period";
    }
    return "";
}

std::string parenthetical(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& part : parts) {
        if (!part.empty()) {
            out += (out.empty() ? "" : "; ") + part;
        }
    }
    return out.empty() ? "" : " (" + out + ")";
}

// The words for a group of comparisons of one metric with one value.
std::string group_in_words(const std::vector<const EvidenceItem*>& group) {
    const EvidenceItem& e = *group.front();
    MetricText m = parse_metric(e.metric);
    if (!e.window.empty()) {
        m.window = e.window;
    }
    Kind kind = Kind::number;
    const std::string subject = metric_in_words(m, e.value, kind);
    std::string thresholds;
    for (const auto* item : group) {
        const auto words = subject.empty() ? item->op + " " + format_number(item->threshold)
                                           : threshold_in_words(item->op, item->threshold, kind);
        if (!words.empty()) {
            thresholds += (thresholds.empty() ? "" : ", ") + words;
        }
    }
    if (subject.empty()) {
        return e.metric + " = " + format_number(e.value) + parenthetical({thresholds});
    }
    std::vector<std::string> parts;
    for (const auto& filter : m.filters) {
        parts.push_back(filter_in_words(filter));
    }
    parts.push_back(thresholds);
    return subject + parenthetical(parts);
}

} // namespace

std::string format_number(double value) {
    if (std::isnan(value) || std::isinf(value)) {
        return std::isnan(value) ? "n/a" : (value > 0 ? "infinity" : "-infinity");
    }
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.2f", value);
    std::string out = buffer;
    while (out.ends_with('0')) {
        out.pop_back();
    }
    if (out.ends_with('.')) {
        out.pop_back();
    }
    return out == "-0" ? "0" : out;
}

std::string window_in_words(const std::string& window) {
    static const std::map<std::string, std::string> named_windows = {
        {"school_year", "this school year"},
        {"grading_period", "in the current grading period"},
        {"all", "in all records"}};
    if (const auto it = named_windows.find(window); it != named_windows.end()) {
        return it->second;
    }
    static const char* const months[] = {"january",   "february", "march",    "april",
                                         "may",       "june",     "july",     "august",
                                         "september", "october",  "november", "december"};
    for (const char* month : months) {
        if (window == month) {
            std::string name = month;
            name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
            return "in " + name;
        }
    }
    struct Unit {
        const char* suffix;
        const char* one;
        const char* many;
    };
    for (const Unit unit : {Unit{"sd", "school day", "school days"}, Unit{"d", "day", "days"},
                            Unit{"w", "week", "weeks"}}) {
        const std::string suffix = unit.suffix;
        if (window.size() > suffix.size() && window.ends_with(suffix) &&
            is_digits(window.substr(0, window.size() - suffix.size()))) {
            const double n = std::stod(window.substr(0, window.size() - suffix.size()));
            return n == 1 ? std::string("on the last ") + unit.one
                          : "in the last " + plural(n, unit.one, unit.many);
        }
    }
    return window.empty() ? "" : "in " + window;
}

std::string evidence_in_words(const EvidenceItem& e) {
    return group_in_words({&e});
}

std::vector<std::string> evidence_lines(const std::vector<EvidenceItem>& evidence) {
    std::vector<std::vector<const EvidenceItem*>> groups;
    for (const auto& item : evidence) {
        bool joined = false;
        for (auto& group : groups) {
            if (group.front()->metric == item.metric && group.front()->value == item.value) {
                bool duplicate = false;
                for (const auto* other : group) {
                    duplicate =
                        duplicate || (other->op == item.op && other->threshold == item.threshold);
                }
                if (!duplicate) {
                    group.push_back(&item);
                }
                joined = true;
                break;
            }
        }
        if (!joined) {
            groups.push_back({&item});
        }
    }
    std::vector<std::string> out;
    out.reserve(groups.size());
    for (const auto& group : groups) {
        out.push_back(group_in_words(group));
    }
    return out;
}

} // namespace ewsd::referrals
