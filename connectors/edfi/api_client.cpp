#include "connectors/edfi/api_client.hpp"

#include "connectors/delivery.hpp"
#include "connectors/http_text.hpp"
#include "connectors/webhook/webhook.hpp"
#include "ewsd/version.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <curl/curl.h>
#include <optional>
#include <random>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

namespace ewsd::connectors::edfi {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A page of 500 large records is a few MiB; anything near this is not a page.
constexpr std::size_t max_body = 256U << 20U;
// How often a wait checks the stop flag.
constexpr auto wait_slice = 50ms;
// The token is renewed this far ahead of its expiry at most...
constexpr std::chrono::seconds max_refresh_margin = 60s;
// ... and at 90% of its lifetime for short-lived tokens.
constexpr double refresh_fraction = 0.9;
constexpr double jitter = 0.1;
constexpr const char* stopped_message = "stopped: ewsd is shutting down";

// ---- text ----

// The ODS/API answers errors with RFC 9457 problem details, the useful part
// (which parameter, which value) last, in "errors" or "validationErrors": put
// that first so that it survives the cut. Any other body is quoted as is.
std::string problem_summary(const std::string& body) {
    const auto problem = nlohmann::json::parse(body, nullptr, false);
    if (!problem.is_object() || !problem.contains("detail") || !problem["detail"].is_string()) {
        return body;
    }
    std::string text;
    const auto add = [&text](const nlohmann::json& item) {
        if (item.is_string()) {
            text += (text.empty() ? "" : " ") + item.get<std::string>();
        }
    };
    if (const auto errors = problem.find("errors"); errors != problem.end() && errors->is_array()) {
        std::for_each(errors->begin(), errors->end(), add);
    }
    if (const auto fields = problem.find("validationErrors");
        fields != problem.end() && fields->is_object()) {
        for (const auto& [field, messages] : fields->items()) {
            text += (text.empty() ? "" : " ") + field + ":";
            if (messages.is_array()) {
                std::for_each(messages.begin(), messages.end(), add);
            }
        }
    }
    add(problem["detail"]);
    if (const auto id = problem.find("correlationId"); id != problem.end() && id->is_string()) {
        text += " (correlationId " + id->get<std::string>() + ")";
    }
    return text;
}

std::string reason_phrase(long status) {
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "";
    }
}

std::string format_wait(std::chrono::milliseconds wait) {
    if (wait < 1s) {
        return std::to_string(wait.count()) + " ms";
    }
    const auto tenths = (wait.count() + 50) / 100;
    return std::to_string(tenths / 10) +
           (tenths % 10 != 0 ? "." + std::to_string(tenths % 10) : "") + " s";
}

// The URL as it may appear in messages: no user:password@.
std::string public_url(const std::string& url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos) {
        return url;
    }
    const auto authority = scheme_end + 3;
    const auto authority_end = std::min(url.find_first_of("/?#", authority), url.size());
    const auto at = url.rfind('@', authority_end);
    if (at == std::string::npos || at < authority) {
        return url;
    }
    return url.substr(0, authority) + url.substr(at + 1);
}

bool retryable_status(long status) {
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

// Everything else (DNS, refused, reset, timeout, TLS handshake) may pass.
bool retryable_curl_error(CURLcode code) {
    switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_WRITE_ERROR:
    case CURLE_OUT_OF_MEMORY:
        return false;
    default:
        return true;
    }
}

// ---- libcurl ----

struct Response {
    long status = 0;
    std::string reason;
    std::string body;
    std::string retry_after;
    bool too_large = false;

    [[nodiscard]] std::string status_text() const {
        const std::string phrase = reason.empty() ? reason_phrase(status) : reason;
        return "HTTP " + std::to_string(status) + (phrase.empty() ? "" : " " + phrase);
    }
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* response = static_cast<Response*>(user);
    const std::size_t n = size * count;
    if (response->body.size() + n > max_body) {
        response->too_large = true;
        return 0; // CURLE_WRITE_ERROR
    }
    response->body.append(data, n);
    return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* response = static_cast<Response*>(user);
    const std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
        // A new response (after a 100 Continue): "HTTP/1.1 503 Service Unavailable".
        response->retry_after.clear();
        const auto code = line.find(' ');
        const auto reason =
            code == std::string_view::npos ? std::string_view::npos : line.find(' ', code + 1);
        response->reason = reason == std::string_view::npos
                               ? ""
                               : std::string(util::trim(line.substr(reason + 1)));
    } else if (iequals_prefix(line, "retry-after:")) {
        response->retry_after = util::trim(line.substr(12));
    }
    return size * count;
}

int on_progress(void* user, curl_off_t /*dltotal*/, curl_off_t /*dlnow*/, curl_off_t /*ultotal*/,
                curl_off_t /*ulnow*/) {
    const auto* stop = static_cast<const std::atomic<bool>*>(user);
    return stop != nullptr && stop->load() ? 1 : 0;
}

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using CurlHeaders = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

CurlHeaders make_headers(const std::vector<std::string>& lines) {
    curl_slist* list = nullptr;
    for (const std::string& line : lines) {
        curl_slist* next = curl_slist_append(list, line.c_str());
        if (next == nullptr) {
            curl_slist_free_all(list);
            throw std::bad_alloc();
        }
        list = next;
    }
    return {list, &curl_slist_free_all};
}

struct Request {
    const char* method; // "GET" or "POST" (the token request)
    std::string url;
};

} // namespace

struct ApiClient::State {
    ApiSettings settings;
    std::string root; // without a trailing '/'
    std::string token_url;
    CurlHandle curl{nullptr, &curl_easy_cleanup};
    std::string token;
    Clock::time_point refresh_at = Clock::time_point::min();
    std::atomic<std::int64_t> requests{0};
    std::atomic<std::int64_t> token_fetches{0};
    std::mt19937 random{std::random_device{}()};
    std::array<char, CURL_ERROR_SIZE> error_buffer{};

    [[nodiscard]] bool stopping() const {
        return settings.stop != nullptr && settings.stop->load();
    }

    [[nodiscard]] static ApiError stopped(const std::string& url) {
        return {public_url(url), 0, true, stopped_message};
    }

    [[nodiscard]] std::vector<std::string> redactions() const {
        return {settings.secret, token, util::base64(settings.key + ":" + settings.secret)};
    }

    [[nodiscard]] ApiError http_error(const Request& request, const Response& response,
                                      const std::string& note = "") const {
        std::string message = std::string(request.method) + " " + public_url(request.url) + ": " +
                              response.status_text();
        const std::string text = excerpt(problem_summary(response.body), redactions());
        if (!text.empty()) {
            message += ": " + text;
        }
        if (!note.empty()) {
            message += " (" + note + ")";
        }
        return {public_url(request.url), response.status, false, message};
    }

    // One HTTP exchange: the response, or libcurl's error code and message.
    CURLcode perform_once(const Request& request, Response& response, std::string& error) {
        CURL* handle = curl.get();
        // Keeps the live connection (and DNS and TLS session caches) for the next request.
        curl_easy_reset(handle);
        const auto ms = [](auto d) {
            return static_cast<long>(
                std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
        };
        curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
#else
        curl_easy_setopt(handle, CURLOPT_PROTOCOLS,
                         static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, ms(settings.connect_timeout));
        curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, ms(settings.request_timeout));
        curl_easy_setopt(handle, CURLOPT_ACCEPT_ENCODING, ""); // whatever libcurl can decode
        static const std::string user_agent = std::string("ewsd/") + ewsd::version;
        curl_easy_setopt(handle, CURLOPT_USERAGENT, user_agent.c_str());
        curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &on_body);
        curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response);
        curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &on_header);
        curl_easy_setopt(handle, CURLOPT_HEADERDATA, &response);
        error_buffer[0] = '\0';
        curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer.data());
        curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, &on_progress);
        curl_easy_setopt(handle, CURLOPT_XFERINFODATA, settings.stop);

        std::vector<std::string> lines = {"Accept: application/json"};
        if (std::string_view(request.method) == "POST") {
            // RFC 6749 section 4.4: client credentials, the client authenticated by HTTP Basic.
            curl_easy_setopt(handle, CURLOPT_POSTFIELDS, "grant_type=client_credentials");
            curl_easy_setopt(handle, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
            curl_easy_setopt(handle, CURLOPT_USERNAME, settings.key.c_str());
            curl_easy_setopt(handle, CURLOPT_PASSWORD, settings.secret.c_str());
            lines.emplace_back("Expect:");
        } else {
            curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
            lines.push_back("Authorization: Bearer " + token);
        }
        const CurlHeaders headers = make_headers(lines);
        curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());

        ++requests;
        const CURLcode code = curl_easy_perform(handle);
        curl_easy_setopt(handle, CURLOPT_HTTPHEADER, nullptr);
        if (code == CURLE_OK) {
            curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
        } else {
            std::string text = error_buffer[0] != '\0' ? error_buffer.data() : "";
            error = text.empty() ? curl_easy_strerror(code) : std::string(util::trim(text));
            std::replace_if(
                error.begin(), error.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
        }
        return code;
    }

    [[nodiscard]] std::chrono::milliseconds backoff(int attempt) {
        const double base = static_cast<double>(settings.backoff_initial.count()) *
                            std::pow(2.0, std::min(attempt - 1, 30));
        std::uniform_real_distribution<double> spread(1.0 - jitter, 1.0 + jitter);
        const double capped =
            std::min(base * spread(random), static_cast<double>(settings.backoff_max.count()));
        return std::chrono::milliseconds(static_cast<std::int64_t>(capped));
    }

    // Sleeps in slices; false when stopped meanwhile.
    [[nodiscard]] bool pause(std::chrono::milliseconds wait) const {
        const auto deadline = Clock::now() + wait;
        while (!stopping()) {
            const auto now = Clock::now();
            if (now >= deadline) {
                return true;
            }
            std::this_thread::sleep_for(std::min<Clock::duration>(wait_slice, deadline - now));
        }
        return false;
    }

    // The request, repeated while the answer is one that may pass (429, 5xx,
    // timeouts, connection errors). Any HTTP answer other than those is returned.
    std::variant<Response, ApiError> perform(const Request& request) {
        const std::string url = public_url(request.url);
        const std::string what = std::string(request.method) + " " + url;
        for (int attempt = 1;; ++attempt) {
            if (stopping()) {
                return stopped(request.url);
            }
            Response response;
            std::string curl_error;
            const CURLcode code = perform_once(request, response, curl_error);
            std::string problem;
            std::optional<std::chrono::milliseconds> retry_after;
            if (code == CURLE_ABORTED_BY_CALLBACK && stopping()) {
                return stopped(request.url);
            }
            if (response.too_large) {
                return ApiError{url, 0, false,
                                what + ": the response is larger than " +
                                    std::to_string(max_body >> 20) + " MiB"};
            }
            if (code != CURLE_OK) {
                problem = curl_error;
                if (!retryable_curl_error(code)) {
                    return ApiError{url, 0, false, what + ": " + problem};
                }
            } else if (!retryable_status(response.status)) {
                return response;
            } else {
                problem = response.status_text();
                if (const auto after = webhook::parse_retry_after(
                        response.retry_after, std::chrono::system_clock::now())) {
                    retry_after = std::min<std::chrono::milliseconds>(*after, settings.backoff_max);
                }
            }
            if (attempt >= settings.max_attempts) {
                ApiError error = code == CURLE_OK ? http_error(request, response)
                                                  : ApiError{url, 0, false, what + ": " + problem};
                if (attempt > 1) {
                    error.message += " (after " + std::to_string(attempt) + " attempts)";
                }
                return error;
            }
            // The server's Retry-After replaces our own backoff.
            const auto wait = retry_after ? *retry_after : backoff(attempt);
            util::log::warning("ed-fi: " + what + ": " + problem + "; retrying in " +
                               format_wait(wait) + " (attempt " + std::to_string(attempt + 1) +
                               " of " + std::to_string(settings.max_attempts) + ")");
            if (!pause(wait)) {
                return stopped(request.url);
            }
        }
    }

    std::optional<ApiError> fetch_token() {
        token.clear();
        const Request request{"POST", token_url};
        const auto started = Clock::now();
        auto outcome = perform(request);
        if (auto* error = std::get_if<ApiError>(&outcome)) {
            return std::move(*error);
        }
        const Response& response = std::get<Response>(outcome);
        const std::string url = public_url(token_url);
        const bool refused =
            response.status == 401 || response.status == 403 ||
            (response.status == 400 && response.body.find("invalid_client") != std::string::npos);
        if (refused) {
            std::string message = "POST " + url + ": the Ed-Fi API refused the key and secret (" +
                                  response.status_text();
            if (const std::string text = excerpt(response.body, redactions()); !text.empty()) {
                message += ": " + text;
            }
            return ApiError{url, response.status, false, message + ")"};
        }
        if (response.status != 200) {
            return http_error(request, response, "the token request failed");
        }
        // The body holds the token: never quoted in a message.
        const auto body = nlohmann::json::parse(response.body, nullptr, false);
        const auto access_token = body.is_object() ? body.find("access_token") : body.end();
        if (body.is_discarded() || !body.is_object() || access_token == body.end() ||
            !access_token->is_string() || access_token->get<std::string>().empty()) {
            return ApiError{url, response.status, false,
                            "POST " + url + ": the token response has no access_token"};
        }
        token = access_token->get<std::string>();
        refresh_at = Clock::time_point::max(); // no expires_in: renewed after a 401
        if (const auto expires = body.find("expires_in");
            expires != body.end() && expires->is_number() && expires->get<double>() > 0) {
            // A day at most, so that the arithmetic below cannot overflow.
            const std::chrono::duration<double> lifetime(std::min(expires->get<double>(), 86400.0));
            const auto early = std::min<std::chrono::duration<double>>(
                lifetime * (1.0 - refresh_fraction), max_refresh_margin);
            refresh_at = started + std::chrono::duration_cast<Clock::duration>(lifetime - early);
        }
        ++token_fetches;
        return std::nullopt;
    }

    ApiResult get(const std::string& url) {
        if (stopping()) {
            return stopped(url);
        }
        if (token.empty() || Clock::now() >= refresh_at) {
            if (auto error = fetch_token()) {
                return std::move(*error);
            }
        }
        const Request request{"GET", url};
        auto outcome = perform(request);
        const auto unauthorized = [&outcome] {
            const auto* response = std::get_if<Response>(&outcome);
            return response != nullptr && response->status == 401;
        };
        if (unauthorized()) {
            // Revoked or expired early (a restarted ODS): one new token, one more try.
            if (auto error = fetch_token()) {
                return std::move(*error);
            }
            outcome = perform(request);
            if (unauthorized()) {
                return http_error(request, std::get<Response>(outcome), "with a fresh token");
            }
        }
        if (auto* error = std::get_if<ApiError>(&outcome)) {
            return std::move(*error);
        }
        const Response& response = std::get<Response>(outcome);
        if (response.status != 200) {
            return http_error(request, response);
        }
        auto json = nlohmann::json::parse(response.body, nullptr, false);
        if (json.is_discarded()) {
            const std::string text = excerpt(response.body, redactions());
            return ApiError{public_url(url), response.status, false,
                            "GET " + public_url(url) + ": not JSON: " + text};
        }
        return json;
    }
};

ApiClient::ApiClient(ApiSettings settings) : m_state(std::make_unique<State>()) {
    State& s = *m_state;
    s.settings = std::move(settings);
    const std::string& root = s.settings.root_url;
    if (!iequals_prefix(root, "https://") && !iequals_prefix(root, "http://")) {
        throw std::invalid_argument("Ed-Fi API URL '" + public_url(root) +
                                    "' must start with https:// or http://");
    }
    if (s.settings.key.empty() || s.settings.secret.empty()) {
        throw std::invalid_argument("Ed-Fi API " + public_url(root) +
                                    ": a key and a secret are required");
    }
    if (s.settings.max_attempts < 1) {
        throw std::invalid_argument("Ed-Fi API: max_attempts must be at least 1");
    }
    s.root = root;
    while (!s.root.empty() && s.root.back() == '/') {
        s.root.pop_back();
    }
    const std::string& token_path = s.settings.token_path;
    if (iequals_prefix(token_path, "https://") || iequals_prefix(token_path, "http://")) {
        s.token_url = token_path;
    } else {
        s.token_url =
            s.root + "/" +
            token_path.substr(std::min(token_path.find_first_not_of('/'), token_path.size()));
    }
    ensure_curl_initialized();
    s.curl.reset(curl_easy_init());
    if (!s.curl) {
        throw std::runtime_error("cannot create a libcurl handle");
    }
}

ApiClient::~ApiClient() = default;
ApiClient::ApiClient(ApiClient&& other) noexcept = default;
ApiClient& ApiClient::operator=(ApiClient&& other) noexcept = default;

ApiResult ApiClient::get_json(const std::string& path_and_query) {
    const auto start = std::min(path_and_query.find_first_not_of('/'), path_and_query.size());
    return m_state->get(m_state->root + "/" + path_and_query.substr(start));
}

std::int64_t ApiClient::requests() const {
    return m_state->requests.load();
}

std::int64_t ApiClient::token_fetches() const {
    return m_state->token_fetches.load();
}

} // namespace ewsd::connectors::edfi
