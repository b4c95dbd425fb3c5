#include "connectors/delivery.hpp"

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

} // namespace ewsd::connectors
