// `ewsd backup`: the real binary copying a real database, also while other
// connections hold read and write transactions on it.
#include "store/database.hpp"
#include "tests/support/basic_district.hpp"

#include <SQLiteCpp/Database.h>
#include <map>
#include <sys/stat.h>

namespace ewsd {
namespace {

namespace fs = std::filesystem;

// Every table's row count.
std::map<std::string, long long> row_counts(const fs::path& database) {
    SQLite::Database db(database.string(), SQLite::OPEN_READONLY);
    SQLite::Statement tables(db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name "
                                 "NOT LIKE 'sqlite_%' ORDER BY name");
    std::map<std::string, long long> counts;
    while (tables.executeStep()) {
        const std::string name = tables.getColumn(0).getString();
        counts[name] = db.execAndGet("SELECT count(*) FROM \"" + name + "\"").getInt64();
    }
    return counts;
}

unsigned mode_of(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777U;
}

ino_t inode_of(const fs::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_ino;
}

class BackupCli : public testing::BasicDistrict {
protected:
    void SetUp() override {
        make_district();
        const auto ingest = ewsd({"ingest"});
        ASSERT_EQ(ingest.exit_code, 0) << ingest.err;
        fs::create_directories(backups);
    }

    [[nodiscard]] fs::path database() const { return dir / "state/ewsd.db"; }

    const fs::path backups = dir / "backups";
};

TEST_F(BackupCli, CopiesEveryRowIntoAPrivateFile) {
    const fs::path copy = backups / "ewsd-2025-09-01.db";
    const auto result = ewsd({"backup", copy.string()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.out, copy.string() + ": " + std::to_string(fs::file_size(copy)) +
                              " bytes, schema version " + std::to_string(store::schema_version) +
                              ", integrity ok\n");
    EXPECT_EQ(result.err, "");

    const auto original = row_counts(database());
    EXPECT_GT(original.at("students"), 0);
    EXPECT_GT(original.at("attendance"), 0);
    EXPECT_EQ(row_counts(copy), original);
    SQLite::Database db(copy.string(), SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), store::schema_version);
    EXPECT_EQ(mode_of(copy), 0600U);
    // Nothing else: no temporary file, no journal beside the copy.
    EXPECT_EQ(std::distance(fs::directory_iterator(backups), fs::directory_iterator{}), 1);
}

TEST_F(BackupCli, ReplacesAnExistingFileOnlyWithForce) {
    const fs::path copy = backups / "ewsd.db";
    ASSERT_EQ(ewsd({"backup", copy.string()}).exit_code, 0);
    const ino_t first = inode_of(copy);

    const auto again = ewsd({"backup", copy.string()});
    EXPECT_EQ(again.exit_code, 1);
    EXPECT_EQ(again.err, "ewsd backup: " + copy.string() + " exists; --force replaces it\n");
    EXPECT_EQ(inode_of(copy), first);

    const auto forced = ewsd({"backup", copy.string(), "--force"});
    EXPECT_EQ(forced.exit_code, 0) << forced.err;
    EXPECT_NE(inode_of(copy), first);
    EXPECT_EQ(mode_of(copy), 0600U);
    EXPECT_EQ(std::distance(fs::directory_iterator(backups), fs::directory_iterator{}), 1);
}

TEST_F(BackupCli, SaysWhyItCannotBackUp) {
    const auto missing = ewsd({"backup", (dir / "nowhere/ewsd.db").string()});
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_EQ(missing.err,
              "ewsd backup: folder " + (dir / "nowhere").string() + " does not exist\n");

    const auto file_as_folder = ewsd({"backup", (dir / "ewsd.yaml/ewsd.db").string()});
    EXPECT_EQ(file_as_folder.exit_code, 1);
    EXPECT_EQ(file_as_folder.err,
              "ewsd backup: " + (dir / "ewsd.yaml").string() + " is not a folder\n");

    const auto folder = ewsd({"backup", backups.string()});
    EXPECT_EQ(folder.exit_code, 1);
    EXPECT_EQ(folder.err, "ewsd backup: " + backups.string() +
                              " is a folder; name the backup file, e.g. " +
                              (backups / "ewsd.db").string() + "\n");

    const auto itself = ewsd({"backup", database().string(), "--force"});
    EXPECT_EQ(itself.exit_code, 1);
    EXPECT_EQ(itself.err,
              "ewsd backup: " + database().string() + " is the state database itself\n");
    EXPECT_GT(row_counts(database()).at("students"), 0);

    fs::rename(dir / "state", dir / "state.moved");
    const auto no_database = ewsd({"backup", (backups / "ewsd.db").string()});
    EXPECT_EQ(no_database.exit_code, 1);
    EXPECT_EQ(no_database.err,
              "ewsd backup: no database at " + database().string() + " (nothing to back up)\n");
    EXPECT_FALSE(fs::exists(dir / "state")) << "a backup must not create the database";

    const auto usage = testing::run({EWSD_BINARY, "backup"});
    EXPECT_EQ(usage.exit_code, 2);
    EXPECT_NE(usage.err.find("Usage: ewsd backup PATH"), std::string::npos) << usage.err;
}

// The daemon keeps its connection open and writes while a backup runs: under
// WAL the copy is the last committed state, taken without waiting for either.
TEST_F(BackupCli, RunsBesideAnOpenReadAndAnOpenWrite) {
    const auto committed = row_counts(database());
    SQLite::Database reader(database().string(), SQLite::OPEN_READONLY);
    reader.exec("BEGIN");
    EXPECT_GT(reader.execAndGet("SELECT count(*) FROM students").getInt64(), 0);
    SQLite::Database writer(database().string(), SQLite::OPEN_READWRITE);
    writer.exec("BEGIN IMMEDIATE");
    writer.exec("INSERT INTO meta (key, value) VALUES ('backup-test', 'uncommitted')");

    const auto start = std::chrono::steady_clock::now();
    const auto during = ewsd({"backup", (backups / "during.db").string()});
    ASSERT_EQ(during.exit_code, 0) << during.err;
    // Well under the 10 s busy timeout: the backup did not wait for a lock.
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    EXPECT_EQ(row_counts(backups / "during.db"), committed);

    writer.exec("COMMIT");
    reader.exec("COMMIT");
    const auto after = ewsd({"backup", (backups / "after.db").string()});
    ASSERT_EQ(after.exit_code, 0) << after.err;
    EXPECT_EQ(row_counts(backups / "after.db").at("meta"), committed.at("meta") + 1);
}

} // namespace
} // namespace ewsd
