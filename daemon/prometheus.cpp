#include "daemon/prometheus.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace ewsd::daemon {

namespace {

bool is_name_start(char c, bool colon_allowed) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (colon_allowed && c == ':');
}

bool is_valid_name(std::string_view name, bool colon_allowed) {
    if (name.empty() || !is_name_start(name.front(), colon_allowed)) {
        return false;
    }
    return std::all_of(name.begin() + 1, name.end(), [&](char c) {
        return is_name_start(c, colon_allowed) || (c >= '0' && c <= '9');
    });
}

void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && escape_quote) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

} // namespace

std::string format_prometheus_value(double value) {
    if (std::isnan(value)) {
        return "NaN";
    }
    if (std::isinf(value)) {
        return value > 0 ? "+Inf" : "-Inf";
    }
    // Below 2^53 every integer is exact, and timestamps and counts read best
    // without an exponent; beyond that the shortest form is the honest one.
    if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
        return std::to_string(static_cast<std::int64_t>(value));
    }
    std::array<char, 32> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
    return {buffer.data(), result.ptr};
}

void PrometheusText::family(std::string_view name, std::string_view help, std::string_view type) {
    if (!is_valid_name(name, true)) {
        throw std::invalid_argument("invalid Prometheus metric name '" + std::string(name) + "'");
    }
    if (type != "gauge" && type != "counter") {
        throw std::invalid_argument("invalid Prometheus metric type '" + std::string(type) +
                                    "' for " + std::string(name));
    }
    if (std::find(m_families.begin(), m_families.end(), name) != m_families.end()) {
        throw std::logic_error("Prometheus metric family " + std::string(name) + " written twice");
    }
    m_families.emplace_back(name);
    m_text += "# HELP ";
    m_text += name;
    m_text += ' ';
    append_escaped(m_text, help, false);
    m_text += "\n# TYPE ";
    m_text += name;
    m_text += ' ';
    m_text += type;
    m_text += '\n';
}

void PrometheusText::sample(std::string_view name, double value) {
    sample(name, {}, value);
}

void PrometheusText::sample(std::string_view name, const Labels& labels, double value) {
    if (m_families.empty() || m_families.back() != name) {
        throw std::logic_error("Prometheus sample " + std::string(name) +
                               " outside its family (call family() first)");
    }
    for (const auto& [label, label_value] : labels) {
        if (!is_valid_name(label, false) || label.starts_with("__")) {
            throw std::invalid_argument("invalid Prometheus label name '" + label + "' on " +
                                        std::string(name));
        }
    }
    m_text += name;
    if (!labels.empty()) {
        char separator = '{';
        for (const auto& [label, label_value] : labels) {
            m_text += separator;
            m_text += label;
            m_text += "=\"";
            append_escaped(m_text, label_value, true);
            m_text += '"';
            separator = ',';
        }
        m_text += '}';
    }
    m_text += ' ';
    m_text += format_prometheus_value(value);
    m_text += '\n';
}

} // namespace ewsd::daemon
