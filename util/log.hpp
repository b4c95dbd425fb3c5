#pragma once
// The one logger: stderr, syslog-style levels. Under journald (stderr not a
// terminal) each line starts with a <N> priority prefix, which journald reads
// as the record's level; journald adds the timestamp.

#include <optional>
#include <string>
#include <string_view>

namespace ewsd::util::log {

enum class Level { debug = 7, info = 6, notice = 5, warning = 4, error = 3 };

std::optional<Level> parse_level(std::string_view name);
void set_level(Level level);
Level level();
bool enabled(Level level);

void write(Level level, std::string_view message);

inline void debug(std::string_view m) {
    write(Level::debug, m);
}
inline void info(std::string_view m) {
    write(Level::info, m);
}
inline void notice(std::string_view m) {
    write(Level::notice, m);
}
inline void warning(std::string_view m) {
    write(Level::warning, m);
}
inline void error(std::string_view m) {
    write(Level::error, m);
}

} // namespace ewsd::util::log
