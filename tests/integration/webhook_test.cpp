// WebhookSender against tests/support/webhook_server.py: a real HTTP receiver on
// 127.0.0.1 that verifies signatures and fails on command.
#include "connectors/webhook/webhook.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>

namespace ewsd::connectors::webhook {
namespace {

using namespace std::chrono_literals;
using ewsd::testing::TempDir;

const std::string secret_a = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const std::string secret_b = "whsec_YW5vdGhlciBzZWNyZXQga2V5"; // "another secret key"
const std::string body =
    R"({"version":1,"type":"referral.opened","timestamp":"2025-09-02T14:00:00Z","data":{}})";

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// webhook_server.py as a child: stdout on a pipe for its "PORT n" line, stderr to a file.
class WebhookServer {
public:
    WebhookServer(const TempDir& dir, const std::vector<std::string>& options)
        : m_out(dir / "deliveries"), m_log(dir / "server.log") {
        std::filesystem::create_directories(m_out);
        std::vector<std::string> args = {"/usr/bin/python3",
                                         EWSD_SOURCE_DIR "/tests/support/webhook_server.py",
                                         "--out", m_out.string()};
        args.insert(args.end(), options.begin(), options.end());
        spawn(args);
        read_port();
    }
    ~WebhookServer() {
        ::kill(m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
        close(m_stdout);
    }
    WebhookServer(const WebhookServer&) = delete;
    WebhookServer& operator=(const WebhookServer&) = delete;

    [[nodiscard]] std::string url(const std::string& path = "/hook") const {
        return "http://127.0.0.1:" + std::to_string(m_port) + path;
    }
    [[nodiscard]] int port() const { return m_port; }

    // The recorded deliveries (answered 2xx), oldest first.
    [[nodiscard]] std::vector<nlohmann::json> deliveries() const {
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(m_out)) {
            if (entry.path().extension() == ".json") {
                files.push_back(entry.path());
            }
        }
        std::sort(files.begin(), files.end());
        std::vector<nlohmann::json> result;
        for (const auto& file : files) {
            result.push_back(nlohmann::json::parse(testing::read_file(file)));
        }
        return result;
    }

private:
    void spawn(const std::vector<std::string>& args) {
        int out_pipe[2];
        if (pipe2(out_pipe, O_CLOEXEC) != 0) {
            throw std::runtime_error("pipe failed");
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, m_log.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0600);
        std::vector<char*> argv;
        for (const auto& a : args) {
            argv.push_back(const_cast<char*>(a.c_str()));
        }
        argv.push_back(nullptr);
        const int rc = posix_spawn(&m_pid, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        close(out_pipe[1]);
        m_stdout = out_pipe[0];
        if (rc != 0) {
            throw std::runtime_error("cannot start webhook_server.py");
        }
    }

    void read_port() {
        std::string line;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (line.find('\n') == std::string::npos) {
            pollfd fd{m_stdout, POLLIN, 0};
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            char buf[256];
            ssize_t n = 0;
            if (left.count() <= 0 || ::poll(&fd, 1, static_cast<int>(left.count())) <= 0 ||
                (n = read(m_stdout, buf, sizeof buf)) <= 0) {
                throw std::runtime_error("webhook_server.py did not start: " +
                                         testing::read_file(m_log));
            }
            line.append(buf, static_cast<std::size_t>(n));
        }
        if (!line.starts_with("PORT ")) {
            throw std::runtime_error("webhook_server.py said: " + line);
        }
        m_port = std::stoi(line.substr(5));
    }

    std::filesystem::path m_out;
    std::filesystem::path m_log;
    pid_t m_pid = -1;
    int m_stdout = -1;
    int m_port = 0;
};

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
    WebhookServer server(dir, {"--secret", secret_a});
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
    WebhookServer server(dir, {"--secret", secret_a});
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
    WebhookServer server(dir, {"--secret", secret_b});
    const WebhookSender sender(settings(server.url()));
    const std::int64_t now = unix_now();

    const DeliveryResult result = sender.post("msg_1", now, body);

    EXPECT_EQ(result.status, DeliveryStatus::failed_permanently);
    EXPECT_EQ(result.detail, R"(HTTP 401: {"error": "no matching signature"})");
    EXPECT_TRUE(server.deliveries().empty());
}

TEST_F(WebhookTest, AStaleTimestampIsRefusedByTheReceiver) {
    WebhookServer server(dir, {"--secret", secret_a});
    const WebhookSender sender(settings(server.url()));

    const DeliveryResult result = sender.post("msg_1", unix_now() - 600, body);

    EXPECT_EQ(result.status, DeliveryStatus::failed_permanently);
    EXPECT_NE(result.detail.find("too far from now"), std::string::npos) << result.detail;
}

TEST_F(WebhookTest, DuringRotationAReceiverWithEitherSecretAccepts) {
    const std::int64_t now = unix_now();
    {
        WebhookServer server(dir, {"--secret", secret_b});
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
    WebhookServer server(dir, {"--secret", secret_a});
    const WebhookSender sender(settings(server.url(), {secret_a, secret_b}));
    EXPECT_EQ(sender.post("msg_rot", now, body).status, DeliveryStatus::delivered);
}

TEST_F(WebhookTest, RetryAfterA503IsRecordedOnceWithTheSameId) {
    WebhookServer server(dir, {"--secret", secret_a, "--responses", "503"});
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
    WebhookServer server(dir, {"--secret", secret_a, "--responses", "429:2,503:7"});
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
    WebhookServer server(dir, {"--secret", secret_a, "--gone"});
    const WebhookSender sender(settings(server.url()));

    const DeliveryResult result = sender.post("msg_1", unix_now(), body);

    EXPECT_EQ(result.status, DeliveryStatus::endpoint_gone);
    EXPECT_TRUE(result.detail.starts_with("HTTP 410")) << result.detail;
}

TEST_F(WebhookTest, StatusClasses) {
    WebhookServer server(dir, {"--secret", secret_a, "--responses", "400,404,408,500,202"});
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
    WebhookServer server(dir, {"--secret", secret_a, "--reset-first", "1"});
    const WebhookSender sender(settings(server.url()));

    const DeliveryResult result = sender.post("msg_1", unix_now(), body);
    EXPECT_EQ(result.status, DeliveryStatus::retry_later);
    EXPECT_TRUE(result.detail.starts_with("POST failed: ")) << result.detail;
    EXPECT_TRUE(server.deliveries().empty());

    EXPECT_EQ(sender.post("msg_1", unix_now(), body).status, DeliveryStatus::delivered);
    EXPECT_EQ(server.deliveries().size(), 1u);
}

TEST_F(WebhookTest, ASlowReceiverTimesOut) {
    WebhookServer server(dir, {"--secret", secret_a, "--delay", "6"});
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
    WebhookServer server(dir, {"--secret", secret_a, "--responses", "301,307,308"});
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
    WebhookServer server(dir, {"--secret", secret_a, "--responses", "400", "--echo"});
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
    WebhookServer server(dir, {"--secret", secret_a, "--responses", "422", "--raw-body", text});
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
    WebhookServer server(dir, {"--secret", secret_a, "--tls", cert, key});
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
