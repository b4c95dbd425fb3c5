#include "connectors/feed.hpp"

#include "connectors/csv/csv_feed.hpp"
#include "connectors/csv/record_parser.hpp"
#include "connectors/edfi/derive.hpp"
#include "connectors/edfi/edfi_feed.hpp"

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
    if (config.type == "edfi") {
        return std::make_unique<edfi::EdfiFeed>(config);
    }
    throw std::invalid_argument("feed " + config.name + ": unknown type '" + config.type + "'");
}

std::optional<store::RecordKind> record_kind_of_source(const std::string& source) {
    for (const auto kind :
         {store::RecordKind::students, store::RecordKind::attendance, store::RecordKind::grades,
          store::RecordKind::incidents, store::RecordKind::calendar}) {
        if (source == csv::file_name(kind) || source == edfi::derived_source(kind)) {
            return kind;
        }
    }
    for (const auto& resource : edfi::resources()) {
        if (source == resource.name) {
            return resource.kind;
        }
    }
    return std::nullopt;
}

} // namespace ewsd::connectors
