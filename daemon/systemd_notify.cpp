#include "daemon/systemd_notify.hpp"

#include "util/log.hpp"

#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>
#include <systemd/sd-daemon.h>

namespace ewsd::daemon::sd {

namespace {

void notify(const std::string& message) {
    // A failure here is not fatal to the daemon, but systemd would then kill
    // it for missing READY=1 or WATCHDOG=1, so leave a trace of why.
    const int rc = sd_notify(0, message.c_str());
    if (rc < 0) {
        util::log::warning("sd_notify(" + message.substr(0, message.find('\n')) +
                           ") failed: " + std::strerror(-rc));
    }
}

// The protocol is one assignment per line: a newline in the text would end
// STATUS= early and make the rest look like another assignment.
std::string one_line(std::string_view text) {
    std::string line(text);
    for (char& c : line) {
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    return line;
}

std::uint64_t monotonic_usec() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000U +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000U;
}

} // namespace

void ready(std::string_view status) {
    notify(status.empty() ? "READY=1" : "READY=1\nSTATUS=" + one_line(status));
}

void status(std::string_view text) {
    notify("STATUS=" + one_line(text));
}

void reloading() {
    notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()));
}

void ready_after_reload() {
    notify("READY=1");
}

void stopping() {
    notify("STOPPING=1");
}

void watchdog() {
    notify("WATCHDOG=1");
}

std::optional<std::chrono::microseconds> watchdog_interval() {
    std::uint64_t usec = 0;
    // 0: keep WATCHDOG_USEC in the environment, so that the run loop may ask again.
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
        return std::nullopt;
    }
    return std::chrono::microseconds(usec);
}

} // namespace ewsd::daemon::sd
