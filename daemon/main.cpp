#include "daemon/cli.hpp"

int main(int argc, char** argv) {
    return ewsd::daemon::run_cli(argc, argv);
}
