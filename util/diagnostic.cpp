#include "util/diagnostic.hpp"

#include "util/log.hpp"

#include <algorithm>

namespace ewsd::util {

std::string Diagnostic::format() const {
    std::string out = file;
    if (line > 0) {
        out += ":" + std::to_string(line);
        if (column > 0) {
            out += ":" + std::to_string(column);
        }
    }
    out += ": ";
    if (severity == Severity::warning) {
        out += "warning: ";
    }
    out += message;
    return out;
}

void Diagnostics::error(std::string file, int line, int column, std::string message) {
    m_items.push_back(
        {Diagnostic::Severity::error, std::move(file), line, column, std::move(message)});
}

void Diagnostics::warning(std::string file, int line, int column, std::string message) {
    m_items.push_back(
        {Diagnostic::Severity::warning, std::move(file), line, column, std::move(message)});
}

bool Diagnostics::has_errors() const {
    return std::any_of(m_items.begin(), m_items.end(), [](const Diagnostic& d) {
        return d.severity == Diagnostic::Severity::error;
    });
}

std::string Diagnostics::log_warnings_and_join_errors() const {
    std::string errors;
    for (const auto& d : m_items) {
        if (d.severity == Diagnostic::Severity::warning) {
            log::warning(d.format());
        } else {
            errors += (errors.empty() ? "" : "\n") + d.format();
        }
    }
    return errors;
}

} // namespace ewsd::util
