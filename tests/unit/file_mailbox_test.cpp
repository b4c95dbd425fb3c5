// The file notifier: each message as <Message-ID>.eml in a private folder,
// written atomically and idempotently.

#include "connectors/email/file_mailbox.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace ewsd::connectors;
using namespace ewsd::connectors::email;
using namespace std::chrono;
using ewsd::testing::TempDir;

namespace {

EmailMessage mailbox_message() {
    EmailMessage message;
    message.from = "Early Warning <ewsd@district.org>";
    message.to = {"counselor@school.district.org"};
    message.subject = "Tier 2 referral: chronic-absence";
    message.text_body = "Three absences in five days.\n";
    message.html_body = "<p>Three absences in five days.</p>\n";
    message.message_id = "referral-12.n-3@ewsd.district.org";
    message.date = sys_days{2024y / September / 3} + 14h;
    return message;
}

unsigned mode_of(const std::filesystem::path& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777U;
}

// The names in a folder, hidden ones (temporary files) included.
std::vector<std::string> names_in(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

TEST(FileMailbox, WritesTheRenderedBytesIntoAPrivateFolder) {
    const TempDir tmp;
    const FileMailbox mailbox(tmp / "spool/outgoing/");
    const EmailMessage message = mailbox_message();

    const DeliveryResult result = mailbox.write(message);

    const auto path = tmp / "spool/outgoing/referral-12.n-3@ewsd.district.org.eml";
    EXPECT_EQ(mailbox.path_for(message), path);
    ASSERT_EQ(result.status, DeliveryStatus::delivered) << result.detail;
    EXPECT_EQ(result.detail, "written to " + path.string());
    EXPECT_EQ(ewsd::testing::read_file(path), render_mime(message));
    EXPECT_EQ(mode_of(path), 0600U);
    EXPECT_EQ(mode_of(tmp / "spool/outgoing"), 0700U);
}

TEST(FileMailbox, WritingAgainReplacesTheSameFile) {
    const TempDir tmp;
    const FileMailbox mailbox(tmp.path());
    EmailMessage message = mailbox_message();
    ASSERT_EQ(mailbox.write(message).status, DeliveryStatus::delivered);

    message.text_body = "Four absences in five days.\n";
    const DeliveryResult again = mailbox.write(message);

    ASSERT_EQ(again.status, DeliveryStatus::delivered) << again.detail;
    EXPECT_EQ(names_in(tmp.path()),
              std::vector<std::string>{"referral-12.n-3@ewsd.district.org.eml"});
    EXPECT_EQ(ewsd::testing::read_file(mailbox.path_for(message)), render_mime(message));
}

TEST(FileMailbox, FileNamesStayInTheFolder) {
    const FileMailbox mailbox("/var/spool/ewsd");
    EmailMessage message = mailbox_message();
    const auto name = [&](const std::string& id) {
        message.message_id = id;
        const auto path = mailbox.path_for(message);
        EXPECT_EQ(path.parent_path(), mailbox.dir()) << id;
        return path.filename().string();
    };
    EXPECT_EQ(name("a/b<c> d@x.org"), "a_b_c__d@x.org.eml");
    EXPECT_EQ(name("../../etc/passwd"), "_.._.._etc_passwd.eml");
    EXPECT_EQ(name(".hidden@x"), "_.hidden@x.eml");
    EXPECT_EQ(name("élève@x"), "__l__ve@x.eml"); // a byte at a time
}

TEST(FileMailbox, UnwritableFolderIsRetryLater) {
    const TempDir tmp;
    // A regular file where the folder should be: unwritable even for root.
    ewsd::testing::write_file(tmp / "taken", "not a folder");
    const FileMailbox under_file(tmp / "taken/mail");
    const DeliveryResult result = under_file.write(mailbox_message());
    EXPECT_EQ(result.status, DeliveryStatus::retry_later);
    EXPECT_NE(result.detail.find(tmp / "taken"), std::string::npos) << result.detail;

    const FileMailbox is_file(tmp / "taken");
    EXPECT_EQ(is_file.write(mailbox_message()).status, DeliveryStatus::retry_later);

    if (::geteuid() != 0) { // root writes into a read-only folder anyway
        std::filesystem::create_directory(tmp / "readonly");
        std::filesystem::permissions(tmp / "readonly", std::filesystem::perms::owner_read |
                                                           std::filesystem::perms::owner_exec);
        const DeliveryResult denied = FileMailbox(tmp / "readonly").write(mailbox_message());
        EXPECT_EQ(denied.status, DeliveryStatus::retry_later);
        EXPECT_NE(denied.detail.find("Permission denied"), std::string::npos) << denied.detail;
        std::filesystem::permissions(tmp / "readonly", std::filesystem::perms::owner_all);
    }
}

TEST(FileMailbox, MessageThatCannotRenderFailsPermanently) {
    const TempDir tmp;
    const FileMailbox mailbox(tmp / "mail");
    EmailMessage message = mailbox_message();
    message.subject = "Tier 2\r\nBcc: everyone@district.org";

    const DeliveryResult result = mailbox.write(message);

    EXPECT_EQ(result.status, DeliveryStatus::failed_permanently);
    EXPECT_FALSE(result.detail.empty());
    EXPECT_FALSE(std::filesystem::exists(tmp / "mail")); // nothing written, not even the folder
}

} // namespace
