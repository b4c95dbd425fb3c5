#pragma once
// An Ed-Fi ODS/API client: OAuth client credentials, GET of JSON with retries.
// One libcurl handle, kept alive between requests; not thread-safe (one feed,
// one client). Errors never contain the secret, the token or the
// Authorization header.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>

namespace ewsd::connectors::edfi {

struct ApiSettings {
    std::string root_url; // e.g. "https://ods.example.org/api"; a trailing / is fine
    std::string token_path = "oauth/token"; // below root_url, or a full http(s):// URL
    std::string key;
    std::string secret; // never logged, never in an error message
    std::chrono::seconds connect_timeout{10};
    std::chrono::seconds request_timeout{120};
    // Per request; 429, 500, 502, 503, 504, timeouts and connection errors are retried.
    int max_attempts = 5;
    std::chrono::milliseconds backoff_initial{1000};
    std::chrono::milliseconds backoff_max{60000}; // also caps Retry-After
    // Set when ewsd is stopping: waits and transfers are cut short.
    const std::atomic<bool>* stop = nullptr;
};

struct ApiError {
    std::string url;      // without credentials or tokens
    long http_status = 0; // 0: no HTTP answer (network error, timeout, stopped)
    bool stopped = false;
    // One line: "GET <url>: HTTP 500 Internal Server Error: <body excerpt> (after 5 attempts)".
    std::string message;
};

using ApiResult = std::variant<nlohmann::json, ApiError>;

class ApiClient {
public:
    // Throws std::invalid_argument for settings that cannot work (no http(s)
    // root URL, no key or secret, max_attempts < 1).
    explicit ApiClient(ApiSettings settings);
    ~ApiClient();
    ApiClient(ApiClient&& other) noexcept;
    ApiClient& operator=(ApiClient&& other) noexcept;
    ApiClient(const ApiClient&) = delete;
    ApiClient& operator=(const ApiClient&) = delete;

    // GET <root_url>/<path_and_query>: a 200 with a JSON body is the parsed
    // JSON; anything else an ApiError. Fetches a token first, refreshes it
    // before it expires (at 90% of expires_in, at most 60 s early), and once
    // more when a request answers 401, repeating that request once.
    ApiResult get_json(const std::string& path_and_query);

    // HTTP requests sent (every attempt, token requests included) and tokens
    // obtained. Safe to read from another thread.
    [[nodiscard]] std::int64_t requests() const;
    [[nodiscard]] std::int64_t token_fetches() const;

private:
    struct State;
    std::unique_ptr<State> m_state;
};

} // namespace ewsd::connectors::edfi
