#include "connectors/csv/csv_feed.hpp"

#include "connectors/csv/csv_reader.hpp"
#include "connectors/csv/record_parser.hpp"
#include "util/log.hpp"
#include "util/sha256.hpp"

#include <SQLiteCpp/Exception.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ewsd::connectors::csv {

namespace {

using store::RecordKind;

// Files are loaded in this order so that, within one poll, a student's
// enrollment is stored before the events that refer to it.
constexpr RecordKind load_order[] = {RecordKind::calendar, RecordKind::students,
                                     RecordKind::attendance, RecordKind::grades,
                                     RecordKind::incidents};

// Quarantined rows logged one by one per file; the rest are summed up.
constexpr std::int64_t max_logged_rows = 10;

std::int64_t mtime_ns(const struct stat& st) {
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

class Fd {
public:
    explicit Fd(int fd) : m_fd(fd) {}
    ~Fd() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    [[nodiscard]] int get() const { return m_fd; }

private:
    int m_fd;
};

} // namespace

CsvFeed::CsvFeed(core::FeedConfig config) : m_config(std::move(config)) {}

std::vector<LoadReport> CsvFeed::poll(store::Database& db, const PollOptions& options) {
    std::vector<LoadReport> reports;
    std::error_code ec;
    if (!std::filesystem::is_directory(m_config.path, ec)) {
        LoadReport report{m_config.name,
                          m_config.path.string(),
                          LoadReport::Status::failed,
                          {},
                          "feed folder " + m_config.path.string() + " does not exist"};
        util::log::error("feed " + m_config.name + ": " + report.message);
        reports.push_back(std::move(report));
        return reports;
    }
    for (const RecordKind kind : load_order) {
        if (std::filesystem::exists(m_config.path / file_name(kind), ec)) {
            reports.push_back(load_file(db, kind, options));
        }
    }
    return reports;
}

LoadReport CsvFeed::load_file(store::Database& db, RecordKind kind, const PollOptions& options) {
    const std::string file = file_name(kind);
    const std::filesystem::path path = m_config.path / file;
    const std::string where = m_config.name + "/" + file;
    LoadReport report{m_config.name, file, LoadReport::Status::failed, {}, {}};
    const auto fail = [&](LoadReport::Status status, std::string message) {
        report.status = status;
        report.message = std::move(message);
        if (status == LoadReport::Status::rejected || status == LoadReport::Status::failed) {
            util::log::error(where + ": " + report.message);
        } else if (status == LoadReport::Status::unchanged) {
            util::log::debug(where + ": " + report.message);
        } else {
            util::log::info(where + ": " + report.message);
        }
        return report;
    };

    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat before {};
    if (fd.get() < 0 || ::fstat(fd.get(), &before) != 0) {
        return fail(LoadReport::Status::failed,
                    std::string("cannot open: ") + std::strerror(errno));
    }
    if (!S_ISREG(before.st_mode)) {
        return fail(LoadReport::Status::rejected, "not a regular file");
    }
    // A file modified moments ago may still be being written by the SIS.
    const auto age =
        std::chrono::system_clock::now() -
        std::chrono::system_clock::time_point(std::chrono::nanoseconds(mtime_ns(before)));
    if (age < m_config.settle_time) {
        return fail(LoadReport::Status::waiting, "modified less than " +
                                                     std::to_string(m_config.settle_time.count()) +
                                                     "s ago; waiting for the writer to finish");
    }

    store::FileFingerprint fingerprint;
    fingerprint.size = before.st_size;
    fingerprint.mtime_ns = mtime_ns(before);
    const bool snapshot = m_config.mode == core::FeedMode::snapshot;
    // Only an outcome that will not be retried marks the file as seen.
    const auto seen_now = [&](LoadReport::Status status, std::string message) {
        m_seen[file] = Seen{fingerprint.size, fingerprint.mtime_ns};
        return fail(status, std::move(message));
    };
    try {
        const auto last = store::last_load(db, m_config.name, file);
        const auto seen = m_seen.find(file);
        const Seen before_now = seen != m_seen.end() ? seen->second
                                : last               ? Seen{last->size, last->mtime_ns}
                                                     : Seen{-1, -1};
        report.new_input =
            before_now.size != fingerprint.size || before_now.mtime_ns != fingerprint.mtime_ns;
        if (!options.force && !report.new_input && last) {
            return fail(LoadReport::Status::unchanged,
                        last->status == "rejected" ? "not modified since it was rejected; skipped"
                                                   : "not modified since the last load; skipped");
        }
        fingerprint.sha256 = util::sha256_file(path);
        if (!options.force) {
            if (last && last->sha256 == fingerprint.sha256) {
                return seen_now(LoadReport::Status::unchanged,
                                last->status == "rejected"
                                    ? "identical to the file rejected before; skipped"
                                    : "identical to the last load; skipped");
            }
        }

        util::Sha256 hash;
        CsvReader reader(CsvReader::from_fd(fd.get()), &hash);
        RecordParser parser(kind, m_config);
        store::FileLoad load(db, m_config.name, file, kind, snapshot);
        const auto reject = [&](const std::string& message) {
            load.rollback();
            store::record_rejected(db, m_config.name, file, snapshot, fingerprint, message);
            return seen_now(LoadReport::Status::rejected, message + "; the store is unchanged");
        };

        CsvReader::Status status = reader.next();
        if (status == CsvReader::Status::end) {
            return reject("the file is empty: a header row is required");
        }
        if (status == CsvReader::Status::binary) {
            return reject("not a CSV file (it contains NUL bytes)");
        }
        if (status == CsvReader::Status::bad) {
            return reject("the header row is malformed: " + reader.error());
        }
        if (auto problem = parser.read_header(reader.fields())) {
            return reject(*problem);
        }

        Record record;
        const auto quarantine = [&](int line, int column, const std::string& reason) {
            load.quarantine(line, column, reason);
            const std::int64_t n = load.counts().quarantined;
            if (n <= max_logged_rows) {
                util::log::warning(path.string() + ":" + std::to_string(line) + ":" +
                                   std::to_string(column) + ": row quarantined: " + reason);
            }
        };
        std::int64_t rows = 0;
        while ((status = reader.next()) != CsvReader::Status::end) {
            if (options.stop != nullptr && (++rows & 4095) == 0 && options.stop->load()) {
                load.rollback();
                return fail(LoadReport::Status::waiting,
                            "stopped: ewsd is shutting down; the file is read again next time");
            }
            if (status == CsvReader::Status::binary) {
                return reject("not a CSV file (NUL byte near line " +
                              std::to_string(reader.record_line()) + ")");
            }
            if (status == CsvReader::Status::bad) {
                quarantine(reader.error_line(), reader.error_column(), reader.error());
                continue;
            }
            if (auto bad = parser.parse(reader.fields(), record)) {
                quarantine(bad->line, bad->column, bad->message);
                continue;
            }
            std::visit([&](const auto& r) { load.put(r); }, record);
        }

        // The file must not have changed under us; otherwise try again later.
        struct stat after {};
        if (::stat(path.c_str(), &after) != 0 || after.st_size != before.st_size ||
            mtime_ns(after) != fingerprint.mtime_ns || hash.hex_digest() != fingerprint.sha256) {
            load.rollback();
            return fail(LoadReport::Status::waiting,
                        "the file changed while it was being read; it will be read again");
        }
        report.counts = load.commit(fingerprint);
        m_seen[file] = Seen{fingerprint.size, fingerprint.mtime_ns};
    } catch (const SQLite::Exception& e) {
        return fail(LoadReport::Status::failed, std::string("database error: ") + e.what());
    } catch (const std::runtime_error& e) {
        return fail(LoadReport::Status::failed, e.what());
    }
    report.status = LoadReport::Status::loaded;
    const auto& c = report.counts;
    if (c.quarantined > max_logged_rows) {
        util::log::warning(where + ": " + std::to_string(c.quarantined - max_logged_rows) +
                           " more rows quarantined (see `ewsd feeds errors`)");
    }
    util::log::info(where + ": loaded " + std::to_string(c.read) +
                    " rows: " + std::to_string(c.inserted) + " new, " + std::to_string(c.updated) +
                    " updated, " + std::to_string(c.unchanged) + " unchanged, " +
                    std::to_string(c.removed) + " removed, " + std::to_string(c.quarantined) +
                    " quarantined");
    return report;
}

} // namespace ewsd::connectors::csv
