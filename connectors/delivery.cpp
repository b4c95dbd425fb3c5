#include "connectors/delivery.hpp"

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

void ensure_curl_initialized() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            throw std::runtime_error("curl_global_init failed");
        }
    });
}

} // namespace ewsd::connectors
