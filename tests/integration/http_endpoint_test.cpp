// HttpEndpoint on 127.0.0.1 with an ephemeral port, requested with libcurl
// and, where a client must misbehave (stay idle, hold a connection), raw sockets.
#include "daemon/http_endpoint.hpp"

#include <arpa/inet.h>
#include <array>
#include <chrono>
#include <cstring>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace ewsd::daemon {
namespace {

using namespace std::chrono_literals;

struct Reply {
    long status = 0;
    std::string body;
    std::map<std::string, std::string> headers; // names in lower case
    long new_connections = 0;

    [[nodiscard]] std::string header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? "(absent)" : it->second;
    }
};

// One curl easy handle; reusing it reuses its connection (keep-alive).
class Client {
public:
    Client() : m_curl(curl_easy_init()) {
        if (m_curl == nullptr) {
            throw std::runtime_error("curl_easy_init failed");
        }
    }
    ~Client() { curl_easy_cleanup(m_curl); }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    Reply request(const std::string& url, const std::string& method = "GET",
                  const std::vector<std::string>& headers = {}) {
        Reply reply;
        curl_slist* list = nullptr;
        for (const auto& h : headers) {
            list = curl_slist_append(list, h.c_str());
        }
        curl_easy_reset(m_curl);
        curl_easy_setopt(m_curl, CURLOPT_URL, url.c_str());
        curl_easy_setopt(m_curl, CURLOPT_TIMEOUT_MS, 5000L);
        curl_easy_setopt(m_curl, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(m_curl, CURLOPT_WRITEFUNCTION, &Client::on_body);
        curl_easy_setopt(m_curl, CURLOPT_WRITEDATA, &reply);
        curl_easy_setopt(m_curl, CURLOPT_HEADERFUNCTION, &Client::on_header);
        curl_easy_setopt(m_curl, CURLOPT_HEADERDATA, &reply);
        if (method == "HEAD") {
            curl_easy_setopt(m_curl, CURLOPT_NOBODY, 1L);
        } else if (method == "POST") {
            curl_easy_setopt(m_curl, CURLOPT_POSTFIELDS, "referral=42&state=closed");
        } else if (method != "GET") {
            curl_easy_setopt(m_curl, CURLOPT_CUSTOMREQUEST, method.c_str());
        }
        const CURLcode code = curl_easy_perform(m_curl);
        curl_slist_free_all(list);
        if (code != CURLE_OK) {
            throw std::runtime_error(method + " " + url + ": " + curl_easy_strerror(code));
        }
        curl_easy_getinfo(m_curl, CURLINFO_RESPONSE_CODE, &reply.status);
        curl_easy_getinfo(m_curl, CURLINFO_NUM_CONNECTS, &reply.new_connections);
        return reply;
    }

private:
    static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* reply) {
        static_cast<Reply*>(reply)->body.append(data, size * count);
        return size * count;
    }

    static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* reply) {
        const std::string line(data, size * count);
        const auto colon = line.find(':');
        if (colon != std::string::npos) {
            std::string name = line.substr(0, colon);
            for (char& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            const auto start = line.find_first_not_of(' ', colon + 1);
            const auto end = line.find_last_not_of("\r\n");
            auto& headers = static_cast<Reply*>(reply)->headers;
            headers[name] = end < start ? "" : line.substr(start, end - start + 1);
        }
        return size * count;
    }

    CURL* m_curl;
};

// A raw TCP connection to the endpoint, for clients that misbehave.
class RawConnection {
public:
    explicit RawConnection(std::uint16_t port) : m_fd(socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (m_fd < 0 || connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
        }
    }
    ~RawConnection() { close(m_fd); }
    RawConnection(const RawConnection&) = delete;
    RawConnection& operator=(const RawConnection&) = delete;

    void send_text(const std::string& text) const {
        ASSERT_EQ(::send(m_fd, text.data(), text.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(text.size()));
    }

    // Whether the server closed the connection within the timeout; what it
    // sent before is in received().
    bool closed_within(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd p{m_fd, POLLIN, 0};
            if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                return false;
            }
            std::array<char, 512> buffer{};
            const ssize_t n = recv(m_fd, buffer.data(), buffer.size(), 0);
            if (n <= 0) {
                return true;
            }
            m_received.append(buffer.data(), static_cast<std::size_t>(n));
        }
    }

    [[nodiscard]] const std::string& received() const { return m_received; }

private:
    int m_fd;
    std::string m_received;
};

template <typename F> std::chrono::milliseconds elapsed(F&& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
}

// A handler much like the daemon's: /healthz, /metrics, /degraded, /throw.
class HttpEndpointTest : public ::testing::Test {
protected:
    HttpResponse handle(std::string_view path) {
        {
            const std::lock_guard lock(m_mutex);
            m_paths.emplace_back(path);
        }
        if (path == "/healthz") {
            return {200, "text/plain; charset=utf-8", "ok\n"};
        }
        if (path == "/metrics") {
            return {200, "text/plain; version=0.0.4; charset=utf-8", "ewsd_up 1\n"};
        }
        if (path == "/degraded") {
            return {503, "application/json", R"({"status":"degraded","feeds":["sis"]})"};
        }
        if (path == "/throw") {
            throw std::runtime_error("the store is gone");
        }
        return {404, "text/plain; charset=utf-8", "not found\n"};
    }

    std::vector<std::string> paths() {
        const std::lock_guard lock(m_mutex);
        return m_paths;
    }

    [[nodiscard]] std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(endpoint.port()) + path;
    }

    std::mutex m_mutex;
    std::vector<std::string> m_paths;
    HttpEndpoint endpoint{"127.0.0.1", 0, [this](std::string_view path) { return handle(path); }};
    Client client;
};

TEST_F(HttpEndpointTest, ServesTheHandlersResponseWithItsHeaders) {
    EXPECT_NE(endpoint.port(), 0);
    const Reply reply = client.request(url("/healthz"));
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, "ok\n");
    EXPECT_EQ(reply.header("content-type"), "text/plain; charset=utf-8");
    EXPECT_EQ(reply.header("content-length"), "3");
    EXPECT_EQ(reply.header("server"), "ewsd");
    EXPECT_EQ(reply.header("cache-control"), "no-store");

    const Reply metrics = client.request(url("/metrics"));
    EXPECT_EQ(metrics.status, 200);
    EXPECT_EQ(metrics.body, "ewsd_up 1\n");
    EXPECT_EQ(metrics.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
}

TEST_F(HttpEndpointTest, TheHandlerDecidesTheStatus) {
    const Reply missing = client.request(url("/nothing-here"));
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.body, "not found\n");

    const Reply degraded = client.request(url("/degraded"));
    EXPECT_EQ(degraded.status, 503);
    EXPECT_EQ(degraded.body, R"({"status":"degraded","feeds":["sis"]})");
    EXPECT_EQ(degraded.header("content-type"), "application/json");
}

TEST_F(HttpEndpointTest, OtherMethodsGet405WithAllow) {
    const Reply post = client.request(url("/healthz"), "POST");
    EXPECT_EQ(post.status, 405);
    EXPECT_EQ(post.header("allow"), "GET, HEAD");
    EXPECT_EQ(post.body, "method not allowed\n");

    const Reply put = client.request(url("/healthz"), "DELETE");
    EXPECT_EQ(put.status, 405);
    EXPECT_EQ(put.header("allow"), "GET, HEAD");
    EXPECT_TRUE(paths().empty()); // the handler never saw them
}

TEST_F(HttpEndpointTest, HeadHasTheHeadersButNoBody) {
    const Reply head = client.request(url("/degraded"), "HEAD");
    EXPECT_EQ(head.status, 503);
    EXPECT_EQ(head.body, "");
    EXPECT_EQ(head.header("content-length"), "37");
    EXPECT_EQ(head.header("content-type"), "application/json");
    // The connection is still usable: a HEAD response really had no body.
    const Reply after = client.request(url("/healthz"));
    EXPECT_EQ(after.body, "ok\n");
    EXPECT_EQ(after.new_connections, 0);
}

TEST_F(HttpEndpointTest, TheQueryStringIsNotPartOfThePath) {
    const Reply reply = client.request(url("/metrics?name[]=ewsd_up&x=1"));
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(paths(), std::vector<std::string>{"/metrics"});
}

TEST_F(HttpEndpointTest, KeepsTheConnectionAlive) {
    const Reply first = client.request(url("/healthz"));
    const Reply second = client.request(url("/metrics"));
    EXPECT_EQ(first.new_connections, 1);
    EXPECT_EQ(second.new_connections, 0);
    EXPECT_EQ(second.body, "ewsd_up 1\n");
    EXPECT_EQ(paths(), (std::vector<std::string>{"/healthz", "/metrics"}));
}

TEST_F(HttpEndpointTest, AnswersPipelinedRequestsInOrderAndHonoursConnectionClose) {
    RawConnection raw(endpoint.port());
    raw.send_text("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
                  "HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n"
                  "GET /nothing HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(raw.closed_within(2s));
    EXPECT_EQ(paths(), (std::vector<std::string>{"/healthz", "/metrics", "/nothing"}));
    const std::string& text = raw.received();
    const auto second = text.find("HTTP/1.1 200 OK", 1);
    const auto third = text.find("HTTP/1.1 404 Not Found");
    ASSERT_NE(second, std::string::npos) << text;
    ASSERT_NE(third, std::string::npos) << text;
    EXPECT_TRUE(text.starts_with("HTTP/1.1 200 OK\r\n")) << text;
    EXPECT_EQ(text.substr(second - 7, 7), "\r\n\r\nok\n"); // the first body, then the HEAD
    EXPECT_EQ(text.substr(third - 4, 4), "\r\n\r\n");      // the HEAD had no body
    EXPECT_TRUE(text.ends_with("\r\n\r\nnot found\n")) << text;
}

TEST_F(HttpEndpointTest, AHandlerExceptionGives500AndTheEndpointServesOn) {
    const Reply reply = client.request(url("/throw"));
    EXPECT_EQ(reply.status, 500);
    EXPECT_EQ(reply.body, "internal error\n");
    EXPECT_EQ(client.request(url("/healthz")).status, 200);
}

TEST_F(HttpEndpointTest, AnIdleClientDoesNotBlockAnother) {
    RawConnection idle(endpoint.port());
    RawConnection half(endpoint.port());
    half.send_text("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"); // and never the blank line
    Reply reply;
    const auto took = elapsed([&] { reply = client.request(url("/healthz")); });
    EXPECT_EQ(reply.status, 200);
    EXPECT_LT(took, 1s);
}

TEST_F(HttpEndpointTest, StopIsPromptWithIdleClientsConnected) {
    RawConnection idle(endpoint.port());
    RawConnection half(endpoint.port());
    half.send_text("GET /healthz HTTP/1.1\r\n");
    EXPECT_EQ(client.request(url("/healthz")).status, 200); // a kept-alive connection too

    const auto took = elapsed([&] { endpoint.stop(); });

    EXPECT_LT(took, 1s);
    EXPECT_TRUE(idle.closed_within(1s));
    EXPECT_TRUE(half.closed_within(1s));
    endpoint.stop(); // again: nothing happens
    EXPECT_THROW(client.request(url("/healthz")), std::runtime_error);
}

TEST_F(HttpEndpointTest, ConnectionsBeyondTheLimitAreClosedAtOnce) {
    std::vector<std::unique_ptr<RawConnection>> idle;
    idle.reserve(63);
    for (int i = 0; i < 63; ++i) {
        idle.push_back(std::make_unique<RawConnection>(endpoint.port()));
    }
    EXPECT_EQ(client.request(url("/healthz")).status, 200); // the 64th connection
    RawConnection one_more(endpoint.port());
    EXPECT_TRUE(one_more.closed_within(1s));
    EXPECT_EQ(one_more.received(), "");

    // Once the idle ones have gone (the endpoint notices soon after), new
    // connections are served again.
    idle.clear();
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    long status = 0;
    while (status != 200 && std::chrono::steady_clock::now() < deadline) {
        try {
            Client other;
            status = other.request(url("/healthz")).status;
        } catch (const std::runtime_error&) {
            std::this_thread::sleep_for(10ms);
        }
    }
    EXPECT_EQ(status, 200);
}

TEST_F(HttpEndpointTest, AnIdleClientIsDisconnectedAfterTheRequestTimeout) {
    RawConnection idle(endpoint.port());
    EXPECT_FALSE(idle.closed_within(1s));
    EXPECT_TRUE(idle.closed_within(6s));
}

TEST_F(HttpEndpointTest, AnOversizedHeaderGets431AndTheEndpointServesOn) {
    const Reply reply =
        client.request(url("/healthz"), "GET", {"X-Padding: " + std::string(10000, 'a')});
    EXPECT_EQ(reply.status, 431);
    EXPECT_EQ(reply.header("connection"), "close");
    EXPECT_TRUE(paths().empty());

    Client other;
    EXPECT_EQ(other.request(url("/healthz")).body, "ok\n");
}

TEST_F(HttpEndpointTest, AMalformedRequestGets400) {
    RawConnection raw(endpoint.port());
    raw.send_text("GET /healthz HTTP/1.1\r\nBad Header Without Colon\r\n\r\n");
    EXPECT_TRUE(raw.closed_within(2s));
    EXPECT_TRUE(raw.received().starts_with("HTTP/1.1 400 Bad Request\r\n")) << raw.received();
    EXPECT_NE(raw.received().find("Connection: close\r\n"), std::string::npos);
    EXPECT_TRUE(raw.received().ends_with("\r\n\r\nbad request\n")) << raw.received();
    EXPECT_EQ(client.request(url("/healthz")).status, 200);
}

TEST_F(HttpEndpointTest, ABodyIsRefused) {
    const Reply reply = client.request(url("/healthz"), "GET", {"Content-Length: 5"});
    EXPECT_EQ(reply.status, 413);
    EXPECT_TRUE(paths().empty());
}

TEST(HttpEndpoint, APortInUseIsOneClearError) {
    const HttpEndpoint first("127.0.0.1", 0, [](std::string_view) { return HttpResponse{}; });
    const std::string port = std::to_string(first.port());
    try {
        const HttpEndpoint second("127.0.0.1", first.port(),
                                  [](std::string_view) { return HttpResponse{}; });
        FAIL() << "the second endpoint listens too";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "cannot listen on 127.0.0.1:" + port + ": Address already in use");
    }
}

TEST(HttpEndpoint, AnAddressThatIsNotOneIsAnError) {
    try {
        const HttpEndpoint endpoint("no such host.invalid", 9188,
                                    [](std::string_view) { return HttpResponse{}; });
        FAIL() << "listening on a bad address";
    } catch (const std::runtime_error& e) {
        EXPECT_TRUE(
            std::string(e.what()).starts_with("cannot listen on no such host.invalid:9188: "))
            << e.what();
    }
}

TEST(HttpEndpoint, ListensOnIpv6Loopback) {
    const HttpEndpoint endpoint("::1", 0, [](std::string_view) {
        return HttpResponse{200, "text/plain; charset=utf-8", "six\n"};
    });
    Client client;
    EXPECT_EQ(client.request("http://[::1]:" + std::to_string(endpoint.port()) + "/").body,
              "six\n");
}

} // namespace
} // namespace ewsd::daemon
