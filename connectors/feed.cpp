#include "connectors/feed.hpp"

#include "connectors/csv/csv_feed.hpp"

#include <stdexcept>

namespace ewsd::connectors {

const char* to_string(LoadReport::Status status) {
    switch (status) {
    case LoadReport::Status::loaded:
        return "loaded";
    case LoadReport::Status::unchanged:
        return "unchanged";
    case LoadReport::Status::waiting:
        return "waiting";
    case LoadReport::Status::rejected:
        return "rejected";
    case LoadReport::Status::failed:
        return "failed";
    }
    return "?";
}

std::unique_ptr<Feed> make_feed(const core::FeedConfig& config) {
    if (config.type == "csv") {
        return std::make_unique<csv::CsvFeed>(config);
    }
    throw std::invalid_argument("feed " + config.name + ": unknown type '" + config.type + "'");
}

} // namespace ewsd::connectors
