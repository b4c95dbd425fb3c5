#pragma once
// Sends rendered messages through an SMTP relay with libcurl, and classifies
// the outcome for the outbox (delivered / retry later / failed for good).

#include "connectors/delivery.hpp"
#include "connectors/email/mime.hpp"

#include <chrono>
#include <string>

namespace ewsd::connectors::email {

enum class SmtpTls {
    starttls, // smtp://, STARTTLS required: never falls back to plain text
    implicit, // smtps:// (TLS from the first byte, usually port 465)
    none,     // smtp:// in plain text (a relay on localhost)
};
const char* to_string(SmtpTls tls);

struct SmtpSettings {
    std::string host;
    int port = 587;
    SmtpTls tls = SmtpTls::starttls;
    std::string username; // AUTH when non-empty
    std::string password;
    std::string from; // envelope sender, display form; also From when a message has none
    std::chrono::seconds connect_timeout{10};
    std::chrono::seconds timeout{60}; // the whole session
    std::string ca_file; // CA bundle used instead of the system store; empty = system store
};

class SmtpSender {
public:
    // Throws std::invalid_argument for an empty host, a port out of range or an
    // invalid sender address (start-up configuration errors).
    explicit SmtpSender(SmtpSettings settings);

    // One SMTP session; the envelope recipients are to + cc. All recipients
    // must be accepted for the message to be delivered.
    //   delivered: detail = the server's final reply ("250 2.0.0 Ok: queued as ...")
    //   failed_permanently: a 5xx reply to the message (sender, recipient or
    //     data refused), or a message that cannot be rendered
    //   retry_later: 4xx replies, connection refused/reset, timeouts, TLS
    //     failures (detail says "certificate verify failed" for an untrusted
    //     certificate), no STARTTLS offered, and authentication refusals (535,
    //     530, 534, 538: a wrong password or TLS setting is the sender's problem,
    //     not the message's; once it is fixed, the message should still go)
    // The detail never contains the password.
    [[nodiscard]] DeliveryResult send(const EmailMessage& message) const;

    // For logs: "smtp://mail.example.org:587 starttls as ewsd".
    [[nodiscard]] std::string describe() const;

private:
    SmtpSettings m_settings;
    std::string m_envelope_from;
};

} // namespace ewsd::connectors::email
