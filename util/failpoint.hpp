#pragma once
// Failure injection for crash tests: a named point in the code where the
// process kills itself with SIGKILL when the name is listed in the environment
// variable EWSD_FAILPOINTS (comma-separated), e.g.
// EWSD_FAILPOINTS=outbox.after_send. The tests use it to prove that a kill at
// that exact moment loses nothing and duplicates nothing. Without the
// variable, a failpoint costs one cached lookup.

namespace ewsd::util {

void failpoint(const char* name);

} // namespace ewsd::util
