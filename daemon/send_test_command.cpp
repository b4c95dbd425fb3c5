// `ewsd send-test --to ADDRESS`: one test message through the configured
// email transport, and the server's answer.
#include "daemon/commands.hpp"
#include "daemon/common.hpp"
#include "referrals/transports.hpp"
#include "util/local_time.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace ewsd::daemon {

namespace {

std::string host_name() {
    std::array<char, 256> host{}; // the last byte stays NUL even when the name is cut
    if (::gethostname(host.data(), host.size() - 1) != 0 || host[0] == '\0') {
        return "this host";
    }
    return host.data();
}

// Says where the message came from and which way it went, so that whoever
// receives it can tell which server and configuration worked.
std::string test_text(const std::string& via, std::int64_t unix_now, const std::string& timezone) {
    return "This is a test message from ewsd on " + host_name() + ", sent through " + via + " at " +
           util::format_local(unix_now) + " (" + timezone +
           ").\nIf you can read it, ewsd can reach you by email.";
}

} // namespace

int command_send_test(const std::filesystem::path& config_path, const std::string& to) {
    const core::Config config = load(config_path);
    util::set_local_timezone(config.timezone);
    const referrals::Transports transports = referrals::make_transports(config.notify);
    if (!transports.email) {
        std::cerr << "ewsd send-test: no email transport: configure smtp (or delivery.output_dir) "
                     "in "
                  << config_path.string() << "\n";
        return 2;
    }
    const referrals::Renderer renderer(render_settings(config));
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    // The Unix time as the Message-ID: one test message per second is plenty.
    const std::int64_t unix_now = now.time_since_epoch().count();
    connectors::email::EmailMessage message;
    try {
        message =
            renderer.alert_email(unix_now, "Test message",
                                 test_text(transports.email_describe, unix_now, config.timezone),
                                 "", to, std::chrono::sys_seconds{now});
    } catch (const std::invalid_argument& e) {
        std::cerr << "ewsd send-test: " << e.what() << "\n";
        return 2;
    }
    const connectors::DeliveryResult result = transports.email(message);
    if (result.status == connectors::DeliveryStatus::delivered) {
        std::printf("sent to %s via %s: %s\n", to.c_str(), transports.email_describe.c_str(),
                    result.detail.c_str());
        return 0;
    }
    std::cerr << "ewsd send-test: not sent to " << to << " via " << transports.email_describe
              << ": " << connectors::to_string(result.status) << ": " << result.detail << "\n";
    return 1;
}

} // namespace ewsd::daemon
