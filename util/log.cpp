#include "util/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <unistd.h>

namespace ewsd::util::log {

namespace {

std::atomic<Level> g_level{Level::info};
std::mutex g_mutex;

const char* level_name(Level level) {
    switch (level) {
    case Level::debug:
        return "debug";
    case Level::info:
        return "info";
    case Level::notice:
        return "notice";
    case Level::warning:
        return "warning";
    case Level::error:
        return "error";
    }
    return "info";
}

} // namespace

std::optional<Level> parse_level(std::string_view name) {
    for (Level l : {Level::debug, Level::info, Level::notice, Level::warning, Level::error}) {
        if (name == level_name(l)) {
            return l;
        }
    }
    return std::nullopt;
}

void set_level(Level level) {
    g_level = level;
}
Level level() {
    return g_level;
}
bool enabled(Level level) {
    return static_cast<int>(level) <= static_cast<int>(g_level.load());
}

void write(Level level, std::string_view message) {
    if (!enabled(level)) {
        return;
    }
    static const bool journal = isatty(STDERR_FILENO) == 0;
    const std::lock_guard lock(g_mutex);
    if (journal) {
        std::fprintf(stderr, "<%d>%.*s\n", static_cast<int>(level),
                     static_cast<int>(message.size()), message.data());
    } else {
        std::fprintf(stderr, "ewsd: %s: %.*s\n", level_name(level),
                     static_cast<int>(message.size()), message.data());
    }
}

} // namespace ewsd::util::log
