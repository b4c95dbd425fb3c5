#include "connectors/email/smtp.hpp"

#include "util/text.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <curl/curl.h>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace ewsd::connectors::email {
namespace {

struct CurlCleanup {
    void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistCleanup {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct Upload {
    std::string_view data;
    std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* userdata) {
    auto* upload = static_cast<Upload*>(userdata);
    const std::size_t n = std::min(size * count, upload->data.size() - upload->offset);
    std::memcpy(buffer, upload->data.data() + upload->offset, n);
    upload->offset += n;
    return n;
}

// libcurl hands every SMTP reply line to the header callback.
std::size_t record_reply(char* buffer, std::size_t size, std::size_t count, void* userdata) {
    std::string_view line(buffer, size * count);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) {
        line.remove_suffix(1);
    }
    if (!line.empty()) {
        static_cast<std::vector<std::string>*>(userdata)->emplace_back(line);
    }
    return size * count;
}

// The last reply line with the code that decided the outcome (after a failure
// curl still sends QUIT, whose "221 Bye" is not the interesting one).
std::string deciding_reply(const std::vector<std::string>& replies, long code) {
    const std::string prefix = std::to_string(code);
    for (auto it = replies.rbegin(); it != replies.rend(); ++it) {
        if (it->starts_with(prefix)) {
            return *it;
        }
    }
    return replies.empty() ? std::string() : replies.back();
}

// The name we give in EHLO; curl would say "localhost", which some relays refuse.
std::string ehlo_name() {
    std::array<char, 256> name{};
    if (gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') {
        return "localhost";
    }
    const std::string_view text(name.data());
    const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.';
    });
    return plain ? std::string(text) : "localhost";
}

std::vector<std::string> envelope_recipients(const EmailMessage& message) {
    std::vector<std::string> recipients;
    for (const auto* list : {&message.to, &message.cc}) {
        for (const auto& address : *list) {
            const bool seen = std::any_of(recipients.begin(), recipients.end(),
                                          [&](const auto& r) { return util::iequals(r, address); });
            if (!seen) {
                recipients.push_back(address);
            }
        }
    }
    return recipients;
}

DeliveryResult classify(CURLcode code, long reply_code, const std::string& reply,
                        const std::string& error) {
    using enum DeliveryStatus;
    if (code == CURLE_OK) {
        return {delivered, reply.empty() ? "accepted" : reply, std::nullopt};
    }
    switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
        return {retry_later, "certificate verify failed: " + error, std::nullopt};
    case CURLE_SSL_CONNECT_ERROR:
        return {retry_later, "TLS handshake failed: " + error, std::nullopt};
    case CURLE_OPERATION_TIMEDOUT:
        return {retry_later, "timed out: " + error, std::nullopt};
    case CURLE_ABORTED_BY_CALLBACK:
        return {retry_later, "cut short: ewsd is stopping", std::nullopt};
    case CURLE_USE_SSL_FAILED:
        return {retry_later, "STARTTLS required but not available: " + error, std::nullopt};
    case CURLE_LOGIN_DENIED:
        return {retry_later, "authentication failed: " + (reply.empty() ? error : reply),
                std::nullopt};
    default:
        break;
    }
    // RFC 4954's refusals of the sender (auth required, too weak, invalid,
    // encryption required): a configuration problem, not this message's.
    if (reply_code == 530 || reply_code == 534 || reply_code == 535 || reply_code == 538) {
        return {retry_later,
                "sender refused (check credentials and TLS): " + reply + " (" + error + ")",
                std::nullopt};
    }
    if (reply_code >= 500 && reply_code < 600) {
        return {failed_permanently, reply + " (" + error + ")", std::nullopt};
    }
    if (reply_code >= 400 && reply_code < 500) {
        return {retry_later, reply + " (" + error + ")", std::nullopt};
    }
    return {retry_later, error, std::nullopt};
}

std::string server_url(const SmtpSettings& settings) {
    const bool ipv6 = settings.host.find(':') != std::string::npos;
    return (settings.tls == SmtpTls::implicit ? "smtps://" : "smtp://") +
           (ipv6 ? "[" + settings.host + "]" : settings.host) + ":" + std::to_string(settings.port);
}

std::string redacted(std::string text, const std::string& secret) {
    if (secret.empty()) {
        return text;
    }
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + 3)) {
        text.replace(pos, secret.size(), "***");
    }
    return text;
}

} // namespace

const char* to_string(SmtpTls tls) {
    switch (tls) {
    case SmtpTls::starttls:
        return "starttls";
    case SmtpTls::implicit:
        return "implicit";
    case SmtpTls::none:
        return "none";
    }
    return "?";
}

SmtpSender::SmtpSender(SmtpSettings settings) : m_settings(std::move(settings)) {
    const auto& host = m_settings.host;
    if (host.empty() || host.find_first_of(" \t\r\n/@?#") != std::string::npos) {
        throw std::invalid_argument("smtp: invalid host '" + host + "'");
    }
    if (m_settings.port < 1 || m_settings.port > 65535) {
        throw std::invalid_argument("smtp: invalid port " + std::to_string(m_settings.port));
    }
    if (m_settings.connect_timeout.count() <= 0 || m_settings.timeout.count() <= 0) {
        throw std::invalid_argument("smtp: timeouts must be positive");
    }
    m_envelope_from = envelope_address(m_settings.from);
    ensure_curl_initialized(); // fails at start-up rather than at the first send
}

std::string SmtpSender::describe() const {
    std::string text = server_url(m_settings);
    text += m_settings.tls == SmtpTls::starttls   ? " starttls"
            : m_settings.tls == SmtpTls::implicit ? " implicit TLS"
                                                  : " no TLS";
    if (!m_settings.username.empty()) {
        text += " as " + m_settings.username;
    }
    return text;
}

DeliveryResult SmtpSender::send(const EmailMessage& message) const {
    std::string data;
    try {
        if (message.from.empty()) {
            EmailMessage with_from = message;
            with_from.from = m_settings.from;
            data = render_mime(with_from);
        } else {
            data = render_mime(message);
        }
    } catch (const std::invalid_argument& e) {
        return {DeliveryStatus::failed_permanently, e.what(), std::nullopt};
    }

    curl_slist* list = nullptr;
    for (const auto& address : envelope_recipients(message)) {
        curl_slist* longer = curl_slist_append(list, address.c_str());
        if (longer == nullptr) {
            curl_slist_free_all(list);
            return {DeliveryStatus::retry_later, "out of memory", std::nullopt};
        }
        list = longer;
    }
    const std::unique_ptr<curl_slist, SlistCleanup> recipients(list);
    Upload upload{data, 0};
    std::vector<std::string> replies;
    std::array<char, CURL_ERROR_SIZE> error{};

    // Declared after everything it points to: cleanup may still call back (QUIT).
    ensure_curl_initialized();
    const std::unique_ptr<CURL, CurlCleanup> curl(curl_easy_init());
    if (!curl) {
        return {DeliveryStatus::retry_later, "curl_easy_init failed", std::nullopt};
    }
    CURL* h = curl.get();
    const long use_ssl = m_settings.tls == SmtpTls::none ? CURLUSESSL_NONE : CURLUSESSL_ALL;
    // STARTTLS must never quietly become plain text.
    if (curl_easy_setopt(h, CURLOPT_USE_SSL, use_ssl) != CURLE_OK) {
        return {DeliveryStatus::retry_later, "cannot require TLS with this libcurl", std::nullopt};
    }
    const std::string url = server_url(m_settings) + "/" + ehlo_name();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(m_settings.connect_timeout.count() * 1000));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(m_settings.timeout.count() * 1000));
    // Also bounds the wait for QUIT's reply, which CURLOPT_TIMEOUT does not.
    curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT,
                     static_cast<long>(m_settings.timeout.count()));
    if (!m_settings.ca_file.empty()) {
        curl_easy_setopt(h, CURLOPT_CAINFO, m_settings.ca_file.c_str());
    }
    if (!m_settings.username.empty()) {
        curl_easy_setopt(h, CURLOPT_USERNAME, m_settings.username.c_str());
        curl_easy_setopt(h, CURLOPT_PASSWORD, m_settings.password.c_str());
    }
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, m_envelope_from.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, recipients.get());
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(h, CURLOPT_READDATA, &upload);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(data.size()));
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, record_reply);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &replies);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error.data());
    abort_when_cancelled(h);

    const CURLcode code = curl_easy_perform(h);
    long reply_code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply_code);
    if (code != CURLE_OK) {
        // curl keeps a failed session open and says QUIT at cleanup, then waits
        // for a server that may still be busy with our DATA (or gone). No QUIT
        // is owed after a failure: cut the connection so cleanup cannot block.
        curl_socket_t socket = CURL_SOCKET_BAD;
        if (curl_easy_getinfo(h, CURLINFO_ACTIVESOCKET, &socket) == CURLE_OK &&
            socket != CURL_SOCKET_BAD) {
            shutdown(socket, SHUT_RDWR);
        }
    }
    const std::string error_text = error[0] != '\0' ? error.data() : curl_easy_strerror(code);
    DeliveryResult result =
        classify(code, reply_code, deciding_reply(replies, reply_code), error_text);
    result.detail = redacted(std::move(result.detail), m_settings.password);
    return result;
}

} // namespace ewsd::connectors::email
