#pragma once
// The `file` notifier: instead of sending, writes each email as an .eml file
// (the exact bytes SMTP would carry) into a folder, for the demo, for a dry
// run, and for sites without a mail relay. The file is named after the
// Message-ID, so writing a message again (a retry after a crash) replaces the
// same file: no duplicates.

#include "connectors/delivery.hpp"
#include "connectors/email/mime.hpp"

#include <filesystem>

namespace ewsd::connectors::email {

class FileMailbox {
public:
    // The folder is created (0700) on the first write if missing.
    explicit FileMailbox(std::filesystem::path dir);

    // Writes <message-id>.eml (0600) atomically: a temporary file, fsync,
    // rename. delivered: detail = "written to PATH"; failed_permanently for a
    // message that cannot be rendered; retry_later when the folder cannot be
    // written (full disk, permissions).
    [[nodiscard]] DeliveryResult write(const EmailMessage& message) const;

    // The file a message is written to.
    [[nodiscard]] std::filesystem::path path_for(const EmailMessage& message) const;

    [[nodiscard]] const std::filesystem::path& dir() const { return m_dir; }

private:
    std::filesystem::path m_dir;
};

} // namespace ewsd::connectors::email
