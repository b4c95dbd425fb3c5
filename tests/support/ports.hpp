#pragma once
// A loopback port nobody listens on (bound, never listened, closed): for
// tests of a server that is down.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace ewsd::testing {

inline int closed_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        throw std::runtime_error("cannot bind a port");
    }
    close(fd);
    return ntohs(addr.sin_port);
}

} // namespace ewsd::testing
