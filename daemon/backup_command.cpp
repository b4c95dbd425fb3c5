// `ewsd backup PATH`: a consistent copy of the state database, taken while the
// daemon runs. SQLite's VACUUM INTO reads one snapshot (under WAL a reader
// never waits for the writer, nor the writer for it) and writes a compact,
// single-file copy; the copy is checked, synced and renamed into place, so
// PATH is either the previous file or a complete backup, never a partial one.
#include "daemon/commands.hpp"
#include "daemon/common.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <stdexcept>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace ewsd::daemon {

namespace {

namespace fs = std::filesystem;

struct BackupError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string errno_text() {
    return std::strerror(errno);
}

void check_folder(const fs::path& folder) {
    struct stat st {};
    if (::stat(folder.c_str(), &st) != 0) {
        throw BackupError(errno == ENOENT ? "folder " + folder.string() + " does not exist"
                                          : "folder " + folder.string() + ": " + errno_text());
    }
    if (!S_ISDIR(st.st_mode)) {
        throw BackupError(folder.string() + " is not a folder");
    }
    if (::access(folder.c_str(), W_OK | X_OK) != 0) {
        throw BackupError("cannot write to folder " + folder.string() + ": " + errno_text());
    }
}

void check_target(const fs::path& source, const fs::path& target, bool force) {
    std::error_code ec;
    if (fs::is_directory(target, ec)) {
        throw BackupError(target.string() + " is a folder; name the backup file, e.g. " +
                          (target / "ewsd.db").string());
    }
    if (!fs::exists(target, ec)) {
        return;
    }
    // --force must not replace the live database with a copy of itself.
    if (fs::equivalent(source, target, ec)) {
        throw BackupError(target.string() + " is the state database itself");
    }
    if (!force) {
        throw BackupError(target.string() + " exists; --force replaces it");
    }
}

// The copy under a temporary name beside PATH (so that the rename stays on
// one file system); removed unless it was moved into place.
class TempCopy {
public:
    explicit TempCopy(const fs::path& target) {
        std::string pattern =
            (target.parent_path() / ("." + target.filename().string() + ".tmp-XXXXXX")).string();
        // mkstemp creates the file 0600 whatever the umask: the copy holds student data.
        m_fd = ::mkstemp(pattern.data());
        if (m_fd < 0) {
            throw BackupError("cannot create a file in " + target.parent_path().string() + ": " +
                              errno_text());
        }
        m_path = pattern;
    }
    ~TempCopy() {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
        if (!m_path.empty()) {
            ::unlink(m_path.c_str());
        }
    }
    TempCopy(const TempCopy&) = delete;
    TempCopy& operator=(const TempCopy&) = delete;

    [[nodiscard]] const fs::path& path() const { return m_path; }

    // SQLite does not sync what VACUUM INTO writes; the copy must be on disk
    // before its name is, or a crash could leave PATH naming an empty file.
    void move_to(const fs::path& target, bool force) {
        if (::fsync(m_fd) != 0) {
            throw BackupError("cannot sync " + m_path.string() + ": " + errno_text());
        }
        if (force) {
            if (::rename(m_path.c_str(), target.c_str()) != 0) {
                throw BackupError("cannot rename to " + target.string() + ": " + errno_text());
            }
        } else {
            move_without_replacing(target);
        }
        m_path.clear();
        sync_folder(target.parent_path());
    }

private:
    // A file that appeared at PATH while the copy ran is kept as well.
    void move_without_replacing(const fs::path& target) {
        if (::renameat2(AT_FDCWD, m_path.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) ==
            0) {
            return;
        }
        // Some file systems (NFS among them) have no RENAME_NOREPLACE; link()
        // refuses an existing name as well.
        if ((errno == EINVAL || errno == ENOSYS) && ::link(m_path.c_str(), target.c_str()) == 0) {
            ::unlink(m_path.c_str());
            return;
        }
        if (errno == EEXIST) {
            throw BackupError(target.string() + " exists; --force replaces it");
        }
        throw BackupError("cannot rename to " + target.string() + ": " + errno_text());
    }

    static void sync_folder(const fs::path& folder) {
        const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            ::fsync(fd);
            ::close(fd);
        }
    }

    fs::path m_path;
    int m_fd = -1;
};

void vacuum_into(const fs::path& source, const fs::path& copy) {
    try {
        // Read-only: a backup never migrates or otherwise changes the database.
        SQLite::Database db(source.string(), SQLite::OPEN_READONLY);
        db.setBusyTimeout(10000);
        SQLite::Statement vacuum(db, "VACUUM INTO ?");
        vacuum.bind(1, copy.string());
        vacuum.exec();
    } catch (const SQLite::Exception& e) {
        throw BackupError("cannot copy " + source.string() + ": " + e.what());
    }
}

// Returns the copy's schema version once PRAGMA integrity_check says "ok".
int check_copy(const fs::path& copy) {
    std::string problems;
    int version = 0;
    try {
        SQLite::Database db(copy.string(), SQLite::OPEN_READONLY);
        SQLite::Statement check(db, "PRAGMA integrity_check(10)");
        while (check.executeStep()) {
            const std::string line = check.getColumn(0).getString();
            if (line != "ok") {
                problems += (problems.empty() ? "" : "; ") + line;
            }
        }
        version = db.execAndGet("PRAGMA user_version").getInt();
    } catch (const SQLite::Exception& e) {
        throw BackupError(std::string("cannot check the copy: ") + e.what());
    }
    if (!problems.empty()) {
        throw BackupError("the copy failed its integrity check (" + problems +
                          "); the database itself may be damaged");
    }
    return version;
}

} // namespace

int command_backup(const fs::path& config_path, const fs::path& target_arg, bool force) {
    const core::Config config = load(config_path);
    const fs::path source = config.database;
    try {
        const fs::path target = fs::absolute(target_arg);
        check_folder(target.parent_path());
        if (!fs::exists(source)) {
            throw BackupError("no database at " + source.string() + " (nothing to back up)");
        }
        check_target(source, target, force);
        // Any file SQLite creates beside the copy stays private too.
        ::umask(077);
        TempCopy copy(target);
        vacuum_into(source, copy.path());
        const int version = check_copy(copy.path());
        copy.move_to(target, force);
        std::printf("%s: %llu bytes, schema version %d, integrity ok\n", target.c_str(),
                    static_cast<unsigned long long>(fs::file_size(target)), version);
        return 0;
    } catch (const BackupError& e) {
        std::cerr << "ewsd backup: " << e.what() << "\n";
    } catch (const fs::filesystem_error& e) {
        std::cerr << "ewsd backup: " << e.what() << "\n";
    }
    return 1;
}

} // namespace ewsd::daemon
