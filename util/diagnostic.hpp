#pragma once
// A problem in user input, with where it is. Lines and columns are 1-based;
// 0 means "not known" and is left out of the printed form.

#include <string>
#include <vector>

namespace ewsd::util {

struct Diagnostic {
    enum class Severity { error, warning };
    Severity severity = Severity::error;
    std::string file;
    int line = 0;
    int column = 0;
    std::string message;

    // "file:line:column: message", warnings as "file:line:column: warning: message".
    [[nodiscard]] std::string format() const;
};

class Diagnostics {
public:
    void error(std::string file, int line, int column, std::string message);
    void warning(std::string file, int line, int column, std::string message);
    [[nodiscard]] bool has_errors() const;
    // For start-up: logs every warning and returns the errors, one per line
    // (empty when there are none).
    [[nodiscard]] std::string log_warnings_and_join_errors() const;
    [[nodiscard]] const std::vector<Diagnostic>& items() const { return m_items; }

private:
    std::vector<Diagnostic> m_items;
};

} // namespace ewsd::util
