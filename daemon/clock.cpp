#include "daemon/clock.hpp"

#include "util/local_time.hpp"
#include "util/log.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace ewsd::daemon {

void Wakeup::notify() {
    {
        const std::lock_guard lock(m_mutex);
        m_notified = true;
    }
    m_cv.notify_all();
}

bool Wakeup::wait_for(std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_mutex);
    m_cv.wait_for(lock, timeout, [this] { return m_notified; });
    return std::exchange(m_notified, false);
}

bool Wakeup::take() {
    const std::lock_guard lock(m_mutex);
    return std::exchange(m_notified, false);
}

namespace {

class RealClock : public Clock {
public:
    std::int64_t now() override { return util::unix_now(); }

    void wait_until(std::int64_t until, Wakeup& wakeup) override {
        // In slices, so that a change of the system clock is noticed.
        while (true) {
            const std::int64_t left = until - now();
            if (left <= 0 ||
                wakeup.wait_for(std::chrono::seconds(std::min<std::int64_t>(left, 5)))) {
                return;
            }
        }
    }
};

class FileClock : public Clock {
public:
    explicit FileClock(std::filesystem::path file) : m_file(std::move(file)) {
        if (!read()) {
            throw std::runtime_error("--clock " + m_file.string() +
                                     ": expected a local time as YYYY-MM-DDTHH:MM[:SS]");
        }
    }

    std::int64_t now() override {
        read();
        return m_now;
    }

    void wait_until(std::int64_t until, Wakeup& wakeup) override {
        while (now() < until) {
            if (wakeup.wait_for(std::chrono::milliseconds(50))) {
                return;
            }
        }
    }

private:
    // Keeps the last good value while the file is being rewritten.
    bool read() {
        std::ifstream in(m_file);
        std::string text;
        if (!std::getline(in, text)) {
            return false;
        }
        const auto parsed = util::parse_local_time(text);
        if (parsed) {
            m_now = *parsed;
        }
        return parsed.has_value();
    }

    std::filesystem::path m_file;
    std::int64_t m_now = 0;
};

class FastClock : public Clock {
public:
    explicit FastClock(std::int64_t start) : m_now(start) {}

    std::int64_t now() override { return m_now; }

    void wait_until(std::int64_t until, Wakeup& wakeup) override {
        if (!wakeup.take()) {
            m_now = std::max(m_now, until);
        }
    }

private:
    std::int64_t m_now;
};

} // namespace

std::unique_ptr<Clock> make_real_clock() {
    return std::make_unique<RealClock>();
}

std::unique_ptr<Clock> make_file_clock(std::filesystem::path file) {
    return std::make_unique<FileClock>(std::move(file));
}

std::unique_ptr<Clock> make_fast_clock(std::int64_t start) {
    return std::make_unique<FastClock>(start);
}

} // namespace ewsd::daemon
