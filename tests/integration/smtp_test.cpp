// SmtpSender against a real SMTP server (tests/support/smtp_server.py, aiosmtpd)
// on 127.0.0.1 with an ephemeral port, a self-signed certificate and a temp maildir.

#include "connectors/email/smtp.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tls.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <nlohmann/json.hpp>

using namespace ewsd::connectors;
using namespace ewsd::connectors::email;
using namespace std::chrono;
using ewsd::testing::TempDir;

namespace {

constexpr const char* user = "ewsd";
constexpr const char* password = "s3cret-Pa55word";

using ewsd::testing::SmtpServer;

using ewsd::testing::closed_port;

EmailMessage test_message() {
    EmailMessage message;
    message.from = "Early Warning <ewsd@district.org>";
    message.to = {"counselor@school.district.org"};
    message.cc = {"principal@school.district.org", "Counselor@school.district.org"};
    message.subject = "Alerte d'assiduité : élève 12";
    // Lines that SMTP transparency (dot-stuffing) must carry through unchanged.
    message.text_body = "Hello,\n.\n..\n.hidden line\n" + std::string(120, '.') + "\nbye\n";
    message.html_body = "<p>Hello</p>\n.\n";
    message.message_id = "referral-12.n-1@ewsd.district.org";
    message.date = sys_days{2024y / September / 3} + 14h;
    message.extra_headers = {{"X-Ewsd-Referral", "12"}};
    return message;
}

class SmtpTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        s_cert_dir = std::make_unique<TempDir>();
        s_cert = ewsd::testing::make_self_signed_cert(s_cert_dir->path());
    }
    static void TearDownTestSuite() { s_cert_dir.reset(); }

    // The options for a server with STARTTLS and AUTH.
    static std::vector<std::string> tls_options(std::vector<std::string> more = {}) {
        std::vector<std::string> options = {"--cert", s_cert.cert.string(),
                                            "--key",  s_cert.key.string(),
                                            "--auth", std::string(user) + ":" + password};
        options.insert(options.end(), more.begin(), more.end());
        return options;
    }

    static SmtpSettings settings(int port, SmtpTls tls = SmtpTls::starttls) {
        SmtpSettings settings;
        settings.host = "127.0.0.1";
        settings.port = port;
        settings.tls = tls;
        if (tls != SmtpTls::none) {
            settings.username = user;
            settings.password = password;
            settings.ca_file = s_cert.cert.string();
        }
        settings.from = "Early Warning <ewsd@district.org>";
        settings.connect_timeout = 2s;
        settings.timeout = 5s;
        return settings;
    }

    TempDir m_dir;
    static inline std::unique_ptr<TempDir> s_cert_dir;
    static inline ewsd::testing::SelfSignedCert s_cert;
};

} // namespace

TEST_F(SmtpTest, StartTlsWithAuthDeliversTheMessageIntact) {
    SmtpServer server(m_dir / "mail", tls_options());
    const SmtpSender sender(settings(server.port()));
    const auto message = test_message();

    const auto result = sender.send(message);
    EXPECT_EQ(result.status, DeliveryStatus::delivered) << result.detail;
    EXPECT_EQ(result.detail, "250 2.0.0 Ok: queued as 0001");
    EXPECT_FALSE(result.retry_after.has_value());

    ASSERT_EQ(server.stored(), (std::vector<std::string>{"0001.eml", "0001.json"}));
    // Byte for byte what render_mime made: dot-stuffing was undone, nothing added.
    EXPECT_EQ(server.message("0001"), render_mime(message));
    const auto envelope = server.envelope("0001");
    EXPECT_EQ(envelope["mail_from"], "ewsd@district.org");
    // to + cc, the same address once.
    EXPECT_EQ(envelope["rcpt_tos"],
              nlohmann::json({"counselor@school.district.org", "principal@school.district.org"}));
    EXPECT_TRUE(envelope["authenticated"]);
    EXPECT_TRUE(envelope["tls"]);
}

TEST_F(SmtpTest, MessageWithoutFromUsesTheSettingsSender) {
    SmtpServer server(m_dir / "mail", tls_options());
    const SmtpSender sender(settings(server.port()));
    auto message = test_message();
    message.from.clear();
    const auto result = sender.send(message);
    ASSERT_EQ(result.status, DeliveryStatus::delivered) << result.detail;
    message.from = "Early Warning <ewsd@district.org>";
    EXPECT_EQ(server.message("0001"), render_mime(message));
}

TEST_F(SmtpTest, WrongPasswordIsRetriedAndNeverShown) {
    SmtpServer server(m_dir / "mail", tls_options());
    auto wrong = settings(server.port());
    wrong.password = "Wr0ng-Secret-42";
    const auto result = SmtpSender(wrong).send(test_message());
    // 535 is about our credentials, not this message: it should go once fixed.
    EXPECT_EQ(result.status, DeliveryStatus::retry_later);
    EXPECT_NE(result.detail.find("authentication failed"), std::string::npos) << result.detail;
    EXPECT_NE(result.detail.find("535"), std::string::npos) << result.detail;
    EXPECT_EQ(result.detail.find("Wr0ng-Secret-42"), std::string::npos) << result.detail;
    EXPECT_TRUE(server.stored().empty());
}

TEST_F(SmtpTest, ServerNotListeningIsRetriedQuickly) {
    const auto start = steady_clock::now();
    const auto result = SmtpSender(settings(closed_port())).send(test_message());
    EXPECT_EQ(result.status, DeliveryStatus::retry_later);
    EXPECT_NE(result.detail.find("onnect"), std::string::npos) << result.detail;
    EXPECT_LT(steady_clock::now() - start, 2s);
}

TEST_F(SmtpTest, TransientRejectionIsRetriedThenDelivered) {
    SmtpServer server(m_dir / "mail", tls_options({"--fail-first", "1", "--fail-code", "451"}));
    const SmtpSender sender(settings(server.port()));
    const auto first = sender.send(test_message());
    EXPECT_EQ(first.status, DeliveryStatus::retry_later);
    EXPECT_TRUE(first.detail.starts_with("451 4.3.0 Try again later")) << first.detail;
    EXPECT_TRUE(server.stored().empty());

    const auto second = sender.send(test_message());
    EXPECT_EQ(second.status, DeliveryStatus::delivered) << second.detail;
    EXPECT_EQ(server.stored(), (std::vector<std::string>{"0002.eml", "0002.json"}));
}

TEST_F(SmtpTest, PermanentRejectionFailsForGood) {
    SmtpServer server(m_dir / "mail", tls_options({"--fail-first", "1", "--fail-code", "550"}));
    const auto result = SmtpSender(settings(server.port())).send(test_message());
    EXPECT_EQ(result.status, DeliveryStatus::failed_permanently);
    EXPECT_TRUE(result.detail.starts_with("550 5.7.1 Message rejected")) << result.detail;
    EXPECT_TRUE(server.stored().empty());
}

TEST_F(SmtpTest, SlowServerTimesOut) {
    SmtpServer server(m_dir / "mail", tls_options({"--delay", "30"}));
    auto slow = settings(server.port());
    slow.timeout = 2s;
    const auto start = steady_clock::now();
    const auto result = SmtpSender(slow).send(test_message());
    const auto elapsed = steady_clock::now() - start;
    EXPECT_EQ(result.status, DeliveryStatus::retry_later);
    EXPECT_NE(result.detail.find("timed out"), std::string::npos) << result.detail;
    EXPECT_GE(elapsed, 1900ms);
    EXPECT_LT(elapsed, 4s);
}

TEST_F(SmtpTest, ConnectionResetIsRetried) {
    SmtpServer server(m_dir / "mail", tls_options({"--reset"}));
    const auto result = SmtpSender(settings(server.port())).send(test_message());
    EXPECT_EQ(result.status, DeliveryStatus::retry_later);
    EXPECT_FALSE(result.detail.empty());
    EXPECT_TRUE(server.stored().empty());
}

TEST_F(SmtpTest, UntrustedCertificateIsRetriedWithAClearReason) {
    SmtpServer server(m_dir / "mail", tls_options());
    auto system_store = settings(server.port());
    system_store.ca_file.clear();
    const auto result = SmtpSender(system_store).send(test_message());
    EXPECT_EQ(result.status, DeliveryStatus::retry_later);
    EXPECT_TRUE(result.detail.starts_with("certificate verify failed")) << result.detail;
    EXPECT_EQ(result.detail.find(password), std::string::npos);
    EXPECT_TRUE(server.stored().empty());
}

TEST_F(SmtpTest, ImplicitTlsDelivers) {
    SmtpServer server(m_dir / "mail", tls_options({"--implicit-tls"}));
    const SmtpSender sender(settings(server.port(), SmtpTls::implicit));
    const auto result = sender.send(test_message());
    EXPECT_EQ(result.status, DeliveryStatus::delivered) << result.detail;
    ASSERT_EQ(server.stored().size(), 2u);
    EXPECT_EQ(server.message("0001"), render_mime(test_message()));
    EXPECT_TRUE(server.envelope("0001")["authenticated"]);
    EXPECT_TRUE(server.envelope("0001")["tls"]);
}

TEST_F(SmtpTest, ImplicitTlsAgainstAPlainServerFails) {
    SmtpServer server(m_dir / "mail", {});
    const auto result = SmtpSender(settings(server.port(), SmtpTls::implicit)).send(test_message());
    EXPECT_EQ(result.status, DeliveryStatus::retry_later);
    EXPECT_TRUE(server.stored().empty());
}

TEST_F(SmtpTest, PlainSmtpWhenConfigured) {
    SmtpServer server(m_dir / "mail", {});
    const auto result = SmtpSender(settings(server.port(), SmtpTls::none)).send(test_message());
    EXPECT_EQ(result.status, DeliveryStatus::delivered) << result.detail;
    EXPECT_EQ(server.message("0001"), render_mime(test_message()));
    EXPECT_FALSE(server.envelope("0001")["tls"]);
    EXPECT_FALSE(server.envelope("0001")["authenticated"]);
}

TEST_F(SmtpTest, StartTlsNeverFallsBackToPlain) {
    SmtpServer server(m_dir / "mail", {"--auth", std::string(user) + ":" + password});
    const auto result = SmtpSender(settings(server.port())).send(test_message());
    EXPECT_EQ(result.status, DeliveryStatus::retry_later);
    EXPECT_NE(result.detail.find("STARTTLS"), std::string::npos) << result.detail;
    EXPECT_TRUE(server.stored().empty());
}

TEST_F(SmtpTest, PlainClientAgainstAStartTlsOnlyServerIsRefused) {
    SmtpServer server(m_dir / "mail", tls_options());
    auto plain = settings(server.port(), SmtpTls::none);
    const auto result = SmtpSender(plain).send(test_message());
    // aiosmtpd answers "530 Must issue a STARTTLS command first" to MAIL FROM:
    // our settings are wrong, not the message.
    EXPECT_EQ(result.status, DeliveryStatus::retry_later) << result.detail;
    EXPECT_NE(result.detail.find("530 Must issue a STARTTLS command first"), std::string::npos)
        << result.detail;
    EXPECT_TRUE(server.stored().empty());
}

TEST_F(SmtpTest, UnrenderableMessageFailsWithoutConnecting) {
    auto message = test_message();
    message.subject = "Hello\r\nBcc: attacker@example.com";
    const auto result = SmtpSender(settings(closed_port())).send(message);
    EXPECT_EQ(result.status, DeliveryStatus::failed_permanently);
    EXPECT_NE(result.detail.find("Subject"), std::string::npos) << result.detail;
    // The subject may name a student: the detail (logged) does not quote it.
    EXPECT_EQ(result.detail.find("attacker"), std::string::npos) << result.detail;
}

TEST(SmtpSenderTest, Describe) {
    SmtpSettings settings;
    settings.host = "mail.district.org";
    settings.from = "ewsd@district.org";
    settings.username = "ewsd";
    settings.password = "secret";
    EXPECT_EQ(SmtpSender(settings).describe(), "smtp://mail.district.org:587 starttls as ewsd");
    settings.tls = SmtpTls::implicit;
    settings.port = 465;
    EXPECT_EQ(SmtpSender(settings).describe(),
              "smtps://mail.district.org:465 implicit TLS as ewsd");
    settings.tls = SmtpTls::none;
    settings.port = 25;
    settings.username.clear();
    settings.host = "::1";
    EXPECT_EQ(SmtpSender(settings).describe(), "smtp://[::1]:25 no TLS");
}

TEST(SmtpSenderTest, InvalidSettingsAreRejected) {
    SmtpSettings good;
    good.host = "mail.district.org";
    good.from = "Early Warning <ewsd@district.org>";
    EXPECT_NO_THROW(SmtpSender{good});
    const auto expect_rejected = [&](const std::function<void(SmtpSettings&)>& change) {
        auto settings = good;
        change(settings);
        EXPECT_THROW(SmtpSender{settings}, std::invalid_argument);
    };
    expect_rejected([](auto& s) { s.host.clear(); });
    expect_rejected([](auto& s) { s.host = "mail.district.org/path"; });
    expect_rejected([](auto& s) { s.port = 0; });
    expect_rejected([](auto& s) { s.port = 70000; });
    expect_rejected([](auto& s) { s.from = "not an address"; });
    expect_rejected([](auto& s) { s.from = "ewsd@district.org\r\nRCPT TO:<x@y.org>"; });
    expect_rejected([](auto& s) { s.timeout = 0s; });
}

TEST(DeliveryTest, StatusNames) {
    EXPECT_STREQ(to_string(DeliveryStatus::delivered), "delivered");
    EXPECT_STREQ(to_string(DeliveryStatus::retry_later), "retry_later");
    EXPECT_STREQ(to_string(DeliveryStatus::failed_permanently), "failed_permanently");
    EXPECT_STREQ(to_string(DeliveryStatus::endpoint_gone), "endpoint_gone");
    EXPECT_STREQ(to_string(SmtpTls::starttls), "starttls");
}
