// Values, windows and metric calls: construction, equality and canonical text.
#include "rules/expr.hpp"

#include <charconv>
#include <system_error>

namespace ewsd::rules {
namespace {

std::string number_text(double n) {
    // Shortest text that reads back as the same double: 0.1, 2, 1e+20.
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, n);
    if (result.ec != std::errc{}) {
        return "0";
    }
    return std::string(buffer, result.ptr);
}

std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
    return out;
}

std::string list_text(const std::vector<std::string>& values) {
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        out += (i == 0 ? "" : ", ") + quoted(values[i]);
    }
    return out + "]";
}

std::string filter_text(const RecordFilter& filter) {
    if (!filter.values_name.empty()) {
        const char* op = filter.op == RecordFilter::Op::equal       ? " = "
                         : filter.op == RecordFilter::Op::not_equal ? " != "
                         : filter.op == RecordFilter::Op::in        ? " in "
                                                                    : " not in ";
        return filter.field + op + filter.values_name;
    }
    switch (filter.op) {
    case RecordFilter::Op::equal:
        return filter.field + " = " + quoted(filter.values.empty() ? "" : filter.values[0]);
    case RecordFilter::Op::not_equal:
        return filter.field + " != " + quoted(filter.values.empty() ? "" : filter.values[0]);
    case RecordFilter::Op::in:
        return filter.field + " in " + list_text(filter.values);
    case RecordFilter::Op::not_in:
        return filter.field + " not in " + list_text(filter.values);
    }
    return filter.field;
}

} // namespace

const char* to_string(Type type) {
    switch (type) {
    case Type::number:
        return "number";
    case Type::boolean:
        return "boolean";
    case Type::string:
        return "string";
    case Type::list:
        return "list";
    case Type::window:
        return "window";
    }
    return "unknown";
}

Value Value::of(double n) {
    Value v;
    v.type = Type::number;
    v.number = n;
    return v;
}

Value Value::of(bool b) {
    Value v;
    v.type = Type::boolean;
    v.boolean = b;
    return v;
}

Value Value::of(std::string s) {
    Value v;
    v.type = Type::string;
    v.string = std::move(s);
    return v;
}

Value Value::of_list(std::vector<Value> items) {
    Value v;
    v.type = Type::list;
    v.list = std::move(items);
    return v;
}

std::string Value::to_text() const {
    switch (type) {
    case Type::number:
        return number_text(number);
    case Type::boolean:
        return boolean ? "true" : "false";
    case Type::string:
        return quoted(string);
    case Type::list: {
        std::string out = "[";
        for (std::size_t i = 0; i < list.size(); ++i) {
            out += (i == 0 ? "" : ", ") + list[i].to_text();
        }
        return out + "]";
    }
    case Type::window:
        return "window";
    }
    return "";
}

bool Value::operator==(const Value& other) const {
    if (type != other.type) {
        return false;
    }
    switch (type) {
    case Type::number:
        return number == other.number;
    case Type::boolean:
        return boolean == other.boolean;
    case Type::string:
        return string == other.string;
    case Type::list:
        return list == other.list;
    case Type::window:
        return true;
    }
    return false;
}

std::string Window::to_text() const {
    switch (kind) {
    case Kind::days:
        return std::to_string(count) + "d";
    case Kind::weeks:
        return std::to_string(count) + "w";
    case Kind::school_days:
        return std::to_string(count) + "sd";
    case Kind::school_year:
        return "school_year";
    case Kind::grading_period:
        return "grading_period";
    case Kind::all:
        return "all";
    case Kind::month:
        return month_window_name(count);
    }
    return "all";
}

namespace {
constexpr const char* month_names[] = {"january",   "february", "march",    "april",
                                       "may",       "june",     "july",     "august",
                                       "september", "october",  "november", "december"};
} // namespace

int month_window(const std::string& name) {
    for (int m = 1; m <= 12; ++m) {
        if (name == month_names[m - 1]) {
            return m;
        }
    }
    return 0;
}

const char* month_window_name(int month) {
    return month >= 1 && month <= 12 ? month_names[month - 1] : "?";
}

std::string MetricCall::to_text() const {
    std::vector<std::string> parts;
    if (window) {
        parts.push_back(window->to_text());
    }
    for (const auto& filter : filters) {
        parts.push_back(filter_text(filter));
    }
    for (const auto& arg : args) {
        parts.push_back(arg.to_text());
    }
    std::string out = name + "(";
    for (std::size_t i = 0; i < parts.size(); ++i) {
        out += (i == 0 ? "" : ", ") + parts[i];
    }
    return out + ")";
}

} // namespace ewsd::rules
