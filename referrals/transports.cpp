#include "referrals/transports.hpp"

#include "connectors/email/file_mailbox.hpp"
#include "connectors/email/smtp.hpp"
#include "connectors/webhook/webhook.hpp"
#include "util/local_time.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace ewsd::referrals {

namespace {

connectors::email::SmtpSettings smtp_settings(const core::SmtpSettingsConfig& c) {
    connectors::email::SmtpSettings s;
    s.host = c.host;
    s.port = c.port;
    s.tls = c.tls == "implicit" ? connectors::email::SmtpTls::implicit
            : c.tls == "none"   ? connectors::email::SmtpTls::none
                                : connectors::email::SmtpTls::starttls;
    s.username = c.username;
    s.password = c.password;
    s.from = c.from;
    s.connect_timeout = c.connect_timeout;
    s.timeout = c.timeout;
    s.ca_file = c.ca_file.string();
    return s;
}

// By specialist id and URL.
using WebhookSenders =
    std::map<std::pair<std::string, std::string>, connectors::webhook::WebhookSender>;

// The specialist's sender, made on first use. Throws std::invalid_argument
// for a bad URL or secret, and keeps nothing: the next attempt tries again.
const connectors::webhook::WebhookSender& webhook_sender(WebhookSenders& senders,
                                                         const core::Specialist& to) {
    auto key = std::make_pair(to.id, to.webhook_url);
    if (const auto it = senders.find(key); it != senders.end()) {
        return it->second;
    }
    connectors::webhook::WebhookSettings settings;
    settings.url = to.webhook_url;
    settings.secrets = to.webhook_secrets;
    connectors::webhook::WebhookSender sender(std::move(settings));
    return senders.emplace(std::move(key), std::move(sender)).first->second;
}

} // namespace

Transports make_transports(const core::NotifyConfig& notify) {
    Transports t;
    if (notify.smtp) {
        auto sender = std::make_shared<connectors::email::SmtpSender>(smtp_settings(*notify.smtp));
        t.email_channel = "email";
        t.email_describe = sender->describe();
        t.email = [sender](const connectors::email::EmailMessage& m) { return sender->send(m); };
    } else if (notify.output_dir) {
        auto mailbox = std::make_shared<connectors::email::FileMailbox>(*notify.output_dir);
        t.email_channel = "file";
        t.email_describe = "file:" + notify.output_dir->string();
        t.email = [mailbox](const connectors::email::EmailMessage& m) { return mailbox->write(m); };
    }
    // The outbox drains on one thread: the cache needs no lock.
    auto senders = std::make_shared<WebhookSenders>();
    t.webhook = [senders](const core::Specialist& to, const std::string& webhook_id,
                          const std::string& body) -> connectors::DeliveryResult {
        const connectors::webhook::WebhookSender* sender = nullptr;
        try {
            sender = &webhook_sender(*senders, to);
        } catch (const std::invalid_argument& e) {
            // Fixing the configuration lets the message go: not a permanent failure.
            // The message names the URL without credentials and never a secret.
            return {connectors::DeliveryStatus::retry_later,
                    std::string("configuration: ") + e.what(), std::nullopt};
        }
        return sender->post(webhook_id, util::unix_now(), body);
    };
    return t;
}

} // namespace ewsd::referrals
