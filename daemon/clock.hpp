#pragma once
// The one clock `ewsd run` reads and waits on, so that tests and simulations
// can move time: the real clock; a clock file that a test rewrites; or a fast
// clock that jumps to the next timer instead of waiting (`--fast`).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>

namespace ewsd::daemon {

// Cuts a wait short: a signal arrived (stop, reload).
class Wakeup {
public:
    void notify();
    // Waits up to `timeout`; true when notified (and clears the notice).
    bool wait_for(std::chrono::milliseconds timeout);
    // Clears and returns a pending notice without waiting.
    bool take();

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_notified = false;
};

class Clock {
public:
    virtual ~Clock() = default;
    // Unix seconds.
    virtual std::int64_t now() = 0;
    // Returns once now() >= until, or earlier when `wakeup` is notified.
    virtual void wait_until(std::int64_t until, Wakeup& wakeup) = 0;
};

std::unique_ptr<Clock> make_real_clock();
// The time is read from `file` (a local time, YYYY-MM-DDTHH:MM[:SS]) at each
// look; a test moves time by rewriting it.
std::unique_ptr<Clock> make_file_clock(std::filesystem::path file);
// Starts at `start` and jumps to each wait's end at once.
std::unique_ptr<Clock> make_fast_clock(std::int64_t start);

} // namespace ewsd::daemon
