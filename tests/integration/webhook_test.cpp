// WebhookSender against tests/support/webhook_server.py: a real HTTP receiver on
// 127.0.0.1 that verifies signatures and fails on command.
#include "connectors/webhook/webhook.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/temp_dir.hpp"
#include "util/local_time.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace ewsd::connectors::webhook {
namespace {

using namespace std::chrono_literals;
using ewsd::testing::TempDir;

const std::string secret_a = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const std::string secret_b = "whsec_YW5vdGhlciBzZWNyZXQga2V5"; // "another secret key"
const std::string body =
    R"({"version":1,"type":"referral.opened","timestamp":"2025-09-02T14:00:00Z","data":{}})";

using util::unix_now;

using ewsd::testing::WebhookServer;

WebhookSettings settings(const std::string& url, std::vector<std::string> secrets = {secret_a}) {
    WebhookSettings s;
    s.url = url;
    s.secrets = std::move(secrets);
    s.connect_timeout = 2s;
    s.timeout = 5s;
    return s;
}

using testing::closed_port;

template <typename F> std::chrono::milliseconds elapsed(F&& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
}

class WebhookTest : public ::testing::Test {
protected:
    TempDir dir;
};

TEST_F(WebhookTest, DeliversASignedRequestTheReceiverVerifies) {
    WebhookServer server(dir / "deliveries", {"--secret", secret_a});
    const WebhookSender sender(settings(server.url()));
    const std::int64_t now = unix_now();

    const DeliveryResult result = sender.post("msg_1", now, body);

    EXPECT_EQ(result.status, DeliveryStatus::delivered) << result.detail;
    EXPECT_TRUE(result.detail.starts_with("HTTP 200")) << result.detail;
    EXPECT_EQ(result.retry_after, std::nullopt);
    const auto deliveries = server.deliveries();
    ASSERT_EQ(deliveries.size(), 1u);
    const auto& d = deliveries[0];
    EXPECT_EQ(d["id"], "msg_1");
    EXPECT_EQ(d["timestamp"], now);
    EXPECT_EQ(d["body"], body);
    EXPECT_EQ(d["path"], "/hook");
    EXPECT_EQ(d["headers"]["content-type"], "application/json");
    EXPECT_EQ(d["headers"]["webhook-id"], "msg_1");
    EXPECT_EQ(d["headers"]["webhook-timestamp"], std::to_string(now));
    EXPECT_EQ(d["headers"]["webhook-signature"], sign(secret_a, "msg_1", now, body));
    EXPECT_TRUE(d["headers"]["user-agent"].get<std::string>().starts_with("ewsd/"));
    EXPECT_FALSE(d["headers"].contains("expect"));
}

TEST_F(WebhookTest, CredentialsInTheUrlAreSentAsBasicAuthAndNotDescribed) {
    WebhookServer server(dir / "deliveries", {"--secret", secret_a});
    const std::string url =
        "http://ewsd:pa55@127.0.0.1:" + std::to_string(server.port()) + "/hook?token=t0k3n";
    const WebhookSender sender(settings(url));

    EXPECT_EQ(sender.post("msg_1", unix_now(), body).status, DeliveryStatus::delivered);
    EXPECT_EQ(sender.describe(), server.url());
    const auto deliveries = server.deliveries();
    ASSERT_EQ(deliveries.size(), 1u);
    EXPECT_EQ(deliveries[0]["headers"]["authorization"], "Basic ZXdzZDpwYTU1"); // ewsd:pa55
    EXPECT_EQ(deliveries[0]["path"], "/hook?token=t0k3n");
}

TEST_F(WebhookTest, AWrongSecretIsRefusedForGood) {
    WebhookServer server(dir / "deliveries", {"--secret", secret_b});
    const WebhookSender sender(settings(server.url()));
    const std::int64_t now = unix_now();

    const DeliveryResult result = sender.post("msg_1", now, body);

    EXPECT_EQ(result.status, DeliveryStatus::failed_permanently);
    EXPECT_EQ(result.detail, R"(HTTP 401: {"error": "no matching signature"})");
    EXPECT_TRUE(server.deliveries().empty());
}

TEST_F(WebhookTest, AStaleTimestampIsRefusedByTheReceiver) {
    WebhookServer server(dir / "deliveries", {"--secret", secret_a});
    const WebhookSender sender(settings(server.url()));

    const DeliveryResult result = sender.post("msg_1", unix_now() - 600, body);

    EXPECT_EQ(result.status, DeliveryStatus::failed_permanently);
    EXPECT_NE(result.detail.find("too far from now"), std::string::npos) << result.detail;
}

TEST_F(WebhookTest, DuringRotationAReceiverWithEitherSecretAccepts) {
    const std::int64_t now = unix_now();
    {
        WebhookServer server(dir / "deliveries", {"--secret", secret_b});
        const WebhookSender sender(settings(server.url(), {secret_a, secret_b}));
        const DeliveryResult result = sender.post("msg_rot", now, body);
        EXPECT_EQ(result.status, DeliveryStatus::delivered) << result.detail;
        const auto deliveries = server.deliveries();
        ASSERT_EQ(deliveries.size(), 1u);
        EXPECT_EQ(deliveries[0]["headers"]["webhook-signature"],
                  sign(secret_a, "msg_rot", now, body) + " " +
                      sign(secret_b, "msg_rot", now, body));
    }
    std::filesystem::remove_all(dir / "deliveries");
    WebhookServer server(dir / "deliveries", {"--secret", secret_a});
    const WebhookSender sender(settings(server.url(), {secret_a, secret_b}));
    EXPECT_EQ(sender.post("msg_rot", now, body).status, DeliveryStatus::delivered);
}

TEST_F(WebhookTest, RetryAfterA503IsRecordedOnceWithTheSameId) {
    WebhookServer server(dir / "deliveries", {"--secret", secret_a, "--responses", "503"});
    const WebhookSender sender(settings(server.url()));

    const DeliveryResult first = sender.post("msg_retry", unix_now(), body);
    EXPECT_EQ(first.status, DeliveryStatus::retry_later);
    EXPECT_EQ(first.detail, R"(HTTP 503: {"status": 503})");
    EXPECT_EQ(first.retry_after, std::nullopt);
    EXPECT_TRUE(server.deliveries().empty());

    const DeliveryResult second = sender.post("msg_retry", unix_now(), body);
    EXPECT_EQ(second.status, DeliveryStatus::delivered) << second.detail;
    const auto deliveries = server.deliveries();
    ASSERT_EQ(deliveries.size(), 1u);
    EXPECT_EQ(deliveries[0]["id"], "msg_retry");
}

TEST_F(WebhookTest, TooManyRequestsCarriesRetryAfter) {
    WebhookServer server(dir / "deliveries", {"--secret", secret_a, "--responses", "429:2,503:7"});
    const WebhookSender sender(settings(server.url()));

    const DeliveryResult result = sender.post("msg_1", unix_now(), body);
    EXPECT_EQ(result.status, DeliveryStatus::retry_later);
    EXPECT_TRUE(result.detail.starts_with("HTTP 429")) << result.detail;
    EXPECT_EQ(result.retry_after, 2s);

    const DeliveryResult again = sender.post("msg_1", unix_now(), body);
    EXPECT_EQ(again.status, DeliveryStatus::retry_later);
    EXPECT_EQ(again.retry_after, 7s);
}

TEST_F(WebhookTest, GoneMeansEndpointGone) {
    WebhookServer server(dir / "deliveries", {"--secret", secret_a, "--gone"});
    const WebhookSender sender(settings(server.url()));

    const DeliveryResult result = sender.post("msg_1", unix_now(), body);

    EXPECT_EQ(result.status, DeliveryStatus::endpoint_gone);
    EXPECT_TRUE(result.detail.starts_with("HTTP 410")) << result.detail;
}

TEST_F(WebhookTest, StatusClasses) {
    WebhookServer server(dir / "deliveries",
                         {"--secret", secret_a, "--responses", "400,404,408,500,202"});
    const WebhookSender sender(settings(server.url()));
    const auto status = [&] { return sender.post("msg_1", unix_now(), body).status; };

    EXPECT_EQ(status(), DeliveryStatus::failed_permanently); // 400
    EXPECT_EQ(status(), DeliveryStatus::failed_permanently); // 404
    EXPECT_EQ(status(), DeliveryStatus::retry_later);        // 408
    EXPECT_EQ(status(), DeliveryStatus::retry_later);        // 500
    EXPECT_EQ(status(), DeliveryStatus::delivered);          // 202
}

TEST_F(WebhookTest, ConnectionRefusedIsRetriedLaterAndFast) {
    const WebhookSender sender(
        settings("http://127.0.0.1:" + std::to_string(closed_port()) + "/hook"));
    DeliveryResult result;

    const auto took = elapsed([&] { result = sender.post("msg_1", unix_now(), body); });

    EXPECT_EQ(result.status, DeliveryStatus::retry_later);
    EXPECT_TRUE(result.detail.starts_with("POST failed: ")) << result.detail;
    EXPECT_NE(result.detail.find("onnect"), std::string::npos) << result.detail;
    EXPECT_LT(took, 1000ms);
}

TEST_F(WebhookTest, AResetConnectionIsRetriedLater) {
    WebhookServer server(dir / "deliveries", {"--secret", secret_a, "--reset-first", "1"});
    const WebhookSender sender(settings(server.url()));

    const DeliveryResult result = sender.post("msg_1", unix_now(), body);
    EXPECT_EQ(result.status, DeliveryStatus::retry_later);
    EXPECT_TRUE(result.detail.starts_with("POST failed: ")) << result.detail;
    EXPECT_TRUE(server.deliveries().empty());

    EXPECT_EQ(sender.post("msg_1", unix_now(), body).status, DeliveryStatus::delivered);
    EXPECT_EQ(server.deliveries().size(), 1u);
}

TEST_F(WebhookTest, ASlowReceiverTimesOut) {
    WebhookServer server(dir / "deliveries", {"--secret", secret_a, "--delay", "6"});
    auto s = settings(server.url());
    s.timeout = 2s;
    const WebhookSender sender(s);
    DeliveryResult result;

    const auto took = elapsed([&] { result = sender.post("msg_1", unix_now(), body); });

    EXPECT_EQ(result.status, DeliveryStatus::retry_later);
    EXPECT_NE(result.detail.find("timed out"), std::string::npos) << result.detail;
    EXPECT_GE(took, 1900ms);
    EXPECT_LT(took, 4000ms);
}

TEST_F(WebhookTest, RedirectsAreNotFollowed) {
    WebhookServer server(dir / "deliveries", {"--secret", secret_a, "--responses", "301,307,308"});
    const WebhookSender sender(settings(server.url()));

    for (const char* code : {"301", "307", "308"}) {
        const DeliveryResult result = sender.post("msg_1", unix_now(), body);
        EXPECT_EQ(result.status, DeliveryStatus::failed_permanently) << code;
        EXPECT_TRUE(result.detail.starts_with(std::string("HTTP ") + code)) << result.detail;
        EXPECT_NE(result.detail.find("redirect"), std::string::npos) << result.detail;
    }
    // Following would have reached /moved, answered 200 and recorded.
    EXPECT_TRUE(server.deliveries().empty());
}

TEST_F(WebhookTest, DetailNeverShowsTheSignature) {
    WebhookServer server(dir / "deliveries",
                         {"--secret", secret_a, "--responses", "400", "--echo"});
    const WebhookSender sender(settings(server.url(), {secret_a, secret_b}));
    const std::int64_t now = unix_now();

    const DeliveryResult result = sender.post("msg_1", now, body);

    EXPECT_EQ(result.status, DeliveryStatus::failed_permanently);
    // The receiver echoed our webhook-signature header back.
    EXPECT_EQ(result.detail, R"(HTTP 400: {"status": 400, "echo": "v1,[redacted] v1,[redacted]"})");
    EXPECT_EQ(result.detail.find(sign(secret_a, "msg_1", now, body).substr(3)), std::string::npos);
    EXPECT_EQ(result.detail.find("MfKQ9r8G"), std::string::npos);
}

TEST_F(WebhookTest, DetailIsOneShortLine) {
    const std::string text = "Bad\r\n\trequest:  " + std::string(300, 'x');
    WebhookServer server(dir / "deliveries",
                         {"--secret", secret_a, "--responses", "422", "--raw-body", text});
    const WebhookSender sender(settings(server.url()));

    const DeliveryResult result = sender.post("msg_1", unix_now(), body);

    EXPECT_EQ(result.status, DeliveryStatus::failed_permanently);
    EXPECT_EQ(result.detail, "HTTP 422: Bad request: " + std::string(197 - 13, 'x') + "...");
}

TEST_F(WebhookTest, HttpsWithAnExtraCaBundle) {
    if (!std::filesystem::exists("/usr/bin/openssl")) {
        GTEST_SKIP() << "no /usr/bin/openssl to make a test certificate";
    }
    const std::string cert = (dir / "cert.pem").string();
    const std::string key = (dir / "key.pem").string();
    const auto made = testing::run({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                                    "subjectAltName=IP:127.0.0.1"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    WebhookServer server(dir / "deliveries", {"--secret", secret_a, "--tls", cert, key});
    const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/hook";

    const DeliveryResult untrusted = WebhookSender(settings(url)).post("msg_1", unix_now(), body);
    EXPECT_EQ(untrusted.status, DeliveryStatus::retry_later);
    EXPECT_NE(untrusted.detail.find("certificate"), std::string::npos) << untrusted.detail;

    auto trusted = settings(url);
    trusted.ca_file = cert;
    const DeliveryResult result = WebhookSender(trusted).post("msg_1", unix_now(), body);
    EXPECT_EQ(result.status, DeliveryStatus::delivered) << result.detail;
    EXPECT_EQ(server.deliveries().size(), 1u);
}

} // namespace
} // namespace ewsd::connectors::webhook
