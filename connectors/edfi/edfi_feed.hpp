#pragma once
// An Ed-Fi ODS/API feed: each poll syncs the resources ewsd reads into the
// staging area (the first time in full, then through Change Queries, deletes
// included), page by page, then derives the store's rows for what changed.

#include "connectors/edfi/resources.hpp"
#include "connectors/feed.hpp"
#include "core/config.hpp"

#include <cstdint>
#include <memory>
#include <optional>

namespace ewsd::connectors::edfi {

class ApiClient;

class EdfiFeed : public Feed {
public:
    explicit EdfiFeed(core::FeedConfig config);
    ~EdfiFeed() override;
    [[nodiscard]] const std::string& name() const override { return m_config.name; }
    std::vector<LoadReport> poll(store::Database& db, const PollOptions& options) override;

private:
    struct Versions {
        std::int64_t oldest = 0;
        std::int64_t newest = 0;
    };
    LoadReport sync(store::Database& db, ApiClient& api, const Resource& resource,
                    const std::optional<Versions>& versions, const PollOptions& options);
    ApiClient& client(const PollOptions& options);

    core::FeedConfig m_config;
    Filter m_filter;
    std::unique_ptr<ApiClient> m_client;
    std::optional<std::int64_t> m_last_newest; // the newest change version at the last poll
};

} // namespace ewsd::connectors::edfi
