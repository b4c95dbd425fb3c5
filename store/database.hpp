#pragma once
// The state database: one SQLite file in WAL mode, created 0600, schema
// versioned by PRAGMA user_version and brought up to date on open.

#include <SQLiteCpp/Database.h>
#include <filesystem>
#include <memory>

namespace ewsd::store {

// The number of migrations in schema.cpp (DatabaseTest checks the two agree).
inline constexpr int schema_version = 4;

class Database {
public:
    // Creates the file (mode 0600) and its parent folders (0700) when absent,
    // tightens a looser mode, and applies pending migrations. Throws
    // std::runtime_error on failure, including a database newer than this ewsd.
    explicit Database(const std::filesystem::path& path);

    SQLite::Database& sql() { return *m_db; }
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    int user_version();

private:
    void migrate();

    std::filesystem::path m_path;
    std::unique_ptr<SQLite::Database> m_db;
};

// The migrations, oldest first; migration i brings user_version from i to i+1.
const char* migration_sql(int index);
int migration_count();

} // namespace ewsd::store
