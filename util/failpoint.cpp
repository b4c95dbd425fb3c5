#include "util/failpoint.hpp"

#include <csignal>
#include <cstdlib>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace ewsd::util {

namespace {

std::vector<std::string> armed() {
    std::vector<std::string> out;
    const char* env = std::getenv("EWSD_FAILPOINTS");
    if (env == nullptr) {
        return out;
    }
    std::stringstream list(env);
    std::string name;
    while (std::getline(list, name, ',')) {
        if (!name.empty()) {
            out.push_back(name);
        }
    }
    return out;
}

} // namespace

void failpoint(const char* name) {
    static const std::vector<std::string> points = armed();
    for (const auto& p : points) {
        if (p == name) {
            const std::string line = std::string("ewsd: failpoint ") + name + ": SIGKILL\n";
            (void)!write(STDERR_FILENO, line.data(), line.size());
            std::raise(SIGKILL);
        }
    }
}

} // namespace ewsd::util
