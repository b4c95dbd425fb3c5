#include "daemon/cli.hpp"

#include "core/config.hpp"
#include "daemon/commands.hpp"
#include "ewsd/version.hpp"
#include "util/log.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace po = boost::program_options;

namespace ewsd::daemon {

namespace {

struct Command {
    std::string usage;
    std::string summary;
    std::function<void(po::options_description&)> add_options;
    std::function<int(const po::variables_map&)> run;
    std::string positional = {}; // the option bare arguments fill, if any
    int positional_count = 1;    // how many (-1: any number)
};

std::string default_config() {
    const char* env = std::getenv("EWSD_CONFIG");
    return env != nullptr && *env != '\0' ? env : core::default_config_path;
}

unsigned default_threads() {
    return std::clamp(std::thread::hardware_concurrency(), 1U, 8U);
}

void add_config_option(po::options_description& options) {
    options.add_options()("config,c", po::value<std::string>()->default_value(default_config()),
                          "configuration file (default: $EWSD_CONFIG or /etc/ewsd/ewsd.yaml)");
}

std::filesystem::path config_of(const po::variables_map& vm) {
    return vm["config"].as<std::string>();
}

const std::vector<std::pair<std::string, Command>>& commands() {
    static const std::vector<std::pair<std::string, Command>> table{
        {"check",
         {"ewsd check [--config PATH]",
          "Validate the configuration; print every problem as file:line:column: message.",
          add_config_option,
          [](const po::variables_map& vm) { return command_check(config_of(vm)); }}},
        {"ingest",
         {"ewsd ingest [--config PATH] [--feed NAME] [--force]",
          "Load every feed once and print, per file (or Ed-Fi resource and derived kind), the "
          "rows read, new, updated, unchanged, removed and quarantined.",
          [](po::options_description& o) {
              add_config_option(o);
              o.add_options()("feed", po::value<std::string>()->default_value(""),
                              "only this feed")("force", po::bool_switch(),
                                                "load files even when identical to the last "
                                                "load; an Ed-Fi feed loads everything again");
          },
          [](const po::variables_map& vm) {
              return command_ingest(config_of(vm),
                                    {vm["feed"].as<std::string>(), vm["force"].as<bool>()});
          }}},
        {"evaluate",
         {"ewsd evaluate [--config PATH] [--as-of YYYY-MM-DD] [--format table|json] [--rule ID] "
          "[--student ID | --changed]",
          "Evaluate the rules for every student (or one) without sending anything.",
          [](po::options_description& o) {
              add_config_option(o);
              o.add_options()("as-of", po::value<std::string>()->default_value(""),
                              "evaluate as of this date (default: today in the timezone)")(
                  "format", po::value<std::string>()->default_value("table"),
                  "table (one line per student) or json (one object per line per firing)")(
                  "rule", po::value<std::string>()->default_value(""), "only this rule")(
                  "student", po::value<std::string>()->default_value(""), "only this student")(
                  "changed", po::bool_switch(),
                  "only the students whose data changed since the last evaluation (the list "
                  "ingest keeps; evaluate only reads it)")(
                  "threads", po::value<unsigned>()->default_value(default_threads()),
                  "workers of a full evaluation (default: the number of cores)");
          },
          [](const po::variables_map& vm) {
              return command_evaluate(
                  config_of(vm), {vm["as-of"].as<std::string>(), vm["format"].as<std::string>(),
                                  vm["rule"].as<std::string>(), vm["student"].as<std::string>(),
                                  vm["changed"].as<bool>(), vm["threads"].as<unsigned>()});
          }}},
        {"explain",
         {"ewsd explain STUDENT_ID [--config PATH] [--as-of YYYY-MM-DD]",
          "Show every rule for one student, fired or not, with its metric values and thresholds.",
          [](po::options_description& o) {
              add_config_option(o);
              o.add_options()("as-of", po::value<std::string>()->default_value(""),
                              "explain as of this date (default: today in the timezone)")(
                  "student", po::value<std::string>()->required(), "the student (positional)");
          },
          [](const po::variables_map& vm) {
              return command_explain(config_of(vm), vm["student"].as<std::string>(),
                                     vm["as-of"].as<std::string>());
          },
          "student"}},
        {"route",
         {"ewsd route STUDENT_ID RULE_ID [--config PATH] [--as-of YYYY-MM-DD]",
          "Show who would receive the rule's referral for a student, and why, route by route.",
          [](po::options_description& o) {
              add_config_option(o);
              o.add_options()("as-of", po::value<std::string>()->default_value(""),
                              "the student's enrollment as of this date (default: today)")(
                  "args", po::value<std::vector<std::string>>()->required(),
                  "STUDENT_ID RULE_ID (positional)");
          },
          [](const po::variables_map& vm) {
              const auto& args = vm["args"].as<std::vector<std::string>>();
              if (args.size() != 2) {
                  std::cerr << "ewsd route: expected STUDENT_ID RULE_ID\nUsage: ewsd route "
                               "STUDENT_ID RULE_ID [--config PATH] [--as-of YYYY-MM-DD]\n";
                  return 2;
              }
              return command_route(config_of(vm), args[0], args[1], vm["as-of"].as<std::string>());
          },
          "args", 2}},
        {"test",
         {"ewsd test FILE...",
          "Run rule unit tests: fixture students, as-of dates and the firings expected on each.",
          [](po::options_description& o) {
              o.add_options()("files", po::value<std::vector<std::string>>()->required(),
                              "rule test files (positional)");
          },
          [](const po::variables_map& vm) {
              return command_test(vm["files"].as<std::vector<std::string>>());
          },
          "files", -1}},
        {"status",
         {"ewsd status [--config PATH]",
          "Summarise what the store holds and the latest load of every feed file.",
          add_config_option,
          [](const po::variables_map& vm) { return command_status(config_of(vm)); }}},
        {"backup",
         {"ewsd backup PATH [--config PATH] [--force]",
          "Copy the state database to PATH while the daemon runs: one consistent snapshot, "
          "checked, written 0600.",
          [](po::options_description& o) {
              add_config_option(o);
              o.add_options()("force", po::bool_switch(), "replace PATH if it exists")(
                  "path", po::value<std::string>()->required(), "the backup file (positional)");
          },
          [](const po::variables_map& vm) {
              return command_backup(config_of(vm), vm["path"].as<std::string>(),
                                    vm["force"].as<bool>());
          },
          "path"}},
        {"run",
         {"ewsd run [--config PATH] [--no-send] [--clock FILE | --fast --now TIME --until TIME]\n"
          "       ewsd run --once [--config PATH] [--as-of YYYY-MM-DD] [--now TIME] [--no-send] "
          "[--flush-digests]",
          "Run the service: poll each feed on its schedule, evaluate after each change, open, "
          "update or resolve referrals, and send notifications and digests when due, until "
          "SIGTERM (SIGHUP reloads). With --once: one cycle (every feed, evaluation, the "
          "notifications due) and exit.",
          [](po::options_description& o) {
              add_config_option(o);
              o.add_options()("once", po::bool_switch(), "run a single cycle and exit")(
                  "clock", po::value<std::string>()->default_value(""),
                  "read the local time from FILE at each look (tests move time by writing it)")(
                  "fast", po::bool_switch(),
                  "simulate: start at --now and jump to each timer at once, until --until")(
                  "until", po::value<std::string>()->default_value(""),
                  "stop when the clock reaches this local time (YYYY-MM-DDTHH:MM)")(
                  "as-of", po::value<std::string>()->default_value(""),
                  "evaluate as of this date (default: the local date of --now)")(
                  "now", po::value<std::string>()->default_value(""),
                  "act as if the local time were YYYY-MM-DDTHH:MM (default: the clock)")(
                  "no-send", po::bool_switch(), "queue notifications but send nothing")(
                  "flush-digests", po::bool_switch(),
                  "send the digests now rather than at their digest time");
          },
          [](const po::variables_map& vm) {
              RunOptions options;
              options.once = vm["once"].as<bool>();
              options.as_of = vm["as-of"].as<std::string>();
              options.now = vm["now"].as<std::string>();
              options.no_send = vm["no-send"].as<bool>();
              options.flush_digests = vm["flush-digests"].as<bool>();
              options.clock_file = vm["clock"].as<std::string>();
              options.fast = vm["fast"].as<bool>();
              options.until = vm["until"].as<std::string>();
              return command_run(config_of(vm), options);
          }}},
        {"outbox",
         {"ewsd outbox [--config PATH] [--state pending|dead|sent] [--limit N]",
          "List the notifications waiting to be sent (pending) and those given up on (dead).",
          [](po::options_description& o) {
              add_config_option(o);
              o.add_options()("state", po::value<std::string>()->default_value(""),
                              "only this state (default: pending and dead)")(
                  "limit", po::value<std::size_t>()->default_value(100), "at most N rows");
          },
          [](const po::variables_map& vm) {
              return command_outbox(config_of(vm), vm["state"].as<std::string>(),
                                    vm["limit"].as<std::size_t>());
          }}},
        {"outbox retry",
         {"ewsd outbox retry ID... [--config PATH]",
          "Requeue notifications (dead or waiting) to be sent at the next drain.",
          [](po::options_description& o) {
              add_config_option(o);
              o.add_options()("ids", po::value<std::vector<std::string>>()->required(),
                              "outbox message ids");
          },
          [](const po::variables_map& vm) {
              return command_outbox_retry(config_of(vm), vm["ids"].as<std::vector<std::string>>());
          },
          "ids", -1}},
        {"send-test",
         {"ewsd send-test --to ADDRESS [--config PATH]",
          "Send a test email through the configured SMTP server (or the file notifier) "
          "and print the server's answer.",
          [](po::options_description& o) {
              add_config_option(o);
              o.add_options()("to", po::value<std::string>()->required(), "recipient address");
          },
          [](const po::variables_map& vm) {
              return command_send_test(config_of(vm), vm["to"].as<std::string>());
          }}},
        {"referrals",
         {"ewsd referrals [--config PATH] [--state STATE] [--student ID]",
          "List referrals (highest tier first): pending, open, acknowledged, resolved, closed.",
          [](po::options_description& o) {
              add_config_option(o);
              o.add_options()("state", po::value<std::string>()->default_value(""),
                              "only this state")(
                  "student", po::value<std::string>()->default_value(""), "only this student");
          },
          [](const po::variables_map& vm) {
              return command_referrals(config_of(vm), vm["state"].as<std::string>(),
                                       vm["student"].as<std::string>());
          }}},
        {"referrals ack",
         {"ewsd referrals ack ID [--config PATH] [--note TEXT]",
          "A specialist took the referral: no more reminders.",
          [](po::options_description& o) {
              add_config_option(o);
              o.add_options()("note", po::value<std::string>()->default_value(""),
                              "what was done or planned")(
                  "id", po::value<std::string>()->required(), "the referral (positional)");
          },
          [](const po::variables_map& vm) {
              return command_referral_change(config_of(vm), "ack", vm["id"].as<std::string>(),
                                             vm["note"].as<std::string>());
          },
          "id"}},
        {"referrals close",
         {"ewsd referrals close ID [--config PATH] [--note REASON]",
          "Close a referral (pending, open or acknowledged) with a reason.",
          [](po::options_description& o) {
              add_config_option(o);
              o.add_options()("note", po::value<std::string>()->default_value(""), "the reason")(
                  "id", po::value<std::string>()->required(), "the referral (positional)");
          },
          [](const po::variables_map& vm) {
              return command_referral_change(config_of(vm), "close", vm["id"].as<std::string>(),
                                             vm["note"].as<std::string>());
          },
          "id"}},
        {"feeds errors",
         {"ewsd feeds errors [--config PATH] [--feed NAME] [--all]",
          "List quarantined rows (file:line:column: reason) and rejected files of the latest "
          "load of each file.",
          [](po::options_description& o) {
              add_config_option(o);
              o.add_options()("feed", po::value<std::string>()->default_value(""),
                              "only this feed")("all", po::bool_switch(),
                                                "include earlier loads, not just the latest");
          },
          [](const po::variables_map& vm) {
              return command_feeds_errors(config_of(vm), vm["feed"].as<std::string>(),
                                          vm["all"].as<bool>());
          }}},
    };
    return table;
}

void print_usage(std::ostream& out) {
    out << "ewsd " << ewsd::version
        << " - early-warning daemon for schools\n\n"
           "Usage: ewsd [--version] [--help] COMMAND [OPTIONS]\n\nCommands:\n";
    for (const auto& [name, command] : commands()) {
        out << "  " << name << std::string(name.size() < 14 ? 14 - name.size() : 1, ' ')
            << command.summary << "\n";
    }
    out << "\nRun 'ewsd COMMAND --help' for a command's options.\n";
}

int run_command(const std::string& name, const Command& command, std::vector<std::string> args) {
    po::options_description options("Options");
    command.add_options(options);
    options.add_options()("help,h", "show this help");
    po::variables_map vm;
    try {
        po::positional_options_description positional;
        if (!command.positional.empty()) {
            positional.add(command.positional.c_str(), command.positional_count);
        }
        po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
        if (vm.count("help") != 0) {
            std::cout << "Usage: " << command.usage << "\n\n"
                      << command.summary << "\n\n"
                      << options;
            return 0;
        }
        po::notify(vm);
    } catch (const po::error& e) {
        std::cerr << "ewsd " << name << ": " << e.what() << "\nUsage: " << command.usage << "\n";
        return 2;
    }
    return command.run(vm);
}

} // namespace

int run_cli(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        print_usage(std::cerr);
        return 2;
    }
    if (args[0] == "--version" || args[0] == "-V") {
        std::cout << "ewsd " << ewsd::version << "\n";
        return 0;
    }
    if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        if (args.size() > 1 && args[0] == "help") {
            args.erase(args.begin());
            args.emplace_back("--help");
        } else {
            print_usage(std::cout);
            return 0;
        }
    }
    try {
        // Two-word commands first, so "referrals ack" wins over "referrals".
        for (const auto& [name, command] : commands()) {
            const auto space = name.find(' ');
            if (space != std::string::npos && args.size() >= 2 &&
                args[0] == name.substr(0, space) && args[1] == name.substr(space + 1)) {
                return run_command(name, command, {args.begin() + 2, args.end()});
            }
        }
        for (const auto& [name, command] : commands()) {
            if (args[0] == name) {
                return run_command(name, command, {args.begin() + 1, args.end()});
            }
        }
        std::cerr << "ewsd: unknown command '" << args[0] << "'\n";
        print_usage(std::cerr);
        return 2;
    } catch (const core::ConfigError& e) {
        std::cerr << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "ewsd: " << e.what() << "\n";
        return 1;
    }
}

} // namespace ewsd::daemon
