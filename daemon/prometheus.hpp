#pragma once
// A small writer of the Prometheus text exposition format 0.0.4, for the
// /metrics page of the HTTP endpoint. Names and types come from our code, so a
// bad one is a programming error (std::invalid_argument, std::logic_error);
// label values and HELP text may come from data and are escaped.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ewsd::daemon {

class PrometheusText {
public:
    using Labels = std::vector<std::pair<std::string, std::string>>;

    // Starts a metric family: "# HELP name help\n# TYPE name type\n". type is
    // "gauge" or "counter"; each family may be started once, and its samples
    // follow it (the format wants one group per family).
    void family(std::string_view name, std::string_view help, std::string_view type);

    // A sample of the family started last; `name` must be that family's.
    void sample(std::string_view name, double value);
    void sample(std::string_view name, const Labels& labels, double value);

    [[nodiscard]] const std::string& text() const { return m_text; }

    static constexpr const char* content_type = "text/plain; version=0.0.4; charset=utf-8";

private:
    std::string m_text;
    std::vector<std::string> m_families;
};

// A sample value as the format writes it: integers without exponent or
// decimals (1732400000), others in the shortest form that reads back the
// same, NaN, +Inf, -Inf.
std::string format_prometheus_value(double value);

} // namespace ewsd::daemon
