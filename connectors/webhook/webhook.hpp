#pragma once
// The webhook notifier: one signed HTTP POST per attempt, following Standard
// Webhooks (https://www.standardwebhooks.com/). The caller (the outbox) owns
// retries: it keeps the message id stable across attempts and reads the
// DeliveryResult to decide when to try again. docs/webhook.md is the
// receiver's side of this contract.

#include "connectors/delivery.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ewsd::connectors::webhook {

struct WebhookSettings {
    std::string url;                  // http(s)://...
    std::vector<std::string> secrets; // each "whsec_<base64>"; at least one
    std::chrono::seconds connect_timeout{10};
    std::chrono::seconds timeout{30};
    std::string ca_file; // extra CA bundle; empty = system store
};

// The HMAC key of a "whsec_<base64>" secret. Throws std::invalid_argument for a
// missing prefix, bad base64 or an empty key; the message never repeats the secret.
std::vector<std::uint8_t> decode_secret(const std::string& secret);

// "v1,<base64 of HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}")>".
std::string sign(const std::string& secret, const std::string& msg_id, std::int64_t timestamp,
                 const std::string& body);

// The webhook-signature header: one signature per secret, space-separated, so
// that a receiver that knows any of them (during a rotation) accepts the message.
std::string signature_header(const std::vector<std::string>& secrets, const std::string& msg_id,
                             std::int64_t timestamp, const std::string& body);

// A Retry-After value: delta-seconds or an HTTP-date (IMF-fixdate, RFC 850 or
// asctime). A date in the past gives zero; anything else malformed gives nothing.
std::optional<std::chrono::seconds> parse_retry_after(const std::string& value,
                                                      std::chrono::system_clock::time_point now);

class WebhookSender {
public:
    // Validates the secrets and the URL scheme; throws std::invalid_argument.
    explicit WebhookSender(WebhookSettings settings);

    // One attempt; never throws for network or HTTP failures. The same msg_id
    // must be used for every attempt of one message (the receiver's idempotency key).
    DeliveryResult post(const std::string& msg_id, std::int64_t timestamp,
                        const std::string& body) const;

    // The URL for logs: without user:password and without the query string.
    [[nodiscard]] std::string describe() const;

private:
    WebhookSettings m_settings;
    std::vector<std::vector<std::uint8_t>> m_keys;
};

} // namespace ewsd::connectors::webhook
