#pragma once
// What a notifier (email, webhook, file) reports after one delivery attempt.
// The outbox decides from it whether to retry, give up, or disable an endpoint.

#include <chrono>
#include <optional>
#include <string>

namespace ewsd::connectors {

enum class DeliveryStatus {
    delivered,          // the server accepted the message (SMTP 2xx, HTTP 2xx)
    retry_later,        // transient: connection refused/reset, timeout, 4xx SMTP, HTTP 429/5xx
    failed_permanently, // the server refused this message for good (SMTP 5xx, HTTP 4xx)
    endpoint_gone,      // HTTP 410: the receiver asks us to stop; disable and alert
};

struct DeliveryResult {
    DeliveryStatus status = DeliveryStatus::retry_later;
    // The server's answer or the error, for the audit table and logs: never
    // contains a password, a token or a signature.
    std::string detail;
    // From an HTTP Retry-After header (seconds or HTTP-date), when present.
    std::optional<std::chrono::seconds> retry_after;
};

const char* to_string(DeliveryStatus status);

// Set once the process is stopping: a delivery in progress is cut short and
// left to be retried after the restart, so that a slow server cannot hold up
// the stop (SIGTERM) past its SMTP or HTTP timeout.
void cancel_deliveries();
[[nodiscard]] bool deliveries_cancelled();
// Makes a libcurl easy handle (a CURL*) check deliveries_cancelled() while
// it waits; it then fails with CURLE_ABORTED_BY_CALLBACK.
void abort_when_cancelled(void* curl);

// curl_global_init, once per process, for the notifiers that use libcurl;
// call before the first easy handle.
void ensure_curl_initialized();

} // namespace ewsd::connectors
