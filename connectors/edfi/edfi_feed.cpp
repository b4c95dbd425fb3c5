#include "connectors/edfi/edfi_feed.hpp"

#include "connectors/edfi/api_client.hpp"
#include "connectors/edfi/derive.hpp"
#include "store/edfi_staging.hpp"
#include "util/log.hpp"
#include "util/text.hpp"

#include <SQLiteCpp/Exception.h>
#include <chrono>
#include <nlohmann/json.hpp>

namespace ewsd::connectors::edfi {

namespace {

using nlohmann::json;

// Malformed records logged one by one per resource and poll; the rest are summed up.
constexpr std::int64_t max_logged = 10;

struct SyncCounts {
    std::int64_t records = 0;
    std::int64_t inserted = 0;
    std::int64_t updated = 0;
    std::int64_t unchanged = 0;
    std::int64_t deleted = 0;
    std::int64_t filtered = 0;
    std::int64_t skipped = 0;
};

std::string describe(const SyncCounts& c) {
    return std::to_string(c.records) + " records: " + std::to_string(c.inserted) + " new, " +
           std::to_string(c.updated) + " changed, " + std::to_string(c.unchanged) + " unchanged, " +
           std::to_string(c.deleted) + " deleted, " + std::to_string(c.filtered) +
           " outside the feed's schools or year, " + std::to_string(c.skipped) + " malformed";
}

Filter filter_of(const core::EdfiConfig& edfi) {
    Filter f;
    f.school_year = edfi.school_year;
    f.schools = {edfi.schools.begin(), edfi.schools.end()};
    f.data_standard = edfi.data_standard;
    for (const auto& t : edfi.grade_types) {
        f.grade_types.insert(util::to_lower_ascii(t));
    }
    return f;
}

// Change versions below 0 are left out.
std::string query(std::int64_t offset, int limit, std::int64_t min_version,
                  std::int64_t max_version) {
    std::string q = "?offset=" + std::to_string(offset) + "&limit=" + std::to_string(limit);
    if (min_version >= 0) {
        q += "&minChangeVersion=" + std::to_string(min_version);
    }
    if (max_version >= 0) {
        q += "&maxChangeVersion=" + std::to_string(max_version);
    }
    return q;
}

// A unique, increasing number naming one full load of a resource.
std::int64_t new_sync_id() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

} // namespace

EdfiFeed::EdfiFeed(core::FeedConfig config)
    : m_config(std::move(config)), m_filter(filter_of(m_config.edfi)) {}

EdfiFeed::~EdfiFeed() = default;

ApiClient& EdfiFeed::client(const PollOptions& options) {
    if (!m_client) {
        ApiSettings s;
        s.root_url = m_config.edfi.url;
        s.token_path = m_config.edfi.token_path;
        s.key = m_config.edfi.key;
        s.secret = m_config.edfi.secret;
        s.request_timeout = m_config.edfi.request_timeout;
        s.max_attempts = m_config.edfi.max_attempts;
        s.stop = options.stop;
        m_client = std::make_unique<ApiClient>(std::move(s));
    }
    return *m_client;
}

std::vector<LoadReport> EdfiFeed::poll(store::Database& db, const PollOptions& options) {
    std::vector<LoadReport> reports;
    ApiClient& api = client(options);
    std::optional<Versions> versions;
    const auto& edfi = m_config.edfi;
    if (!edfi.change_queries_path.empty()) {
        const std::string path = edfi.change_queries_path + "/availableChangeVersions";
        auto answer = api.get_json(path);
        if (auto* error = std::get_if<ApiError>(&answer)) {
            LoadReport report{m_config.name,
                              "availableChangeVersions",
                              error->stopped ? LoadReport::Status::waiting
                                             : LoadReport::Status::failed,
                              {},
                              error->message};
            if (error->http_status == 404) {
                report.message += " (an ODS/API with Change Queries turned off needs "
                                  "change_queries_path: none; a year-specific one "
                                  "changeQueries/v1/YEAR)";
            }
            util::log::error("feed " + m_config.name + ": " + report.message);
            reports.push_back(std::move(report));
            return reports;
        }
        const json& body = std::get<json>(answer);
        if (!body.is_object() || !body.contains("newestChangeVersion") ||
            !body["newestChangeVersion"].is_number_integer()) {
            reports.push_back(
                LoadReport{m_config.name,
                           "availableChangeVersions",
                           LoadReport::Status::failed,
                           {},
                           "GET " + path + ": the answer has no newestChangeVersion"});
            util::log::error("feed " + m_config.name + ": " + reports.back().message);
            return reports;
        }
        versions = Versions{body.value("oldestChangeVersion", std::int64_t{0}),
                            body["newestChangeVersion"].get<std::int64_t>()};
    }
    // New data: the API's data changed since the last poll (any write moves
    // the newest change version), or, without Change Queries, a full load.
    const bool new_input = !versions || !m_last_newest || *m_last_newest != versions->newest;
    for (const Resource& resource : resources()) {
        LoadReport report = sync(db, api, resource, versions, options);
        report.new_input = new_input && report.status != LoadReport::Status::failed;
        const bool stopped = report.status == LoadReport::Status::waiting;
        reports.push_back(std::move(report));
        if (stopped) {
            return reports;
        }
    }
    if (versions) {
        m_last_newest = versions->newest;
    }
    for (auto& report : derive_pending(db, m_config, options)) {
        report.new_input = new_input;
        reports.push_back(std::move(report));
    }
    return reports;
}

LoadReport EdfiFeed::sync(store::Database& db, ApiClient& api, const Resource& resource,
                          const std::optional<Versions>& versions, const PollOptions& options) {
    const std::string name = resource.name;
    const std::string where = "feed " + m_config.name + ": " + name;
    LoadReport report{m_config.name, name, LoadReport::Status::failed, {}, {}};
    SyncCounts counts;
    try {
        // The change version synced up to; without Change Queries, the cursor
        // only says that a full load was done.
        const auto cursor = store::feed_cursor(db, m_config.name, name);
        std::optional<std::int64_t> synced;
        if (cursor && !cursor->empty() &&
            cursor->find_first_not_of("0123456789") == std::string::npos) {
            synced = std::stoll(*cursor);
        }
        if (!options.force && versions && synced && *synced >= versions->newest) {
            report.status = LoadReport::Status::unchanged;
            report.message = "no changes since change version " + *cursor;
            return report;
        }
        // A full load the first time, without Change Queries, when the API no
        // longer keeps the changes since the last sync, or when forced
        // (`ewsd ingest --force`): records no longer returned are deleted.
        const bool full = options.force || !versions || !synced || *synced + 1 < versions->oldest;
        // The very first load leaves one derivation of everything pending
        // rather than one per student.
        const bool bulk = !cursor;
        const std::int64_t sync_id = full ? new_sync_id() : 0;
        const std::int64_t min_version = full ? -1 : *synced + 1;
        const std::int64_t max_version = versions ? versions->newest : -1;
        const int limit = m_config.edfi.page_size;

        const auto stopped = [&] {
            report.status = LoadReport::Status::waiting;
            report.message = "stopped: ewsd is shutting down; the pages are read again next time";
            return report;
        };
        const auto failed = [&](const ApiError& error) {
            if (error.stopped) {
                return stopped();
            }
            report.status = LoadReport::Status::failed;
            report.message = error.message + " (" + describe(counts) +
                             " stored before the error; "
                             "the sync goes on from there next time)";
            util::log::error(where + ": " + report.message);
            return report;
        };
        const auto mark = [&](store::StagingBatch& batch, const store::StagedRecord& record) {
            if (!bulk) {
                batch.mark_pending(pending_for(resource, record));
            }
        };

        // The records (or, for `deletes`, the deleted ids), page by page, one
        // transaction per page.
        for (const bool deletes : {false, true}) {
            if (deletes && full) {
                break;
            }
            const std::string path =
                m_config.edfi.data_path + "/" + name + (deletes ? "/deletes" : "");
            for (std::int64_t offset = 0;; offset += limit) {
                if (options.stop != nullptr && options.stop->load()) {
                    return stopped();
                }
                auto answer = api.get_json(path + query(offset, limit, min_version, max_version));
                if (auto* error = std::get_if<ApiError>(&answer)) {
                    return failed(*error);
                }
                const json& page = std::get<json>(answer);
                if (!page.is_array()) {
                    return failed(ApiError{path, 200, false,
                                           "GET " + path + ": the answer is not a JSON array"});
                }
                store::StagingBatch batch(db, m_config.name);
                for (const auto& item : page) {
                    if (deletes) {
                        const std::string id =
                            item.is_object() ? item.value("id", std::string()) : std::string();
                        if (auto old = batch.remove(name, id)) {
                            ++counts.deleted;
                            mark(batch, *old);
                        }
                        continue;
                    }
                    ++counts.records;
                    Extracted e = extract(resource, item, m_filter);
                    if (e.status == Extracted::Status::bad) {
                        if (++counts.skipped <= max_logged) {
                            util::log::warning(where + " record " +
                                               (e.record.id.empty() ? "(no id)" : e.record.id) +
                                               ": " + e.problem + "; skipped");
                        }
                        continue;
                    }
                    if (e.status == Extracted::Status::filtered) {
                        ++counts.filtered;
                        if (auto old = batch.remove(name, e.record.id)) {
                            mark(batch, *old);
                        }
                        continue;
                    }
                    std::optional<store::StagedRecord> before;
                    switch (batch.put(name, e.record, sync_id, before)) {
                    case store::StageOutcome::inserted:
                        ++counts.inserted;
                        mark(batch, e.record);
                        break;
                    case store::StageOutcome::updated:
                        ++counts.updated;
                        mark(batch, e.record);
                        if (before) {
                            mark(batch, *before);
                        }
                        break;
                    case store::StageOutcome::unchanged:
                        ++counts.unchanged;
                        break;
                    }
                }
                batch.commit();
                if (page.size() < static_cast<std::size_t>(limit)) {
                    break;
                }
            }
        }

        // Only now, with every page stored, does the resource's sync position move.
        store::StagingBatch done(db, m_config.name);
        if (full) {
            done.remove_unseen(name, sync_id, [&](const store::StagedRecord& old) {
                ++counts.deleted;
                mark(done, old);
            });
        }
        if (bulk) {
            done.mark_pending({store::to_string(resource.kind), "*"});
        }
        done.set_cursor(name, versions ? std::to_string(versions->newest) : "full load");
        done.commit();
    } catch (const SQLite::Exception& e) {
        report.status = LoadReport::Status::failed;
        report.message = std::string("database error: ") + e.what();
        util::log::error(where + ": " + report.message);
        return report;
    }
    if (counts.skipped > max_logged) {
        util::log::warning(where + ": " + std::to_string(counts.skipped - max_logged) +
                           " more malformed records skipped");
    }
    report.status = LoadReport::Status::loaded;
    report.message = describe(counts);
    util::log::info(where + ": " + report.message);
    return report;
}

} // namespace ewsd::connectors::edfi
