#include "connectors/email/file_mailbox.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace ewsd::connectors::email {

namespace {

// A Message-ID may hold '/', '<', spaces...: only characters that are safe in
// a file name on any filesystem are kept.
std::string safe_name(const std::string& message_id) {
    std::string out;
    for (const char c : message_id) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' || c == '-';
        out += keep ? c : '_';
    }
    // Never a hidden file (the temporary files are hidden) nor "." or "..".
    return out.empty() || out.front() == '.' ? "_" + out : out;
}

std::string errno_text(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

// Empty on success, else the error. Only the last component is made 0700:
// the parents may be shared folders such as /var/spool.
std::string ensure_folder(const std::filesystem::path& dir) {
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) {
        return "";
    }
    if (dir.has_parent_path()) {
        std::filesystem::create_directories(dir.parent_path(), ec);
        if (ec) {
            return "cannot create " + dir.parent_path().string() + ": " + ec.message();
        }
    }
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
        return errno_text("cannot create " + dir.string());
    }
    return std::filesystem::is_directory(dir, ec)
               ? ""
               : "cannot create " + dir.string() + ": not a folder";
}

bool write_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// Writes `data` to a new file at `path` (0600) and fsyncs it.
std::string write_synced(const std::string& path, const std::string& data) {
    ::unlink(path.c_str()); // a leftover of a crashed write
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return errno_text("cannot create " + path);
    }
    std::string error;
    if (!write_all(fd, data) || ::fsync(fd) != 0) {
        error = errno_text("cannot write " + path);
    }
    // close reports delayed write errors (NFS).
    if (::close(fd) != 0 && error.empty()) {
        error = errno_text("cannot write " + path);
    }
    return error;
}

// So that the rename itself survives a power loss.
std::string sync_folder(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return errno_text("cannot open " + dir.string());
    }
    std::string error = ::fsync(fd) == 0 ? "" : errno_text("cannot sync " + dir.string());
    ::close(fd);
    return error;
}

// Replaces `final_path` with `data` atomically: a reader sees the old file or
// the whole new one, never part of it.
std::string replace_file(const std::filesystem::path& final_path, const std::string& data) {
    const std::filesystem::path dir = final_path.parent_path();
    const std::string temp = (dir / ("." + final_path.filename().string() + ".tmp")).string();
    if (std::string error = write_synced(temp, data); !error.empty()) {
        ::unlink(temp.c_str());
        return error;
    }
    if (::rename(temp.c_str(), final_path.c_str()) != 0) {
        std::string error = errno_text("cannot rename to " + final_path.string());
        ::unlink(temp.c_str());
        return error;
    }
    return sync_folder(dir);
}

} // namespace

FileMailbox::FileMailbox(std::filesystem::path dir) : m_dir(std::move(dir)) {
    // "mail/" names the folder "mail": ensure_folder makes the last component 0700.
    if (!m_dir.has_filename() && m_dir.has_parent_path()) {
        m_dir = m_dir.parent_path();
    }
}

std::filesystem::path FileMailbox::path_for(const EmailMessage& message) const {
    return m_dir / (safe_name(message.message_id) + ".eml");
}

DeliveryResult FileMailbox::write(const EmailMessage& message) const {
    std::string mime;
    try {
        mime = render_mime(message);
    } catch (const std::invalid_argument& e) {
        return {DeliveryStatus::failed_permanently, e.what(), std::nullopt};
    }
    std::string error = ensure_folder(m_dir);
    const std::filesystem::path path = path_for(message);
    if (error.empty()) {
        error = replace_file(path, mime);
    }
    // Writing again replaces the same file, so retrying any failure is safe.
    if (!error.empty()) {
        return {DeliveryStatus::retry_later, error, std::nullopt};
    }
    return {DeliveryStatus::delivered, "written to " + path.string(), std::nullopt};
}

} // namespace ewsd::connectors::email
