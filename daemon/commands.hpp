#pragma once
// The subcommands, each given its parsed options; they print to stdout and
// return the process exit code.

#include <filesystem>
#include <string>
#include <vector>

namespace ewsd::daemon {

int command_check(const std::filesystem::path& config);

struct IngestOptions {
    std::string feed; // empty: every feed
    bool force = false;
};
int command_ingest(const std::filesystem::path& config, const IngestOptions& options);

struct EvaluateOptions {
    std::string as_of; // YYYY-MM-DD; empty: today in the configured timezone
    std::string format = "table";
    std::string rule;
    std::string student;
    bool changed = false; // only the students whose data changed since the last evaluation
    unsigned threads = 1; // workers of a full evaluation, each with its own connection
};
int command_evaluate(const std::filesystem::path& config, const EvaluateOptions& options);

int command_explain(const std::filesystem::path& config, const std::string& student,
                    const std::string& as_of);

// Who would receive the rule's referral for this student, route by route.
// Exit 2 for an unknown student or rule.
int command_route(const std::filesystem::path& config, const std::string& student,
                  const std::string& rule, const std::string& as_of);

// Exit 0 only when every case of every file passes.
int command_test(const std::vector<std::string>& files);

int command_status(const std::filesystem::path& config);

// `ewsd backup PATH [--force]`: a consistent copy of the state database, safe
// while the daemon runs, checked, mode 0600, renamed into place. Refuses to
// replace PATH without `force`; exit 1 on any failure, leaving PATH as it was.
int command_backup(const std::filesystem::path& config, const std::filesystem::path& target,
                   bool force);

struct RunOptions {
    bool once = false;
    std::string as_of;          // YYYY-MM-DD; empty: the local date of `now`
    std::string now;            // "YYYY-MM-DDTHH:MM[:SS]" school-local; empty: the clock
    bool no_send = false;       // keep notifications queued (a dry run of delivery)
    bool flush_digests = false; // send digests now instead of at their time
    // The service (without --once) on a test clock: the local time read from
    // this file at each look, or (fast) starting at `now` and jumping to each
    // timer at once, until `until`.
    std::string clock_file;
    bool fast = false;
    std::string until;
};
int command_run(const std::filesystem::path& config, const RunOptions& options);

// `ewsd referrals [--state S] [--student ID]`; `ewsd referrals ack|close ID [--note TEXT]`.
int command_referrals(const std::filesystem::path& config, const std::string& state,
                      const std::string& student);
int command_referral_change(const std::filesystem::path& config, const std::string& action,
                            const std::string& id, const std::string& note);

// `ewsd outbox [--state S]`: pending and dead notifications; `ewsd outbox retry ID...`.
int command_outbox(const std::filesystem::path& config, const std::string& state,
                   std::size_t limit);
int command_outbox_retry(const std::filesystem::path& config, const std::vector<std::string>& ids);

// `ewsd send-test --to ADDRESS`: one test email through the configured SMTP
// server (or the file notifier); prints the server's answer. Exit 0 only when
// it was accepted.
int command_send_test(const std::filesystem::path& config, const std::string& to);

int command_feeds_errors(const std::filesystem::path& config, const std::string& feed, bool all);

} // namespace ewsd::daemon
