#include "connectors/delivery.hpp"

#include <atomic>
#include <curl/curl.h>
#include <mutex>
#include <stdexcept>

namespace ewsd::connectors {

const char* to_string(DeliveryStatus status) {
    switch (status) {
    case DeliveryStatus::delivered:
        return "delivered";
    case DeliveryStatus::retry_later:
        return "retry_later";
    case DeliveryStatus::failed_permanently:
        return "failed_permanently";
    case DeliveryStatus::endpoint_gone:
        return "endpoint_gone";
    }
    return "?";
}

namespace {

std::atomic<bool> g_cancelled{false};

int check_cancelled(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return g_cancelled.load() ? 1 : 0;
}

} // namespace

void cancel_deliveries() {
    g_cancelled = true;
}

bool deliveries_cancelled() {
    return g_cancelled.load();
}

void abort_when_cancelled(void* curl) {
    curl_easy_setopt(static_cast<CURL*>(curl), CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(static_cast<CURL*>(curl), CURLOPT_XFERINFOFUNCTION, &check_cancelled);
}

void ensure_curl_initialized() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            throw std::runtime_error("curl_global_init failed");
        }
    });
}

} // namespace ewsd::connectors
