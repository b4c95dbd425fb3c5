// `ewsd send-test --to ADDRESS`: the real binary sending one test message
// through a real SMTP server (aiosmtpd, STARTTLS + AUTH, a self-signed
// certificate), through the file notifier, and to a server that is down.
#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"
#include "tests/support/python_email.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tls.hpp"

#include <cstdlib>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <memory>
#include <nlohmann/json.hpp>

namespace ewsd {
namespace {

constexpr const char* password = "s3cret-Pa55word";
constexpr const char* recipient = "counselor@district.org";

class SendTestCliTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_cert_dir = std::make_unique<testing::TempDir>();
        s_cert = testing::make_self_signed_cert(s_cert_dir->path());
        // The config names the variable; the password never appears in it.
        setenv("EWSD_TEST_SMTP_PASSWORD", password, 1);
    }
    static void TearDownTestSuite() { s_cert_dir.reset(); }

    // send-test needs no feeds, rules or specialists: only a way to send.
    void write_config(const std::string& transport) {
        const std::string base = "templates_dir: " EWSD_SOURCE_DIR "/config/templates\n"
                                 "timezone: America/Chicago\n"
                                 "school_year_start: 2025-08-18\n";
        testing::write_file(dir / "ewsd.yaml", base + transport);
    }

    static std::string smtp_config(int port) {
        return "smtp: {host: 127.0.0.1, port: " + std::to_string(port) +
               ", tls: starttls, username: ewsd, password: \"${EWSD_TEST_SMTP_PASSWORD}\", "
               "from: \"Early Warning <ewsd@district.org>\", ca_file: " +
               s_cert.cert.string() + ", connect_timeout_seconds: 2, timeout_seconds: 5}\n";
    }

    testing::ProcessResult send_test(const std::string& to = recipient) {
        return testing::run(
            {EWSD_BINARY, "send-test", "--to", to, "--config", (dir / "ewsd.yaml").string()});
    }

    static inline std::unique_ptr<testing::TempDir> s_cert_dir;
    static inline testing::SelfSignedCert s_cert;
    testing::TempDir dir;
};

TEST_F(SendTestCliTest, SendsThroughSmtpWithStartTlsAndAuth) {
    const testing::SmtpServer server(dir / "mail",
                                     {"--cert", s_cert.cert.string(), "--key", s_cert.key.string(),
                                      "--auth", std::string("ewsd:") + password});
    write_config(smtp_config(server.port()) + "delivery: {message_id_domain: ewsd.test.invalid}\n");

    const auto result = send_test();

    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    EXPECT_EQ(result.out, "sent to counselor@district.org via smtp://127.0.0.1:" +
                              std::to_string(server.port()) +
                              " starttls as ewsd: 250 2.0.0 Ok: queued as 0001\n");
    EXPECT_EQ(result.out.find(password), std::string::npos);
    EXPECT_EQ(result.err.find(password), std::string::npos);

    const auto messages = server.messages();
    ASSERT_EQ(messages.size(), 1U);
    const auto parsed = testing::parse_with_python(messages.front());
    EXPECT_EQ(parsed["defects"], nlohmann::json::array());
    EXPECT_EQ(parsed["subject"], "[ewsd] Test message");
    EXPECT_EQ(parsed["to"], nlohmann::json::array({recipient}));
    EXPECT_EQ(parsed["from_address"], "ewsd@district.org");
    // gtest's POSIX regex: std::regex trips GCC 12's -Wmaybe-uninitialized under ASan.
    EXPECT_THAT(parsed["message_id"].get<std::string>(),
                ::testing::MatchesRegex(R"(<alert-[0-9]+@ewsd\.test\.invalid>)"));
    const std::string body = parsed["parts"][0]["body"];
    EXPECT_NE(body.find("This is a test message from ewsd on "), std::string::npos) << body;
    EXPECT_NE(body.find("sent through smtp://127.0.0.1:" + std::to_string(server.port())),
              std::string::npos)
        << body;
    EXPECT_NE(body.find("(America/Chicago)"), std::string::npos) << body;

    const auto envelope = nlohmann::json::parse(testing::read_file(server.recorded(".json")[0]));
    EXPECT_TRUE(envelope["tls"].get<bool>());
    EXPECT_TRUE(envelope["authenticated"].get<bool>());
    EXPECT_EQ(envelope["rcpt_tos"], nlohmann::json::array({recipient}));
}

TEST_F(SendTestCliTest, WritesOneEmlFileWithOutputDir) {
    write_config("delivery: {output_dir: outgoing}\n");

    const auto result = send_test();

    ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir / "outgoing")) {
        files.push_back(entry.path());
    }
    ASSERT_EQ(files.size(), 1U);
    EXPECT_EQ(files[0].extension(), ".eml");
    EXPECT_EQ(result.out, "sent to counselor@district.org via file:" + (dir / "outgoing").string() +
                              ": written to " + files[0].string() + "\n");
    const auto parsed = testing::parse_with_python(testing::read_file(files[0]));
    EXPECT_EQ(parsed["defects"], nlohmann::json::array());
    EXPECT_EQ(parsed["to"], nlohmann::json::array({recipient}));
    EXPECT_NE(parsed["parts"][0]["body"].get<std::string>().find("sent through file:"),
              std::string::npos);
}

TEST_F(SendTestCliTest, ServerDownIsRetryLaterAndExit1) {
    write_config(smtp_config(testing::closed_port()));

    const auto result = send_test();

    EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
    EXPECT_EQ(result.out, "");
    EXPECT_NE(result.err.find("ewsd send-test: not sent to counselor@district.org via smtp://"),
              std::string::npos)
        << result.err;
    EXPECT_NE(result.err.find(": retry_later: "), std::string::npos) << result.err;
    EXPECT_EQ(result.err.find(password), std::string::npos);
}

TEST_F(SendTestCliTest, NoEmailTransportExits2) {
    write_config("");

    const auto result = send_test();

    EXPECT_EQ(result.exit_code, 2) << result.out << result.err;
    EXPECT_NE(result.err.find("no email transport: configure smtp (or delivery.output_dir)"),
              std::string::npos)
        << result.err;
}

} // namespace
} // namespace ewsd
