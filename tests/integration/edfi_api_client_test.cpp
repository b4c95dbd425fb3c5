// ApiClient against tests/support/edfi_server.py, a fake Ed-Fi ODS/API on
// 127.0.0.1 that scripts failures on command; and a few tests of the fake
// itself (change versions, deletes, filters), which the Ed-Fi feed's tests
// rely on.
#include "connectors/edfi/api_client.hpp"
#include "tests/support/ports.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/temp_dir.hpp"

#include <atomic>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <thread>

namespace ewsd::connectors::edfi {
namespace {

using namespace std::chrono_literals;
using ewsd::testing::EdfiServer;
using ewsd::testing::TempDir;
using ewsd::testing::write_file;
using nlohmann::json;

const std::string key = "ewsd-district-key";
const std::string secret = "Sup3r-S3cret-Value";

const json students = json::parse(R"([
  {"id": "s1", "studentUniqueId": "604821", "firstName": "Ana",
   "schoolReference": {"schoolId": 255901, "link": {"rel": "School", "href": "/ed-fi/schools/x"}}},
  {"id": "s2", "studentUniqueId": "604822", "firstName": "Ben"},
  {"id": "s3", "studentUniqueId": "604823", "firstName": "Cai"},
  {"id": "s4", "studentUniqueId": "604824", "firstName": "Dee"},
  {"id": "s5", "studentUniqueId": "604825", "firstName": "Eve"}
])");
const json grades = json::parse(R"([
  {"id": "g1", "numericGradeEarned": 91}, {"id": "g2", "numericGradeEarned": 58}
])");

template <typename F> std::chrono::milliseconds elapsed(F&& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
}

// ---- a plain HTTP client for the control routes and raw Ed-Fi answers ----

struct Answer {
    long status = 0;
    std::string headers;
    std::string body;
};

std::size_t append(char* data, std::size_t size, std::size_t count, void* out) {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
}

Answer http(const std::string& method, const std::string& url, const std::string& body = "",
            const std::string& user_password = "", const std::string& bearer = "") {
    CURL* curl = curl_easy_init();
    Answer answer;
    curl_slist* headers = nullptr;
    if (!bearer.empty()) {
        headers = curl_slist_append(headers, ("Authorization: Bearer " + bearer).c_str());
    }
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &append);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer.headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    if (method == "POST") {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    }
    if (!user_password.empty()) {
        curl_easy_setopt(curl, CURLOPT_USERPWD, user_password.c_str());
    }
    if (curl_easy_perform(curl) == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return answer;
}

std::string base(const EdfiServer& server) {
    return "http://127.0.0.1:" + std::to_string(server.port());
}

json control(const EdfiServer& server, const std::string& route,
             const json& body = json::object()) {
    const Answer answer = http("POST", base(server) + "/_control/" + route, body.dump());
    EXPECT_EQ(answer.status, 200) << route << ": " << answer.body;
    return json::parse(answer.body, nullptr, false);
}

// The Ed-Fi requests the server saw: [{method, path, query, status, authorized}].
json seen(const EdfiServer& server) {
    return json::parse(http("GET", base(server) + "/_control/requests").body);
}

std::vector<long> statuses(const json& requests) {
    std::vector<long> out;
    for (const auto& r : requests) {
        out.push_back(r["status"].get<long>());
    }
    return out;
}

json value_of(const ApiResult& result) {
    if (const auto* error = std::get_if<ApiError>(&result)) {
        ADD_FAILURE() << "unexpected error: " << error->message;
        return {};
    }
    return std::get<json>(result);
}

ApiError error_of(const ApiResult& result) {
    if (const auto* value = std::get_if<json>(&result)) {
        ADD_FAILURE() << "expected an error, got " << value->dump();
        return {};
    }
    return std::get<ApiError>(result);
}

std::vector<std::string> ids(const json& items) {
    std::vector<std::string> out;
    for (const auto& item : items) {
        out.push_back(item["id"].get<std::string>());
    }
    return out;
}

class EdfiApiClientTest : public ::testing::Test {
protected:
    TempDir dir;

    void SetUp() override {
        write_file(dir / "data/students.json", students.dump());
        write_file(dir / "data/grades.json", grades.dump());
    }

    EdfiServer start(std::vector<std::string> options = {}) {
        std::vector<std::string> all = {"--key", key, "--secret", secret};
        all.insert(all.end(), options.begin(), options.end());
        return EdfiServer(dir / "data", all);
    }

    static ApiSettings settings(const EdfiServer& server) {
        ApiSettings s;
        s.root_url = server.root();
        s.key = key;
        s.secret = secret;
        s.connect_timeout = 2s;
        s.request_timeout = 5s;
        s.max_attempts = 5;
        s.backoff_initial = 10ms;
        s.backoff_max = 2s;
        return s;
    }
};

// ---- the client ----

TEST_F(EdfiApiClientTest, FetchesOneTokenAndReusesIt) {
    const EdfiServer server = start();
    ApiClient client(settings(server));

    const json first = value_of(client.get_json("data/v3/ed-fi/students"));
    const json second = value_of(client.get_json("/data/v3/ed-fi/grades"));

    EXPECT_EQ(ids(first), (std::vector<std::string>{"s1", "s2", "s3", "s4", "s5"}));
    EXPECT_EQ(first[0]["schoolReference"]["schoolId"], 255901);
    EXPECT_EQ(ids(second), (std::vector<std::string>{"g1", "g2"}));
    EXPECT_EQ(client.token_fetches(), 1);
    EXPECT_EQ(client.requests(), 3);
    const json requests = seen(server);
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[0]["method"], "POST");
    EXPECT_EQ(requests[0]["path"], "/api/oauth/token");
    EXPECT_EQ(requests[1]["path"], "/api/data/v3/ed-fi/students");
    EXPECT_EQ(requests[2]["path"], "/api/data/v3/ed-fi/grades");
    EXPECT_TRUE(requests[1]["authorized"]);
    EXPECT_TRUE(requests[2]["authorized"]);
}

TEST_F(EdfiApiClientTest, RootUrlWithATrailingSlashAndAFullTokenUrl) {
    const EdfiServer server = start();
    ApiSettings s = settings(server);
    s.root_url = server.root() + "/";
    s.token_path = server.root() + "/oauth/token";
    ApiClient client(s);

    EXPECT_EQ(ids(value_of(client.get_json("data/v3/ed-fi/grades"))),
              (std::vector<std::string>{"g1", "g2"}));
    const json requests = seen(server);
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0]["path"], "/api/oauth/token");
    EXPECT_EQ(requests[1]["path"], "/api/data/v3/ed-fi/grades");
}

TEST_F(EdfiApiClientTest, PagingParametersReachTheServer) {
    const EdfiServer server = start();
    ApiClient client(settings(server));

    const json page = value_of(client.get_json("data/v3/ed-fi/students?offset=2&limit=2"));
    const json last = value_of(client.get_json("data/v3/ed-fi/students?offset=4&limit=2"));
    const json beyond = value_of(client.get_json("data/v3/ed-fi/students?offset=6&limit=2"));

    EXPECT_EQ(ids(page), (std::vector<std::string>{"s3", "s4"}));
    EXPECT_EQ(ids(last), (std::vector<std::string>{"s5"}));
    EXPECT_EQ(beyond, json::array());
    const json requests = seen(server);
    ASSERT_EQ(requests.size(), 4u);
    EXPECT_EQ(requests[1]["query"], (json{{"offset", "2"}, {"limit", "2"}}));
    EXPECT_EQ(requests[3]["query"], (json{{"offset", "6"}, {"limit", "2"}}));
}

TEST_F(EdfiApiClientTest, RefreshesTheTokenOnceAfterA401) {
    const EdfiServer server = start();
    ApiClient client(settings(server));
    value_of(client.get_json("data/v3/ed-fi/grades"));

    control(server, "expire-tokens");
    const json after = value_of(client.get_json("data/v3/ed-fi/grades"));

    EXPECT_EQ(ids(after), (std::vector<std::string>{"g1", "g2"}));
    EXPECT_EQ(client.token_fetches(), 2);
    EXPECT_EQ(statuses(seen(server)), (std::vector<long>{200, 200, 401, 200, 200}));
}

TEST_F(EdfiApiClientTest, A401WithAFreshTokenIsAnError) {
    const EdfiServer server = start();
    control(server, "fail", {{"status", 401}, {"count", 2}, {"body", R"({"message":"no"})"}});
    ApiClient client(settings(server));

    const ApiError error = error_of(client.get_json("data/v3/ed-fi/grades"));

    EXPECT_EQ(error.http_status, 401);
    EXPECT_FALSE(error.stopped);
    EXPECT_EQ(error.message, "GET " + server.root() +
                                 "/data/v3/ed-fi/grades: HTTP 401 Unauthorized: "
                                 R"({"message":"no"} (with a fresh token))");
    EXPECT_EQ(client.token_fetches(), 2);
    EXPECT_EQ(statuses(seen(server)), (std::vector<long>{200, 401, 200, 401}));
}

TEST_F(EdfiApiClientTest, ABadSecretIsRefusedOnceWithoutPrintingIt) {
    const EdfiServer server = start();
    ApiSettings s = settings(server);
    s.secret = "Wrong-S3cret-Value";
    ApiClient client(s);

    ::testing::internal::CaptureStderr();
    const ApiError error = error_of(client.get_json("data/v3/ed-fi/grades"));
    const std::string log = ::testing::internal::GetCapturedStderr();

    EXPECT_EQ(error.http_status, 401);
    EXPECT_EQ(error.url, server.root() + "/oauth/token");
    EXPECT_EQ(error.message, "POST " + server.root() +
                                 "/oauth/token: the Ed-Fi API refused the key and secret "
                                 R"((HTTP 401 Unauthorized: {"error": "invalid_client"}))");
    EXPECT_EQ(error.message.find("Wrong-S3cret"), std::string::npos);
    EXPECT_EQ(log.find("Wrong-S3cret"), std::string::npos);
    EXPECT_EQ(client.requests(), 1);
    EXPECT_EQ(client.token_fetches(), 0);
    EXPECT_EQ(statuses(seen(server)), (std::vector<long>{401}));
}

TEST_F(EdfiApiClientTest, Retries503TwiceThenSucceedsAndLogsEachRetry) {
    const EdfiServer server = start();
    control(server, "fail", {{"status", 503}, {"count", 2}, {"path_contains", "grades"}});
    ApiClient client(settings(server));

    ::testing::internal::CaptureStderr();
    const json items = value_of(client.get_json("data/v3/ed-fi/grades?offset=0&limit=500"));
    const std::string log = ::testing::internal::GetCapturedStderr();

    EXPECT_EQ(ids(items), (std::vector<std::string>{"g1", "g2"}));
    EXPECT_EQ(client.requests(), 4);
    EXPECT_EQ(statuses(seen(server)), (std::vector<long>{200, 503, 503, 200}));
    const std::string url = server.root() + "/data/v3/ed-fi/grades?offset=0&limit=500";
    EXPECT_NE(log.find("ed-fi: GET " + url + ": HTTP 503 Service Unavailable; retrying in "),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("(attempt 2 of 5)"), std::string::npos) << log;
    EXPECT_NE(log.find("(attempt 3 of 5)"), std::string::npos) << log;
    EXPECT_EQ(log.find("attempt 4"), std::string::npos) << log;
    EXPECT_EQ(log.find(secret), std::string::npos);
    EXPECT_EQ(log.find("Bearer"), std::string::npos);
}

TEST_F(EdfiApiClientTest, HonoursRetryAfterOn429) {
    const EdfiServer server = start();
    control(server, "fail", {{"status", 429}, {"count", 1}, {"retry_after", 1}});
    ApiClient client(settings(server)); // backoff 10 ms: only Retry-After makes it wait

    json items;
    const auto took = elapsed([&] { items = value_of(client.get_json("data/v3/ed-fi/grades")); });

    EXPECT_EQ(ids(items), (std::vector<std::string>{"g1", "g2"}));
    EXPECT_GE(took, 950ms);
    EXPECT_LT(took, 1900ms);
    EXPECT_EQ(statuses(seen(server)), (std::vector<long>{200, 429, 200}));
}

TEST_F(EdfiApiClientTest, RetryAfterIsCappedByBackoffMax) {
    const EdfiServer server = start();
    control(server, "fail", {{"status", 503}, {"count", 1}, {"retry_after", 3600}});
    ApiSettings s = settings(server);
    s.backoff_max = 200ms;
    ApiClient client(s);

    json items;
    const auto took = elapsed([&] { items = value_of(client.get_json("data/v3/ed-fi/grades")); });

    EXPECT_EQ(ids(items), (std::vector<std::string>{"g1", "g2"}));
    EXPECT_GE(took, 190ms);
    EXPECT_LT(took, 1500ms);
}

TEST_F(EdfiApiClientTest, GivesUpAfterMaxAttemptsNamingUrlStatusAndBody) {
    const EdfiServer server = start();
    control(server, "fail",
            {{"status", 500}, {"count", 100}, {"body", "{\"message\":\"boom:\n\tdatabase\"}"}});
    ApiSettings s = settings(server);
    s.max_attempts = 3;
    ApiClient client(s);

    const ApiError error = error_of(client.get_json("data/v3/ed-fi/grades?offset=0&limit=500"));

    EXPECT_EQ(error.http_status, 500);
    EXPECT_EQ(error.url, server.root() + "/data/v3/ed-fi/grades?offset=0&limit=500");
    EXPECT_EQ(error.message,
              "GET " + server.root() +
                  "/data/v3/ed-fi/grades?offset=0&limit=500: HTTP 500 Internal "
                  R"(Server Error: {"message":"boom: database"} (after 3 attempts))");
    EXPECT_EQ(client.requests(), 4); // the token and three tries
}

TEST_F(EdfiApiClientTest, ALongBodyIsCutTo200Bytes) {
    const EdfiServer server = start();
    control(server, "fail", {{"status", 404}, {"count", 1}, {"body", std::string(1000, 'x')}});
    ApiClient client(settings(server));

    const ApiError error = error_of(client.get_json("data/v3/ed-fi/grades"));

    EXPECT_EQ(error.http_status, 404);
    EXPECT_TRUE(error.message.ends_with(": HTTP 404 Not Found: " + std::string(197, 'x') + "..."))
        << error.message;
    EXPECT_EQ(client.requests(), 2); // a 404 is not retried
}

TEST_F(EdfiApiClientTest, AHangBeyondTheRequestTimeoutIsATimeout) {
    const EdfiServer server = start();
    control(server, "hang", {{"seconds", 4}, {"count", 1}, {"path_contains", "grades"}});
    ApiSettings s = settings(server);
    s.request_timeout = 1s;
    s.max_attempts = 1;
    ApiClient client(s);

    ApiError error;
    const auto took = elapsed([&] { error = error_of(client.get_json("data/v3/ed-fi/grades")); });

    EXPECT_EQ(error.http_status, 0);
    EXPECT_FALSE(error.stopped);
    EXPECT_TRUE(error.message.starts_with("GET " + server.root() + "/data/v3/ed-fi/grades: "))
        << error.message;
    EXPECT_NE(error.message.find("timed out"), std::string::npos) << error.message;
    EXPECT_GE(took, 900ms);
    EXPECT_LT(took, 3s);
}

TEST_F(EdfiApiClientTest, ATimeoutIsRetried) {
    const EdfiServer server = start();
    control(server, "hang", {{"seconds", 3}, {"count", 1}, {"path_contains", "grades"}});
    ApiSettings s = settings(server);
    s.request_timeout = 1s;
    ApiClient client(s);

    EXPECT_EQ(ids(value_of(client.get_json("data/v3/ed-fi/grades"))),
              (std::vector<std::string>{"g1", "g2"}));
    EXPECT_EQ(client.requests(), 3);
}

TEST_F(EdfiApiClientTest, StopDuringAHangReturnsQuickly) {
    const EdfiServer server = start();
    control(server, "hang", {{"seconds", 10}, {"count", 1}, {"path_contains", "grades"}});
    std::atomic<bool> stop{false};
    ApiSettings s = settings(server);
    s.request_timeout = 30s;
    s.stop = &stop;
    ApiClient client(s);
    std::thread stopper([&] {
        std::this_thread::sleep_for(300ms);
        stop = true;
    });

    ApiError error;
    const auto took = elapsed([&] { error = error_of(client.get_json("data/v3/ed-fi/grades")); });
    stopper.join();

    EXPECT_TRUE(error.stopped);
    EXPECT_EQ(error.http_status, 0);
    EXPECT_EQ(error.message, "stopped: ewsd is shutting down");
    EXPECT_LT(took, 2500ms);
    EXPECT_EQ(client.requests(), 2); // not retried
}

TEST_F(EdfiApiClientTest, StopDuringABackoffReturnsQuickly) {
    const EdfiServer server = start();
    control(server, "fail", {{"status", 503}, {"count", 100}});
    std::atomic<bool> stop{false};
    ApiSettings s = settings(server);
    s.backoff_initial = 30s;
    s.backoff_max = 60s;
    s.stop = &stop;
    ApiClient client(s);
    std::thread stopper([&] {
        std::this_thread::sleep_for(300ms);
        stop = true;
    });

    ApiError error;
    const auto took = elapsed([&] { error = error_of(client.get_json("data/v3/ed-fi/grades")); });
    stopper.join();

    EXPECT_TRUE(error.stopped);
    EXPECT_LT(took, 1500ms);
    EXPECT_EQ(client.requests(), 2);
    // Stopped before it starts: nothing is sent.
    EXPECT_TRUE(error_of(client.get_json("data/v3/ed-fi/grades")).stopped);
    EXPECT_EQ(client.requests(), 2);
}

TEST_F(EdfiApiClientTest, ALimitAbove500IsABadRequestNotRetried) {
    const EdfiServer server = start();
    ApiClient client(settings(server));

    const ApiError error = error_of(client.get_json("data/v3/ed-fi/students?limit=501"));

    EXPECT_EQ(error.http_status, 400);
    // The problem details' useful part first.
    EXPECT_TRUE(error.message.starts_with(
        "GET " + server.root() +
        "/data/v3/ed-fi/students?limit=501: HTTP 400 Bad Request: Limit must be omitted or set to "
        "a numeric value between 0 and 500. The request contained one or more invalid parameter "
        "values. (correlationId "))
        << error.message;
    EXPECT_EQ(statuses(seen(server)), (std::vector<long>{200, 400}));
}

TEST_F(EdfiApiClientTest, RefreshesTheTokenBeforeItExpires) {
    const EdfiServer server = start({"--token-ttl", "2"});
    ApiClient client(settings(server));
    value_of(client.get_json("data/v3/ed-fi/grades"));

    std::this_thread::sleep_for(1900ms); // past 90% of 2 s, before the expiry
    value_of(client.get_json("data/v3/ed-fi/grades"));

    EXPECT_EQ(client.token_fetches(), 2);
    const json requests = seen(server);
    EXPECT_EQ(statuses(requests), (std::vector<long>{200, 200, 200, 200}));
    ASSERT_EQ(requests.size(), 4u);
    EXPECT_EQ(requests[2]["path"], "/api/oauth/token");
}

TEST_F(EdfiApiClientTest, YearSpecificRoutes) {
    const EdfiServer server = start({"--year", "2025"});
    ApiClient client(settings(server));

    EXPECT_EQ(ids(value_of(client.get_json("data/v3/2025/ed-fi/grades"))),
              (std::vector<std::string>{"g1", "g2"}));
    const json versions =
        value_of(client.get_json("changeQueries/v1/2025/availableChangeVersions"));
    EXPECT_EQ(versions, (json{{"oldestChangeVersion", 0}, {"newestChangeVersion", 7}}));
    const ApiError error = error_of(client.get_json("data/v3/ed-fi/grades"));
    EXPECT_EQ(error.http_status, 404);
    EXPECT_EQ(error_of(client.get_json("changeQueries/v1/availableChangeVersions")).http_status,
              404);
}

TEST_F(EdfiApiClientTest, ABodyThatIsNotJsonIsAnError) {
    const EdfiServer server = start();
    control(server, "fail", {{"status", 200}, {"count", 1}, {"body", "<html>\r\nmaintenance"}});
    ApiClient client(settings(server));

    const ApiError error = error_of(client.get_json("data/v3/ed-fi/grades"));

    EXPECT_EQ(error.http_status, 200);
    EXPECT_EQ(error.message,
              "GET " + server.root() + "/data/v3/ed-fi/grades: not JSON: <html> maintenance");
}

TEST_F(EdfiApiClientTest, ATokenEndpointFailureIsRetried) {
    const EdfiServer server = start();
    control(server, "fail", {{"status", 502}, {"count", 1}, {"path_contains", "oauth"}});
    ApiClient client(settings(server));

    EXPECT_EQ(ids(value_of(client.get_json("data/v3/ed-fi/grades"))),
              (std::vector<std::string>{"g1", "g2"}));
    EXPECT_EQ(statuses(seen(server)), (std::vector<long>{502, 200, 200}));
    EXPECT_EQ(client.token_fetches(), 1);
}

TEST_F(EdfiApiClientTest, AServerThatIsDownIsRetriedThenAnError) {
    ApiSettings s;
    s.root_url = "http://127.0.0.1:" + std::to_string(ewsd::testing::closed_port()) + "/api";
    s.key = key;
    s.secret = secret;
    s.max_attempts = 2;
    s.backoff_initial = 10ms;
    ApiClient client(s);

    const ApiError error = error_of(client.get_json("data/v3/ed-fi/grades"));

    EXPECT_EQ(error.http_status, 0);
    EXPECT_FALSE(error.stopped);
    EXPECT_EQ(error.url, s.root_url + "/oauth/token");
    EXPECT_TRUE(error.message.starts_with("POST " + s.root_url + "/oauth/token: "))
        << error.message;
    EXPECT_TRUE(error.message.ends_with(" (after 2 attempts)")) << error.message;
    EXPECT_EQ(client.requests(), 2);
}

TEST(EdfiApiSettings, UnusableSettingsAreRejected) {
    ApiSettings s;
    s.root_url = "ods.example.org/api";
    s.key = "k";
    s.secret = "very-secret";
    EXPECT_THROW(ApiClient{s}, std::invalid_argument);
    s.root_url = "https://ods.example.org/api";
    s.secret.clear();
    EXPECT_THROW(ApiClient{s}, std::invalid_argument);
    s.secret = "very-secret";
    s.max_attempts = 0;
    EXPECT_THROW(ApiClient{s}, std::invalid_argument);
    s.max_attempts = 1;
    EXPECT_NO_THROW(ApiClient{s});
}

// ---- the fake ODS/API itself ----

TEST_F(EdfiApiClientTest, ServerChangeVersionsDeletesAndFilters) {
    const EdfiServer server = start();
    ApiClient client(settings(server));
    // grades.json comes first: g1, g2 are 1 and 2; s1..s5 are 3..7.
    EXPECT_EQ(value_of(client.get_json("changeQueries/v1/availableChangeVersions")),
              (json{{"oldestChangeVersion", 0}, {"newestChangeVersion", 7}}));

    EXPECT_EQ(control(server, "upsert/students",
                      {{"id", "s2"}, {"studentUniqueId", "604822"}, {"firstName", "Benedict"}}),
              (json{{"changeVersion", 8}}));
    EXPECT_EQ(control(server, "upsert/students", {{"id", "s6"}, {"studentUniqueId", "604826"}}),
              (json{{"changeVersion", 9}}));
    EXPECT_EQ(control(server, "delete/students/s1"), (json{{"changeVersion", 10}}));

    const json all = value_of(client.get_json("data/v3/ed-fi/students"));
    EXPECT_EQ(ids(all), (std::vector<std::string>{"s2", "s3", "s4", "s5", "s6"})); // s2 in place
    EXPECT_EQ(all[0]["firstName"], "Benedict");
    EXPECT_FALSE(all[0].contains("changeVersion"));
    EXPECT_TRUE(all[0].contains("_lastModifiedDate"));
    EXPECT_EQ(ids(value_of(client.get_json("data/v3/ed-fi/students?minChangeVersion=8"))),
              (std::vector<std::string>{"s2", "s6"}));
    EXPECT_EQ(ids(value_of(
                  client.get_json("data/v3/ed-fi/students?minChangeVersion=4&maxChangeVersion=6"))),
              (std::vector<std::string>{"s3", "s4"}));
    EXPECT_EQ(value_of(client.get_json("data/v3/ed-fi/students/deletes")),
              json::parse(R"([{"id": "s1", "changeVersion": 10, "keyValues":
                  {"studentUniqueId": "604821", "firstName": "Ana", "schoolId": 255901}}])"));
    EXPECT_EQ(value_of(client.get_json("data/v3/ed-fi/students/deletes?minChangeVersion=11")),
              json::array());
    EXPECT_EQ(value_of(client.get_json("changeQueries/v1/availableChangeVersions")),
              (json{{"oldestChangeVersion", 0}, {"newestChangeVersion", 10}}));
    EXPECT_EQ(error_of(client.get_json("data/v3/ed-fi/sections")).http_status, 404);
}

TEST_F(EdfiApiClientTest, ServerTokensTotalCountAndProblems) {
    const EdfiServer server = start();
    const std::string token_url = server.root() + "/oauth/token";
    const std::string grant = "grant_type=client_credentials";

    EXPECT_EQ(http("POST", token_url, grant, key + ":nope").status, 401);
    const Answer wrong_grant = http("POST", token_url, "grant_type=password", key + ":" + secret);
    EXPECT_EQ(wrong_grant.status, 400);
    EXPECT_EQ(json::parse(wrong_grant.body), (json{{"error", "unsupported_grant_type"}}));
    const Answer issued = http("POST", token_url, grant, key + ":" + secret);
    ASSERT_EQ(issued.status, 200);
    const json token = json::parse(issued.body);
    EXPECT_EQ(token["expires_in"], 1800);
    EXPECT_EQ(token["token_type"], "bearer");

    const std::string students_url = server.root() + "/data/v3/ed-fi/students";
    const Answer anonymous = http("GET", students_url);
    EXPECT_EQ(anonymous.status, 401);
    EXPECT_EQ(json::parse(anonymous.body)["status"], 401);
    const Answer counted = http("GET", students_url + "?limit=2&totalCount=true", "", "",
                                token["access_token"].get<std::string>());
    EXPECT_EQ(counted.status, 200);
    EXPECT_NE(counted.headers.find("Total-Count: 5\r\n"), std::string::npos) << counted.headers;
    EXPECT_EQ(json::parse(counted.body).size(), 2u);
    const Answer negative =
        http("GET", students_url + "?offset=-1", "", "", token["access_token"].get<std::string>());
    EXPECT_EQ(negative.status, 400);
    EXPECT_EQ(json::parse(negative.body)["type"], "urn:ed-fi:api:bad-request:parameter");
}

TEST_F(EdfiApiClientTest, ServerFailEveryAndLog) {
    const auto log = dir / "requests.jsonl";
    const EdfiServer server = start({"--fail-every", "3", "--log", log.string()});
    ApiSettings s = settings(server);
    s.max_attempts = 1;
    ApiClient client(s);

    std::vector<long> got;
    for (int i = 0; i < 4; ++i) {
        const ApiResult result = client.get_json("data/v3/ed-fi/grades");
        const auto* error = std::get_if<ApiError>(&result);
        got.push_back(error ? error->http_status : 200);
    }

    EXPECT_EQ(got, (std::vector<long>{200, 200, 503, 200}));
    const std::string lines = ewsd::testing::read_file(log);
    EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 5); // the token, four GETs
    EXPECT_NE(lines.find(R"("status": 503)"), std::string::npos) << lines;
}

} // namespace
} // namespace ewsd::connectors::edfi
