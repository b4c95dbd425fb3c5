#pragma once

namespace ewsd::daemon {

// Exit codes: 0 success, 1 failure (invalid config, rejected file, ...), 2 usage error.
int run_cli(int argc, char** argv);

} // namespace ewsd::daemon
