#pragma once
// The channels the outbox sends through, built from the config: email by SMTP
// (smtp:) or, without an SMTP server, written as .eml files into
// delivery.output_dir (the `file` notifier); webhooks by signed POST. Tests
// substitute functions that record or fail.

#include "connectors/delivery.hpp"
#include "connectors/email/mime.hpp"
#include "core/notify_config.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace ewsd::referrals {

struct Transports {
    // Null when no email can be sent (neither smtp nor delivery.output_dir).
    std::function<connectors::DeliveryResult(const connectors::email::EmailMessage&)> email;
    std::string email_channel = "email"; // for the audit: "email" (SMTP) or "file"
    std::string email_describe;          // "smtp://mail.district.org:587 starttls as ewsd"
    // One signed POST to the specialist's webhook_url with their secrets,
    // webhook-timestamp from the real clock (receivers reject stale ones, so
    // not the drain's possibly injected time). Null when there is no webhook support.
    std::function<connectors::DeliveryResult(
        const core::Specialist& to, const std::string& webhook_id, const std::string& body)>
        webhook;
};

// SMTP when notify.smtp is set, else the file notifier when
// notify.output_dir is set; webhooks always. Throws std::invalid_argument for
// SMTP settings that cannot work (ewsd check reports them first).
Transports make_transports(const core::NotifyConfig& notify);

} // namespace ewsd::referrals
