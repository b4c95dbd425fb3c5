#include "connectors/webhook/webhook.hpp"

#include "connectors/http_text.hpp"
#include "ewsd/version.hpp"
#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <curl/curl.h>
#include <memory>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdexcept>
#include <string_view>

namespace ewsd::connectors::webhook {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view secret_prefix = "whsec_";
// Enough of a response body for an error message; the rest is read and dropped.
constexpr std::size_t max_captured_body = 4096;
// A Retry-After beyond this is treated as this, so callers can add it to a time safely.
constexpr std::chrono::seconds max_retry_after = std::chrono::hours(24 * 365);

// ---- base64 and HMAC ----

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

// Standard alphabet. Padding is optional (secrets are often pasted without it)
// but, when present, only at the end and only as much as the length needs.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
    std::size_t padding = 0;
    while (!text.empty() && text.back() == '=') {
        text.remove_suffix(1);
        ++padding;
    }
    if (padding > 2 || (padding > 0 && (text.size() + padding) % 4 != 0) || text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::vector<std::uint8_t> out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t bits = 0;
    int count = 0;
    for (const char c : text) {
        const int value = base64_value(c);
        if (value < 0) {
            return std::nullopt;
        }
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out.push_back(static_cast<std::uint8_t>((bits >> count) & 0xFF));
        }
    }
    return out;
}

std::string sign_with_key(const std::vector<std::uint8_t>& key, const std::string& msg_id,
                          std::int64_t timestamp, const std::string& body) {
    const std::string content = msg_id + "." + std::to_string(timestamp) + "." + body;
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac.data(),
             &length) == nullptr) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    return "v1," +
           util::base64(std::string_view(reinterpret_cast<const char*>(mac.data()), length));
}

// ---- HTTP-date (RFC 9110 section 5.6.7) ----

std::optional<int> parse_digits(std::string_view text, std::size_t min_len, std::size_t max_len) {
    if (text.size() < min_len || text.size() > max_len ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    int value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

std::optional<unsigned> parse_month(std::string_view text) {
    static constexpr std::array<std::string_view, 12> names = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto it = std::find(names.begin(), names.end(), text);
    if (it == names.end()) {
        return std::nullopt;
    }
    return static_cast<unsigned>(it - names.begin() + 1);
}

std::vector<std::string_view> split_spaces(std::string_view text) {
    std::vector<std::string_view> tokens;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t start = text.find_first_not_of(' ', pos);
        if (start == std::string_view::npos) {
            break;
        }
        const std::size_t end = std::min(text.find(' ', start), text.size());
        tokens.push_back(text.substr(start, end - start));
        pos = end;
    }
    return tokens;
}

struct DateParts {
    int year = 0;
    std::string_view month;
    std::string_view day;
    std::string_view time;
};

std::optional<std::chrono::sys_seconds> to_time(const DateParts& parts) {
    const auto month = parse_month(parts.month);
    const auto day = parse_digits(parts.day, 1, 2);
    const std::string_view t = parts.time;
    if (!month || !day || t.size() != 8 || t[2] != ':' || t[5] != ':') {
        return std::nullopt;
    }
    const auto hh = parse_digits(t.substr(0, 2), 2, 2);
    const auto mm = parse_digits(t.substr(3, 2), 2, 2);
    const auto ss = parse_digits(t.substr(6, 2), 2, 2);
    const std::chrono::year_month_day ymd{std::chrono::year{parts.year}, std::chrono::month{*month},
                                          std::chrono::day{static_cast<unsigned>(*day)}};
    if (!hh || !mm || !ss || *hh > 23 || *mm > 59 || *ss > 60 || !ymd.ok()) {
        return std::nullopt;
    }
    return std::chrono::sys_days(ymd) + std::chrono::hours(*hh) + std::chrono::minutes(*mm) +
           std::chrono::seconds(*ss);
}

// IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT"
// and asctime "Sun Nov  6 08:49:37 1994": a recipient must accept all three.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view text,
                                                        std::chrono::system_clock::time_point now) {
    const auto tokens = split_spaces(text);
    if (tokens.size() == 6 && tokens[0].ends_with(',') && tokens[5] == "GMT") {
        const auto year = parse_digits(tokens[3], 4, 4);
        if (!year || tokens[1].size() != 2) {
            return std::nullopt;
        }
        return to_time({*year, tokens[2], tokens[1], tokens[4]});
    }
    if (tokens.size() == 4 && tokens[0].ends_with(',') && tokens[3] == "GMT") {
        const std::string_view date = tokens[1]; // 06-Nov-94
        const auto yy = date.size() == 9 && date[2] == '-' && date[6] == '-'
                            ? parse_digits(date.substr(7), 2, 2)
                            : std::nullopt;
        if (!yy) {
            return std::nullopt;
        }
        // Two-digit years more than 50 years ahead are in the past century.
        const int this_year = static_cast<int>(
            std::chrono::year_month_day(std::chrono::floor<std::chrono::days>(now)).year());
        int year = this_year / 100 * 100 + *yy;
        if (year > this_year + 50) {
            year -= 100;
        }
        return to_time({year, date.substr(3, 3), date.substr(0, 2), tokens[2]});
    }
    if (tokens.size() == 5) {
        const auto year = parse_digits(tokens[4], 4, 4);
        if (!year) {
            return std::nullopt;
        }
        return to_time({*year, tokens[1], tokens[2], tokens[3]});
    }
    return std::nullopt;
}

// ---- URLs ----

struct UrlParts {
    std::string scheme; // lower case
    std::string host_port;
    std::string path;
};

std::optional<UrlParts> split_url(const std::string& url) {
    UrlParts parts;
    if (iequals_prefix(url, "https://")) {
        parts.scheme = "https";
    } else if (iequals_prefix(url, "http://")) {
        parts.scheme = "http";
    } else {
        return std::nullopt;
    }
    const std::string_view rest = std::string_view(url).substr(parts.scheme.size() + 3);
    const std::size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
    std::string_view authority = rest.substr(0, authority_end);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        authority.remove_prefix(at + 1);
    }
    const std::string_view tail = rest.substr(authority_end);
    parts.host_port = authority;
    parts.path = tail.substr(0, std::min(tail.find_first_of("?#"), tail.size()));
    return parts;
}

// ---- libcurl ----

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using CurlHeaders = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

struct Response {
    std::string body; // at most max_captured_body bytes
    std::string retry_after;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* response = static_cast<Response*>(user);
    const std::size_t n = size * count;
    const std::size_t room = max_captured_body - std::min(max_captured_body, response->body.size());
    response->body.append(data, std::min(n, room));
    return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* response = static_cast<Response*>(user);
    const std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
        response->retry_after.clear(); // a new response (after a 100 Continue)
    } else if (iequals_prefix(line, "retry-after:")) {
        response->retry_after = util::trim(line.substr(12));
    }
    return size * count;
}

CurlHeaders request_headers(const std::string& msg_id, std::int64_t timestamp,
                            const std::string& signature) {
    curl_slist* list = nullptr;
    for (const std::string& h :
         {std::string("Content-Type: application/json"), "webhook-id: " + msg_id,
          "webhook-timestamp: " + std::to_string(timestamp), "webhook-signature: " + signature,
          // No "Expect: 100-continue" round trip for larger bodies.
          std::string("Expect:")}) {
        curl_slist* next = curl_slist_append(list, h.c_str());
        if (next == nullptr) {
            curl_slist_free_all(list);
            throw std::bad_alloc();
        }
        list = next;
    }
    return {list, &curl_slist_free_all};
}

DeliveryResult from_status(long status, const Response& response,
                           const std::vector<std::string>& redactions) {
    const std::string text = excerpt(response.body, redactions);
    DeliveryResult result;
    result.detail = "HTTP " + std::to_string(status);
    if (status >= 300 && status < 400) {
        result.status = DeliveryStatus::failed_permanently;
        result.detail += ": the endpoint redirects; webhooks do not follow redirects, so configure "
                         "the final URL";
        return result;
    }
    if (!text.empty()) {
        result.detail += ": " + text;
    }
    if (status >= 200 && status < 300) {
        result.status = DeliveryStatus::delivered;
    } else if (status == 410) {
        result.status = DeliveryStatus::endpoint_gone;
    } else if (status == 408 || status == 429 || status >= 500) {
        result.status = DeliveryStatus::retry_later;
        if (!response.retry_after.empty()) {
            result.retry_after =
                parse_retry_after(response.retry_after, std::chrono::system_clock::now());
        }
    } else if (status >= 400) {
        result.status = DeliveryStatus::failed_permanently;
    } else {
        result.status = DeliveryStatus::retry_later; // 1xx as a final answer: a broken server
    }
    return result;
}

DeliveryResult from_curl_error(CURLcode code, const char* error_buffer) {
    std::string message = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    std::replace_if(
        message.begin(), message.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    DeliveryResult result;
    // A URL libcurl cannot use will not get better by retrying; everything else
    // (DNS, refused, reset, timeout, TLS) may.
    result.status = code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL
                        ? DeliveryStatus::failed_permanently
                        : DeliveryStatus::retry_later;
    result.detail = "POST failed: " + std::string(util::trim(message));
    return result;
}

// Printable ASCII without spaces: it goes into a header line as is.
bool valid_message_id(const std::string& id) {
    return !id.empty() &&
           std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

void set_options(CURL* curl, const WebhookSettings& settings, const std::string& body,
                 curl_slist* headers, Response& response, char* error_buffer) {
    const auto ms = [](std::chrono::seconds s) {
        return static_cast<long>(std::chrono::milliseconds(s).count());
    };
    curl_easy_setopt(curl, CURLOPT_URL, settings.url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, ms(settings.connect_timeout));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, ms(settings.timeout));
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    static const std::string user_agent = std::string("ewsd/") + ewsd::version;
    curl_easy_setopt(curl, CURLOPT_USERAGENT, user_agent.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    abort_when_cancelled(curl);
    if (!settings.ca_file.empty()) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, settings.ca_file.c_str());
    }
}

} // namespace

std::vector<std::uint8_t> decode_secret(const std::string& secret) {
    if (!secret.starts_with(secret_prefix)) {
        throw std::invalid_argument("webhook secret must start with 'whsec_' followed by base64");
    }
    auto key = base64_decode(std::string_view(secret).substr(secret_prefix.size()));
    if (!key) {
        throw std::invalid_argument("webhook secret is not valid base64 after 'whsec_'");
    }
    if (key->empty()) {
        throw std::invalid_argument("webhook secret has an empty key after 'whsec_'");
    }
    return std::move(*key);
}

std::string sign(const std::string& secret, const std::string& msg_id, std::int64_t timestamp,
                 const std::string& body) {
    return sign_with_key(decode_secret(secret), msg_id, timestamp, body);
}

std::string signature_header(const std::vector<std::string>& secrets, const std::string& msg_id,
                             std::int64_t timestamp, const std::string& body) {
    if (secrets.empty()) {
        throw std::invalid_argument("no webhook secret to sign with");
    }
    std::string header;
    for (const std::string& secret : secrets) {
        if (!header.empty()) {
            header += ' ';
        }
        header += sign(secret, msg_id, timestamp, body);
    }
    return header;
}

std::optional<std::chrono::seconds> parse_retry_after(const std::string& value,
                                                      std::chrono::system_clock::time_point now) {
    const std::string_view text = util::trim(value);
    if (text.empty()) {
        return std::nullopt;
    }
    if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        std::int64_t seconds = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
        if (ec == std::errc::result_out_of_range || seconds > max_retry_after.count()) {
            return max_retry_after;
        }
        return std::chrono::seconds(seconds);
    }
    const auto date = parse_http_date(text, now);
    if (!date) {
        return std::nullopt;
    }
    if (*date <= now) {
        return 0s;
    }
    return std::min(std::chrono::ceil<std::chrono::seconds>(*date - now), max_retry_after);
}

WebhookSender::WebhookSender(WebhookSettings settings) : m_settings(std::move(settings)) {
    ensure_curl_initialized();
    const auto url = split_url(m_settings.url);
    if (!url) {
        throw std::invalid_argument("webhook URL must start with http:// or https://");
    }
    if (url->host_port.empty()) {
        throw std::invalid_argument("webhook URL " + describe() + " has no host");
    }
    if (std::any_of(m_settings.url.begin(), m_settings.url.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
        throw std::invalid_argument("webhook URL " + describe() +
                                    " contains spaces or control characters");
    }
    if (m_settings.secrets.empty()) {
        throw std::invalid_argument("webhook " + describe() + ": no signing secret");
    }
    for (std::size_t i = 0; i < m_settings.secrets.size(); ++i) {
        try {
            m_keys.push_back(decode_secret(m_settings.secrets[i]));
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(
                "webhook " + describe() + ": secret " + std::to_string(i + 1) + " of " +
                std::to_string(m_settings.secrets.size()) + ": " + e.what());
        }
    }
}

DeliveryResult WebhookSender::post(const std::string& msg_id, std::int64_t timestamp,
                                   const std::string& body) const {
    if (!valid_message_id(msg_id)) {
        return {DeliveryStatus::failed_permanently,
                "invalid message id (empty, or not printable ASCII without spaces)", std::nullopt};
    }
    std::string signature;
    std::vector<std::string> redactions = m_settings.secrets;
    for (const auto& key : m_keys) {
        std::string one = sign_with_key(key, msg_id, timestamp, body);
        redactions.push_back(one.substr(3)); // the base64 part
        signature += (signature.empty() ? "" : " ") + one;
    }
    for (const std::string& secret : m_settings.secrets) {
        redactions.push_back(secret.substr(secret_prefix.size()));
    }

    CurlHandle curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl) {
        return {DeliveryStatus::retry_later, "cannot create a libcurl handle", std::nullopt};
    }
    const CurlHeaders headers = request_headers(msg_id, timestamp, signature);
    Response response;
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    set_options(curl.get(), m_settings, body, headers.get(), response, error_buffer.data());
    const CURLcode code = curl_easy_perform(curl.get());
    if (code != CURLE_OK) {
        return from_curl_error(code, error_buffer.data());
    }
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    return from_status(status, response, redactions);
}

std::string WebhookSender::describe() const {
    const auto url = split_url(m_settings.url);
    if (!url) {
        return "(invalid URL)";
    }
    return url->scheme + "://" + url->host_port + url->path;
}

} // namespace ewsd::connectors::webhook
