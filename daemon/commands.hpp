#pragma once
// The subcommands, each given its parsed options; they print to stdout and
// return the process exit code.

#include <filesystem>
#include <string>

namespace ewsd::daemon {

int command_check(const std::filesystem::path& config);

struct IngestOptions {
    std::string feed; // empty: every feed
    bool force = false;
};
int command_ingest(const std::filesystem::path& config, const IngestOptions& options);

int command_status(const std::filesystem::path& config);

int command_feeds_errors(const std::filesystem::path& config, const std::string& feed, bool all);

} // namespace ewsd::daemon
