#include "store/database.hpp"

#include "util/log.hpp"

#include <SQLiteCpp/Transaction.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace ewsd::store {

namespace {

void create_private_file(const std::filesystem::path& path) {
    const auto parent = path.parent_path();
    std::error_code ec;
    if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
        std::filesystem::create_directories(parent, ec);
        if (ec) {
            throw std::runtime_error("cannot create folder " + parent.string() + ": " +
                                     ec.message());
        }
        std::filesystem::permissions(parent, std::filesystem::perms::owner_all, ec);
    }
    const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw std::runtime_error("cannot create database " + path.string() + ": " +
                                 std::strerror(errno));
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
        util::log::warning("database " + path.string() +
                           " was readable by other users; setting its mode to 0600");
        ::fchmod(fd, 0600);
    }
    ::close(fd);
}

// Once per process, before the first connection: SQLite's global memory
// statistics take a mutex on every allocation, and nothing here reads them.
void configure_sqlite() {
    static const bool configured = [] {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        return true;
    }();
    (void)configured;
}

} // namespace

Database::Database(const std::filesystem::path& path) : m_path(path) {
    configure_sqlite();
    create_private_file(path);
    try {
        m_db = std::make_unique<SQLite::Database>(path.string(),
                                                  SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX);
        m_db->setBusyTimeout(10000);
        m_db->exec("PRAGMA journal_mode=WAL");
        // NORMAL is durable against a crash of the process; after a power loss
        // the last transaction may roll back, which re-ingests that file.
        m_db->exec("PRAGMA synchronous=NORMAL");
        m_db->exec("PRAGMA foreign_keys=ON");
        m_db->exec("PRAGMA cache_size=-65536");
        // Upserts with RETURNING use statement journals and ephemeral tables;
        // on temporary files they cost a write system call per row.
        m_db->exec("PRAGMA temp_store=MEMORY");
        migrate();
    } catch (const SQLite::Exception& e) {
        throw std::runtime_error("database " + path.string() + ": " + e.what());
    }
}

int Database::user_version() {
    return m_db->execAndGet("PRAGMA user_version").getInt();
}

void Database::migrate() {
    const int current = user_version();
    if (current > migration_count()) {
        throw std::runtime_error("schema version " + std::to_string(current) +
                                 " is newer than this ewsd understands (" +
                                 std::to_string(migration_count()) + "); upgrade ewsd");
    }
    for (int v = current; v < migration_count(); ++v) {
        SQLite::Transaction txn(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
        m_db->exec(migration_sql(v));
        m_db->exec("PRAGMA user_version = " + std::to_string(v + 1));
        txn.commit();
        util::log::info("database " + m_path.string() + ": migrated schema to version " +
                        std::to_string(v + 1));
    }
}

} // namespace ewsd::store
