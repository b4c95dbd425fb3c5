#pragma once
// The service manager's notification protocol (sd_notify(3)): readiness,
// reloads, shutdown, a status line for `systemctl status`, and the watchdog.
// Every call is a no-op when NOTIFY_SOCKET is unset (not started by systemd,
// or Type= is not notify), so the run loop calls them unconditionally.

#include <chrono>
#include <optional>
#include <string_view>

namespace ewsd::daemon::sd {

// READY=1 with a STATUS= line: start-up is complete.
void ready(std::string_view status);

// STATUS=: a line of free text shown by `systemctl status ewsd`.
void status(std::string_view text);

// RELOADING=1 (with MONOTONIC_USEC=, which newer systemd requires): a reload
// (SIGHUP) has begun; ready_after_reload() says it is over, whatever its outcome.
void reloading();
void ready_after_reload();

// STOPPING=1: shutdown has begun.
void stopping();

// WATCHDOG=1: the loop is alive. Send at least every watchdog_interval() / 2.
void watchdog();

// WatchdogSec= of the unit, when the watchdog is enabled for this process.
std::optional<std::chrono::microseconds> watchdog_interval();

} // namespace ewsd::daemon::sd
