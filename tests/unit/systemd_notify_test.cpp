// The sd_notify wrappers, talking to a datagram socket that stands in for
// systemd's notification socket.
#include "daemon/systemd_notify.hpp"
#include "tests/support/temp_dir.hpp"

#include <chrono>
#include <cstdlib>
#include <gtest/gtest.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace sd = ewsd::daemon::sd;
using namespace std::chrono_literals;
using ewsd::testing::TempDir;

namespace {

// Binds the socket and points NOTIFY_SOCKET at it, as systemd does for a
// Type=notify service.
class SystemdNotify : public ::testing::Test {
protected:
    void SetUp() override {
        const std::string path = (dir / "notify").string();
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        ASSERT_LT(path.size(), sizeof address.sun_path);
        path.copy(address.sun_path, path.size());
        m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(m_fd, 0);
        ASSERT_EQ(::bind(m_fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
        ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
    }
    void TearDown() override {
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
        ::unsetenv("WATCHDOG_PID");
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }

    // The next datagram, or "(nothing)" when none arrives within `timeout`.
    std::string receive(std::chrono::milliseconds timeout = 2000ms) {
        pollfd p{m_fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
            return "(nothing)";
        }
        char buf[4096];
        const ssize_t n = ::recv(m_fd, buf, sizeof buf, 0);
        return n < 0 ? "(recv failed)" : std::string(buf, static_cast<std::size_t>(n));
    }

    TempDir dir;

private:
    int m_fd = -1;
};

TEST_F(SystemdNotify, ReadyCarriesTheStatusLine) {
    sd::ready("watching 2 feeds");
    EXPECT_EQ(receive(), "READY=1\nSTATUS=watching 2 feeds");
    sd::ready("");
    EXPECT_EQ(receive(), "READY=1");
}

TEST_F(SystemdNotify, StatusIsKeptOnOneLine) {
    sd::status("evaluating\nREADY=1");
    EXPECT_EQ(receive(), "STATUS=evaluating READY=1");
}

TEST_F(SystemdNotify, ReloadStopAndWatchdog) {
    sd::reloading();
    const std::string reloading = receive();
    EXPECT_EQ(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0U) << reloading;
    const std::string usec = reloading.substr(reloading.find('=', 12) + 1);
    EXPECT_FALSE(usec.empty());
    EXPECT_EQ(usec.find_first_not_of("0123456789"), std::string::npos) << usec;
    sd::ready_after_reload();
    EXPECT_EQ(receive(), "READY=1");
    sd::watchdog();
    EXPECT_EQ(receive(), "WATCHDOG=1");
    sd::stopping();
    EXPECT_EQ(receive(), "STOPPING=1");
}

TEST_F(SystemdNotify, NothingIsSentWithoutNotifySocket) {
    ::unsetenv("NOTIFY_SOCKET");
    sd::ready("up");
    sd::status("busy");
    sd::reloading();
    sd::ready_after_reload();
    sd::watchdog();
    sd::stopping();
    EXPECT_EQ(receive(100ms), "(nothing)");
}

TEST_F(SystemdNotify, WatchdogIntervalFromTheEnvironment) {
    EXPECT_EQ(sd::watchdog_interval(), std::nullopt);

    ::setenv("WATCHDOG_USEC", "120000000", 1);
    EXPECT_EQ(sd::watchdog_interval(), std::chrono::microseconds(120s));
    // The environment is left in place, so asking again gives the same answer.
    EXPECT_EQ(sd::watchdog_interval(), std::chrono::microseconds(120s));

    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    EXPECT_EQ(sd::watchdog_interval(), std::chrono::microseconds(120s));
    // Meant for another process (a parent that exec'd us without clearing it).
    ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
    EXPECT_EQ(sd::watchdog_interval(), std::nullopt);

    ::unsetenv("WATCHDOG_PID");
    ::setenv("WATCHDOG_USEC", "soon", 1);
    EXPECT_EQ(sd::watchdog_interval(), std::nullopt);
}

} // namespace
